"""A live feed from websocket sources: connect, subscribe, parse, filter, publish; and recover.

Sources are tried in order. A dropped connection is retried on the same
source after a backoff with full jitter; after ``failover_after`` failed
attempts in a row the feed moves to the next source (wrapping around). While
on a secondary, the primary is probed every ``probe_interval`` seconds and
the feed goes back to it as soon as it answers. Every source of one feed
serves the same symbols in the same spelling (say, two endpoints of one
venue).

An attempt counts as failed unless its connection delivered market data, so
a server that accepts and hangs up at once cannot keep the feed from failing
over.

Venues whose streams carry trades only (Coinbase's matches, a Binance trade
stream) give the engine no bars; with ``bar_seconds`` the feed builds time
bars from the ticks it admits, and drops any bars the venue sends (counted as
``venue_bars``) so the engine never sees two kinds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from core.bus import Bus
from core.events import AlertKind, Bar, FeedAlert, FeedState, FeedStatus, Tick
from core.health.breaker import BreakerRegistry
from core.market.bars import BarAggregator
from core.market.feeds.backoff import Backoff
from core.market.feeds.latency import LatencyMonitor
from core.market.feeds.messages import Adapter, FeedMessageError, VenueError
from core.market.feeds.quality import QualityFilter, QualitySettings
from core.market.feeds.rate import RateMeter
from core.tasks import cancel_and_wait

log = logging.getLogger(__name__)

_CONNECTION_ERRORS = (OSError, TimeoutError, WebSocketException)


@dataclass(frozen=True, slots=True)
class Source:
    """One place to get the feed's data from, and how to read it."""

    url: str
    adapter: Adapter


class WebSocketFeed:
    """Publishes Ticks and Bars from websocket sources on the bus, with the SimulatorFeed surface.

    ``sleep`` is how the backoff waits (tests inject one that records the
    delays); ``clock`` is monotonic, ``wall_clock`` epoch seconds to compare
    with the venues' timestamps.

    Counters: ``messages`` frames received, ``ticks`` and ``bars`` published,
    ``connects`` connections opened, ``reconnects`` retries after an attempt
    ended, ``failovers`` source switches (returns to the primary included),
    ``venue_errors`` errors the venue reported, ``unrequested`` events for
    symbols the feed did not ask for (dropped); the quality filter's drops by
    reason are in ``quality.counts``, and all of them in ``counters()``.
    """

    def __init__(
        self,
        bus: Bus,
        name: str,
        symbols: Sequence[str],
        sources: Sequence[Source],
        *,
        backoff: Backoff | None = None,
        failover_after: int = 3,
        probe_interval: float = 30.0,
        open_timeout: float = 10.0,
        latency_threshold: float = 1.5,
        latency_window: int = 1000,
        quality: QualitySettings | None = None,
        stale_check_interval: float = 1.0,
        bar_seconds: float | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        breakers: BreakerRegistry | None = None,
    ) -> None:
        if not sources:
            raise ValueError("a websocket feed needs at least one source")
        if failover_after < 1:
            raise ValueError(f"failover_after must be at least 1, got {failover_after!r}")
        for setting, value in (
            ("probe_interval", probe_interval),
            ("open_timeout", open_timeout),
            ("stale_check_interval", stale_check_interval),
        ):
            if not value > 0:
                raise ValueError(f"{setting} must be positive, got {value!r}")
        self._bus = bus
        self.name = name
        self._sources = tuple(sources)
        self.symbols = [self._sources[0].adapter.normalise(s) for s in symbols]
        self._wanted = frozenset(self.symbols)
        self._backoff = backoff or Backoff()
        self._breakers = breakers or BreakerRegistry()
        self._failover_after = failover_after
        self._probe_interval = probe_interval
        self._open_timeout = open_timeout
        self._stale_check_interval = stale_check_interval
        self._sleep = sleep
        self._clock = clock
        self._wall = wall_clock
        self.latency = LatencyMonitor(latency_threshold, latency_window)
        self.quality = QualityFilter(
            bus, name, self.symbols, quality or QualitySettings(), clock, wall_clock
        )
        self._rate = RateMeter(clock)
        self._aggregators = (
            None
            if bar_seconds is None
            else {symbol: BarAggregator(symbol, bar_seconds) for symbol in self.symbols}
        )
        self._index = 0
        self._connected = False
        self._ever_connected = False
        self._tasks: list[asyncio.Task[None]] = []
        self._last_tick_at: float | None = None
        self.messages = self.ticks = self.bars = 0
        self.connects = self.reconnects = self.failovers = 0
        self.venue_errors = self.unrequested = self.venue_bars = 0

    @property
    def source(self) -> Source:
        """The source the feed reads (or is trying to read) now."""
        return self._sources[self._index]

    @property
    def state(self) -> FeedState:
        if not self._tasks:
            return FeedState.STOPPED
        if not self._ever_connected:
            return FeedState.STARTING
        if not self._connected or self.quality.stale_symbols:
            return FeedState.STALE
        return FeedState.LIVE

    def start(self) -> None:
        if not self._tasks:
            self.quality.watch(self.symbols)
            self._tasks = [
                asyncio.create_task(self._run(), name=f"feed-{self.name}"),
                asyncio.create_task(self._watch_staleness(), name=f"feed-{self.name}-stale"),
            ]

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            await cancel_and_wait(task)
        self._connected = False

    def status(self) -> FeedStatus:
        now = self._clock()
        age = None if self._last_tick_at is None else now - self._last_tick_at
        return FeedStatus(
            self.name,
            self.state,
            self.ticks,
            self._rate.rate(self.ticks),
            age,
            latency_p50=self.latency.p50,
            latency_p99=self.latency.p99,
            dropped=sum(self.quality.counts.values()),
            source=self.source.url,
        )

    def counters(self) -> dict[str, int]:
        """Every count the feed keeps, the quality filter's drops by reason included."""
        counts = {
            "messages": self.messages,
            "ticks": self.ticks,
            "bars": self.bars,
            "connects": self.connects,
            "reconnects": self.reconnects,
            "failovers": self.failovers,
            "venue_errors": self.venue_errors,
            "unrequested": self.unrequested,
            "venue_bars": self.venue_bars,
        }
        counts.update({kind.value: n for kind, n in self.quality.counts.items()})
        return counts

    async def _run(self) -> None:
        failures = 0  # attempts in a row without data, on any source: drives the backoff
        on_source = 0  # of those, on the current source: drives failover
        try:
            while True:
                healthy, primary_back = await self._attempt()
                if primary_back:
                    self._switch(0, "the primary answers again")
                    failures = on_source = 0
                    continue
                if healthy:
                    failures = on_source = 0
                else:
                    failures += 1
                    on_source += 1
                    if on_source >= self._failover_after and len(self._sources) > 1:
                        self._switch(
                            (self._index + 1) % len(self._sources),
                            f"{on_source} failed attempts on {self.source.url}",
                        )
                        on_source = 0
                self.reconnects += 1
                await self._sleep(self._backoff.delay(max(failures - 1, 0)))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("feed %s failed", self.name)
            raise

    async def _attempt(self) -> tuple[bool, bool]:
        """One connection to the current source, raced against the primary's probe.

        Returns whether the connection delivered data, and whether it ended
        because the primary is back.
        """
        session = asyncio.create_task(self._session(self.source))
        tasks: list[asyncio.Task[bool]] = [session]
        if self._index != 0:
            tasks.append(asyncio.create_task(self._probe(self._sources[0])))
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException) and not isinstance(
                outcome, asyncio.CancelledError
            ):
                raise outcome
        healthy = outcomes[0] is True
        primary_back = len(outcomes) > 1 and outcomes[1] is True
        return healthy, primary_back

    async def _session(self, source: Source) -> bool:
        """Read ``source`` until the connection ends; True if it delivered market data.
        While the source's circuit breaker is open the attempt fails without a
        connection (the backoff still waits, and failover still counts it)."""
        breaker = self._breakers.get(f"feed {source.url}")
        if not breaker.allow():
            log.info("feed %s: circuit open for %s, not connecting", self.name, source.url)
            return False
        delivered, error = False, "closed without market data"
        try:
            async with connect(source.url, open_timeout=self._open_timeout) as ws:
                self.connects += 1
                self._connected = self._ever_connected = True
                log.info("feed %s: connected to %s", self.name, source.url)
                for frame in source.adapter.subscribe_frames(self.symbols):
                    await ws.send(frame)
                async for raw in ws:
                    delivered = self._handle(source.adapter, raw) or delivered
            log.warning("feed %s: %s closed the connection", self.name, source.url)
        except _CONNECTION_ERRORS as exc:
            error = str(exc) or type(exc).__name__
            log.warning("feed %s: %s: %s", self.name, source.url, error)
        finally:
            self._connected = False
            if delivered:
                breaker.succeeded()
            else:
                breaker.failed(error)
        return delivered

    async def _probe(self, primary: Source) -> bool:
        """Wait until the primary accepts a connection and answers a subscription."""
        while True:
            await asyncio.sleep(self._probe_interval)
            try:
                async with (
                    asyncio.timeout(self._open_timeout),
                    connect(primary.url, open_timeout=None) as ws,
                ):
                    for frame in primary.adapter.subscribe_frames(self.symbols):
                        await ws.send(frame)
                    await ws.recv()
                    return True
            except _CONNECTION_ERRORS as exc:
                log.debug("feed %s: primary %s still down: %s", self.name, primary.url, exc)

    def _handle(self, adapter: Adapter, raw: str | bytes) -> bool:
        """Parse, check and publish one frame; True if it carried market data."""
        received_at = self._wall()
        self.messages += 1
        try:
            parsed = adapter.parse(raw)
        except FeedMessageError as exc:
            self.quality.reject_message(str(exc))
            return False
        except VenueError as exc:
            self.venue_errors += 1
            log.warning("feed %s: %s", self.name, exc)
            self._alert(AlertKind.VENUE_ERROR, str(exc))
            return False
        for item in parsed:
            event = item.event
            if event.symbol not in self._wanted:
                self.unrequested += 1
                continue
            if item.sent_at is not None:
                self._observe_latency(received_at - item.sent_at)
            if isinstance(event, Bar) and self._aggregators is not None:
                self.venue_bars += 1
                continue
            if not self.quality.admit(event, item.seq):
                continue
            if isinstance(event, Tick):
                self._publish_tick(event)
            else:
                self._bus.publish(event)
                self.bars += 1
        return bool(parsed)

    def _publish_tick(self, tick: Tick) -> None:
        """Publish an admitted tick, after the bar it closes when the feed builds bars
        (a bar closes at the first tick of the next, as the simulator's do)."""
        if self._aggregators is not None:
            bar = self._aggregators[tick.symbol].add(tick.ts, tick.price, tick.size)
            if bar is not None:
                self._bus.publish(bar)
                self.bars += 1
        self._bus.publish(tick)
        self.ticks += 1
        self._last_tick_at = self._clock()

    def _observe_latency(self, latency: float) -> None:
        change = self.latency.observe(latency)
        if change is True:
            message = f"latency {latency:.3f} s is above {self.latency.threshold:g} s"
            log.warning("feed %s: %s", self.name, message)
            self._alert(AlertKind.LATENCY, message)
        elif change is False:
            self._alert(AlertKind.LATENCY, f"latency back to {latency:.3f} s", active=False)

    def _switch(self, index: int, reason: str) -> None:
        self.failovers += 1
        self._index = index
        message = f"switched to {self.source.url}: {reason}"
        log.warning("feed %s: %s", self.name, message)
        self._alert(AlertKind.FAILOVER, message)

    def _alert(self, kind: AlertKind, message: str, active: bool = True) -> None:
        self._bus.publish(FeedAlert(self.name, kind, message, self._wall(), None, active))

    async def _watch_staleness(self) -> None:
        while True:
            await asyncio.sleep(self._stale_check_interval)
            self.quality.check_stale()
