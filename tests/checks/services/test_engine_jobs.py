"""engine.optimize and engine.job_control against a real Quarterdeck serving its API on
127.0.0.1, running its jobs for real (one at a time, so the second job waits)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from checks.probes import REGISTRY, ProbeContext, Scope, Target
from checks.probes.engine_jobs import (
    JobControlParams,
    OptimizeParams,
    job_control,
    optimize,
)
from checks.runner import run_probe_named
from core.access import Role
from core.config import Settings
from core.events import JobPriority, Verdict
from core.jobs import records
from core.store import JobRow
from tests.console.api.conftest import Api, role_keys, serving

#: Minutes of work: still running when the probe's budget ends.
LONG = {"fast": [2, 100, 1], "slow": [101, 200, 1]}


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Api]:
    """A Quarterdeck serving its API, running one job at a time."""
    one_at_a_time = settings.model_copy(update={"job_concurrency": 1})
    async with serving(one_at_a_time, role_keys(one_at_a_time)) as served:
        yield served


def aimed_at(api: Api, role: Role = Role.OPERATOR) -> ProbeContext:
    target = Target(base_url=api.url, api_key=api.keys[role])
    return ProbeContext(api.deck.settings, api.deck.store.engine, "live", target,
                        scope=Scope.TARGET)  # fmt: skip


async def settled_jobs(api: Api) -> list[JobRow]:
    """The target's jobs, newest first, once none is left running (a cancelled one stops
    at its next check)."""
    async with asyncio.timeout(10):
        while api.deck.jobs.has_work():
            await asyncio.sleep(0.05)
    await api.deck.writer.flush()
    return records.list_jobs(api.deck.store, None, 50)


async def test_an_optimization_runs_to_a_best_and_exports_it_as_pine(api: Api) -> None:
    result = await optimize(aimed_at(api), OptimizeParams(export=True))
    assert result.verdict is Verdict.PASS, result.reason
    evidence = result.evidence
    symbol = api.deck.settings.sim_symbols[0]
    assert evidence["dataset"] == f"sim:{symbol}"
    assert evidence["combos"] == 9
    assert set(evidence["best_params"]) == {"fast", "slow"}  # type: ignore[arg-type]
    assert "sharpe" in evidence["best_figures"]  # type: ignore[operator]
    (name,) = evidence["export_files"]  # type: ignore[misc]
    assert name.endswith(".pine") and evidence["export_files"][name] > 0  # type: ignore[index]
    assert result.reason.startswith(f"job {evidence['job_id']} searched 9 combination(s) in ")
    assert result.reason.endswith(f"; exported as Pine Script ({name})")


async def test_an_optimization_over_its_budget_fails_and_is_cancelled(api: Api) -> None:
    params = OptimizeParams(grid=LONG, bars=20_000, budget_seconds=1)
    result = await optimize(aimed_at(api), params)
    assert result.verdict is Verdict.FAIL
    job_id = result.evidence["job_id"]
    assert result.reason.startswith(f"job {job_id} outlived its budget of 1 s (")
    assert result.reason.endswith("(cancelled by the probe)")
    assert [(row.id, row.state) for row in await settled_jobs(api)] == [(job_id, "cancelled")]


async def test_a_viewer_key_is_an_error_not_a_verdict(api: Api) -> None:
    result = await run_probe_named("engine.optimize", {}, aimed_at(api, Role.VIEWER),
                                   REGISTRY, 30.0)  # fmt: skip
    assert result.verdict is Verdict.ERROR
    assert "refused the check's key (403)" in result.reason
    assert result.evidence["setting"] == "api_key"


async def test_a_target_without_a_jobs_api_is_an_error(settings: Settings,
                                                       static_site: str) -> None:  # fmt: skip
    ctx = ProbeContext(settings, None, "live", Target(base_url=static_site, api_key="a-key"),  # type: ignore[arg-type]
                       scope=Scope.TARGET)  # fmt: skip
    for name in ("engine.optimize", "engine.job_control"):
        result = await run_probe_named(name, {"dataset": "sim:SPY"}, ctx, REGISTRY, 30.0)
        assert result.verdict is Verdict.ERROR, (name, result.reason)
        # Python's static server answers a POST 501 (Unsupported method).
        assert result.reason.startswith("the target has no jobs API: POST /api/v1/jobs "
                                        "(optimize) answered 501")  # fmt: skip


async def test_the_queue_obeys_priority_and_cancel_and_leaves_nothing_behind(api: Api) -> None:
    result = await job_control(aimed_at(api), JobControlParams())
    assert result.verdict is Verdict.PASS, result.reason
    evidence = result.evidence
    small, large = evidence["moved_job"], evidence["cancelled_job"]
    assert evidence["answers"] == {
        "priority": {"status": 200, "state": "queued", "priority": "high"},
        # a running job stops at its next check: the answer may still say running
        "cancel": {
            "status": 200,
            "state": evidence["answers"]["cancel"]["state"],  # type: ignore[index]
            "priority": "normal",
        },
        "resume_cancelled": {
            "status": 409,
            "detail": evidence["answers"]["resume_cancelled"]["detail"],
        },  # type: ignore[index]
    }
    assert evidence["answers"]["cancel"]["state"] in ("running", "cancelled")  # type: ignore[index]
    assert evidence["final"][str(small)] == {"state": "done", "priority": "high", "done": 9,  # type: ignore[index]
                                             "total": 9}  # fmt: skip
    assert evidence["final"][str(large)]["state"] == "cancelled"  # type: ignore[index]
    assert evidence["cancelled_in_clean_up"] == []
    assert {row.id: row.state for row in await settled_jobs(api)} == {
        small: "done",
        large: "cancelled",
    }


async def test_a_priority_that_does_not_move_fails_naming_it(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def ignored(actor: object, job_id: int, priority: JobPriority) -> bool:
        return True  # accepted, and nothing done

    monkeypatch.setattr(api.deck, "set_job_priority", ignored)
    result = await job_control(aimed_at(api), JobControlParams())
    assert result.verdict is Verdict.FAIL
    small = result.evidence["moved_job"]
    assert result.reason == (f"priority: job {small} is still low after moving it to high; "
                             f"priority: job {small} finished as low, not high")  # fmt: skip
    assert {row.state for row in await settled_jobs(api)} == {"done", "cancelled"}
