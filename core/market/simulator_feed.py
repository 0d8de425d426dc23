"""The built-in simulator as a live feed: publishes Ticks and closed Bars on the bus."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
import time
from collections.abc import Callable, Mapping

from core.bus import Bus
from core.events import FeedState, FeedStatus, Tick
from core.market.bars import BarAggregator
from core.market.simulator import PriceSimulator, profile_for
from core.tasks import cancel_and_wait

log = logging.getLogger(__name__)


class SimulatorFeed:
    """Steps every symbol's simulator in simulated time and publishes the ticks.

    One step advances simulated time by ``step_seconds`` and produces one tick
    per symbol; ``tick_rate`` is ticks per wall-clock second over all symbols.
    Wall time only paces the feed; the prices depend on the seed alone.
    """

    name = "simulator"

    def __init__(
        self,
        bus: Bus,
        symbols: list[str],
        seed: int,
        tick_rate: float,
        step_seconds: float,
        bar_seconds: float,
        start_ts: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        wakeups_per_second: float = 50.0,
    ) -> None:
        self._bus = bus
        self.symbols = list(symbols)
        self._seed = seed
        self._bar_seconds = bar_seconds
        self._simulators = [PriceSimulator(s, seed, step_seconds) for s in self.symbols]
        self._aggregators = [BarAggregator(s, bar_seconds) for s in self.symbols]
        self._steps_per_second = tick_rate / len(self.symbols)
        self._step_seconds = step_seconds
        start = time.time() if start_ts is None else start_ts
        self._sim_ts = math.floor(start / bar_seconds) * bar_seconds
        self._clock = clock
        self._period = 1.0 / wakeups_per_second
        self._task: asyncio.Task[None] | None = None
        self.state = FeedState.STOPPED
        self.ticks = 0
        self.last_prices: dict[str, float] = {}
        self._last_tick_wall: float | None = None
        self._rate_window: tuple[float, int] = (clock(), 0)
        self._rate = 0.0
        self._schedule: tuple[float, float] | None = None  # wall and simulated start

    def due(self, tick: Tick) -> float | None:
        """When ``tick`` was due on the feed's clock: its step's place in the wall-clock
        schedule, however late the event loop let the feed publish it. None for a tick
        the feed did not schedule (stepped by hand, or from before this run), or on a
        clock other than ``time.monotonic``."""
        if self._schedule is None or self._clock is not time.monotonic:
            return None  # the engine measures on time.monotonic
        begun, sim_start = self._schedule
        if tick.ts <= sim_start:
            return None
        return begun + (tick.ts - sim_start) / self._step_seconds / self._steps_per_second

    def continue_from(self, prices: Mapping[str, float], ts: float) -> None:
        """Carry on after a restart: each symbol from its last price, simulated time from
        the first bar after ``ts`` (never back in time); call before ``start``."""
        epoch = math.ceil(ts)
        self._simulators = [
            PriceSimulator(
                symbol, self._seed, self._step_seconds,
                dataclasses.replace(profile_for(symbol), start_price=prices[symbol]), epoch,
            ) if symbol in prices else simulator
            for symbol, simulator in zip(self.symbols, self._simulators, strict=True)
        ]  # fmt: skip
        self._sim_ts = max(self._sim_ts, math.ceil(ts / self._bar_seconds) * self._bar_seconds)
        self.last_prices.update({s: p for s, p in prices.items() if s in self.symbols})

    def start(self) -> None:
        if self._task is None:
            self.state = FeedState.STARTING
            self._task = asyncio.create_task(self._run(), name="feed-simulator")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)
        self.state = FeedState.STOPPED

    def step(self, steps: int) -> None:
        """Advance the simulation by ``steps`` steps and publish what they produce."""
        if steps <= 0:
            return
        blocks = [sim.next_block(steps) for sim in self._simulators]
        publish = self._bus.publish
        for i in range(steps):
            self._sim_ts += self._step_seconds
            ts = self._sim_ts
            for symbol, aggregator, (prices, sizes) in zip(
                self.symbols, self._aggregators, blocks, strict=True
            ):
                price = float(prices[i])
                size = float(sizes[i])
                bar = aggregator.add(ts, price, size)
                if bar is not None:
                    publish(bar)
                publish(Tick(symbol, ts, price, size))
        for symbol, (prices, _) in zip(self.symbols, blocks, strict=True):
            self.last_prices[symbol] = float(prices[-1])
        self.ticks += steps * len(self.symbols)
        self._last_tick_wall = self._clock()

    def status(self) -> FeedStatus:
        now = self._clock()
        started, count = self._rate_window
        if now - started >= 1.0:
            self._rate = (self.ticks - count) / (now - started)
            self._rate_window = (now, self.ticks)
        age = None if self._last_tick_wall is None else now - self._last_tick_wall
        return FeedStatus(self.name, self.state, self.ticks, self._rate, age)

    async def _run(self) -> None:
        begun = self._clock()
        self._schedule = (begun, self._sim_ts)
        done = 0
        self.state = FeedState.LIVE
        try:
            while True:
                due = int((self._clock() - begun) * self._steps_per_second)
                self.step(due - done)
                done = max(done, due)
                await asyncio.sleep(self._period)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("simulator feed failed")
            self.state = FeedState.STALE
            raise
