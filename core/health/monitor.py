"""Process health: CPU, memory, disk, open files, event-loop lag, feed status and the
newest feed alerts, published on the bus."""

from __future__ import annotations

import asyncio
import collections
import resource
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import psutil

from core.bus import Bus
from core.events import BreakerStatus, FeedAlert, FeedStatus, HealthSnapshot


class StatusSource(Protocol):
    def status(self) -> FeedStatus: ...


class LoopLagProbe:
    """Measures how late the event loop wakes a sleeping task.

    Sleeps ``period`` seconds at a time; the overshoot beyond ``period`` is
    time the loop was busy elsewhere, which is what an operator feels as a
    frozen screen.
    """

    def __init__(self, period: float = 0.1, clock: Callable[[], float] = time.perf_counter) -> None:
        self.period = period
        self._clock = clock
        self.last_ms = 0.0
        self.max_ms = 0.0

    async def run(self) -> None:
        while True:
            before = self._clock()
            await asyncio.sleep(self.period)
            lag = max(0.0, (self._clock() - before - self.period) * 1000.0)
            self.last_ms = lag
            self.max_ms = max(self.max_ms, lag)

    def take_max(self) -> float:
        """The worst lag since the previous call (then starts a new window)."""
        worst, self.max_ms = self.max_ms, self.last_ms
        return worst


class HealthMonitor:
    #: Feed alerts a snapshot carries: the newest, enough for a glance at a pane.
    ALERTS_KEPT = 8

    def __init__(
        self,
        bus: Bus,
        feeds: Sequence[StatusSource],
        interval: float = 1.0,
        data_dir: Path | None = None,
        breakers: Callable[[], Sequence[BreakerStatus]] = tuple,
    ) -> None:
        self._bus = bus
        self._data_dir = data_dir
        self._breakers = breakers
        self._alerts = bus.subscribe(FeedAlert, maxsize=self.ALERTS_KEPT)
        self._recent_alerts: collections.deque[FeedAlert] = collections.deque(
            maxlen=self.ALERTS_KEPT
        )
        self._feeds = list(feeds)
        self._interval = interval
        self._process = psutil.Process()
        self.lag = LoopLagProbe()
        self._tasks: list[asyncio.Task[None]] = []
        self.latest: HealthSnapshot | None = None

    def start(self) -> None:
        if not self._tasks:
            self._process.cpu_percent(None)  # primes the counter; the first reading is 0
            self._tasks = [
                asyncio.create_task(self.lag.run(), name="health-loop-lag"),
                asyncio.create_task(self._run(), name="health-monitor"),
            ]

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._alerts.close()

    def sample(self) -> HealthSnapshot:
        memory = self._process.memory_info()
        self._recent_alerts.extend(self._alerts.drain())
        disk_percent, disk_free = self._disk()
        snapshot = HealthSnapshot(
            ts=time.time(),
            cpu_percent=self._process.cpu_percent(None),
            memory_rss=memory.rss,
            memory_percent=self._process.memory_percent(),
            loop_lag_ms=self.lag.last_ms,
            loop_lag_max_ms=self.lag.take_max(),
            feeds=tuple(feed.status() for feed in self._feeds),
            alerts=tuple(self._recent_alerts),
            host_memory_percent=psutil.virtual_memory().percent,
            disk_percent=disk_percent,
            disk_free=disk_free,
            open_files=self._process.num_fds(),
            open_files_limit=resource.getrlimit(resource.RLIMIT_NOFILE)[0],
            breakers=tuple(self._breakers()),
        )
        self.latest = snapshot
        return snapshot

    def _disk(self) -> tuple[float, int]:
        """The data directory's disk (the nearest existing parent: it may not exist yet)."""
        if self._data_dir is None:
            return 0.0, 0
        path = self._data_dir
        while not path.exists() and path != path.parent:
            path = path.parent
        usage = psutil.disk_usage(str(path))
        return usage.percent, usage.free

    async def _run(self) -> None:
        while True:
            self._bus.publish(self.sample())
            await asyncio.sleep(self._interval)
