"""A search's objective over two parameters, as a table of shaded cells.

Every cell shows its value as text and the best one carries a star, so the
table reads without colour; the shading (five bands from worst to best, by
the objective's direction) only helps the eye find the good region.

COMPONENT_CLASSES:
    heatmap-grid--band-0 .. heatmap-grid--band-4: worst to best fifth.
    heatmap-grid--empty: a combination the strategy's constraints ruled out.
    heatmap-grid--axis: the parameter values along both axes.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from rich.console import RenderableType
from rich.text import Text
from textual.widget import Widget

from console import formatting as fmt
from core.research.grids import Heatmap
from core.research.optimizer import Objective

BANDS = 5
BEST = "★"
PERCENT_METRICS = frozenset({"total_return", "cagr", "volatility", "max_drawdown", "win_rate",
                             "exposure", "avg_trade", "best_trade", "worst_trade"})  # fmt: skip


def value_text(metric: str) -> Callable[[float], str]:
    """How a cell shows ``metric``: percentages as such, ratios with two decimals."""
    if metric in PERCENT_METRICS:
        return lambda value: fmt.percent(value, 1)
    return lambda value: fmt.ratio(value, 2)


def bands(heatmap: Heatmap, objective: Objective) -> list[list[int | None]]:
    """Each cell's band, 0 (worst) to ``BANDS - 1`` (best), spread over the scores' range."""
    scores = [
        objective.score({heatmap.metric: v})
        for line in heatmap.values
        for v in line
        if v is not None and math.isfinite(v)
    ]
    low, high = (min(scores), max(scores)) if scores else (0.0, 0.0)
    span = high - low

    def band(value: float | None) -> int | None:
        if value is None:
            return None
        score = objective.score({heatmap.metric: value})
        if math.isinf(score):  # an infinite profit factor: the best there is
            return BANDS - 1 if score > 0 else 0
        if span <= 0:
            return BANDS // 2
        share = (score - low) / span
        return min(BANDS - 1, int(share * BANDS))

    return [[band(v) for v in line] for line in heatmap.values]


class HeatmapGrid(Widget):
    """Shows a ``Heatmap``; ``show(heatmap, objective, title)`` replaces it."""

    COMPONENT_CLASSES = {
        *(f"heatmap-grid--band-{n}" for n in range(BANDS)),
        "heatmap-grid--empty",
        "heatmap-grid--axis",
    }
    DEFAULT_CSS = """
    HeatmapGrid { height: auto; }
    HeatmapGrid > .heatmap-grid--band-0 { background: $error 70%; color: $text; }
    HeatmapGrid > .heatmap-grid--band-1 { background: $error 35%; color: $text; }
    HeatmapGrid > .heatmap-grid--band-2 { background: $panel; color: $text; }
    HeatmapGrid > .heatmap-grid--band-3 { background: $success 35%; color: $text; }
    HeatmapGrid > .heatmap-grid--band-4 {
        background: $success 70%; color: $text; text-style: bold;
    }
    HeatmapGrid > .heatmap-grid--empty { color: $text-muted; }
    HeatmapGrid > .heatmap-grid--axis { color: $text-muted; text-style: bold; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.heatmap: Heatmap | None = None
        self._objective = Objective()
        self._note = "No heatmap yet: press h once an optimization has finished."

    def show(self, heatmap: Heatmap, objective: Objective) -> None:
        """Show ``heatmap``. The screen is laid out again only when the table's height
        changes (``height: auto``): a relayout of the whole Research screen is what a
        resize costs, and a new layout of the same rows needs none."""
        rows = None if self.heatmap is None else len(self.heatmap.values)
        self.heatmap, self._objective = heatmap, objective
        self.refresh(layout=rows != len(heatmap.values))

    def say(self, note: str) -> None:
        """Show ``note`` instead of a table (loading, or why there is none)."""
        self.heatmap, self._note = None, note
        self.refresh(layout=True)

    def cell_texts(self) -> list[list[str]]:
        """The cells as shown, top row first (for tests and screen readers alike)."""
        if self.heatmap is None:
            return []
        show = value_text(self.heatmap.metric)
        best = self.heatmap.best(self._objective)
        return [
            [
                ("--" if v is None else show(v)) + (BEST if (row, column) == best else "")
                for column, v in enumerate(line)
            ]
            for row, line in enumerate(self.heatmap.values)
        ]

    def render(self) -> RenderableType:
        """Fixed-width lines of styled cells: a Rich ``Table`` measured every cell on every
        redraw, which made each resize of a large heatmap stall the event loop."""
        heatmap = self.heatmap
        if heatmap is None:
            return Text(self._note, style="italic")
        axis = self.get_component_rich_style("heatmap-grid--axis")
        empty = self.get_component_rich_style("heatmap-grid--empty")
        styles = [self.get_component_rich_style(f"heatmap-grid--band-{n}") for n in range(BANDS)]
        texts = self.cell_texts()
        corner = f"{heatmap.y} ↓ {heatmap.x} →"
        x_labels = [fmt.quantity(x) for x in heatmap.xs]
        y_labels = [fmt.quantity(y) for y in heatmap.ys]
        cell = max(len(t) for t in [*x_labels, *(t for line in texts for t in line)])
        first = max(len(corner), *(len(label) for label in y_labels))
        out = Text(no_wrap=True, overflow="crop")
        out.append(corner.rjust(first), axis)
        for label in x_labels:
            out.append(" " + label.rjust(cell), axis)
        for label, line, band_line in zip(
            y_labels, texts, bands(heatmap, self._objective), strict=True
        ):
            out.append("\n" + label.rjust(first), axis)
            for text, band in zip(line, band_line, strict=True):
                out.append(" ")
                out.append(text.rjust(cell), empty if band is None else styles[band])
        return out
