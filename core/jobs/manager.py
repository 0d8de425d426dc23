"""The job manager: a priority queue of durable jobs run in worker threads.

Jobs wait in priority order (high, normal, low; first in, first out within
one) and at most ``concurrency`` run at once, each in its own thread. A job
can be cancelled, paused and resumed (a paused job gives up its slot), and a
waiting job's priority changed. Progress reaches the bus throttled.

With a store, a job is its row: kind, parameters, state, progress, result
and the checkpoints it saved. The manager claims the unfinished jobs nobody
runs (left by a crash, a shutdown, or queued from the command line) and
resumes them from their checkpoints; requests from other processes (``jobs
cancel``) arrive through the controls table and take effect within about
``poll_interval``. On ``stop`` running jobs are interrupted, not cancelled:
they stay unfinished, released for the next start to resume.
"""

from __future__ import annotations

import asyncio
import dataclasses
import heapq
import itertools
import json
import logging
import os
import time
from collections.abc import Mapping
from typing import Any

from core import jsontext
from core.bounds import DEFAULT_SWEEP_MAX_COMBOS
from core.bus import Bus
from core.events import JobPriority, JobState, JobUpdate
from core.jobs import records
from core.jobs.context import JobContext
from core.jobs.kinds import JobKind, Params, admit, find_kind
from core.logs import correlated
from core.market.catalog import Catalog
from core.research.executors import LOCAL, SweepExecutor
from core.research.sweep import Cancelled
from core.store import BatchWriter, JobCheckpointRow, JobRow, Store
from core.tasks import cancel_and_wait

log = logging.getLogger(__name__)

#: Finished jobs read back from the store at start, newest first: what views (the Jobs
#: screen, the heatmap's newest optimization) remember of earlier runs.
HISTORY = 200


@dataclasses.dataclass(eq=False)
class _Job:
    kind: JobKind
    request: Any
    row: JobRow
    update: JobUpdate
    context: JobContext
    seq: int  # FIFO order within a priority
    task: asyncio.Task[None] | None = None
    holds_slot: bool = False
    parked: bool = False
    interrupting: bool = False
    started: float = 0.0
    done_at_start: int = 0

    @property
    def job_id(self) -> int:
        assert self.row.id is not None
        return self.row.id


class JobManager:
    def __init__(
        self,
        bus: Bus,
        writer: BatchWriter | None,
        kinds: Mapping[str, JobKind],
        *,
        store: Store | None = None,
        concurrency: int | None = None,
        poll_interval: float = 0.5,
        executor: SweepExecutor = LOCAL,
        history: int = HISTORY,
        max_combos: int = DEFAULT_SWEEP_MAX_COMBOS,
        catalog: Catalog | None = None,
    ) -> None:
        self._bus = bus
        self._writer = writer
        self._kinds = kinds
        self._store = store
        self.concurrency = concurrency or os.cpu_count() or 1
        if self.concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency!r}")
        self._poll_interval = poll_interval
        self._history = history
        #: ``QD_SWEEP_MAX_COMBOS``: a job that would evaluate more is refused at submission.
        self.max_combos = max_combos
        self.executor = executor
        self.catalog = catalog  # where jobs read ``catalog:ID`` datasets
        self.owner = records.owner_name()
        self._jobs: dict[int, _Job] = {}
        self._ready: list[tuple[int, int, int]] = []  # (priority, seq, job id)
        self._seq = itertools.count()
        self._ids = itertools.count(1)  # without a store
        self._poller: asyncio.Task[None] | None = None
        #: Every job known here, live or finished: this process's, the ones it claimed,
        #: and the newest ``history`` finished in the store when it started.
        self.jobs: dict[int, JobUpdate] = {}

    # --- lifecycle --------------------------------------------------------------------

    async def start(self) -> None:
        """Read back the finished history, claim the jobs nobody runs, then keep polling
        for more and for requests."""
        if self._store is not None and self._poller is None:
            await self._load_history(self._store)
            await self._poll_once()
            self._poller = asyncio.create_task(self._poll(), name="jobs-poll")

    async def stop(self) -> None:
        """Interrupt every job and wait for its thread; unfinished jobs are released."""
        await cancel_and_wait(self._poller)
        self._poller = None
        for job in list(self._jobs.values()):
            job.interrupting = True
            job.context.cancel()
            if job.task is None:
                self._release(job)
        tasks = [job.task for job in self._jobs.values() if job.task is not None]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    # --- operators --------------------------------------------------------------------

    async def submit(
        self, kind: str, params: Params, priority: JobPriority = JobPriority.NORMAL
    ) -> int:
        """Queue a job; a ``ValueError`` names a bad kind or parameter. Returns its id."""
        job_kind = find_kind(self._kinds, kind)
        request = admit(self._kinds, kind, params, self.max_combos)
        row = JobRow(
            kind=kind,
            title=job_kind.title(request),
            state=JobState.QUEUED.value,
            params_json=jsontext.dumps(dict(params), sort_keys=True),
            priority=int(priority),
            owner=self.owner,
            heartbeat_at=time.time(),
            created_at=time.time(),
        )
        if self._store is not None:
            row.id = await asyncio.to_thread(records.insert_job, self._store, row)
        else:
            row.id = next(self._ids)
        self._adopt(job_kind, request, row, resume=[])
        return row.id

    def cancel(self, job_id: int) -> bool:
        """Stop a job for good; False if it is not unfinished here."""
        job = self._jobs.get(job_id)
        if job is None:
            return False
        job.context.cancel()
        if job.task is None:
            self._finish(job, JobState.CANCELLED, finished_at=time.time())
        return True

    def pause(self, job_id: int) -> bool:
        """A waiting job waits until resumed; a running one stops at its next check and
        gives up its slot. False if the job is not unfinished here."""
        job = self._jobs.get(job_id)
        if job is None:
            return False
        if job.task is None:
            self._set(job, state=JobState.PAUSED)
        else:
            job.context.pause()
        return True

    def resume(self, job_id: int) -> bool:
        job = self._jobs.get(job_id)
        if job is None:
            return False
        if job.task is None or job.parked:
            if job.update.state is JobState.PAUSED:
                self._set(job, state=JobState.QUEUED)
                self._push(job)
                self._dispatch()
        else:
            job.context.resume_running()  # asked to pause, and had not yet stopped
        return True

    def set_priority(self, job_id: int, priority: JobPriority) -> bool:
        """Move a job in the queue (it applies from the next time the job waits)."""
        job = self._jobs.get(job_id)
        if job is None:
            return False
        job.row.priority = int(priority)
        self._set(job, priority=priority)
        if job.update.state is JobState.QUEUED:
            self._push(job)  # the old entry is skipped when popped
        return True

    async def finished(self, job_id: int) -> JobUpdate:
        """Wait until the job finishes here; its last update. ``KeyError`` if this manager
        does not know the job. (A job interrupted by ``stop`` never finishes here.)"""
        with self._bus.subscribe(JobUpdate, latest_only=True) as updates:
            while not self.jobs[job_id].state.finished:
                await updates.wait()
                updates.drain()
        return self.jobs[job_id]

    def has_work(self) -> bool:
        """True while any job here is unfinished (waiting, running or paused)."""
        return bool(self._jobs)

    @property
    def running(self) -> int:
        return sum(1 for job in self._jobs.values() if job.holds_slot)

    # --- scheduling -------------------------------------------------------------------

    def _adopt(self, kind: JobKind, request: Any, row: JobRow, resume: list[Any]) -> None:
        assert row.id is not None
        job_id = row.id
        loop = asyncio.get_running_loop()

        def report(done: int, total: int) -> None:
            loop.call_soon_threadsafe(self._progress, job_id, done, total)

        def park() -> None:
            loop.call_soon_threadsafe(self._parked, job_id)

        def save(payload: Any) -> None:
            # Encoded here, in the job's thread: a sweep's checkpoint of thousands of
            # evaluations took 10-150 ms to encode, on the engine's loop.
            text = json.dumps(payload, sort_keys=True)
            loop.call_soon_threadsafe(self._save_checkpoint, job_id, text)

        state = JobState.PAUSED if row.state == JobState.PAUSED.value else JobState.QUEUED
        update = JobUpdate(
            job_id, row.kind, row.title, state, row.done, row.total, 0.0, None, "",
            JobPriority(row.priority if row.priority is not None else 1),
        )  # fmt: skip
        context = JobContext(report, resume=resume, save=save, on_park=park,
                             executor=self.executor, catalog=self.catalog)  # fmt: skip
        job = _Job(kind, request, row, update, context, next(self._seq))
        self._jobs[job_id] = job
        self._set(job, state=state)
        if state is JobState.QUEUED:
            self._push(job)
            self._dispatch()

    def _push(self, job: _Job) -> None:
        heapq.heappush(self._ready, (int(job.update.priority), job.seq, job.job_id))

    def _dispatch(self) -> None:
        while self._ready and self.running < self.concurrency:
            priority, _, job_id = heapq.heappop(self._ready)
            job = self._jobs.get(job_id)
            if job is None or job.update.state is not JobState.QUEUED:
                continue
            if int(job.update.priority) != priority:
                continue  # a stale entry: the priority changed and a new one was pushed
            job.holds_slot = True
            if job.task is None:
                self._set(job, state=JobState.RUNNING, started_at=time.time())
                job.started, job.done_at_start = time.monotonic(), job.update.done
                job.task = asyncio.create_task(self._execute(job), name=f"job-{job_id}")
            else:
                job.parked = False
                self._set(job, state=JobState.RUNNING)
                job.context.resume_running()

    def _parked(self, job_id: int) -> None:
        job = self._jobs.get(job_id)
        if job is None or job.context.cancelled:
            return
        job.parked, job.holds_slot = True, False
        self._set(job, state=JobState.PAUSED, rate=0.0, eta_seconds=None)
        self._dispatch()

    async def _execute(self, job: _Job) -> None:
        # On every record of the job, from its thread too (to_thread copies the context).
        with correlated(job_id=job.job_id, job_kind=job.kind.name):
            try:
                result = await asyncio.to_thread(job.kind.run, job.request, job.context)
            except Cancelled:
                self._stopped(job)
            except Exception as exc:
                if job.context.cancelled:
                    self._stopped(job)
                else:
                    log.exception("job %d failed", job.job_id)
                    reason = f"{type(exc).__name__}: {exc}"
                    self._finish(job, JobState.FAILED, summary=reason, error=reason,
                                 finished_at=time.time())  # fmt: skip
            else:
                files = [str(path) for path in job.context.files]
                self._finish(
                    job, JobState.DONE, summary=str(result.get("summary", "")),
                    # as computed, infinities too (a profit factor without a loss):
                    # Python reads it back; printed documents go through jsontext
                    result_json=json.dumps(result, sort_keys=True, default=str),
                    files_json=jsontext.dumps(files), finished_at=time.time(),
                )  # fmt: skip

    def _stopped(self, job: _Job) -> None:
        if job.interrupting:
            self._release(job)
        else:
            self._finish(job, JobState.CANCELLED, finished_at=time.time())

    def _release(self, job: _Job) -> None:
        """Leave an interrupted job unfinished and ownerless, for the next start."""
        state = JobState.PAUSED if job.update.state is JobState.PAUSED else JobState.QUEUED
        self._finish(job, state, owner=None, heartbeat_at=None,
                     note="interrupted by a shutdown; resumes on the next start")  # fmt: skip

    def _finish(self, job: _Job, state: JobState, **changes: Any) -> None:
        self._set(job, state=state, **changes)
        self._jobs.pop(job.job_id, None)
        job.holds_slot = False
        self._dispatch()

    def _progress(self, job_id: int, done: int, total: int) -> None:
        job = self._jobs.get(job_id)
        if job is None or job.parked:
            return
        elapsed = max(time.monotonic() - job.started, 1e-9)
        rate = (done - job.done_at_start) / elapsed
        eta = (total - done) / rate if rate > 0 else None
        self._set(job, done=done, total=total, rate=rate, eta_seconds=eta)

    def _save_checkpoint(self, job_id: int, text: str) -> None:
        if self._writer is None or job_id not in self._jobs:
            return
        self._writer.append(JobCheckpointRow(job_id=job_id, payload_json=text,
                                             created_at=time.time()))  # fmt: skip

    def _set(self, job: _Job, **changes: Any) -> None:
        """Apply ``changes`` to the job's update and row, publish it and queue the row."""
        fields = {k: v for k, v in changes.items() if k in _UPDATE_FIELDS}
        job.update = update = dataclasses.replace(job.update, **fields)
        row = job.row
        row.state, row.done, row.total = update.state.value, update.done, update.total
        for name, value in changes.items():
            if name not in _UPDATE_FIELDS:
                setattr(row, name, value)
        self.jobs[update.job_id] = update
        self._bus.publish(update)
        if self._writer is not None:
            self._writer.upsert(row)

    # --- other processes --------------------------------------------------------------

    async def _load_history(self, store: Store) -> None:
        """Know the newest finished jobs in the store, oldest published first, so a
        restart does not forget what ``quarterdeck jobs list`` still shows. Unfinished
        jobs of other live processes are left out: nothing here would keep them current."""
        rows = await asyncio.to_thread(records.finished_jobs, store, self._history)
        for row in reversed(rows):
            update = records.update_of(row)
            self.jobs[update.job_id] = update
            self._bus.publish(update)

    async def _poll(self) -> None:
        beat = time.monotonic()
        while True:
            await asyncio.sleep(self._poll_interval)
            try:
                await self._poll_once()
            except Exception:
                log.exception("job poll failed; retrying")
            if time.monotonic() - beat >= records.HEARTBEAT:
                beat = time.monotonic()
                for job in self._jobs.values():
                    job.row.heartbeat_at = time.time()
                    if self._writer is not None:
                        self._writer.upsert(job.row)

    async def _poll_once(self) -> None:
        assert self._store is not None
        store, mine = self._store, list(self._jobs)
        claimed, controls, resumes = await asyncio.to_thread(self._read_store, store, mine)
        for row in claimed:
            self._recover(row, resumes.get(row.id or 0, []))
        for control in controls:
            self._apply_control(control.job_id, control.action, control.value,
                                control.requested_by)  # fmt: skip

    def _read_store(
        self, store: Store, mine: list[int]
    ) -> tuple[list[JobRow], list[Any], dict[int, list[Any]]]:
        claimed = records.claim_free_jobs(store, self.owner, mine)
        resumes = {row.id: records.checkpoints(store, row.id) for row in claimed if row.id}
        controls = records.take_controls(store, mine + [row.id for row in claimed if row.id])
        return claimed, controls, resumes

    def _recover(self, row: JobRow, resume: list[Any]) -> None:
        try:
            kind = find_kind(self._kinds, row.kind)
            request = kind.parse(json.loads(row.params_json))
        except ValueError as exc:
            reason = f"cannot resume after a restart: {exc}"
            log.warning("job %s: %s", row.id, reason)
            row.state, row.error, row.note, row.finished_at = (
                JobState.FAILED.value, reason, reason, time.time(),
            )  # fmt: skip
            update = JobUpdate(row.id or 0, row.kind, row.title, JobState.FAILED, row.done,
                               row.total, 0.0, None, reason)  # fmt: skip
            self.jobs[update.job_id] = update
            self._bus.publish(update)
            if self._writer is not None:
                self._writer.upsert(row)
            return
        if resume:
            row.note = f"resumed after a restart from {len(resume)} checkpoint(s)"
        elif row.started_at is not None:
            row.note = "restarted from the beginning after a restart (no checkpoint)"
        log.info("job %s: %s", row.id, row.note or "picked up")
        self._adopt(kind, request, row, resume)

    def _apply_control(self, job_id: int, action: str, value: str | None, who: str) -> None:
        log.info("job %d: %s%s requested by %s", job_id, action,
                 f" {value}" if value else "", who)  # fmt: skip
        if action == "cancel":
            self.cancel(job_id)
        elif action == "pause":
            self.pause(job_id)
        elif action == "resume":
            self.resume(job_id)
        elif action == "priority" and value is not None:
            self.set_priority(job_id, JobPriority[value.upper()])


_UPDATE_FIELDS = frozenset(f.name for f in dataclasses.fields(JobUpdate))
