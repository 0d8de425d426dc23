"""Replaying an OHLCV file as a live feed, in real time, faster, or as fast as possible."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from core.bus import Bus
from core.events import Bar, FeedState, FeedStatus, Tick
from core.market.feeds.rate import RateMeter
from core.market.history import Bars
from core.market.loader import DataFileError, load_bars
from core.tasks import cancel_and_wait

log = logging.getLogger(__name__)


class FileReplayFeed:
    """Publishes, for each bar of a CSV or Parquet file, a Tick at its open and then the Bar.

    The tick is the bar's first trade, which is where the live engine fills
    orders signalled at the previous close. ``speed=1`` replays in real time
    by the bars' timestamps, ``speed=60`` a minute per second; ``None`` (or
    infinity) as fast as possible, yielding to the event loop every
    ``yield_every`` bars. The file is read off the loop. A bad file is
    reported in ``error`` (a ``DataFileError`` naming file, row and column)
    and logged; ``finished`` is set when the replay ends for any reason, and
    ``wait()`` re-raises the error.

    ``resume_after(cursor, warm)`` makes a restarted replay carry on where the
    journal says the engine stood: the bars before the cursor go to ``warm``
    (the engine's indicators see them, nothing trades), the bar at the cursor
    is published again without its tick if that tick was handled (its signal
    was not journaled), and the rest as usual: the market never restarts.
    """

    def __init__(
        self,
        bus: Bus,
        path: str | Path,
        symbol: str,
        *,
        speed: float | None = 1.0,
        name: str | None = None,
        yield_every: int = 250,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if speed is not None and not speed > 0:
            raise ValueError(f"speed must be positive or None, got {speed!r}")
        if yield_every < 1:
            raise ValueError(f"yield_every must be at least 1, got {yield_every!r}")
        self._bus = bus
        self.path = Path(path)
        self.symbol = symbol
        self.symbols = [symbol]
        self.speed = None if speed is None or math.isinf(speed) else speed
        self.name = name or f"replay:{self.path.name}"
        self._yield_every = yield_every
        self._clock = clock
        self._sleep = sleep
        self._rate = RateMeter(clock)
        self._task: asyncio.Task[None] | None = None
        self._last_tick_at: float | None = None
        self.finished = asyncio.Event()
        self.error: Exception | None = None
        self.state = FeedState.STOPPED
        self.ticks = self.bars = 0
        self.total: int | None = None  # bars in the file, once read
        self._resume: tuple[float, str] | None = None
        self._warm: Callable[[Bar], None] | None = None

    def resume_after(self, ts: float, event: str, warm: Callable[[Bar], None]) -> None:
        """Start after the market event (``"tick"`` or ``"bar"`` at ``ts``) a journal last
        handled; earlier bars go to ``warm``."""
        self._resume, self._warm = (ts, event), warm

    def start(self) -> None:
        if self._task is None:
            self.finished.clear()
            self.state = FeedState.STARTING
            self._task = asyncio.create_task(self._run(), name=f"feed-{self.name}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)
        self.state = FeedState.STOPPED

    async def wait(self) -> None:
        """Wait for the end of the replay; raises the file's error if it could not be read."""
        await self.finished.wait()
        if self.error is not None:
            raise self.error

    def status(self) -> FeedStatus:
        age = None if self._last_tick_at is None else self._clock() - self._last_tick_at
        return FeedStatus(self.name, self.state, self.ticks, self._rate.rate(self.ticks), age)

    async def _run(self) -> None:
        try:
            bars = await asyncio.to_thread(load_bars, self.path)
            self.total = len(bars["ts"])
            self.state = FeedState.LIVE
            await self._replay(bars)
        except DataFileError as exc:
            self.error = exc
            log.error("feed %s: %s", self.name, exc)
        except Exception as exc:  # a bug, not bad data: keep the trace, end the replay
            self.error = exc
            log.exception("feed %s failed", self.name)
        finally:
            self.state = FeedState.STOPPED
            self.finished.set()

    async def _replay(self, bars: Bars) -> None:
        columns = [bars[k].tolist() for k in ("ts", "open", "high", "low", "close", "volume")]
        publish, symbol, speed = self._bus.publish, self.symbol, self.speed
        start, tick_handled = self._skip_handled(columns)
        columns = [column[start:] for column in columns]
        if not columns[0]:
            return
        begun, origin = self._clock(), columns[0][0]
        for i, (ts, open_, high, low, close, volume) in enumerate(zip(*columns, strict=True)):
            if speed is not None:
                delay = begun + (ts - origin) / speed - self._clock()
                if delay > 0:
                    await self._sleep(delay)
            if i and i % self._yield_every == 0:
                await asyncio.sleep(0)
            if i or not tick_handled:
                publish(Tick(symbol, ts, open_, 0.0))
            publish(Bar(symbol, ts, open_, high, low, close, volume))
            self.ticks += 1
            self.bars += 1
            self._last_tick_at = self._clock()

    def _skip_handled(self, columns: list[list[float]]) -> tuple[int, bool]:
        """Warm the engine on the bars a journal already handled; returns the index of the
        first bar to publish and whether that bar's tick was handled already."""
        if self._resume is None or self._warm is None:
            return 0, False
        resume_ts, event = self._resume
        warm, symbol = self._warm, self.symbol
        for i, (ts, open_, high, low, close, volume) in enumerate(zip(*columns, strict=True)):
            if ts >= resume_ts:
                log.info("feed %s: resuming at bar %d of %d (%s handled before the restart)",
                         self.name, i + 1, len(columns[0]), event)  # fmt: skip
                return i, ts == resume_ts
            warm(Bar(symbol, ts, open_, high, low, close, volume))
            self.bars += 1
        return len(columns[0]), False
