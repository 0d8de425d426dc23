"""A trailing window of bars as numpy columns, appended in amortised constant time."""

from __future__ import annotations

import numpy as np

from core.events import Bar

COLUMNS = ("open", "high", "low", "close", "volume")


class BarWindow:
    """The last ``capacity`` bars of one symbol, as contiguous float64 columns.

    Storage holds twice the capacity; when it fills, the newest ``capacity`` rows
    move to the front. ``columns()`` returns views, not copies.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._data = np.empty((len(COLUMNS), 2 * capacity))
        self._start = 0
        self._end = 0

    def __len__(self) -> int:
        return self._end - self._start

    def append(self, bar: Bar) -> None:
        if self._end == self._data.shape[1]:
            keep = self.capacity - 1
            self._data[:, :keep] = self._data[:, self._end - keep : self._end]
            self._start, self._end = 0, keep
        self._data[:, self._end] = (bar.open, bar.high, bar.low, bar.close, bar.volume)
        self._end += 1
        if self._end - self._start > self.capacity:
            self._start += 1

    def resized(self, capacity: int) -> BarWindow:
        """A window of ``capacity`` holding the newest of these bars that fit."""
        window = BarWindow(capacity)
        kept = min(len(self), capacity)
        window._data[:, :kept] = self._data[:, self._end - kept : self._end]
        window._end = kept
        return window

    def columns(self) -> dict[str, np.ndarray]:
        rows = self._data[:, self._start : self._end]
        return {name: rows[i] for i, name in enumerate(COLUMNS)}
