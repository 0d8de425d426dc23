"""A single writer that batches rows into transactions off the event loop.

Producers call ``append`` (insert) or ``upsert`` (insert-or-update by primary
key) and never wait. A background task commits everything queued in one
transaction, at most every ``interval`` seconds or as soon as ``batch_size``
rows are waiting. One dedicated thread does all writes, so SQLite sees a single
writer. ``flush()`` returns once everything queued before the call is committed;
``stop()`` drains the queue before returning, so a clean shutdown loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import insert
from sqlmodel import SQLModel

from core.store.database import Store, upsert_statement
from core.tasks import cancel_and_wait

log = logging.getLogger(__name__)


class BatchWriter:
    def __init__(self, store: Store, interval: float = 0.05, batch_size: int = 500) -> None:
        self._store = store
        self._interval = interval
        self._batch_size = batch_size
        self._pending: list[_Queued] = []
        self._wake = asyncio.Event()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qd-store")
        self._task: asyncio.Task[None] | None = None
        self._flushed = asyncio.Condition()
        self._enqueued = 0
        self._committed = 0
        self.rows_written = 0
        self.rows_failed = 0
        self.batches = 0
        self.last_error: str | None = None

    def append(self, row: SQLModel) -> None:
        """Queue ``row`` for insertion (its primary key, if unset, is assigned by the database)."""
        self._queue(False, type(row), row.model_dump(exclude={"id"} if row.id is None else set()))  # type: ignore[attr-defined]

    def upsert(self, row: SQLModel) -> None:
        """Queue ``row`` to be inserted, or to replace the stored row with its primary key."""
        self._queue(True, type(row), row.model_dump())

    def _queue(self, upsert: bool, model: type[SQLModel], values: dict[str, Any]) -> None:
        # Rows are copied to plain dicts now, so later changes to the caller's
        # object cannot leak into what was queued.
        self._pending.append((upsert, model, values))
        self._enqueued += 1
        if len(self._pending) >= self._batch_size:
            self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="store-writer")

    async def flush(self) -> None:
        """Wait until every row queued before this call is committed."""
        target = self._enqueued
        self._wake.set()
        async with self._flushed:
            await self._flushed.wait_for(lambda: self._committed >= target or self._task is None)

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)
        await self._commit_pending()
        async with self._flushed:
            self._flushed.notify_all()
        self._executor.shutdown(wait=True)

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._interval)
            self._wake.clear()
            await self._commit_pending()

    async def _commit_pending(self) -> None:
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        loop = asyncio.get_running_loop()
        try:
            # Shielded: once handed to the thread, a batch is committed even if
            # the writer is cancelled meanwhile, and it is never handed over twice.
            await asyncio.shield(loop.run_in_executor(self._executor, self._commit, batch))
        except asyncio.CancelledError:
            raise
        except Exception:
            self.rows_failed += len(batch)  # logged with its traceback in _commit
        finally:
            self._committed += len(batch)
            async with self._flushed:
                self._flushed.notify_all()

    def _commit(self, batch: list[_Queued]) -> None:
        inserts: dict[type[SQLModel], list[dict[str, Any]]] = {}
        upserts: dict[type[SQLModel], dict[object, dict[str, Any]]] = {}
        for upsert, model, values in batch:
            if upsert:  # the newest version of a row wins within a batch
                upserts.setdefault(model, {})[values["id"]] = values
            else:
                inserts.setdefault(model, []).append(values)
        try:
            with self._store.session() as session, session.begin():
                for model, rows in inserts.items():
                    session.execute(insert(model), rows)
                for model, by_key in upserts.items():
                    session.execute(
                        upsert_statement(self._store.engine, model), list(by_key.values())
                    )
        except Exception as exc:  # the writer must survive a bad batch
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.exception("store batch of %d rows failed", len(batch))
            raise
        self.rows_written += len(batch)
        self.batches += 1


_Queued = tuple[bool, type[SQLModel], dict[str, Any]]
