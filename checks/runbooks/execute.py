"""Executing a runbook: shell, probe and manual steps in order, against the RTO clock.

Each step is audited with its outcome and output as it finishes. A shell
step runs under ``/bin/sh -c`` in its own process group with the given
environment (so ``${VARIABLE}`` placeholders are the shell's to expand) and
is killed, group and all, at its timeout. A probe step passes on PASS or
WARN. A manual step asks ``confirm``. With ``dry_run`` nothing runs: every
step is reported with what it would do. A failed step stops the run unless
``stop_on_failure`` is off; the steps after a stop are reported as skipped.
``RunbookSession`` is the same run taken one step at a time (the console's
runbook screen); ``execute_runbook`` drives a session from start to finish.
A run belongs to an actor whose role must hold ``run_runbook``: otherwise
starting it, or any step, is refused (``PermissionDenied``) and the refusal
audited as ``denied.runbook.*``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from checks.probes import REGISTRY, ProbeContext, ProbeRegistry
from core.access import Capability, Principal
from core.events import Verdict
from core.guard import DENIED, denied_detail, record, refusal
from core.store import Store

OUTPUT_LIMIT = 8_000  # characters of a step's output kept in its result and audit entry


class StepLike(Protocol):
    id: str
    title: str
    kind: Any  # "shell", "probe" or "manual" (a str enum)
    instructions: str
    command: str | None
    timeout: float | None
    probe: str | None
    params: dict[str, Any]


class RunbookLike(Protocol):
    id: str
    title: str
    rto_minutes: float
    steps: Sequence[StepLike]


class Outcome(StrEnum):
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"
    DRY_RUN = "dry-run"


@dataclass(frozen=True, slots=True)
class StepResult:
    step_id: str
    outcome: Outcome
    detail: str
    output: str = ""
    elapsed: float = 0.0
    exit_code: int | None = None


@dataclass
class RunbookRun:
    runbook_id: str
    rto_seconds: float
    dry_run: bool
    results: list[StepResult] = field(default_factory=list)
    elapsed: float = 0.0

    @property
    def succeeded(self) -> bool:
        return all(r.outcome in (Outcome.DONE, Outcome.DRY_RUN) for r in self.results)

    @property
    def within_rto(self) -> bool:
        return self.elapsed <= self.rto_seconds


Confirm = Callable[[StepLike], Awaitable[bool]]
#: action, subject, detail; a coroutine function too (the console writes it from a thread)
Audit = Callable[[str, str, dict[str, Any]], Awaitable[None] | None]


def audit_to(store: Store, actor: Principal) -> Audit:
    """The audit a front end gives a run: entries in ``store`` as ``actor`` (with their
    source), written from a thread."""

    async def audit(action: str, subject: str, detail: dict[str, Any]) -> None:
        await asyncio.to_thread(record, store, actor, action, subject, detail)

    return audit


class RunbookSession:
    """One run of a runbook, a step at a time, for a caller that decides when each step runs
    (the console). ``execute_runbook`` drives the same session in one go, so both record
    the same audit entries: ``runbook.start``, one ``runbook.step`` per step, ``runbook.finish``.

    ``clock`` measures the run against the RTO (monotonic seconds by default).
    """

    def __init__(
        self,
        runbook: RunbookLike,
        *,
        actor: Principal,
        audit: Audit,
        probe_context: ProbeContext | None = None,
        registry: ProbeRegistry | None = None,
        environment: Mapping[str, str] | None = None,
        dry_run: bool = False,
        stop_on_failure: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.runbook = runbook
        self.actor = actor
        self.run = RunbookRun(runbook.id, runbook.rto_minutes * 60.0, dry_run)
        self.stop_on_failure = stop_on_failure
        self._audit = audit
        self._context = probe_context
        self._registry = registry or REGISTRY
        self._environment = environment
        self._clock = clock
        self._started: float | None = None
        self._stopped: str | None = None  # why the remaining steps are skipped

    @property
    def started(self) -> bool:
        return self._started is not None

    @property
    def finished(self) -> bool:
        return len(self.run.results) == len(self.runbook.steps)

    @property
    def next_step(self) -> StepLike | None:
        """The step the next ``run_next`` records, or None once every step has a result."""
        return None if self.finished else self.runbook.steps[len(self.run.results)]

    @property
    def stopped(self) -> bool:
        """True once a failure (or ``abandon``) means the remaining steps will be skipped."""
        return self._stopped is not None

    def elapsed(self) -> float:
        """Seconds since the run started, frozen once it has finished."""
        if self._started is None:
            return 0.0
        return self.run.elapsed if self.finished else self._clock() - self._started

    async def _record(self, action: str, subject: str, detail: dict[str, Any]) -> None:
        written = self._audit(action, subject, detail)
        if written is not None:
            await written

    async def _permit(self, action: str, subject: str) -> None:
        error = refusal(self.actor, Capability.RUN_RUNBOOK, action)
        if error is not None:
            await self._record(DENIED + action, subject, denied_detail(error))
            raise error

    async def start(self) -> None:
        await self._permit("runbook.start", self.runbook.id)
        if self._started is not None:
            raise RuntimeError(f"the {self.runbook.id} run has already started")
        self._started = self._clock()
        await self._record("runbook.start", self.runbook.id, {
            "dry_run": self.run.dry_run, "rto_minutes": self.runbook.rto_minutes,
            "stop_on_failure": self.stop_on_failure,
        })  # fmt: skip

    async def run_next(self, confirm: Confirm) -> StepResult:
        """Run (or dry-run, or skip after a stop) the next step and audit it; the last
        step's entry is followed by the run's ``runbook.finish``."""
        step = self.next_step
        if self._started is None or step is None:
            raise RuntimeError(f"the {self.runbook.id} run is not under way")
        await self._permit("runbook.step", f"{self.runbook.id}/{step.id}")
        if self._stopped is not None:
            result = StepResult(step.id, Outcome.SKIPPED, self._stopped)
        elif self.run.dry_run:
            result = StepResult(step.id, Outcome.DRY_RUN, _would(step))
        else:
            result = await _execute(step, confirm, self._context, self._registry,
                                    self._environment)  # fmt: skip
            if result.outcome is Outcome.FAILED and self.stop_on_failure:
                self._stopped = "an earlier step failed"
        self.run.results.append(result)
        self.run.elapsed = self._clock() - self._started
        await self._record("runbook.step", f"{self.runbook.id}/{step.id}", {
            "outcome": result.outcome.value, "detail": result.detail, "output": result.output,
            "exit_code": result.exit_code, "elapsed": round(result.elapsed, 3),
            "runbook_elapsed": round(self.run.elapsed, 3),
        })  # fmt: skip
        if self.finished:
            await self._record("runbook.finish", self.runbook.id, {
                "succeeded": self.run.succeeded, "elapsed": round(self.run.elapsed, 3),
                "within_rto": self.run.within_rto, "dry_run": self.run.dry_run,
            })  # fmt: skip
        return result

    async def abandon(self, reason: str) -> list[StepResult]:
        """Skip every remaining step because of ``reason`` (audited), finishing the run."""
        self._stopped = reason
        skipped: list[StepResult] = []
        while not self.finished:
            skipped.append(await self.run_next(_refuse))
        return skipped


async def _refuse(step: StepLike) -> bool:
    raise AssertionError("a stopped run asks for no confirmation")


async def execute_runbook(
    runbook: RunbookLike,
    *,
    actor: Principal,
    confirm: Confirm,
    audit: Audit,
    probe_context: ProbeContext | None = None,
    registry: ProbeRegistry | None = None,
    environment: Mapping[str, str] | None = None,
    dry_run: bool = False,
    stop_on_failure: bool = True,
    on_step: Callable[[StepLike, StepResult, float], None] | None = None,
) -> RunbookRun:
    """Run every step in order; ``on_step(step, result, elapsed)`` follows the RTO clock."""
    session = RunbookSession(
        runbook, actor=actor, audit=audit, probe_context=probe_context, registry=registry,
        environment=environment, dry_run=dry_run, stop_on_failure=stop_on_failure,
    )  # fmt: skip
    await session.start()
    while (step := session.next_step) is not None:
        result = await session.run_next(confirm)
        if on_step is not None:
            on_step(step, result, session.run.elapsed)
    return session.run


def _kind(step: StepLike) -> str:
    return str(getattr(step.kind, "value", step.kind))


def _would(step: StepLike) -> str:
    kind = _kind(step)
    if kind == "shell":
        return f"would run: {step.command} (timeout {step.timeout:g}s)"
    if kind == "probe":
        return f"would run probe {step.probe} with {step.params or {}}"
    return f"would ask for confirmation: {step.instructions}"


async def _execute(
    step: StepLike,
    confirm: Confirm,
    ctx: ProbeContext | None,
    registry: ProbeRegistry,
    environment: Mapping[str, str] | None,
) -> StepResult:
    started = time.monotonic()
    kind = _kind(step)
    if kind == "shell":
        result = await _shell(step, environment)
    elif kind == "probe":
        result = await _probe(step, ctx, registry)
    else:
        confirmed = await confirm(step)
        result = StepResult(step.id, Outcome.DONE if confirmed else Outcome.FAILED,
                            "confirmed" if confirmed else "not confirmed")  # fmt: skip
    return StepResult(result.step_id, result.outcome, result.detail, result.output,
                      time.monotonic() - started, result.exit_code)  # fmt: skip


async def _shell(step: StepLike, environment: Mapping[str, str] | None) -> StepResult:
    assert step.command is not None and step.timeout is not None
    env = dict(os.environ if environment is None else environment)
    process = await asyncio.create_subprocess_exec(
        "/bin/sh", "-c", step.command, env=env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        async with asyncio.timeout(step.timeout):
            output, _ = await process.communicate()
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        output, _ = await process.communicate()
        text = _clip(output)
        return StepResult(step.id, Outcome.FAILED, f"timed out after {step.timeout:g}s", text)
    text = _clip(output)
    code = process.returncode
    if code == 0:
        return StepResult(step.id, Outcome.DONE, "exit 0", text, exit_code=0)
    return StepResult(step.id, Outcome.FAILED, f"exit {code}", text, exit_code=code)


async def _probe(step: StepLike, ctx: ProbeContext | None, registry: ProbeRegistry) -> StepResult:
    from checks.runner import run_probe_named

    if ctx is None:
        return StepResult(step.id, Outcome.FAILED, "no probe context (no target configured)")
    result = await run_probe_named(str(step.probe), step.params or {}, ctx, registry,
                                   float(step.timeout or 10.0))  # fmt: skip
    outcome = Outcome.DONE if result.verdict in (Verdict.PASS, Verdict.WARN) else Outcome.FAILED
    return StepResult(step.id, outcome, f"{result.verdict.value}: {result.reason}",
                      repr(dict(result.evidence))[:OUTPUT_LIMIT])  # fmt: skip


def _clip(output: bytes | None) -> str:
    text = (output or b"").decode("utf-8", errors="replace")
    if len(text) > OUTPUT_LIMIT:
        return text[:OUTPUT_LIMIT] + f"\n... ({len(text) - OUTPUT_LIMIT} more characters)"
    return text
