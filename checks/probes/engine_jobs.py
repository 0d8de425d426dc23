"""The target's optimizer, exports and job queue, exercised through its control API:
small jobs submitted, followed to the end and controlled, and nothing of the probe's
left running or queued when it returns.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

import httpx
from pydantic import Field

from checks.probes.base import ProbeContext, ProbeParams, ProbeResult, Scope
from checks.probes.http.client import ProbeClient, body_excerpt, run_http_probe
from checks.probes.registry import probe
from checks.probes.target_jobs import FINISHED, WHY, TargetJobs
from core.events import Verdict

#: Nine combinations of the SMA crossover: seconds on any machine.
SMALL_GRID = {"fast": [5, 15, 5], "slow": [20, 40, 10]}
#: 9,900 combinations on 20,000 bars: minutes, so it is still at work when controlled.
LARGE_GRID = {"fast": [2, 100, 1], "slow": [101, 200, 1]}
#: The annotation opening every Pine Script (after any comments).
PINE_HEADER = b"//@version="

Grid = dict[str, list[int | float]]


class SearchParams(ProbeParams):
    #: The strategy searched (an id of the target's library).
    strategy: str = "sma_cross"
    #: By parameter, [START, STOP] or [START, STOP, STEP] (``POST /jobs``'s ``grid``).
    grid: Grid = Field(default_factory=lambda: {k: list(v) for k, v in SMALL_GRID.items()})
    #: A catalog id or ``sim:SYMBOL``; empty: ``sim:`` the first symbol the target's
    #: portfolio reports.
    dataset: str = ""
    #: Bars of a ``sim:`` dataset.
    bars: int = Field(default=600, ge=100, le=100_000)
    #: Seconds from submission to the last job's end; a job still unfinished then is
    #: cancelled and FAILs.
    budget_seconds: float = Field(default=60.0, gt=0, le=3600)


class OptimizeParams(SearchParams):
    #: Also export the best parameters as Pine Script and check the file.
    export: bool = False


def optimize_body(params: SearchParams, dataset: str, grid: Grid | None = None,
                  **extra: object) -> dict[str, Any]:  # fmt: skip
    """``POST /jobs``'s body for a search of ``params.strategy`` on ``dataset``; every
    combination qualifies (``min_trades`` 0), so a finished search has a best."""
    return {"kind": "optimize", "strategy": params.strategy, "dataset": dataset,
            "bars": params.bars, "grid": grid if grid is not None else params.grid,
            "min_trades": 0, **extra}  # fmt: skip


def ended_badly(document: dict[str, Any], budget: float, *, counted: bool = True) -> str | None:
    """Why a followed job did not finish well (failed, cancelled, over the budget, or, if
    it is ``counted`` in units of work, its progress short of its total), else None."""
    job_id, state = document.get("id"), document.get("state")
    done, total = document.get("done", 0), document.get("total", 0)
    if state not in FINISHED:
        return f"job {job_id} outlived its budget of {budget:g} s ({state} at {done}/{total})"
    if state == "failed":
        return f"job {job_id} failed: {document.get('error') or 'no error given'}"
    if state == "cancelled":
        note = document.get("note")
        return f"job {job_id} was cancelled on the target" + (f": {note}" if note else "")
    if counted and (not total or done != total):
        return f"job {job_id} is done, but its progress stopped at {done}/{total}"
    return None


def has_pine_header(content: bytes) -> bool:
    """Whether the script's opening comment lines (before its first statement) hold the
    ``//@version=`` annotation, as Pine requires."""
    opening = itertools.takewhile(lambda line: not line.strip() or line.startswith(b"//"),
                                  content.splitlines())  # fmt: skip
    return any(line.startswith(PINE_HEADER) for line in opening)


async def _exported(
    jobs: TargetJobs, params: OptimizeParams, dataset: str, best: dict[str, Any],
    deadline: float,
) -> tuple[str | None, dict[str, object]]:  # fmt: skip
    """A Pine Script export of ``best``, followed and downloaded: what is wrong with it
    (None: nothing) and its evidence."""
    body = {"kind": "pine", "strategy": params.strategy, "dataset": dataset, "params": best,
            "bars": params.bars}  # fmt: skip
    job_id = await jobs.submit(body)
    document = await jobs.follow(job_id, deadline)
    evidence: dict[str, object] = {"export_job_id": job_id}
    problem = ended_badly(document, params.budget_seconds, counted=False)  # one file, no units
    if problem:
        return f"Pine Script export: {problem}", evidence
    files = await jobs.download(job_id)
    pine = {name: content for name, content in files.items() if name.endswith(".pine")}
    evidence["export_files"] = {name: len(content) for name, content in files.items()}
    if not pine:
        return f"Pine Script export job {job_id} wrote no .pine file ({len(files)} other)", evidence
    name, content = next(iter(pine.items()))
    if not has_pine_header(content):
        return (f"{name} of job {job_id} is {len(content)} bytes without a "
                f"{PINE_HEADER.decode()} line in its opening comments: "
                f"{content[:40]!r}"), evidence  # fmt: skip
    return None, evidence


@probe("engine.optimize", scopes=(Scope.TARGET,), params=OptimizeParams,
       needs=("base_url", "api_key"), disturbs="it queues jobs on the target")  # fmt: skip
async def optimize(ctx: ProbeContext, params: OptimizeParams) -> ProbeResult:
    """A small optimization runs on the target to a best parameter set within its budget.

    The job's progress must reach its total and its result name the best parameters and
    their figures; with ``export``, those are exported as Pine Script and the file read."""

    async def body(http: ProbeClient) -> ProbeResult:
        jobs = TargetJobs(http)
        try:
            dataset = await jobs.simulated_dataset(params.dataset)
            started = time.monotonic()
            deadline = started + params.budget_seconds
            job_id = await jobs.submit(optimize_body(params, dataset))
            document = await jobs.follow(job_id, deadline)
        finally:
            cancelled = await jobs.clean_up()
        result = document.get("result") or {}
        best, figures = result.get("best_params") or {}, result.get("best_metrics") or {}
        evidence: dict[str, object] = {
            "job_id": job_id, "dataset": dataset,
            "elapsed_s": round(time.monotonic() - started, 2),
            "combos": result.get("evaluations", document.get("total")),
            "best_params": best, "best_figures": figures,
        }  # fmt: skip
        problem = ended_badly(document, params.budget_seconds)
        if problem:
            suffix = " (cancelled by the probe)" if job_id in cancelled else ""
            return ProbeResult(Verdict.FAIL, problem + suffix, evidence)
        if not best or not figures:
            why = result.get("summary") or "no best_params or best_metrics"
            return ProbeResult(Verdict.FAIL, f"job {job_id} is done without a best: {why}",
                               evidence)  # fmt: skip
        reason = (f"job {job_id} searched {evidence['combos']} combination(s) in "
                  f"{evidence['elapsed_s']:g} s: {result.get('summary', best)}")  # fmt: skip
        if params.export:
            try:
                trouble, exported = await _exported(jobs, params, dataset, best, deadline)
            finally:
                await jobs.clean_up()
            evidence.update(exported)
            if trouble:
                return ProbeResult(Verdict.FAIL, trouble, evidence)
            reason += f"; exported as Pine Script ({', '.join(exported['export_files'])})"  # type: ignore[arg-type]
        return ProbeResult(Verdict.PASS, reason, evidence)

    return await run_http_probe(ctx.target, body, needs_api_key=True, breakers=ctx.breakers)


class JobControlParams(SearchParams):
    #: The search cancelled while it works: large enough to outlast the controls.
    large_grid: Grid = Field(default_factory=lambda: {k: list(v) for k, v in LARGE_GRID.items()})
    #: Bars of the large search.
    large_bars: int = Field(default=20_000, ge=100, le=100_000)


def _answered(answer: httpx.Response) -> dict[str, object]:
    """A control's answer, for evidence."""
    shown: dict[str, object] = {"status": answer.status_code}
    if answer.status_code == 200:
        shown.update({k: answer.json().get(k) for k in ("state", "priority")})
    else:
        shown["detail"] = body_excerpt(answer)
    return shown


def priority_failures(job_id: int, moved: httpx.Response, end: dict[str, Any]) -> list[str]:
    """What went wrong moving ``job_id`` to high priority (``moved``: the answer; ``end``:
    the job once finished)."""
    if moved.status_code != 200:
        return [f"priority: moving job {job_id} to high answered {moved.status_code}: "
                f"{body_excerpt(moved)}"]  # fmt: skip
    found = []
    if moved.json().get("priority") != "high":
        found.append(f"priority: job {job_id} is still {moved.json().get('priority')} after "
                     "moving it to high")  # fmt: skip
    if end.get("state") in FINISHED and end.get("priority") != "high":
        found.append(f"priority: job {job_id} finished as {end.get('priority')}, not high")
    return found


def cancel_failures(job_id: int, stopped: httpx.Response, end: dict[str, Any],
                    resumed: httpx.Response, after: dict[str, Any]) -> list[str]:  # fmt: skip
    """What went wrong cancelling ``job_id`` (``stopped``: the answer; ``end``: the job
    once finished; ``resumed``: the answer to resuming it then; ``after``: the job last)."""
    if stopped.status_code != 200:
        return [f"cancel: cancelling job {job_id} answered {stopped.status_code}: "
                f"{body_excerpt(stopped)}"]  # fmt: skip
    if end.get("state") != "cancelled":
        return [f"cancel: job {job_id} is {end.get('state')} after its cancel was accepted"]
    if resumed.status_code == 200 or after.get("state") != "cancelled":
        return [f"cancel: cancelled job {job_id} did not stay cancelled (resume answered "
                f"{resumed.status_code}, now {after.get('state')})"]  # fmt: skip
    return []


@probe("engine.job_control", scopes=(Scope.TARGET,), params=JobControlParams,
       needs=("base_url", "api_key"), disturbs="it queues jobs on the target")  # fmt: skip
async def job_control(ctx: ProbeContext, params: JobControlParams) -> ProbeResult:
    """The target's job queue obeys its priority and cancel controls, and reports progress.

    A waiting job moved up the queue keeps its new priority and finishes with its progress
    at its total; a job cancelled while it works stops, and stays cancelled."""

    async def body(http: ProbeClient) -> ProbeResult:
        jobs = TargetJobs(http)
        try:
            dataset = await jobs.simulated_dataset(params.dataset)
            deadline = time.monotonic() + params.budget_seconds
            large = await jobs.submit(optimize_body(params, dataset, params.large_grid,
                                                    bars=params.large_bars))  # fmt: skip
            small = await jobs.submit(optimize_body(params, dataset, priority="low"))
            moved = await jobs.control(small, "priority", {"priority": "high"})
            stopped = await jobs.control(large, "cancel", {"why": WHY})
            large_end = await jobs.follow(large, deadline)
            small_end = await jobs.follow(small, deadline)
            resumed = await jobs.control(large, "resume")
            large_after = await jobs.job(large)
        finally:
            cleaned = await jobs.clean_up()
        failures = priority_failures(small, moved, small_end)
        failures += cancel_failures(large, stopped, large_end, resumed, large_after)
        problem = ended_badly(small_end, params.budget_seconds)
        if problem:
            failures.append(f"progress: {problem}")
        shown = ("state", "priority", "done", "total")
        evidence: dict[str, object] = {
            "dataset": dataset, "moved_job": small, "cancelled_job": large,
            "answers": {"priority": _answered(moved), "cancel": _answered(stopped),
                        "resume_cancelled": _answered(resumed)},
            "final": {str(small): {k: small_end.get(k) for k in shown},
                      str(large): {k: large_after.get(k) for k in shown}},
            "cancelled_in_clean_up": cleaned,
        }  # fmt: skip
        if failures:
            return ProbeResult(Verdict.FAIL, "; ".join(failures), evidence)
        reason = (f"job {small} moved to high priority and finished at {small_end['done']}/"
                  f"{small_end['total']}; job {large} cancelled at {large_after.get('done')}/"
                  f"{large_after.get('total')} and stayed cancelled")  # fmt: skip
        return ProbeResult(Verdict.PASS, reason, evidence)

    return await run_http_probe(ctx.target, body, needs_api_key=True, breakers=ctx.breakers)
