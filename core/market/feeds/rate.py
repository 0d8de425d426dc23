"""Events per second, as the health pane shows for every feed."""

from __future__ import annotations

from collections.abc import Callable


class RateMeter:
    """The rate over the last window of at least ``window`` seconds of ``clock``.

    Reading the rate closes a window once it is long enough, so the figure
    changes at most once per window however often a view asks.
    """

    def __init__(self, clock: Callable[[], float], window: float = 1.0) -> None:
        self._clock = clock
        self._window = window
        self._started = clock()
        self._count = 0
        self._rate = 0.0

    def rate(self, count: int) -> float:
        """The rate given ``count``, the running total of events so far."""
        now = self._clock()
        if now - self._started >= self._window:
            self._rate = (count - self._count) / (now - self._started)
            self._started, self._count = now, count
        return self._rate
