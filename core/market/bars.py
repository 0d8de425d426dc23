"""Aggregating ticks into time bars."""

from __future__ import annotations

import math

from core.events import Bar


class BarAggregator:
    """Builds fixed-length time bars for one symbol from its ticks.

    A bar covers ``[start, start + seconds)``; it is emitted when the first tick
    of a later bar arrives, never before, so a bar is final when published.
    Buckets with no ticks produce no bar.
    """

    def __init__(self, symbol: str, seconds: float) -> None:
        if seconds <= 0:
            raise ValueError("bar length must be positive")
        self.symbol = symbol
        self.seconds = seconds
        self._start: float | None = None
        self._open = self._high = self._low = self._close = 0.0
        self._volume = 0.0

    def add(self, ts: float, price: float, size: float) -> Bar | None:
        """Add a tick; returns the bar it closed, if any."""
        start = math.floor(ts / self.seconds) * self.seconds
        closed = None
        if self._start is not None and start != self._start:
            closed = self._current()
            self._start = None
        if self._start is None:
            self._start = start
            self._open = self._high = self._low = self._close = price
            self._volume = size
        else:
            self._high = max(self._high, price)
            self._low = min(self._low, price)
            self._close = price
            self._volume += size
        return closed

    def _current(self) -> Bar:
        assert self._start is not None
        return Bar(
            self.symbol, self._start, self._open, self._high, self._low, self._close, self._volume
        )
