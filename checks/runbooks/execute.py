"""Executing a runbook: shell, probe and manual steps in order, against the RTO clock.

Each step is audited with its outcome and output as it finishes. A shell
step runs under ``/bin/sh -c`` in its own process group with the given
environment (so ``${VARIABLE}`` placeholders are the shell's to expand) and
is killed, group and all, at its timeout. A probe step passes on PASS or
WARN. A manual step asks ``confirm``. With ``dry_run`` nothing runs: every
step is reported with what it would do. A failed step stops the run unless
``stop_on_failure`` is off; the steps after a stop are reported as skipped.
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
from core.events import Verdict

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
Audit = Callable[[str, str, dict[str, Any]], None]  # action, subject, detail


async def execute_runbook(
    runbook: RunbookLike,
    *,
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
    run = RunbookRun(runbook.id, runbook.rto_minutes * 60.0, dry_run)
    started = time.monotonic()
    audit("runbook.start", runbook.id, {"dry_run": dry_run, "rto_minutes": runbook.rto_minutes,
                                        "stop_on_failure": stop_on_failure})  # fmt: skip
    stopped = False
    for step in runbook.steps:
        if stopped:
            result = StepResult(step.id, Outcome.SKIPPED, "an earlier step failed")
        elif dry_run:
            result = StepResult(step.id, Outcome.DRY_RUN, _would(step))
        else:
            result = await _execute(step, confirm, probe_context, registry or REGISTRY,
                                    environment)  # fmt: skip
            stopped = result.outcome is Outcome.FAILED and stop_on_failure
        run.results.append(result)
        run.elapsed = time.monotonic() - started
        audit("runbook.step", f"{runbook.id}/{step.id}", {
            "outcome": result.outcome.value, "detail": result.detail, "output": result.output,
            "exit_code": result.exit_code, "elapsed": round(result.elapsed, 3),
            "runbook_elapsed": round(run.elapsed, 3),
        })  # fmt: skip
        if on_step is not None:
            on_step(step, result, run.elapsed)
    audit("runbook.finish", runbook.id, {
        "succeeded": run.succeeded, "elapsed": round(run.elapsed, 3),
        "within_rto": run.within_rto, "dry_run": dry_run,
    })  # fmt: skip
    return run


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
