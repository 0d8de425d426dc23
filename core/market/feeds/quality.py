"""The data-quality gate every parsed event passes before a live feed publishes it.

A bad event is counted by reason, logged, announced as a ``FeedAlert`` on the
bus and dropped; the feed carries on. Ticks and bars of a symbol are checked
as separate streams (a bar's time is its start, behind the latest tick).
"""

from __future__ import annotations

import collections
import logging
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from core.bus import Bus
from core.events import AlertKind, Bar, FeedAlert, Tick

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class QualitySettings:
    """Thresholds of the quality filter.

    A move is a spike when its log return lies more than ``spike_sigma``
    standard deviations from the mean of the stream's last ``spike_window``
    returns, and is larger than ``spike_min_move`` (a floor, so a quiet
    stream of near-identical prices does not call every tick a spike). Spikes
    are judged once ``spike_min_returns`` returns are known. A new level that
    holds for ``spike_accept_after`` prints in a row is a real move, not a
    spike: that print is accepted and the return history starts afresh.
    """

    stale_after: float = 30.0
    spike_sigma: float = 6.0
    spike_window: int = 100
    spike_min_returns: int = 20
    spike_min_move: float = 0.005
    spike_accept_after: int = 3

    def __post_init__(self) -> None:
        for name in ("stale_after", "spike_sigma"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")
        for name in ("spike_window", "spike_min_returns", "spike_accept_after"):
            if getattr(self, name) < 2:
                raise ValueError(f"{name} must be at least 2, got {getattr(self, name)!r}")
        if self.spike_min_returns > self.spike_window:
            raise ValueError("spike_min_returns must not exceed spike_window")
        if self.spike_min_move < 0:
            raise ValueError(f"spike_min_move must not be negative, got {self.spike_min_move!r}")


@dataclass(slots=True)
class _Stream:
    """What the filter remembers about one symbol's ticks, or its bars."""

    returns: collections.deque[float]
    last_ts: float | None = None
    last_seq: int | None = None
    last_price: float | None = None
    spikes_in_row: int = 0


@dataclass
class QualityFilter:
    """Admits good events, drops bad ones; watches every symbol for staleness.

    ``symbols`` are watched for staleness from construction, or from the
    latest ``watch()`` (so a symbol that never updates goes stale too);
    others from their first event. ``clock`` is a monotonic clock,
    injectable for tests.
    """

    bus: Bus
    feed: str
    symbols: Iterable[str] = ()
    settings: QualitySettings = field(default_factory=QualitySettings)
    clock: Callable[[], float] = time.monotonic
    wall_clock: Callable[[], float] = time.time
    counts: collections.Counter[AlertKind] = field(default_factory=collections.Counter)

    def __post_init__(self) -> None:
        self._seen: dict[str, float] = {}
        self._stale: set[str] = set()
        self._streams: dict[tuple[str, bool], _Stream] = {}
        self.watch(self.symbols)

    def watch(self, symbols: Iterable[str]) -> None:
        """Start (or restart, when a feed starts) the staleness clock of ``symbols`` now."""
        now = self.clock()
        for symbol in symbols:
            self._seen[symbol] = now
            self._stale.discard(symbol)

    @property
    def stale_symbols(self) -> frozenset[str]:
        return frozenset(self._stale)

    def admit(self, event: Tick | Bar, seq: int | None = None) -> bool:
        """True if ``event`` may be published; otherwise it has been counted and reported.

        ``seq`` is the venue's trade id, when it has one: with it, two trades in
        the same millisecond are told apart, and only a repeated id is a duplicate.
        """
        is_bar = isinstance(event, Bar)
        stream = self._streams.get((event.symbol, is_bar))
        if stream is None:
            stream = _Stream(collections.deque(maxlen=self.settings.spike_window))
            self._streams[(event.symbol, is_bar)] = stream
        problem = (
            self._bar_problem(event) if isinstance(event, Bar) else self._tick_problem(event)
        ) or self._order_problem(stream, event.ts, seq)
        price = event.close if isinstance(event, Bar) else event.price
        if problem is None:
            problem = self._spike_problem(stream, price)
        if problem is not None:
            kind, message = problem
            self._report(kind, f"{event.symbol}: {message}; dropped {event!r}", event.symbol)
            return False
        stream.last_ts, stream.last_price = event.ts, price
        if seq is not None:
            stream.last_seq = seq
        self._seen[event.symbol] = self.clock()
        if event.symbol in self._stale:
            self._stale.discard(event.symbol)
            self._publish(AlertKind.STALE, f"{event.symbol}: updating again", event.symbol, False)
        return True

    def reject_message(self, problem: str) -> None:
        """Count and report a message that could not be parsed at all."""
        self._report(AlertKind.UNPARSEABLE, problem, None)

    def check_stale(self) -> list[str]:
        """Alert for every symbol silent for longer than ``stale_after``; returns them.

        Called periodically by the feed; a symbol is reported once until it
        updates again.
        """
        now = self.clock()
        newly = [
            symbol
            for symbol, seen in self._seen.items()
            if symbol not in self._stale and now - seen > self.settings.stale_after
        ]
        for symbol in newly:
            self._stale.add(symbol)
            silent = now - self._seen[symbol]
            self._report(AlertKind.STALE, f"{symbol}: no update for {silent:.1f} s", symbol)
        return newly

    @staticmethod
    def _tick_problem(tick: Tick) -> tuple[AlertKind, str] | None:
        if not tick.price > 0:  # NaN included
            return AlertKind.NON_POSITIVE_PRICE, f"price {tick.price:g} is not positive"
        if not tick.size >= 0:
            return AlertKind.NEGATIVE_SIZE, f"size {tick.size:g} is negative"
        return None

    @staticmethod
    def _bar_problem(bar: Bar) -> tuple[AlertKind, str] | None:
        for name in ("open", "high", "low", "close"):
            value = getattr(bar, name)
            if not value > 0:
                return AlertKind.NON_POSITIVE_PRICE, f"{name} {value:g} is not positive"
        if bar.high < bar.low:
            return AlertKind.CROSSED_BAR, f"high {bar.high:g} is below low {bar.low:g}"
        for name in ("open", "close"):
            value = getattr(bar, name)
            if not bar.low <= value <= bar.high:
                return AlertKind.CROSSED_BAR, f"{name} {value:g} is outside [low, high]"
        if not bar.volume >= 0:
            return AlertKind.NEGATIVE_SIZE, f"volume {bar.volume:g} is negative"
        return None

    @staticmethod
    def _order_problem(stream: _Stream, ts: float, seq: int | None) -> tuple[AlertKind, str] | None:
        if seq is not None and stream.last_seq is not None:
            if seq == stream.last_seq:
                return AlertKind.DUPLICATE, f"trade id {seq} repeated"
            if seq < stream.last_seq:
                return AlertKind.OUT_OF_ORDER, f"trade id {seq} after {stream.last_seq}"
        if stream.last_ts is None:
            return None
        if ts < stream.last_ts:
            return AlertKind.OUT_OF_ORDER, f"time {ts:.3f} is before {stream.last_ts:.3f}"
        if ts == stream.last_ts and seq is None:
            return AlertKind.DUPLICATE, f"time {ts:.3f} repeated"
        return None

    def _spike_problem(self, stream: _Stream, price: float) -> tuple[AlertKind, str] | None:
        if stream.last_price is None:
            return None
        move = math.log(price / stream.last_price)
        returns = stream.returns
        s = self.settings
        if len(returns) >= s.spike_min_returns and abs(move) > s.spike_min_move:
            mean = sum(returns) / len(returns)
            sd = math.sqrt(sum((r - mean) ** 2 for r in returns) / (len(returns) - 1))
            if abs(move - mean) > s.spike_sigma * sd:
                stream.spikes_in_row += 1
                if stream.spikes_in_row < s.spike_accept_after:
                    sigmas = abs(move - mean) / sd if sd > 0 else math.inf
                    return AlertKind.SPIKE, (
                        f"move {move:+.4%} from {stream.last_price:g} is {sigmas:.1f} sigma "
                        f"(limit {s.spike_sigma:g})"
                    )
                returns.clear()  # the level held: a real move, so start the history afresh
                stream.spikes_in_row = 0
                return None
        stream.spikes_in_row = 0
        returns.append(move)
        return None

    def _report(self, kind: AlertKind, message: str, symbol: str | None) -> None:
        self.counts[kind] += 1
        log.warning("feed %s: %s: %s", self.feed, kind.value, message)
        self._publish(kind, message, symbol, True)

    def _publish(self, kind: AlertKind, message: str, symbol: str | None, active: bool) -> None:
        self.bus.publish(FeedAlert(self.feed, kind, message, self.wall_clock(), symbol, active))
