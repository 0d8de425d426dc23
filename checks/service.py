"""``ReadinessService``: runs the production checklist inside a running Deck."""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Protocol

from checks.catalog import Checklist, builtin_checklist
from checks.ledger import record_results
from checks.probes import (
    REGISTRY,
    ProbeContext,
    ProbeRegistry,
    ProbeResult,
    ProbeSpec,
    target_from_settings,
)
from checks.release import Release, default_release
from checks.runner import run_checklist
from core import __version__
from core.access import SYSTEM, Capability, Principal
from core.audit import read_entries
from core.bus import Bus
from core.config import Settings
from core.events import CheckUpdate, Verdict
from core.guard import permit_async, record
from core.health.breaker import BreakerRegistry

log = logging.getLogger(__name__)


class DeckLike(Protocol):
    """The parts of the Deck this service reads; nothing else of it is assumed."""

    settings: Settings
    bus: Bus
    store: Any  # has .engine: sqlalchemy.Engine
    engine: Any  # the live trading engine; has .mode: str
    breakers: BreakerRegistry


def context_from_deck(
    deck: DeckLike, target: str | None = None, environment: str = ""
) -> ProbeContext:
    """A probe context built from the Deck's current state and the target settings;
    ``target`` (a base URL) replaces ``QD_CHECK_TARGET``, ``environment`` QD_ENVIRONMENT."""
    base_url = deck.settings.check_target if target is None else target
    return ProbeContext(
        settings=deck.settings,
        database_engine=deck.store.engine,
        engine_mode=str(deck.engine.mode),
        target=target_from_settings(deck.settings, base_url, environment),
        breakers=deck.breakers,
    )


#: Why an item's probe was left out of the start-up run.
HELD = "not run at start ({why}): run it when asked"
LOCKS_OUT = "it locks this machine out of the target's logins"


def held_back(spec: ProbeSpec) -> str:
    """Why the start-up run leaves this probe out ("" when it runs): it locks this
    machine out, or it does more to the target or its people than look."""
    why = LOCKS_OUT if spec.locks_out else spec.disturbs
    return HELD.format(why=why) if why else ""


@dataclass(frozen=True, slots=True)
class RunRequest:
    """What one run covers: a checklist (all of it, or ``only`` some items), the
    version and environment its results are recorded for, who asked, and the target
    (None: the service's)."""

    checklist: Checklist
    only: frozenset[str] | None = None
    version: str = __version__
    actor: Principal = SYSTEM
    environment: str = ""
    target: str | None = None


def remembered_target(store: Any, configured: str) -> str:
    """The target last set in a console (the newest ``check.target`` on the audit trail),
    else ``configured`` (QD_CHECK_TARGET): a release manager's choice outlives a restart,
    until set again; setting it empty goes back to the configured one."""
    newest = read_entries(store, "check.target", limit=1)
    return (newest[0].detail.get("to") or configured) if newest else configured


class ReadinessService:
    """Loads a built-in checklist, runs it once on start and again on request.

    A Deck service: ``start()`` returns at once and leaves the first run in a
    background task; ``stop()`` cancels any run in progress and waits for it.
    Views list ``checklist.items`` and follow ``CheckUpdate`` events on the
    bus, starting from ``updates``: each item of this service's checklist as
    the bus last told it (the bus tells a view only what happens after it
    subscribed, and an SSH session's dashboard opens after the start-up run).
    ``results`` holds the latest result of every probe item of this service's
    checklist (an item keeps its previous result while a rerun is in
    progress). ``rerun`` can also run part of a checklist, or another one, for
    a given version: runs go one at a time, through the same bounded runner.

    ``target`` is the deployment (base URL) runs examine, ``QD_CHECK_TARGET`` at
    first (with ``remember_target``, the one last set in a console, read back from
    the audit trail at ``start``); ``set_target`` changes it for every later run,
    from any session, and audits who changed it from what to what. Each verdict
    records its target.
    """

    def __init__(
        self,
        deck: DeckLike,
        *,
        checklist_id: str = "production",
        checklist: Checklist | None = None,
        concurrency: int = 8,
        timeout: float = 5.0,
        registry: ProbeRegistry | None = None,
        remember_target: bool = False,
    ) -> None:
        self.deck = deck
        self.remember_target = remember_target
        self.checklist_id = checklist_id
        self.concurrency = concurrency
        self.timeout = timeout
        self.registry = registry
        # A given checklist replaces the built-in one (tests, and later user checklists).
        self.checklist: Checklist | None = checklist
        self.results: dict[str, ProbeResult] = {}
        self.target: str = deck.settings.check_target.strip()
        self.updates: dict[str, CheckUpdate] = {}
        #: The items the start-up run left out, each with why: a view opened later shows
        #: it for an item with no verdict yet.
        self.held: dict[str, CheckUpdate] = {}
        self.load_error: Exception | None = None
        self.runs_completed = 0
        self._tasks: set[asyncio.Task[dict[str, ProbeResult]]] = set()
        self._run_lock = asyncio.Lock()

    @property
    def running(self) -> bool:
        return any(not task.done() for task in self._tasks)

    async def start(self) -> None:
        """Load the checklist and start its first run in the background.

        The first run leaves out the probes that lock the probe host out of the target's
        logins for minutes (a lockout check): run unasked at every start, one aimed at this
        Quarterdeck would lock its own operators' SSH and API logins from this machine
        (one lockout serves both). It leaves out, too, the probes that do more than look
        (queue jobs on the target, load it, page its on-call). They run when someone runs
        them.

        A broken catalog is logged and kept in ``load_error``; it does not
        stop the Deck from starting.
        """
        if self.remember_target:
            self.target = await asyncio.to_thread(remembered_target, self.deck.store,
                                                  self.target)  # fmt: skip
        try:
            if self.checklist is None:
                self.checklist = await self._load()
        except Exception as exc:
            self.load_error = exc
            log.error("readiness checklist %r not loaded: %s", self.checklist_id, exc)
            return
        registry = REGISTRY if self.registry is None else self.registry
        reasons = {item.id: held_back(registry.get(item.probe)) for item in self.checklist.items
                   if item.probe in registry}  # fmt: skip
        held = {item_id: why for item_id, why in reasons.items() if why}
        for item_id, why in held.items():  # every view lists it, waiting to be asked for
            self.held[item_id] = CheckUpdate(self.checklist.id, item_id, Verdict.PENDING, why)
            self._publish_own(self.held[item_id])
        unasked = frozenset(item.id for item in self.checklist.items) - set(held)
        self._spawn(RunRequest(self.checklist, unasked, default_release(self.deck.settings)))

    async def stop(self) -> None:
        """Cancel any run in progress and wait until it has finished unwinding."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def wait_idle(self) -> None:
        """Return once no run is in progress (a run's failure is logged, not raised here)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def set_target(self, target: str, *, actor: Principal) -> str:
        """Make ``target`` (a base URL; "" for none) the one later runs examine and audit
        the change as ``check.target`` with the previous one; the actor's role must hold
        ``run_checks``. Returns the previous target. Setting the same one records nothing."""
        target = target.strip().rstrip("/")
        previous = self.target
        await permit_async(self.deck.store, actor, Capability.RUN_CHECKS, "check.target",
                           target or "(none)")  # fmt: skip
        if target == previous:
            return previous
        if target and not target.startswith(("http://", "https://")):
            raise ValueError(f"a target is an http:// or https:// URL, not {target!r}")
        self.target = target
        await asyncio.to_thread(record, self.deck.store, actor, "check.target",
                                target or "(none)", {"from": previous, "to": target})  # fmt: skip
        log.info("readiness target set by %s: %r -> %r", actor.name, previous, target)
        return previous

    async def rerun(
        self,
        only: Collection[str] | None = None,
        *,
        checklist: Checklist | None = None,
        version: str = __version__,
        environment: str = "",
        actor: Principal,
    ) -> dict[str, ProbeResult]:
        """Run again (after any run in progress) and return the results.

        By default the whole of this service's checklist; ``only`` limits the
        run to those item ids (a section, one item), ``checklist`` runs another
        checklist. Results are recorded for ``version`` and ``environment`` (""
        is QD_ENVIRONMENT) with the current ``target``, by ``actor``, whose role
        must hold ``run_checks`` (``PermissionDenied``, audited, if not).
        """
        task = await self.begin(only, checklist=checklist, version=version,
                                environment=environment, actor=actor)  # fmt: skip
        try:
            return await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # our caller is being cancelled: let it unwind
            return dict(self.results)  # the run was cancelled by stop()

    async def begin(
        self,
        only: Collection[str] | None = None,
        *,
        checklist: Checklist | None = None,
        version: str = __version__,
        environment: str = "",
        actor: Principal,
    ) -> asyncio.Task[dict[str, ProbeResult]]:
        """``rerun``'s run, started and not waited for (a front end answers at once and
        follows it); the actor is checked, and a refusal raised, before it starts."""
        subject = checklist.id if checklist is not None else self.checklist_id
        await permit_async(self.deck.store, actor, Capability.RUN_CHECKS, "check.run", subject)
        if checklist is None:
            if self.checklist is None:
                self.checklist = await self._load()
                self.load_error = None
            checklist = self.checklist
        request = RunRequest(checklist, None if only is None else frozenset(only), version, actor,
                             environment)  # fmt: skip
        return self._spawn(request)

    async def _load(self) -> Checklist:
        return await asyncio.to_thread(builtin_checklist, self.checklist_id, registry=self.registry)

    def _spawn(self, request: RunRequest) -> asyncio.Task[dict[str, ProbeResult]]:
        task = asyncio.create_task(self._run(request), name=f"readiness:{request.checklist.id}")
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[dict[str, ProbeResult]]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # Retrieved here so a background run's failure is logged, never lost.
            log.error("readiness run failed", exc_info=task.exception())

    async def _run(self, request: RunRequest) -> dict[str, ProbeResult]:
        async with self._run_lock:
            checklist = request.checklist
            own = self.checklist is not None and checklist.id == self.checklist.id
            target = self.target if request.target is None else request.target
            results = await run_checklist(
                checklist,
                context_from_deck(self.deck, target, request.environment),
                self._publish_own if own else self.deck.bus.publish,
                self.concurrency,
                self.timeout,
                registry=self.registry,
                on_result=self._record if own else None,
                only=request.only,
            )
            self.runs_completed += 1
            await self._store_results(request, results, target)
            counts = collections.Counter(result.verdict.value for result in results.values())
            log.info(
                "readiness run of %r finished: %s",
                checklist.id,
                ", ".join(f"{n} {verdict}" for verdict, n in sorted(counts.items())) or "no probes",
            )
            return results

    async def _store_results(
        self, request: RunRequest, results: dict[str, ProbeResult], target: str
    ) -> None:
        """Record the run in the readiness ledger for its version and environment."""
        environment = request.environment or self.deck.settings.environment
        release = Release(request.checklist.id, request.version, environment)
        try:
            await asyncio.to_thread(record_results, self.deck.store, release, results,
                                    request.actor, target)  # fmt: skip
        except Exception:
            log.exception("readiness results not recorded")

    def _publish_own(self, update: CheckUpdate) -> None:
        self.updates[update.item_id] = update
        self.deck.bus.publish(update)

    def _record(self, item_id: str, result: ProbeResult) -> None:
        self.results[item_id] = result
