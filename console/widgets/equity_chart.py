"""The account's equity over recent market time, as a sparkline."""

from __future__ import annotations

import math
from collections import deque
from typing import Any

from textual.app import ComposeResult
from textual.widgets import Sparkline

from console import formatting as fmt
from console.widgets.bus_pane import BusPane
from core.bus import Bus
from core.events import EQUITY_BUCKET_SECONDS, EQUITY_POINTS, PortfolioSnapshot


def _last(values: Any) -> float:
    return float(values[-1])


#: A chart of minute buckets gains nothing from redrawing faster, and each redraw
#: of Textual's sparkline styles every cell of it.
CHART_HZ = 2.0


class EquityChart(BusPane):
    """One point per ``bucket`` seconds of market time (the equity at the bucket's
    last snapshot), the newest on the right; the subtitle gives the range shown.

    Sampling by the snapshots' own time, not the wall clock, keeps the chart the
    same however fast the feed runs (a replay at 100x draws the same line).
    """

    TOPICS = (PortfolioSnapshot,)
    LATEST_ONLY = False  # every snapshot may close a bucket
    REPLAY = True  # a console opened late starts from what happened before
    DEFAULT_CSS = """
    EquityChart { border: round $primary; }
    EquityChart > Sparkline { height: 1fr; min-height: 1; }
    EquityChart > Sparkline > .sparkline--max-color { color: $success; }
    EquityChart > Sparkline > .sparkline--min-color { color: $error; }
    """

    def __init__(self, bus: Bus, max_hz: float = 10.0, *, bucket: float = EQUITY_BUCKET_SECONDS,
                 **kwargs: Any) -> None:  # fmt: skip
        super().__init__(bus, min(max_hz, CHART_HZ), **kwargs)
        self.bucket = bucket
        self.points: deque[tuple[int, float]] = deque(maxlen=EQUITY_POINTS)

    def compose(self) -> ComposeResult:
        self.border_title = "Equity"
        yield Sparkline([], summary_function=_last)

    def apply(self, events: list[Any]) -> None:
        for snapshot in events:
            if snapshot.name != "account":
                continue
            slot = math.floor(snapshot.ts / self.bucket)
            if self.points and self.points[-1][0] == slot:
                self.points[-1] = (slot, snapshot.equity)
            elif not self.points or slot > self.points[-1][0]:
                self.points.append((slot, snapshot.equity))
        self._redraw()

    def on_resize(self) -> None:
        self._redraw()

    def _redraw(self) -> None:
        width = max(self.content_size.width, 1)
        shown = [equity for _, equity in list(self.points)[-width:]]
        sparkline = self.query_one(Sparkline)
        if shown == sparkline.data:
            return  # a redraw costs more than comparing a few hundred points
        sparkline.data = shown
        if shown:
            span = fmt.duration(len(shown) * self.bucket)
            self.border_subtitle = (
                f"{span} · low {fmt.money(min(shown))} · high {fmt.money(max(shown))}"
            )
