"""A read many callers share: one at a time in a worker thread, its answer reused while
it is fresh.

``GET /api/v1/portfolio`` rebuilds the account from its journal, which grows all day:
a second of interpreter time each after a busy hour's trading. Twenty clients polling
it ran twenty rebuilds at once in worker threads, and the engine's thread waited for
the interpreter between them (tick-to-order p99 x48: ``bench.api_load``). Shared, a
crowd of readers costs one rebuild at a time and at most one per ``fresh_seconds``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class SharedRead(Generic[T]):
    def __init__(self, fresh_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.fresh_seconds = fresh_seconds
        self._clock = clock
        self._value: T | None = None
        self._made = 0.0  # when the kept value's read began
        self._pending: asyncio.Future[T] | None = None

    async def get(self, read: Callable[[], T]) -> T:
        """The kept value if its read began less than ``fresh_seconds`` ago; else the
        read under way, or ``read`` run now (blocking: in a worker thread)."""
        if self._value is not None and self._clock() - self._made < self.fresh_seconds:
            return self._value
        if self._pending is None:
            self._pending = asyncio.ensure_future(self._refresh(read))
        # shielded: a caller that gives up does not cancel the others' read
        return await asyncio.shield(self._pending)

    async def _refresh(self, read: Callable[[], T]) -> T:
        began = self._clock()
        try:
            value = await asyncio.to_thread(read)
        finally:
            self._pending = None
        self._value, self._made = value, began
        return value
