"""A minimal job runner: jobs run in worker threads, report progress on the bus,
and stop cooperatively when cancelled. Every state change is written to the store.

The full job system (priorities, pause, durable resume) grows from this.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from core.bus import Bus
from core.events import JobState, JobUpdate
from core.store import BatchWriter, JobRow

log = logging.getLogger(__name__)


class JobContext:
    """What a running job sees: a progress reporter and a cancellation flag.

    ``progress`` may be called from any thread and as often as the job likes;
    updates reach the bus at most ``max_updates_per_second`` times a second
    (and always at 0% and 100%), so a fast sweep cannot flood the views.
    """

    def __init__(
        self,
        report: Callable[[int, int], None],
        max_updates_per_second: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._report = report
        self._cancel = threading.Event()
        self._min_gap = 1.0 / max_updates_per_second
        self._clock = clock
        self._last = -float("inf")

    def progress(self, done: int, total: int) -> None:
        now = self._clock()
        if done in (0, total) or now - self._last >= self._min_gap:
            self._last = now
            self._report(done, total)

    def should_stop(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        self._cancel.set()


Work = Callable[[JobContext], dict[str, Any]]


@dataclasses.dataclass(slots=True)
class _Active:
    """A job that is queued or running, and the row that records it."""

    update: JobUpdate
    context: JobContext
    row: JobRow
    started: float = 0.0


class JobManager:
    def __init__(self, bus: Bus, writer: BatchWriter | None, first_id: int = 1) -> None:
        self._bus = bus
        self._writer = writer
        self._next_id = first_id
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._active: dict[int, _Active] = {}
        self.jobs: dict[int, JobUpdate] = {}

    def submit(self, kind: str, title: str, work: Work, params: dict[str, Any]) -> int:
        job_id = self._next_id
        self._next_id += 1
        loop = asyncio.get_running_loop()

        def report(done: int, total: int) -> None:
            loop.call_soon_threadsafe(self._progress, job_id, done, total)

        update = JobUpdate(job_id, kind, title, JobState.QUEUED, 0, 0, 0.0, None)
        row = JobRow(
            id=job_id,
            kind=kind,
            title=title,
            state=update.state.value,
            params_json=json.dumps(params, sort_keys=True),
            created_at=time.time(),
        )
        active = self._active[job_id] = _Active(update, JobContext(report), row)
        self._set(active)
        self._tasks[job_id] = asyncio.create_task(self._execute(active, work), name=f"job-{job_id}")
        return job_id

    def cancel(self, job_id: int) -> bool:
        """Ask a queued or running job to stop; False if it is not active."""
        active = self._active.get(job_id)
        if active is None:
            return False
        active.context.cancel()
        return True

    async def stop(self) -> None:
        """Cancel every job and wait for its thread to notice."""
        for job_id in list(self._active):
            self.cancel(job_id)
        tasks = list(self._tasks.values())
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _execute(self, active: _Active, work: Work) -> None:
        context = active.context
        try:
            if context.should_stop():
                self._set(active, state=JobState.CANCELLED, finished_at=time.time())
                return
            active.started = time.monotonic()
            self._set(active, state=JobState.RUNNING, started_at=time.time())
            try:
                result = await asyncio.to_thread(work, context)
            except Exception as exc:
                if context.should_stop():
                    self._set(active, state=JobState.CANCELLED, finished_at=time.time())
                else:
                    log.exception("job %d failed", active.update.job_id)
                    reason = f"{type(exc).__name__}: {exc}"
                    self._set(
                        active,
                        state=JobState.FAILED,
                        summary=reason,
                        error=reason,
                        finished_at=time.time(),
                    )
            else:
                self._set(
                    active,
                    state=JobState.DONE,
                    summary=str(result.get("summary", "")),
                    result_json=json.dumps(result, sort_keys=True, default=str),
                    finished_at=time.time(),
                )
        finally:
            self._active.pop(active.update.job_id, None)
            self._tasks.pop(active.update.job_id, None)

    def _progress(self, job_id: int, done: int, total: int) -> None:
        active = self._active.get(job_id)
        if active is None:
            return
        elapsed = max(time.monotonic() - active.started, 1e-9)
        rate = done / elapsed
        eta = (total - done) / rate if rate > 0 else None
        self._set(active, done=done, total=total, rate=rate, eta_seconds=eta)

    def _set(self, active: _Active, **changes: Any) -> None:
        """Apply ``changes`` to the job's update and row, publish it and queue the row."""
        update_fields = {k: v for k, v in changes.items() if k in _UPDATE_FIELDS}
        active.update = update = dataclasses.replace(active.update, **update_fields)
        row = active.row
        row.state, row.done, row.total = update.state.value, update.done, update.total
        for name, value in changes.items():
            if name not in _UPDATE_FIELDS:
                setattr(row, name, value)
        self.jobs[update.job_id] = update
        self._bus.publish(update)
        if self._writer is not None:
            self._writer.upsert(row)


_UPDATE_FIELDS = frozenset(f.name for f in dataclasses.fields(JobUpdate))
