import asyncio
import json
import threading
import time

import pytest
from sqlmodel import select

from core.bus import Bus
from core.events import JobState, JobUpdate
from core.jobs import JobContext, JobManager, OptimizeRequest, run_optimize
from core.store import BatchWriter, JobRow, Store


async def wait_for_state(
    subscription, job_id: int, state: JobState, timeout: float = 30
) -> JobUpdate:
    async def loop() -> JobUpdate:
        while True:
            update = await subscription.get()
            if update.job_id == job_id and update.state is state:
                return update

    return await asyncio.wait_for(loop(), timeout)


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


async def test_job_runs_off_the_loop_and_its_result_is_stored(tmp_path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'q.db'}")
    store.create_schema()
    writer = BatchWriter(store)
    writer.start()
    bus = Bus()
    updates = bus.subscribe(JobUpdate)
    manager = JobManager(bus, writer)
    loop_thread = threading.get_ident()
    ran_on = []

    def work(context: JobContext) -> dict:
        ran_on.append(threading.get_ident())
        for i in range(5):
            context.progress(i + 1, 5)
        return {"summary": "fine", "answer": 42}

    job_id = manager.submit("test", "a test job", work, {"x": 1})
    done = await wait_for_state(updates, job_id, JobState.DONE)
    assert done.summary == "fine" and done.done == 5 and done.total == 5
    assert ran_on and ran_on[0] != loop_thread
    await writer.stop()
    with store.session() as session:
        row = session.exec(select(JobRow)).one()
    assert (
        row.state,
        row.done,
        json.loads(row.params_json),
        json.loads(row.result_json)["answer"],
    ) == (
        "done",
        5,
        {"x": 1},
        42,
    )
    assert (
        row.created_at > 0
        and row.started_at >= row.created_at
        and row.finished_at >= row.started_at
    )


async def test_failing_job_is_marked_failed_with_its_reason() -> None:
    bus = Bus()
    updates = bus.subscribe(JobUpdate)
    manager = JobManager(bus, None)

    def work(context: JobContext) -> dict:
        raise ValueError("bad grid")

    job_id = manager.submit("test", "fails", work, {})
    await wait_for_state(updates, job_id, JobState.FAILED)
    assert manager.jobs[job_id].state is JobState.FAILED


async def test_cancelled_job_stops_within_a_second() -> None:
    bus = Bus()
    updates = bus.subscribe(JobUpdate)
    manager = JobManager(bus, None)

    def work(context: JobContext) -> dict:
        while not context.should_stop():
            time.sleep(0.01)
        raise RuntimeError("stopped")

    job_id = manager.submit("test", "forever", work, {})
    await wait_for_state(updates, job_id, JobState.RUNNING)
    asked = time.monotonic()
    assert manager.cancel(job_id)
    await wait_for_state(updates, job_id, JobState.CANCELLED, timeout=1.0)
    assert time.monotonic() - asked < 1.0
    assert not manager.cancel(job_id)


async def test_optimize_job_reports_progress_and_best_parameters() -> None:
    bus = Bus()
    updates = bus.subscribe(JobUpdate)
    manager = JobManager(bus, None)
    request = OptimizeRequest(
        "sma_cross",
        "SPY",
        3,
        2000,
        3600,
        60,
        grid={"fast": (5, 15, 5), "slow": (20, 60, 20)},
        objective="total_return",
    )
    job_id = manager.submit(
        "optimize", request.title, lambda c: run_optimize(request, c), request.as_params()
    )
    done = await wait_for_state(updates, job_id, JobState.DONE)
    assert done.total == 9 and done.done == 9
    assert done.summary.startswith("best fast=")
    assert request.as_params()["grid"]["fast"] == (5, 15, 5)


async def test_stop_cancels_running_jobs() -> None:
    bus = Bus()
    manager = JobManager(bus, None)
    started = threading.Event()

    def work(context: JobContext) -> dict:
        started.set()
        while not context.should_stop():
            time.sleep(0.01)
        raise RuntimeError("stopped")

    job_id = manager.submit("test", "forever", work, {})
    await asyncio.to_thread(started.wait, 5)
    await asyncio.wait_for(manager.stop(), 2)
    assert manager.jobs[job_id].state is JobState.CANCELLED


@pytest.mark.parametrize("objective", ["sharpe", "total_return"])
def test_optimize_request_title_and_params(objective: str) -> None:
    request = OptimizeRequest("sma_cross", "SPY", 3, 100_000, 3600, 60, objective=objective)
    assert request.title == "sma_cross SPY"
    assert request.as_params()["objective"] == objective


async def test_a_job_cancelled_before_it_starts_never_runs() -> None:
    bus = Bus()
    manager = JobManager(bus, None)
    ran = []
    job_id = manager.submit("test", "never", lambda c: ran.append(1) or {}, {})
    assert manager.cancel(job_id)  # still queued: its task has not run yet
    await asyncio.wait_for(manager.stop(), 2)
    assert manager.jobs[job_id].state is JobState.CANCELLED
    assert ran == []
