"""A stopwatch against a recovery time objective."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.widgets import Static

from console.formatting import stopwatch


class RtoTimer(Static):
    """``RTO 01:23 / 05:00``, ticking once a second while a run is under way.

    ``elapsed`` is read on every tick (the runbook session's clock, which is the
    console's injectable clock, so a frozen clock freezes the timer). Past the
    objective it says ``OVER RTO`` as well as turning the error colour.

    CSS classes: ``-running`` while it ticks, ``-over`` past the objective.
    """

    DEFAULT_CSS = """
    RtoTimer { width: auto; padding: 0 1; text-style: bold; color: $text-muted; }
    RtoTimer.-running { color: $accent; }
    RtoTimer.-over { color: $error; text-style: bold reverse; }
    """

    def __init__(self, rto_seconds: float = 0.0, **kwargs: Any) -> None:
        super().__init__("", **kwargs)
        self.rto_seconds = rto_seconds
        self._elapsed: Callable[[], float] = lambda: 0.0
        self._ticking = False

    def on_mount(self) -> None:
        self.set_interval(1.0, self._tick)
        self._tick()

    def reset(self, rto_seconds: float) -> None:
        """A new objective, nothing elapsed, not ticking."""
        self.rto_seconds = rto_seconds
        self._elapsed = lambda: 0.0
        self._ticking = False
        self._tick()

    def start(self, elapsed: Callable[[], float]) -> None:
        self._elapsed = elapsed
        self._ticking = True
        self._tick()

    def stop(self) -> None:
        """Hold the time shown (``elapsed`` keeps answering, frozen by the session)."""
        self._tick()
        self._ticking = False
        self.set_class(False, "-running")

    def _tick(self) -> None:
        elapsed = self._elapsed()
        over = elapsed > self.rto_seconds > 0
        self.set_class(self._ticking, "-running")
        self.set_class(over, "-over")
        late = " OVER RTO" if over else ""
        self.update(f"RTO {stopwatch(elapsed)} / {stopwatch(self.rto_seconds)}{late}")
