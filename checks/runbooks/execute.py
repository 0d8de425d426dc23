"""Executing a runbook: shell, probe and manual steps in order, against the RTO clock.

Every run starts with the pre-flight (``checks.runbooks.preflight``): the
variables, programs, units and probe settings each step needs. A dry run is
the pre-flight and nothing else: each step is reported as what it would do or
what would make it fail, and the verdict is "ready" or "would fail at step N:
...", never "succeeded".

Each step is audited with its outcome and output as it finishes. A shell
step runs under ``/bin/sh -c`` in its own process group with the given
environment (so ``${VARIABLE}`` placeholders are the shell's to expand) and
is killed, group and all, at its timeout. A probe step passes on PASS or
WARN. A manual step asks ``confirm``. A failed step that is not critical is
recorded and the run goes on; a failed critical step waits for a decision
(retry, skip with a reason, abandon with a reason), or with
``stop_on_failure`` off is recorded and the run goes on. The steps after a
stop are reported as skipped. ``RunbookSession`` is the same run taken one
step at a time (the console's runbook screen); ``execute_runbook`` drives a
session from start to finish. A run belongs to an actor whose role must hold
``run_runbook``: otherwise starting it, or any step, retry, skip or abandon,
is refused (``PermissionDenied``) and the refusal audited as
``denied.runbook.*``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import signal
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from checks.probes import REGISTRY, ProbeContext, ProbeRegistry
from checks.runbooks.preflight import Preflight, preflight
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
    # ``critical`` (a bool) too, a step without it is critical; ``scope`` (a Scope) too,
    # a step without it examines its probe's default


class RunbookLike(Protocol):
    id: str
    title: str
    rto_minutes: float
    steps: Sequence[StepLike]


class Outcome(StrEnum):
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"
    DRY_RUN = "dry-run"  # a dry run's step the pre-flight found nothing against
    WOULD_FAIL = "would-fail"  # a dry run's step the pre-flight found a problem with


class Decision(StrEnum):
    """What the operator does about a failed critical step."""

    RETRY = "retry"
    SKIP = "skip"
    ABANDON = "abandon"


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
    preflight: Preflight | None = None
    #: Why the steps after a stop were skipped ("an earlier step failed", or who
    #: abandoned the run and why), if they were.
    stopped: str | None = None

    @property
    def succeeded(self) -> bool:
        """Every step done (a dry run: the pre-flight found nothing: ready)."""
        return all(r.outcome in (Outcome.DONE, Outcome.DRY_RUN) for r in self.results)

    @property
    def within_rto(self) -> bool:
        return self.elapsed <= self.rto_seconds


def clock(seconds: float) -> str:
    """``83`` -> ``01:23``."""
    minutes, rest = divmod(max(int(seconds), 0), 60)
    return f"{minutes:02d}:{rest:02d}"


def verdict(run: RunbookRun, rto_minutes: float) -> str:
    """The last line of a run, the same in the CLI and the console: ``rollback is ready``,
    ``rollback would fail at step 4: QD_SERVICE is not set``, ``rollback succeeded in
    01:02, within the 5-minute RTO`` or ``rollback FAILED ...`` naming the failed steps."""
    name = run.runbook_id
    if run.dry_run:
        checked = run.preflight or Preflight()
        return f"{name} is ready" if checked.ready else f"{name} {checked.verdict()}"
    timing = (f"in {clock(run.elapsed)}, {'within' if run.within_rto else 'OVER'} the "
              f"{rto_minutes:g}-minute RTO")  # fmt: skip
    if run.succeeded:
        return f"{name} succeeded {timing}"
    failed = [r.step_id for r in run.results if r.outcome is Outcome.FAILED]
    if run.stopped is not None:
        number = next((n for n, r in enumerate(run.results, 1) if r.outcome is Outcome.SKIPPED),
                      len(run.results) + 1)  # fmt: skip
        return (f"{name} FAILED: stopped before step {number} ({run.stopped}); the rest "
                f"skipped; failed: {', '.join(failed) or 'none'}; {timing}")  # fmt: skip
    return f"{name} FAILED: completed with failed steps {', '.join(failed)}; {timing}"


Confirm = Callable[[StepLike], Awaitable[bool]]
#: action, subject, detail; a coroutine function too (the console writes it from a thread)
Audit = Callable[[str, str, dict[str, Any]], Awaitable[None] | None]
#: What to do about a failed critical step: a decision and its reason.
Decide = Callable[[StepLike, StepResult], Awaitable[tuple[Decision, str]]]


def audit_to(store: Store, actor: Principal) -> Audit:
    """The audit a front end gives a run: entries in ``store`` as ``actor`` (with their
    source), written from a thread."""

    async def audit(action: str, subject: str, detail: dict[str, Any]) -> None:
        await asyncio.to_thread(record, store, actor, action, subject, detail)

    return audit


def _critical(step: StepLike) -> bool:
    return bool(getattr(step, "critical", True))


class RunbookSession:
    """One run of a runbook, a step at a time, for a caller that decides when each step runs
    (the console). ``execute_runbook`` drives the same session in one go, so both record
    the same audit entries: ``runbook.start`` (with the pre-flight's problems), one
    ``runbook.step`` per step run, ``runbook.retry``/``runbook.skip``/``runbook.abandon``
    with who and why, ``runbook.finish``.

    A step that fails and is not critical is recorded and the run goes on. A critical
    step that fails (with ``stop_on_failure``, the default) blocks the run: ``blocked``
    holds its result until the caller ``retry``s it, ``skip``s it (with a reason) or
    ``abandon``s the run (with a reason; the remaining steps are recorded as skipped).
    A dry run runs nothing: each step's result is the pre-flight's finding.

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
        self.blocked: StepResult | None = None  # a failed critical step awaiting a decision
        self._audit = audit
        self._context = probe_context
        self._registry = registry or REGISTRY
        self._environment = environment
        self._clock = clock
        self._started: float | None = None

    @property
    def started(self) -> bool:
        return self._started is not None

    @property
    def finished(self) -> bool:
        return len(self.run.results) == len(self.runbook.steps) and self.blocked is None

    @property
    def next_step(self) -> StepLike | None:
        """The step the next ``run_next`` records; None once every step has a result, or
        while a failed critical step waits for a decision (``blocked``)."""
        if self.blocked is not None or len(self.run.results) == len(self.runbook.steps):
            return None
        return self.runbook.steps[len(self.run.results)]

    @property
    def blocked_step(self) -> StepLike | None:
        return None if self.blocked is None else self.runbook.steps[len(self.run.results) - 1]

    @property
    def stopped(self) -> bool:
        """True once a stop (or ``abandon``) means the remaining steps will be skipped."""
        return self.run.stopped is not None

    def elapsed(self) -> float:
        """Seconds since the run started, frozen once it has finished (a dry run: 0)."""
        if self._started is None or self.run.dry_run:
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

    async def check(self) -> Preflight:
        """The pre-flight (once): what would stop a step, found before anything runs."""
        if self.run.preflight is None:
            self.run.preflight = await preflight(
                self.runbook.steps, environment=self._environment,
                probe_context=self._context, registry=self._registry,
            )  # fmt: skip
        return self.run.preflight

    async def start(self) -> None:
        """Start the run, after the pre-flight (whose problems the start entry records:
        a real run started despite them was started knowingly)."""
        await self._permit("runbook.start", self.runbook.id)
        if self._started is not None:
            raise RuntimeError(f"the {self.runbook.id} run has already started")
        checked = await self.check()
        self._started = self._clock()
        await self._record("runbook.start", self.runbook.id, {
            "dry_run": self.run.dry_run, "rto_minutes": self.runbook.rto_minutes,
            "stop_on_failure": self.stop_on_failure, "preflight": checked.verdict(),
            "problems": checked.as_detail(),
            # what a rehearsal was a rehearsal of (the runbook.rehearsed probe reads it)
            "target": self._context.target.base_url if self._context else "",
        })  # fmt: skip

    def _subject(self, step: StepLike) -> str:
        return f"{self.runbook.id}/{step.id}"

    async def run_next(self, confirm: Confirm) -> StepResult:
        """Run (or dry-run, or skip after a stop) the next step and audit it; the last
        step's entry is followed by the run's ``runbook.finish``."""
        if self.blocked is not None:
            raise RuntimeError(f"step {len(self.run.results)} failed: retry it, skip it or "
                               "abandon the run first")  # fmt: skip
        step = self.next_step
        if self._started is None or step is None:
            raise RuntimeError(f"the {self.runbook.id} run is not under way")
        await self._permit("runbook.step", self._subject(step))
        if self.run.stopped is not None:
            result = StepResult(step.id, Outcome.SKIPPED, self.run.stopped)
        elif self.run.dry_run:
            problems = (self.run.preflight or Preflight()).of(step.id)
            result = (StepResult(step.id, Outcome.WOULD_FAIL, "; ".join(problems)) if problems
                      else StepResult(step.id, Outcome.DRY_RUN, _would(step)))  # fmt: skip
        else:
            result = await self._execute(step, confirm)
        self.run.results.append(result)
        await self._after(step, result)
        return result

    async def _execute(self, step: StepLike, confirm: Confirm) -> StepResult:
        return await _execute(step, confirm, self._context, self._registry, self._environment)

    async def _after(self, step: StepLike, result: StepResult) -> None:
        assert self._started is not None
        self.run.elapsed = self._clock() - self._started
        critical = _critical(step)
        if result.outcome is Outcome.FAILED and critical and self.stop_on_failure:
            self.blocked = result
        await self._record("runbook.step", self._subject(step), {
            "outcome": result.outcome.value, "detail": result.detail, "output": result.output,
            "exit_code": result.exit_code, "elapsed": round(result.elapsed, 3),
            "runbook_elapsed": round(self.run.elapsed, 3), "critical": critical,
        })  # fmt: skip
        await self._finish_if_done()

    async def _finish_if_done(self) -> None:
        if not self.finished:
            return
        await self._record("runbook.finish", self.runbook.id, {
            "succeeded": self.run.succeeded, "elapsed": round(self.run.elapsed, 3),
            "within_rto": self.run.within_rto, "dry_run": self.run.dry_run,
            "verdict": verdict(self.run, self.runbook.rto_minutes),
            "stopped": self.run.stopped,
        })  # fmt: skip

    def _blocked_or_raise(self) -> tuple[StepLike, StepResult]:
        step, failed = self.blocked_step, self.blocked
        if step is None or failed is None:
            raise RuntimeError("no failed step is waiting for a decision")
        return step, failed

    async def retry(self, confirm: Confirm, reason: str = "") -> StepResult:
        """Run the failed critical step again (audited as ``runbook.retry``, with the
        failure it retries and ``reason``)."""
        step, failed = self._blocked_or_raise()
        await self._permit("runbook.retry", self._subject(step))
        await self._record("runbook.retry", self._subject(step), {
            "reason": reason or f"retrying after: {failed.detail}", "failed": failed.detail,
        })  # fmt: skip
        self.blocked = None
        self.run.results.pop()
        result = await self._execute(step, confirm)
        self.run.results.append(result)
        await self._after(step, result)
        return result

    async def skip(self, reason: str) -> StepResult:
        """Go on past the failed critical step (it stays failed): ``reason`` is required
        and audited as ``runbook.skip``."""
        step, failed = self._blocked_or_raise()
        if not reason.strip():
            raise ValueError("skipping a failed critical step needs a reason")
        await self._permit("runbook.skip", self._subject(step))
        await self._record("runbook.skip", self._subject(step), {
            "reason": reason, "failed": failed.detail,
        })  # fmt: skip
        skipped = dataclasses.replace(
            failed, detail=f"{failed.detail}; skipped by {self.actor.name}: {reason}"
        )
        self.run.results[-1] = skipped
        self.blocked = None
        await self._finish_if_done()
        return skipped

    async def stop(self, why: str) -> list[StepResult]:
        """Skip every remaining step because of ``why`` (each skip audited), finishing the
        run; what ``execute_runbook`` does after a failure when nobody decides."""
        self.run.stopped = why
        self.blocked = None
        skipped: list[StepResult] = []
        while not self.finished:
            skipped.append(await self.run_next(_refuse))
        if not skipped:  # the failed step was the last: the finish is still to write
            await self._finish_if_done()
        return skipped

    async def abandon(self, reason: str) -> list[StepResult]:
        """The operator ends the run: ``runbook.abandon`` with who and ``reason``, then
        every remaining step recorded as skipped."""
        if not reason.strip():
            raise ValueError("abandoning a run needs a reason")
        subject = self.runbook.id
        await self._permit("runbook.abandon", subject)
        await self._record("runbook.abandon", subject, {
            "reason": reason, "at_step": len(self.run.results) + (self.blocked is None),
            "failed": None if self.blocked is None else self.blocked.detail,
        })  # fmt: skip
        return await self.stop(f"abandoned by {self.actor.name}: {reason}")


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
    decide: Decide | None = None,
    on_step: Callable[[StepLike, StepResult, float], None] | None = None,
    session: RunbookSession | None = None,
) -> RunbookRun:
    """Run every step in order; ``on_step(step, result, elapsed)`` follows the RTO clock.

    A failed critical step is put to ``decide`` (retry, skip or abandon, with a
    reason); without ``decide`` the run stops there and the rest is skipped.
    ``session`` is one already made (and perhaps checked) by the caller."""
    if session is None:
        session = RunbookSession(
            runbook, actor=actor, audit=audit, probe_context=probe_context,
            registry=registry, environment=environment, dry_run=dry_run,
            stop_on_failure=stop_on_failure,
        )  # fmt: skip
    await session.start()
    while not session.finished:
        step = session.next_step
        if step is not None:
            result = await session.run_next(confirm)
        else:  # a critical step failed
            step, failed = session._blocked_or_raise()
            if decide is None:
                for skipped in await session.stop("an earlier step failed"):
                    if on_step is not None:
                        on_step(runbook.steps[_index(runbook, skipped.step_id)], skipped,
                                session.run.elapsed)  # fmt: skip
                break
            decision, reason = await decide(step, failed)
            if decision is Decision.RETRY:
                result = await session.retry(confirm, reason)
            elif decision is Decision.SKIP:
                result = await session.skip(reason)
            else:
                for skipped in await session.abandon(reason):
                    if on_step is not None:
                        on_step(runbook.steps[_index(runbook, skipped.step_id)], skipped,
                                session.run.elapsed)  # fmt: skip
                break
        if on_step is not None:
            on_step(step, result, session.run.elapsed)
    return session.run


def _index(runbook: RunbookLike, step_id: str) -> int:
    return next(i for i, step in enumerate(runbook.steps) if step.id == step_id)


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
                                   float(step.timeout or 10.0),
                                   scope=getattr(step, "scope", None))  # fmt: skip
    outcome = Outcome.DONE if result.verdict in (Verdict.PASS, Verdict.WARN) else Outcome.FAILED
    return StepResult(step.id, outcome, f"{result.verdict.value}: {result.reason}",
                      repr(dict(result.evidence))[:OUTPUT_LIMIT])  # fmt: skip


def _clip(output: bytes | None) -> str:
    text = (output or b"").decode("utf-8", errors="replace")
    if len(text) > OUTPUT_LIMIT:
        return text[:OUTPUT_LIMIT] + f"\n... ({len(text) - OUTPUT_LIMIT} more characters)"
    return text
