"""Tick-to-order latency: a bounded ring of the newest samples, and their quantiles.

The engine's definition (``LiveEngine``): from the moment the tick that an order
is placed on was due (the feed's wall-clock schedule, when the feed has one: the
simulator's; else the moment the engine took the tick's batch from the bus) to the
moment the order is handed to execution (validation, risk, the broker). Both ends
are ``time.monotonic``. Measuring from the tick's due time, not its arrival, means a
stalled event loop, which delays the tick's arrival itself, shows in the figure.
"""

from __future__ import annotations

from collections import deque

SAMPLES_KEPT = 4_096


class LatencyRecorder:
    """The newest ``kept`` samples, in seconds, and how many were ever recorded."""

    def __init__(self, kept: int = SAMPLES_KEPT) -> None:
        self._samples: deque[float] = deque(maxlen=kept)
        self.count = 0
        self.total = 0.0

    def record(self, seconds: float) -> None:
        self._samples.append(seconds)
        self.count += 1
        self.total += seconds

    def samples(self) -> list[float]:
        """The kept samples, oldest first."""
        return list(self._samples)

    def quantile(self, q: float) -> float | None:
        """The ``q`` quantile (0..1, nearest rank) of the kept samples; None without any."""
        if not self._samples:
            return None
        ordered = sorted(self._samples)
        return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]
