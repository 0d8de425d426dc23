"""Feed latency: the venue's event time to our receipt, tracked and alarmed on."""

from __future__ import annotations

import collections

import numpy as np


class LatencyMonitor:
    """Keeps the last ``window`` latencies (seconds) and an alarm with hysteresis.

    The alarm rises when a message arrives later than ``threshold`` and falls
    when one arrives within ``clear_below`` (default three quarters of the
    threshold), so a latency hovering at the threshold does not flap. Clock
    skew between the venue and us shows up as-is, negative values included.
    """

    def __init__(
        self, threshold: float = 1.5, window: int = 1000, clear_below: float | None = None
    ) -> None:
        if threshold <= 0:
            raise ValueError(f"latency threshold must be positive, got {threshold!r}")
        if window < 1:
            raise ValueError(f"latency window must be at least 1, got {window!r}")
        self.threshold = threshold
        self.clear_below = threshold * 0.75 if clear_below is None else clear_below
        if self.clear_below > threshold:
            raise ValueError("latency clear_below must not exceed the threshold")
        self._samples: collections.deque[float] = collections.deque(maxlen=window)
        self.last: float | None = None
        self.alarmed = False

    def observe(self, latency: float) -> bool | None:
        """Record one latency; True when the alarm rises, False when it clears, else None."""
        self._samples.append(latency)
        self.last = latency
        if not self.alarmed and latency > self.threshold:
            self.alarmed = True
            return True
        if self.alarmed and latency <= self.clear_below:
            self.alarmed = False
            return False
        return None

    def percentile(self, q: float) -> float | None:
        """The ``q``-th percentile (0-100) of the window, None before any sample."""
        if not self._samples:
            return None
        return float(np.percentile(np.fromiter(self._samples, np.float64), q))

    @property
    def p50(self) -> float | None:
        return self.percentile(50)

    @property
    def p99(self) -> float | None:
        return self.percentile(99)
