"""The job manager: priorities, concurrency, cancel, pause and resume, durability."""

import asyncio
import json
import os
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from core.audit import read_entries, verify_trail
from core.bus import Bus
from core.events import JobPriority, JobState, JobUpdate
from core.jobs import (
    JOB_KINDS,
    ExportRequest,
    JobContext,
    JobKind,
    JobManager,
    OptimizeRequest,
    records,
)
from core.jobs.retention import remove_expired_exports
from core.store import BatchWriter, JobCheckpointRow, JobRow, Store


def kind(name: str, run: Callable[[dict[str, Any], JobContext], dict[str, Any]]) -> JobKind:
    return JobKind(name, dict, run, lambda request: f"{name} {request.get('n', '')}".strip())


async def wait_for_state(
    subscription, job_id: int, state: JobState, timeout: float = 120
) -> JobUpdate:
    async def loop() -> JobUpdate:
        while True:
            update = await subscription.get()
            if update.job_id == job_id and update.state is state:
                return update

    return await asyncio.wait_for(loop(), timeout)


async def eventually(condition: Callable[[], bool], timeout: float = 10) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), timeout)


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    store = Store(database_url)
    store.create_schema()
    yield store
    store.dispose()


def rows(store: Store) -> dict[int, JobRow]:
    with store.session() as session:
        return {row.id: row for row in session.exec(select(JobRow)).all()}


class Gate:
    """Jobs that run until the test opens their gate, recording what ran when."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.started: list[int] = []
        self.running = 0
        self.most_running = 0
        self._lock = threading.Lock()

    def run(self, request: dict[str, Any], context: JobContext) -> dict[str, Any]:
        with self._lock:
            self.started.append(request["n"])
            self.running += 1
            self.most_running = max(self.most_running, self.running)
        try:
            while not self.open.wait(0.01):
                if context.should_stop():
                    raise RuntimeError("stopped")
            return {"summary": f"job {request['n']}"}
        finally:
            with self._lock:
                self.running -= 1


def test_progress_is_throttled_but_first_and_last_always_reported() -> None:
    now = [0.0]
    reported = []
    context = JobContext(
        lambda d, t: reported.append(d), max_updates_per_second=10, clock=lambda: now[0]
    )
    for done in range(101):
        now[0] = done * 0.01  # 100 calls over one second
        context.progress(done, 100)
    assert reported[0] == 0 and reported[-1] == 100
    assert 10 <= len(reported) <= 12


async def test_a_job_runs_off_the_loop_and_its_row_holds_the_result(store: Store) -> None:
    writer = BatchWriter(store)
    writer.start()
    bus = Bus()
    updates = bus.subscribe(JobUpdate)
    ran_on = []

    def work(request: dict[str, Any], context: JobContext) -> dict[str, Any]:
        ran_on.append(threading.get_ident())
        for i in range(5):
            context.progress(i + 1, 5)
        context.add_file("/tmp/report.pdf")
        return {"summary": "fine", "answer": 42}

    manager = JobManager(bus, writer, {"test": kind("test", work)}, store=store)
    job_id = await manager.submit("test", {"n": 1}, JobPriority.LOW)
    done = await wait_for_state(updates, job_id, JobState.DONE)
    assert done.summary == "fine" and done.done == done.total == 5
    assert done.priority is JobPriority.LOW
    assert ran_on and ran_on[0] != threading.get_ident()
    await manager.stop()
    await writer.stop()
    row = rows(store)[job_id]
    assert (row.state, row.done, row.priority, json.loads(row.params_json)) == (
        "done", 5, 2, {"n": 1},
    )  # fmt: skip
    assert json.loads(row.result_json)["answer"] == 42
    assert json.loads(row.files_json) == ["/tmp/report.pdf"]
    assert row.created_at <= row.started_at <= row.finished_at


async def test_a_new_manager_knows_the_newest_finished_jobs_of_earlier_runs(
    store: Store,
) -> None:
    writer = BatchWriter(store)
    writer.start()

    def work(request: dict[str, Any], context: JobContext) -> dict[str, Any]:
        if request["n"] == 3:
            raise RuntimeError("no data")
        return {"summary": f"made {request['n']}"}

    kinds = {"test": kind("test", work)}
    first = JobManager(Bus(), writer, kinds, store=store)
    ids = [await first.submit("test", {"n": n}) for n in range(1, 5)]
    await eventually(lambda: all(first.jobs[i].state.finished for i in ids))
    await first.stop()
    await writer.flush()
    waiting = records.insert_job(store, JobRow(kind="test", title="held", state="paused",
                                               owner="elsewhere:1", heartbeat_at=time.time(),
                                               created_at=time.time()))  # fmt: skip
    bus = Bus()
    published = bus.subscribe(JobUpdate)
    second = JobManager(bus, writer, kinds, store=store, history=3)
    await second.start()
    assert sorted(second.jobs) == ids[1:]  # the newest 3 finished; not another's paused job
    assert waiting not in second.jobs
    assert [(u.job_id, u.state, u.summary) for u in published.drain()] == [
        (ids[1], JobState.DONE, "made 2"),
        (ids[2], JobState.FAILED, "RuntimeError: no data"),
        (ids[3], JobState.DONE, "made 4"),
    ]
    assert second.jobs[ids[3]].title == "test 4"
    await second.stop()
    await writer.stop()


async def test_a_failing_job_is_marked_failed_with_its_reason() -> None:
    bus = Bus()
    updates = bus.subscribe(JobUpdate)

    def work(request: dict[str, Any], context: JobContext) -> dict[str, Any]:
        raise ValueError("bad grid")

    manager = JobManager(bus, None, {"test": kind("test", work)})
    job_id = await manager.submit("test", {})
    failed = await wait_for_state(updates, job_id, JobState.FAILED)
    assert failed.summary == "ValueError: bad grid"


async def test_bad_kinds_and_parameters_are_refused_naming_them() -> None:
    manager = JobManager(Bus(), None, JOB_KINDS)
    known = "known: backtest, batch, export, optimize, walk_forward"
    with pytest.raises(ValueError, match=rf"kind 'sweep' \({known}\)"):
        await manager.submit("sweep", {})
    with pytest.raises(ValueError, match="grid: sma_cross has no parameter 'window'"):
        await manager.submit("optimize", {"strategy": "sma_cross", "dataset": "sim:X",
                                          "grid": {"window": [1, 5, 1]}})  # fmt: skip
    with pytest.raises(ValueError, match="unknown strategy 'smma'"):
        await manager.submit("optimize", {"strategy": "smma", "dataset": "sim:X"})
    with pytest.raises(ValueError, match=r"unknown field.*colour"):
        await manager.submit("batch", {"strategies": ["sma_cross"], "datasets": ["sim:X"],
                                       "colour": "red"})  # fmt: skip


async def test_jobs_start_by_priority_then_in_order_submitted() -> None:
    gate = Gate()
    manager = JobManager(Bus(), None, {"gate": kind("gate", gate.run)}, concurrency=1)
    await manager.submit("gate", {"n": 0})  # takes the only slot
    await eventually(lambda: gate.started == [0])
    for n, priority in [(1, JobPriority.LOW), (2, JobPriority.NORMAL), (3, JobPriority.HIGH),
                        (4, JobPriority.NORMAL), (5, JobPriority.HIGH)]:  # fmt: skip
        await manager.submit("gate", {"n": n}, priority)
    moved = await manager.submit("gate", {"n": 6}, JobPriority.LOW)
    manager.set_priority(moved, JobPriority.HIGH)  # a waiting job moves up
    gate.open.set()
    await eventually(lambda: len(gate.started) == 7)
    assert gate.started == [0, 3, 5, 6, 2, 4, 1]
    await manager.stop()


async def test_no_more_than_the_concurrency_run_at_once() -> None:
    gate = Gate()
    manager = JobManager(Bus(), None, {"gate": kind("gate", gate.run)}, concurrency=2)
    for n in range(5):
        await manager.submit("gate", {"n": n})
    await eventually(lambda: gate.running == 2)
    await asyncio.sleep(0.2)
    assert gate.running == 2 and manager.running == 2 and len(gate.started) == 2
    gate.open.set()
    await eventually(lambda: len(gate.started) == 5 and gate.running == 0)
    assert gate.most_running == 2
    await manager.stop()


async def test_cancel_stops_a_running_job_at_its_next_check_and_a_waiting_one_at_once() -> None:
    gate = Gate()
    bus = Bus()
    updates = bus.subscribe(JobUpdate)
    manager = JobManager(bus, None, {"gate": kind("gate", gate.run)}, concurrency=1)
    running = await manager.submit("gate", {"n": 0})
    waiting = await manager.submit("gate", {"n": 1})
    await eventually(lambda: gate.running == 1)
    assert manager.cancel(waiting)
    assert manager.jobs[waiting].state is JobState.CANCELLED
    assert manager.cancel(running)
    await wait_for_state(updates, running, JobState.CANCELLED, timeout=5)
    assert gate.started == [0]  # the waiting job never ran
    assert not manager.cancel(running)  # finished: nothing to cancel
    await manager.stop()


async def test_a_paused_job_gives_up_its_slot_and_carries_on_when_resumed() -> None:
    bus = Bus()
    updates = bus.subscribe(JobUpdate)
    steps: list[int] = []
    release = threading.Event()

    def stepper(request: dict[str, Any], context: JobContext) -> dict[str, Any]:
        for step in range(request["steps"]):
            if context.should_stop():
                raise RuntimeError("stopped")
            steps.append(step)
            context.progress(step + 1, request["steps"])
            if step == 2:
                release.wait(5)
        return {"summary": f"{len(steps)} steps"}

    gate = Gate()
    kinds = {"step": kind("step", stepper), "gate": kind("gate", gate.run)}
    manager = JobManager(bus, None, kinds, concurrency=1)
    stepped = await manager.submit("step", {"steps": 6})
    await eventually(lambda: len(steps) == 3)
    other = await manager.submit("gate", {"n": 9})
    assert manager.pause(stepped)
    release.set()  # the job reaches its next check and parks there
    await wait_for_state(updates, stepped, JobState.PAUSED, timeout=5)
    await eventually(lambda: gate.started == [9])  # its slot went to the waiting job
    assert steps == [0, 1, 2]
    assert manager.resume(stepped)
    assert manager.jobs[stepped].state is JobState.QUEUED  # until the slot is free again
    gate.open.set()
    await wait_for_state(updates, other, JobState.DONE)
    done = await wait_for_state(updates, stepped, JobState.DONE)
    assert steps == [0, 1, 2, 3, 4, 5] and done.done == 6
    await manager.stop()


async def test_a_waiting_job_can_be_paused_and_resumed() -> None:
    gate = Gate()
    manager = JobManager(Bus(), None, {"gate": kind("gate", gate.run)}, concurrency=1)
    await manager.submit("gate", {"n": 0})
    held = await manager.submit("gate", {"n": 1})
    await manager.submit("gate", {"n": 2})
    manager.pause(held)
    gate.open.set()
    await eventually(lambda: gate.started == [0, 2] and gate.running == 0)
    assert manager.jobs[held].state is JobState.PAUSED
    manager.resume(held)
    await eventually(lambda: gate.started == [0, 2, 1])
    await manager.stop()


def checkpointing_kind(log: list[list[int]]) -> JobKind:
    """Counts to ``n`` in steps of ten, saving each step; resumes after the last saved."""

    def count(request: dict[str, Any], context: JobContext) -> dict[str, Any]:
        reached = max((saved["reached"] for saved in context.resume), default=0)
        done: list[int] = []
        log.append(done)
        while reached < request["n"]:
            if context.should_stop():
                raise RuntimeError("stopped")
            reached += 10
            done.append(reached)
            context.checkpoint({"reached": reached})
            context.progress(reached, request["n"])
            time.sleep(0.02)
        return {"summary": f"reached {reached}"}

    return kind("count", count)


async def test_an_interrupted_job_resumes_from_its_checkpoints_in_the_next_manager(
    store: Store,
) -> None:
    log: list[list[int]] = []
    kinds = {"count": checkpointing_kind(log)}
    writer = BatchWriter(store)
    writer.start()
    first = JobManager(Bus(), writer, kinds, store=store)
    await first.start()
    job_id = await first.submit("count", {"n": 400})
    await eventually(lambda: len(log) == 1 and len(log[0]) >= 5)
    await first.stop()
    await writer.flush()
    row = rows(store)[job_id]
    assert (row.state, row.owner) == ("queued", None)
    assert "interrupted by a shutdown" in row.note
    saved = len(log[0])

    bus = Bus()
    updates = bus.subscribe(JobUpdate)
    second = JobManager(bus, writer, kinds, store=store)
    await second.start()
    done = await wait_for_state(updates, job_id, JobState.DONE)
    await second.stop()
    await writer.stop()
    assert done.summary == "reached 400"
    assert log[1][0] == log[0][-1] + 10  # carried on after the last checkpoint
    assert len(log[0]) + len(log[1]) == 40 and saved <= len(log[0])
    assert rows(store)[job_id].note == f"resumed after a restart from {len(log[0])} checkpoint(s)"


async def test_jobs_queued_by_another_process_are_claimed_and_run_once(store: Store) -> None:
    """Two managers on one store (the console and a worker): each job runs exactly once."""
    log: list[list[int]] = []
    kinds = {"count": checkpointing_kind(log)}
    ids = [
        records.insert_job(store, JobRow(kind="count", title=f"count {n}", state="queued",
                                         params_json=json.dumps({"n": 30}), created_at=1.0))
        for n in range(6)
    ]  # fmt: skip
    writer = BatchWriter(store)
    writer.start()
    managers = [JobManager(Bus(), writer, kinds, store=store, poll_interval=0.05)
                for _ in range(2)]  # fmt: skip
    managers[0].owner, managers[1].owner = f"{records.owner_name()}a", records.owner_name()
    await asyncio.gather(*(manager.start() for manager in managers))
    await eventually(lambda: all(rows(store)[i].state == "done" for i in ids))
    for manager in managers:
        await manager.stop()
    await writer.stop()
    assert len(log) == 6  # no job ran twice


async def test_a_cancel_requested_through_the_store_stops_the_job(store: Store) -> None:
    gate = Gate()
    bus = Bus()
    updates = bus.subscribe(JobUpdate)
    writer = BatchWriter(store)
    writer.start()
    manager = JobManager(bus, writer, {"gate": kind("gate", gate.run)}, store=store,
                         poll_interval=0.05)  # fmt: skip
    await manager.start()
    job_id = await manager.submit("gate", {"n": 0})
    await eventually(lambda: gate.running == 1)
    await asyncio.to_thread(records.request_control, store, job_id, "cancel", "cli:alice")
    await wait_for_state(updates, job_id, JobState.CANCELLED, timeout=5)
    await manager.stop()
    await writer.stop()
    assert rows(store)[job_id].state == "cancelled"


async def test_a_stored_job_that_cannot_be_rebuilt_fails_with_the_reason(store: Store) -> None:
    job_id = records.insert_job(store, JobRow(kind="optimize", title="old", state="running",
                                              params_json='{"strategy": "gone", "dataset": "x"}',
                                              created_at=1.0, owner="elsewhere:1",
                                              heartbeat_at=1.0))  # fmt: skip
    writer = BatchWriter(store)
    writer.start()
    manager = JobManager(Bus(), writer, JOB_KINDS, store=store)
    await manager.start()
    await manager.stop()
    await writer.stop()
    row = rows(store)[job_id]
    assert row.state == "failed"
    assert row.error == "cannot resume after a restart: unknown strategy 'gone'"


async def test_optimize_job_reports_progress_and_best_parameters() -> None:
    bus = Bus()
    updates = bus.subscribe(JobUpdate)
    manager = JobManager(bus, None, JOB_KINDS)
    request = OptimizeRequest("sma_cross", "sim:SPY", grid={"fast": (5, 15, 5),
                              "slow": (20, 60, 20)}, objective="total_return", seed=3,
                              bars=2_000)  # fmt: skip
    job_id = await manager.submit("optimize", request.as_params())
    done = await wait_for_state(updates, job_id, JobState.DONE)
    assert done.total == 9 and done.done == 9
    assert done.summary.startswith("best fast=")
    assert request.title == "sma_cross sim:SPY"


async def test_an_optimization_checkpoints_its_segments(store: Store) -> None:
    writer = BatchWriter(store)
    writer.start()
    bus = Bus()
    updates = bus.subscribe(JobUpdate)
    manager = JobManager(bus, writer, JOB_KINDS, store=store)
    request = OptimizeRequest("sma_cross", "sim:SPY", grid={"fast": (2, 40, 1),
                              "slow": (10, 200, 2)}, bars=1_000)  # fmt: skip
    job_id = await manager.submit("optimize", request.as_params())
    done = await wait_for_state(updates, job_id, JobState.DONE)
    await manager.stop()
    await writer.stop()
    saved = records.checkpoints(store, job_id)
    assert len(saved) >= 3
    assert sum(len(s["params"]) for s in saved) == done.total
    with store.session() as session:
        assert len(session.exec(select(JobCheckpointRow)).all()) == len(saved)


async def test_an_export_job_writes_its_report_and_lists_the_file(
    store: Store, tmp_path: Path
) -> None:
    writer = BatchWriter(store)
    writer.start()
    bus = Bus()
    updates = bus.subscribe(JobUpdate)
    manager = JobManager(bus, writer, JOB_KINDS, store=store)
    request = ExportRequest("sma_cross", "sim:SPY", str(tmp_path / "exports"), bars=800)
    job_id = await manager.submit("export", request.as_params())
    done = await wait_for_state(updates, job_id, JobState.DONE)
    await writer.flush()
    files = json.loads(rows(store)[job_id].files_json)
    assert len(files) == 1 and Path(files[0]).parent == tmp_path / "exports"
    assert Path(files[0]).read_bytes().startswith(b"%PDF")
    assert done.summary.startswith("wrote sma_cross-SPY-")
    pine = ExportRequest("ema_cross", "sim:SPY", str(tmp_path / "exports"), format="pine",
                         params={"fast": 8})  # fmt: skip
    job_id = await manager.submit("export", pine.as_params())
    await wait_for_state(updates, job_id, JobState.DONE)
    await manager.stop()
    await writer.stop()
    (script,) = json.loads(rows(store)[job_id].files_json)
    assert "//@version=6" in Path(script).read_text() and "fast=8" in Path(script).read_text()
    with pytest.raises(ValueError, match="format: 'docx'"):
        ExportRequest("sma_cross", "sim:SPY", "x", format="docx")


def test_retention_removes_old_exports_and_audits_each(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    old, fresh = folder / "old.pdf", folder / "fresh.pdf"
    old.write_bytes(b"%PDF old")
    fresh.write_bytes(b"%PDF fresh")
    now = time.time()
    os.utime(old, (now - 25 * 3600, now - 25 * 3600))
    removed = remove_expired_exports(store, folder, 24 * 3600, now=now)
    assert removed == [old] and not old.exists() and fresh.exists()
    (entry,) = read_entries(store, "export.")
    assert (entry.actor, entry.action, entry.subject) == ("retention", "export.deleted", str(old))
    assert entry.detail == {"age_hours": 25.0, "max_age_hours": 24.0}
    assert verify_trail(store) == 1
    assert remove_expired_exports(store, tmp_path / "missing", 1.0) == []


async def test_backtest_and_walk_forward_jobs_give_the_research_results() -> None:
    from core.jobs import BacktestRequest, WalkForwardRequest
    from core.jobs.datasets import dataset_bars
    from core.research.runner import run_backtest
    from core.research.strategies import get_strategy

    manager = JobManager(Bus(), None, JOB_KINDS)
    backtest = BacktestRequest("ema_cross", "sim:SPY", {"fast": 8, "slow": 30},
                               commission=0.001, direction="both", bars=2_000)  # fmt: skip
    walk = WalkForwardRequest("sma_cross", "sim:SPY", grid={"fast": (5, 20, 5),
                              "slow": (30, 60, 10)}, windows=3, bars=2_000)  # fmt: skip
    first = await manager.submit("backtest", backtest.as_params())
    second = await manager.submit("walk_forward", walk.as_params())
    # Both run at once and either may finish first: wait on each job's own state.
    finished = (JobState.DONE, JobState.FAILED)
    await eventually(lambda: all(manager.jobs[j].state in finished for j in (first, second)),
                     timeout=120)  # fmt: skip
    done, walked = manager.jobs[first], manager.jobs[second]
    expected = run_backtest(get_strategy("ema_cross"), dataset_bars("sim:SPY", 0, 2_000),
                            {"fast": 8, "slow": 30}, backtest.config())  # fmt: skip
    assert done.summary.startswith(f"total return {expected.metrics['total_return']:.2%}")
    assert walked.done == walked.total == 3 and walked.summary.startswith("3 windows")
    with pytest.raises(ValueError, match="mode: 'sideways'"):
        WalkForwardRequest("sma_cross", "sim:SPY", mode="sideways")
    with pytest.raises(ValueError, match="direction"):
        BacktestRequest("sma_cross", "sim:SPY", direction="up")
    await manager.stop()


def test_an_optimization_saves_small_checkpoints_that_read_back_as_its_evaluations(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A segment of thousands of evaluations (a million-combination sweep's are 20,000)
    is saved as rows of at most CHECKPOINT_ROWS (encoding one holds the interpreter), and
    they read back as the whole search."""
    from core.research import optimizer

    monkeypatch.setattr(optimizer, "SEGMENT", 5_000)
    from core.jobs.optimize import (
        CHECKPOINT_ROWS,
        OptimizeRequest,
        evaluations_from_checkpoints,
        run_optimize,
    )

    saved: list[Any] = []
    request = OptimizeRequest("sma_cross", "sim:SPY", {"fast": (2, 60, 1), "slow": (3, 140, 1)},
                              bars=400, min_trades=0)  # fmt: skip
    result = run_optimize(request, JobContext(lambda done, total: None, save=saved.append))
    sizes = [len(payload["params"]) for payload in saved]
    assert result["evaluations"] > CHECKPOINT_ROWS and max(sizes) == CHECKPOINT_ROWS
    assert sum(sizes) == result["evaluations"]
    evaluations = evaluations_from_checkpoints(json.loads(json.dumps(saved)))
    assert len({tuple(e.params.values()) for e in evaluations}) == result["evaluations"]
