"""The runner: concurrency bound, timeouts, containment and the order of published events."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from checks import (
    Checklist,
    ProbeContext,
    ProbeParams,
    ProbeRegistry,
    ProbeResult,
    builtin_checklist,
    run_checklist,
)
from checks.probes import Scope, Target
from core.events import CheckUpdate, Verdict

from .conftest import sqlite_engine
from .support import Tracker, item

MakeChecklist = Callable[..., Checklist]


class Recorder:
    """A ``publish`` callable that keeps every event."""

    def __init__(self) -> None:
        self.events: list[CheckUpdate] = []

    def __call__(self, event: CheckUpdate) -> None:
        self.events.append(event)

    def verdicts(self, item_id: str) -> list[Verdict]:
        return [e.verdict for e in self.events if e.item_id == item_id]


async def run(
    checklist: Checklist,
    ctx: ProbeContext,
    registry: ProbeRegistry,
    **kwargs: Any,
) -> tuple[dict[str, ProbeResult], Recorder]:
    recorder = Recorder()
    results = await run_checklist(checklist, ctx, recorder, registry=registry, **kwargs)
    return results, recorder


async def test_probe_that_raises_becomes_error_with_exception_text(
    make_checklist: MakeChecklist, ctx: ProbeContext, registry: ProbeRegistry
) -> None:
    checklist = make_checklist(item("t.boom", "test.boom"), item("t.ok", "test.pass"))
    results, recorder = await run(checklist, ctx, registry)
    assert results["t.boom"].verdict is Verdict.ERROR
    assert results["t.boom"].reason == "RuntimeError: kaboom: disk on fire"
    assert results["t.ok"].verdict is Verdict.PASS
    assert recorder.verdicts("t.boom") == [Verdict.PENDING, Verdict.RUNNING, Verdict.ERROR]
    published = [e for e in recorder.events if e.item_id == "t.boom"][-1]
    assert published.reason == "RuntimeError: kaboom: disk on fire"
    assert published.evidence == {"exception": "RuntimeError", "scope": "target"}


async def test_probe_past_timeout_becomes_error_without_delaying_others(
    make_checklist: MakeChecklist, ctx: ProbeContext, registry: ProbeRegistry
) -> None:
    checklist = make_checklist(
        item("t.slow", "test.sleep", seconds=30),
        item("t.quick1", "test.pass"),
        item("t.quick2", "test.sleep", seconds=0.01),
    )
    # The slow probe sleeps 30 s: finishing within 10 means its timeout cut it off.
    results, recorder = await asyncio.wait_for(run(checklist, ctx, registry, timeout=0.3), 10)
    assert results["t.slow"].verdict is Verdict.ERROR
    assert results["t.slow"].reason == "timed out after 0.3s"
    assert results["t.quick1"].verdict is Verdict.PASS
    assert results["t.quick2"].verdict is Verdict.PASS
    # The quick items finished (and were published) before the slow one timed out.
    finals = [e.item_id for e in recorder.events if e.verdict in (Verdict.PASS, Verdict.ERROR)]
    assert finals[-1] == "t.slow"


async def test_an_item_with_its_own_timeout_gets_that_long(
    make_checklist: MakeChecklist, ctx: ProbeContext, registry: ProbeRegistry
) -> None:
    patient = {**item("t.scan", "test.sleep", seconds=0.5), "timeout": 5}
    hasty = {**item("t.probe", "test.sleep", seconds=30), "timeout": 0.2}
    checklist = make_checklist(patient, hasty)
    results, _ = await asyncio.wait_for(run(checklist, ctx, registry, timeout=0.3), 10)
    assert results["t.scan"].verdict is Verdict.PASS  # past the run's 0.3 s, within its 5
    assert results["t.probe"].reason == "timed out after 0.2s"


async def test_probe_own_timeout_error_is_not_reported_as_runner_timeout(
    make_checklist: MakeChecklist, ctx: ProbeContext, registry: ProbeRegistry
) -> None:
    results, _ = await run(make_checklist(item("t.own", "test.own_timeout")), ctx, registry)
    assert results["t.own"].verdict is Verdict.ERROR
    assert results["t.own"].reason == "TimeoutError: socket read timed out"


async def test_probe_returning_non_result_becomes_error(
    make_checklist: MakeChecklist, ctx: ProbeContext, registry: ProbeRegistry
) -> None:
    results, _ = await run(make_checklist(item("t.odd", "test.not_a_result")), ctx, registry)
    assert results["t.odd"].verdict is Verdict.ERROR
    assert "str, not a ProbeResult" in results["t.odd"].reason


async def test_probe_returning_non_final_verdict_becomes_error(
    make_checklist: MakeChecklist, ctx: ProbeContext, registry: ProbeRegistry
) -> None:
    results, _ = await run(make_checklist(item("t.pending", "test.pending")), ctx, registry)
    assert results["t.pending"].verdict is Verdict.ERROR
    assert "'pending'" in results["t.pending"].reason


async def test_events_are_pending_then_running_then_final_for_each_item(
    make_checklist: MakeChecklist, ctx: ProbeContext, registry: ProbeRegistry
) -> None:
    checklist = make_checklist(
        item("t.a", "test.pass"),
        item("t.manual"),
        item("t.b", "test.fail"),
        item("t.c", "test.sleep", seconds=0.01),
    )
    _, recorder = await run(checklist, ctx, registry)
    # Every item is announced first, in checklist order, before any probe starts.
    head = recorder.events[:4]
    assert [e.item_id for e in head] == ["t.a", "t.manual", "t.b", "t.c"]
    assert [e.verdict for e in head] == [
        Verdict.PENDING,
        Verdict.MANUAL,
        Verdict.PENDING,
        Verdict.PENDING,
    ]
    assert recorder.verdicts("t.a") == [Verdict.PENDING, Verdict.RUNNING, Verdict.PASS]
    assert recorder.verdicts("t.b") == [Verdict.PENDING, Verdict.RUNNING, Verdict.FAIL]
    assert recorder.verdicts("t.c") == [Verdict.PENDING, Verdict.RUNNING, Verdict.PASS]
    assert recorder.verdicts("t.manual") == [Verdict.MANUAL]
    assert "QA" in recorder.events[1].reason
    assert all(e.checklist == "testing" for e in recorder.events)
    assert [e for e in recorder.events if e.item_id == "t.b"][-1].evidence == {
        "measured": 1,
        "scope": "target",
    }


async def test_results_are_probe_items_only_in_checklist_order(
    make_checklist: MakeChecklist, ctx: ProbeContext, registry: ProbeRegistry
) -> None:
    checklist = make_checklist(
        item("t.z", "test.sleep", seconds=0.05),
        item("t.manual"),
        item("t.a", "test.pass"),
    )
    results, _ = await run(checklist, ctx, registry)
    assert list(results) == ["t.z", "t.a"]
    assert all(r.elapsed is not None and r.elapsed >= 0 for r in results.values())


async def test_concurrency_bound_limits_simultaneous_probes(
    make_checklist: MakeChecklist, ctx: ProbeContext, registry: ProbeRegistry, tracker: Tracker
) -> None:
    checklist = make_checklist(*(item(f"t.s{i}", "test.sleep", seconds=0.02) for i in range(6)))
    results, _ = await run(checklist, ctx, registry, concurrency=2)
    assert tracker.max_active == 2
    assert all(r.verdict is Verdict.PASS for r in results.values())


async def test_unbounded_enough_concurrency_runs_all_at_once(
    make_checklist: MakeChecklist, ctx: ProbeContext, registry: ProbeRegistry, tracker: Tracker
) -> None:
    checklist = make_checklist(*(item(f"t.s{i}", "test.sleep", seconds=0.02) for i in range(6)))
    await run(checklist, ctx, registry, concurrency=8)
    assert tracker.max_active == 6


async def test_exclusive_probe_runs_alone_after_the_others(
    make_checklist: MakeChecklist, ctx: ProbeContext, registry: ProbeRegistry, tracker: Tracker
) -> None:
    seen_beside: list[int] = []

    @registry.register("test.timing", scopes=(Scope.TARGET,), exclusive=True)
    async def timing(ctx: ProbeContext, params: ProbeParams) -> ProbeResult:
        seen_beside.append(tracker.active)  # other probes running while this one measures
        return ProbeResult(Verdict.PASS, "timed")

    checklist = make_checklist(
        item("t.timed", "test.timing"),
        *(item(f"t.s{i}", "test.sleep", seconds=0.02) for i in range(4)),
    )
    results, recorder = await run(checklist, ctx, registry, concurrency=8)
    assert seen_beside == [0]
    assert tracker.max_active == 4  # the others still ran together
    assert list(results) == ["t.timed", "t.s0", "t.s1", "t.s2", "t.s3"]  # checklist order
    finals = [e.item_id for e in recorder.events if e.verdict is Verdict.PASS]
    assert finals[-1] == "t.timed"


async def test_probe_that_locks_out_runs_alone_after_every_other_probe(
    make_checklist: MakeChecklist, ctx: ProbeContext, registry: ProbeRegistry, tracker: Tracker
) -> None:
    order: list[str] = []

    @registry.register("test.lockout", scopes=(Scope.TARGET,), locks_out=True)
    async def lockout(ctx: ProbeContext, params: ProbeParams) -> ProbeResult:
        order.append(f"lockout beside {tracker.active}")
        return ProbeResult(Verdict.PASS, "locked")

    @registry.register("test.burst", scopes=(Scope.TARGET,), exclusive=True)
    async def burst(ctx: ProbeContext, params: ProbeParams) -> ProbeResult:
        order.append(f"burst beside {tracker.active}")
        return ProbeResult(Verdict.PASS, "throttled")

    checklist = make_checklist(
        item("t.lockout", "test.lockout"),  # first in the checklist, yet run last
        item("t.s0", "test.sleep", seconds=0.02),
        item("t.burst", "test.burst"),
        item("t.s1", "test.sleep", seconds=0.02),
    )
    results, recorder = await run(checklist, ctx, registry, concurrency=8)
    assert order == ["burst beside 0", "lockout beside 0"]
    assert list(results) == ["t.lockout", "t.s0", "t.burst", "t.s1"]  # checklist order
    finals = [e.item_id for e in recorder.events if e.verdict is Verdict.PASS]
    assert finals[-2:] == ["t.burst", "t.lockout"]


async def test_on_result_sees_each_result_before_its_final_event(
    make_checklist: MakeChecklist, ctx: ProbeContext, registry: ProbeRegistry
) -> None:
    recorder = Recorder()
    seen: list[tuple[str, int]] = []

    def on_result(item_id: str, result: ProbeResult) -> None:
        seen.append((item_id, len(recorder.events)))

    checklist = make_checklist(item("t.a", "test.pass"))
    await run_checklist(checklist, ctx, recorder, registry=registry, on_result=on_result)
    assert seen == [("t.a", 2)]  # after PENDING and RUNNING, before the final PASS
    assert recorder.events[-1].verdict is Verdict.PASS


@pytest.mark.parametrize(("concurrency", "timeout"), [(0, 5.0), (1, 0.0), (1, -1.0)])
async def test_invalid_bounds_raise_valueerror(
    make_checklist: MakeChecklist,
    ctx: ProbeContext,
    registry: ProbeRegistry,
    concurrency: int,
    timeout: float,
) -> None:
    checklist = make_checklist(item("t.a", "test.pass"))
    with pytest.raises(ValueError):
        await run(checklist, ctx, registry, concurrency=concurrency, timeout=timeout)


async def test_builtin_checklist_with_no_target_passes_nothing_and_names_what_is_missing(
    ctx: ProbeContext,
) -> None:
    # Quarterdeck's own store is in WAL mode and its engine on paper, but the production
    # items examine the target: none may pass on Quarterdeck's own parts.
    recorder = Recorder()
    checklist = builtin_checklist("production")
    results = await run_checklist(checklist, ctx, recorder)
    assert set(results) == {item.id for item in checklist.probe_items}
    # The one item of Quarterdeck's own scope reads its ledger (this store has no tables).
    ledger_items = {i.id for i in checklist.probe_items if i.scope is Scope.QUARTERDECK}
    assert ledger_items == {"ci.staging_first"}
    assert results["ci.staging_first"].verdict is not Verdict.PASS
    about_target = {k: v for k, v in results.items() if k not in ledger_items}
    verdicts = {item_id: result.verdict for item_id, result in about_target.items()}
    assert set(verdicts.values()) == {Verdict.ERROR}, verdicts
    assert all("is not set" in result.reason for result in about_target.values()), {
        k: v.reason for k, v in about_target.items() if "is not set" not in v.reason
    }
    assert "QD_CHECK_DATABASE_URL" in results["database.reachable"].reason
    assert results["database.reachable"].evidence["scope"] == "target-database"
    assert results["infrastructure.cpu_headroom"].evidence["scope"] == "target-host"
    assert len(recorder.events) == len(checklist.items) + 2 * len(checklist.probe_items)


async def test_the_target_database_is_the_one_examined(ctx: ProbeContext, tmp_path: Path) -> None:
    target_db = sqlite_engine(tmp_path / "target.db", "DELETE")
    target_db.dispose()
    aimed = dataclasses.replace(ctx, target=Target(database_url=str(target_db.url)))
    checklist = builtin_checklist("production")
    only = {"database.reachable", "database.sqlite_wal"}
    results = await run_checklist(checklist, aimed, Recorder(), only=only)
    # Quarterdeck's own store (ctx.database_engine) is in WAL mode; the target's is not.
    assert results["database.reachable"].verdict is Verdict.PASS
    assert results["database.reachable"].evidence["url"].endswith("target.db")
    assert results["database.sqlite_wal"].verdict is Verdict.FAIL
    assert "'delete'" in results["database.sqlite_wal"].reason


async def test_only_runs_the_named_items_and_announces_nothing_else(
    make_checklist: MakeChecklist, ctx: ProbeContext, registry: ProbeRegistry, tracker: Tracker
) -> None:
    checklist = make_checklist(
        item("t.a", "test.pass"), item("t.manual"), item("t.b", "test.fail"),
        item("t.c", "test.pass"),
    )  # fmt: skip
    results, recorder = await run(checklist, ctx, registry, only={"t.b", "t.manual"})
    assert list(results) == ["t.b"]
    assert results["t.b"].verdict is Verdict.FAIL
    assert {e.item_id for e in recorder.events} == {"t.b", "t.manual"}
    assert recorder.verdicts("t.b") == [Verdict.PENDING, Verdict.RUNNING, Verdict.FAIL]
    assert tracker.calls == 0  # the passing probes were not run


async def test_only_naming_an_unknown_item_raises_before_anything_runs(
    make_checklist: MakeChecklist, ctx: ProbeContext, registry: ProbeRegistry
) -> None:
    checklist = make_checklist(item("t.a", "test.pass"))
    recorder = Recorder()
    with pytest.raises(ValueError, match=r"has no item\(s\) t\.nope"):
        await run_checklist(checklist, ctx, recorder, registry=registry, only={"t.a", "t.nope"})
    assert recorder.events == []
