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

from collections.abc import Callable

from rich.console import RenderableType
from rich.table import Table
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
    return lambda value: fmt.money(value, 2)


def bands(heatmap: Heatmap, objective: Objective) -> list[list[int | None]]:
    """Each cell's band, 0 (worst) to ``BANDS - 1`` (best), spread over the scores' range."""
    scores = [
        objective.score({heatmap.metric: v})
        for line in heatmap.values
        for v in line
        if v is not None
    ]
    low, high = (min(scores), max(scores)) if scores else (0.0, 0.0)
    span = high - low

    def band(value: float | None) -> int | None:
        if value is None:
            return None
        if span <= 0:
            return BANDS // 2
        share = (objective.score({heatmap.metric: value}) - low) / span
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
        self.heatmap, self._objective = heatmap, objective
        self.refresh(layout=True)

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
        heatmap = self.heatmap
        if heatmap is None:
            return Text(self._note, style="italic")
        axis = self.get_component_rich_style("heatmap-grid--axis")
        empty = self.get_component_rich_style("heatmap-grid--empty")
        styles = [self.get_component_rich_style(f"heatmap-grid--band-{n}") for n in range(BANDS)]
        table = Table(box=None, padding=(0, 1), show_edge=False, pad_edge=False,
                      collapse_padding=True, header_style=axis)  # fmt: skip
        table.add_column(Text(f"{heatmap.y} ↓ {heatmap.x} →"), style=axis, justify="right")
        for x in heatmap.xs:
            table.add_column(fmt.quantity(x), justify="right")
        for y, texts, line in zip(
            heatmap.ys, self.cell_texts(), bands(heatmap, self._objective), strict=True
        ):
            cells = [
                Text(text, style=empty if band is None else styles[band])
                for text, band in zip(texts, line, strict=True)
            ]
            table.add_row(fmt.quantity(y), *cells)
        return table
