"""A backtest's equity curve with its drawdown underneath, drawn by plotext."""

from __future__ import annotations

import numpy as np
from textual.app import ComposeResult
from textual.color import Color
from textual.containers import Vertical
from textual_plotext import PlotextPlot

from console import formatting as fmt


def drawdown(equity: np.ndarray) -> np.ndarray:
    """How far below its running peak equity stands, as a fraction (0 or negative)."""
    if equity.size == 0:
        return equity
    return equity / np.maximum.accumulate(equity) - 1.0


class BacktestChart(Vertical):
    """Equity (two thirds of the height) over drawdown (one third), against bar number.

    The lines take the theme's ``$primary`` and ``$error`` and follow a theme
    change; the titles say which is which, so colour is not needed to read them.
    """

    DEFAULT_CSS = """
    BacktestChart { height: 16; }
    BacktestChart > #equity-plot { height: 2fr; }
    BacktestChart > #drawdown-plot { height: 1fr; }
    Screen.-short BacktestChart { height: 12; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._equity = np.empty(0)

    def compose(self) -> ComposeResult:
        yield PlotextPlot(id="equity-plot")
        yield PlotextPlot(id="drawdown-plot")

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _: self._draw())
        self._draw()

    def show(self, equity: np.ndarray) -> None:
        self._equity = np.asarray(equity, dtype=float)
        self._draw()

    def _colour(self, variable: str) -> tuple[int, int, int]:
        return Color.parse(self.app.theme_variables[variable]).rgb

    def _draw(self) -> None:
        equity = self._equity
        bars = list(range(equity.size))
        # The drawdown plot is a few rows high: two labels (its floor and 0%) never collide,
        # where a third would be dropped by plotext, and not always the same one.
        for plot_id, title, values, colour, label, count in (
            ("#equity-plot", "Equity", equity, "primary", lambda v: fmt.money(v, 0), 3),
            ("#drawdown-plot", "Drawdown", drawdown(equity), "error",
             lambda v: fmt.percent(v, 1), 2),
        ):  # fmt: skip
            widget = self.query_one(plot_id, PlotextPlot)
            plt = widget.plt
            plt.clear_data()
            plt.clear_figure()
            plt.title(title)
            if values.size:
                plt.plot(bars, values.tolist(), color=self._colour(colour), marker="braille")
                ticks = sorted({round(t) for t in np.linspace(0, values.size - 1, 4)})
                plt.xticks(ticks, [f"{t:,}" for t in ticks])
                levels = np.linspace(float(values.min()), float(values.max()), count)
                plt.yticks(levels.tolist(), [label(v) for v in levels])
            widget.refresh()
