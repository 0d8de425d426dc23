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


#: Points a line is drawn through at most. A plot is a few hundred braille dots wide, and
#: plotext's cost grows with the points (a 5,000-bar equity curve took 25-80 ms to
#: build, on the event loop, at every resize): longer series keep each bucket's lowest
#: and highest values, so peaks and troughs stay where they were.
MAX_POINTS = 512


def envelope(values: np.ndarray, limit: int = MAX_POINTS) -> tuple[list[int], list[float]]:
    """Bar numbers and values to draw ``values`` with at most ``limit`` points: all of them
    when they fit, else each of ``limit // 2`` equal runs of bars as its lowest and its
    highest value, in bar order, with the first and last bars."""
    if values.size <= limit:
        return list(range(values.size)), values.tolist()
    starts = np.linspace(0, values.size, limit // 2, endpoint=False).astype(np.int64)
    lows = np.minimum.reduceat(values, starts)
    highs = np.maximum.reduceat(values, starts)
    bars: list[int] = [0]  # the first and last bars always: the line spans the axis
    points: list[float] = [float(values[0])]
    ends = [*starts[1:].tolist(), values.size]
    for start, end, low, high in zip(starts.tolist(), ends, lows.tolist(), highs.tolist(),
                                     strict=True):  # fmt: skip
        run = values[start:end]
        at_low, at_high = start + int(run.argmin()), start + int(run.argmax())
        for bar, value in sorted(((at_low, low), (at_high, high))):
            if not bars or bars[-1] != bar:
                bars.append(bar)
                points.append(value)
    if bars[-1] != values.size - 1:
        bars.append(values.size - 1)
        points.append(float(values[-1]))
    return bars, points


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
                bars, points = envelope(values)
                plt.plot(bars, points, color=self._colour(colour), marker="braille")
                ticks = sorted({round(t) for t in np.linspace(0, values.size - 1, 4)})
                plt.xticks(ticks, [f"{t:,}" for t in ticks])
                levels = np.linspace(float(values.min()), float(values.max()), count)
                plt.yticks(levels.tolist(), [label(v) for v in levels])
            widget.refresh()
