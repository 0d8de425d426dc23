"""The report's charts as PNG bytes, drawn with matplotlib's Agg renderer.

Figures are built with the object API (``Figure`` and ``FigureCanvasAgg``),
never ``pyplot``: pyplot keeps global state and is not safe in the worker
threads reports are rendered in; a ``Figure`` of one's own is. Long series
are thinned to an envelope (each bucket's first, lowest and highest point),
so a million-bar curve draws as fast as a short one and keeps its extremes.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

DPI = 150
#: Above this many points a line is drawn through its envelope.
MAX_POINTS = 4_000
EQUITY_COLOUR = "#1f5f99"
DRAWDOWN_COLOUR = "#b03a2e"


def dates(ts: np.ndarray) -> np.ndarray:
    """Epoch seconds as numpy datetimes, which matplotlib puts on a date axis."""
    return np.asarray(ts, dtype=np.float64).astype(np.int64).astype("datetime64[s]")


def envelope(values: np.ndarray, buckets: int = MAX_POINTS // 3) -> np.ndarray:
    """Indices to draw: all of them for a short series, else each bucket's first,
    lowest and highest point, in order (so peaks and troughs survive)."""
    n = values.shape[0]
    if n <= MAX_POINTS:
        return np.arange(n)
    edges = np.linspace(0, n, buckets + 1).astype(np.int64)
    keep = [np.array([0, n - 1])]
    for lo, hi in itertools.pairwise(edges):
        chunk = values[lo:hi]
        keep.append(np.array([lo, lo + int(np.argmin(chunk)), lo + int(np.argmax(chunk))]))
    return np.unique(np.concatenate(keep))


def drawdown(equity: np.ndarray, start_cash: float) -> np.ndarray:
    """Fall from the running peak (the starting cash counts as the first peak), <= 0."""
    peak = np.maximum.accumulate(np.concatenate(([start_cash], equity)))[1:]
    return equity / peak - 1.0


def _figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _style(axes) -> None:
    axes.grid(True, color="#dddddd", linewidth=0.6)
    axes.tick_params(labelsize=8)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)


def equity_chart(ts: np.ndarray, equity: np.ndarray, start_cash: float) -> bytes:
    figure = _figure(7.0, 2.9)
    axes = figure.add_subplot()
    keep = envelope(equity)
    axes.plot(dates(ts)[keep], equity[keep], color=EQUITY_COLOUR, linewidth=1.0)
    axes.axhline(start_cash, color="#888888", linewidth=0.7, linestyle="--")
    axes.yaxis.set_major_formatter(lambda value, _: f"{value:,.0f}")
    _style(axes)
    axes.set_ylabel("equity", fontsize=8)
    return _png(figure)


def drawdown_chart(ts: np.ndarray, equity: np.ndarray, start_cash: float) -> bytes:
    figure = _figure(7.0, 2.2)
    axes = figure.add_subplot()
    fall = drawdown(equity, start_cash) * 100.0
    keep = envelope(fall)
    axes.fill_between(
        dates(ts)[keep], fall[keep], 0.0, color=DRAWDOWN_COLOUR, alpha=0.35, linewidth=0.0
    )
    axes.plot(dates(ts)[keep], fall[keep], color=DRAWDOWN_COLOUR, linewidth=0.8)
    axes.yaxis.set_major_formatter(lambda value, _: f"{value:.0f}%")
    _style(axes)
    axes.set_ylabel("from peak", fontsize=8)
    return _png(figure)


def heatmap_chart(
    x_name: str,
    x_values: Sequence[float],
    y_name: str,
    y_values: Sequence[float],
    grid: np.ndarray,
    metric: str,
    maximise: bool,
    best: tuple[int, int] | None,
    labels: Sequence[str] | None = None,
) -> bytes:
    """``grid[row, column]`` is the score at ``y_values[row]``, ``x_values[column]``
    (NaN where nothing was evaluated); better is greener either way round."""
    figure = _figure(7.0, 4.6)
    axes = figure.add_subplot()
    masked = np.ma.masked_invalid(grid)
    image = axes.imshow(
        masked,
        cmap="RdYlGn" if maximise else "RdYlGn_r",
        aspect="auto",
        origin="lower",
        interpolation="nearest",
    )
    colourbar = figure.colorbar(image, ax=axes)
    colourbar.set_label(metric, fontsize=8)
    colourbar.ax.tick_params(labelsize=7)
    axes.set_xticks(range(len(x_values)), labels or [_tick(v) for v in x_values])
    axes.set_yticks(range(len(y_values)), [_tick(v) for v in y_values])
    _thin_ticks(axes, len(x_values), len(y_values))
    axes.set_xlabel(x_name, fontsize=9)
    axes.set_ylabel(y_name, fontsize=9)
    axes.tick_params(labelsize=7)
    rows, columns = grid.shape
    if rows * columns <= 150:
        for r in range(rows):
            for c in range(columns):
                if np.isfinite(grid[r, c]):
                    shade = image.norm(grid[r, c])  # the colour map is dark at both ends
                    ink = "white" if shade < 0.15 or shade > 0.85 else "black"
                    axes.text(
                        c, r, f"{grid[r, c]:.2f}", ha="center", va="center", fontsize=6, color=ink
                    )
                elif np.isinf(grid[r, c]):  # a profit factor without a losing trade
                    axes.text(c, r, "∞", ha="center", va="center", fontsize=7, color="black")
    if best is not None:
        r, c = best
        axes.add_patch(_box(c, r))
    return _png(figure)


def parameter_chart(
    name: str,
    values: Sequence[float],
    scores: Sequence[float],
    metric: str,
    best: int | None,
) -> bytes:
    """The objective along the one parameter the search varied."""
    figure = _figure(7.0, 3.2)
    axes = figure.add_subplot()
    axes.plot(values, scores, color=EQUITY_COLOUR, marker="o", markersize=3, linewidth=1.0)
    if best is not None:
        axes.plot(
            [values[best]],
            [scores[best]],
            marker="s",
            markersize=8,
            fillstyle="none",
            color="black",
        )
    _style(axes)
    axes.set_xlabel(name, fontsize=9)
    axes.set_ylabel(metric, fontsize=9)
    return _png(figure)


def _tick(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _thin_ticks(axes, columns: int, rows: int, most: int = 20) -> None:
    """At most ``most`` labels per axis, evenly spaced."""
    for count, ticks in ((columns, axes.get_xticklabels()), (rows, axes.get_yticklabels())):
        stride = max(1, -(-count // most))
        for i, label in enumerate(ticks):
            label.set_visible(i % stride == 0)


def _box(column: int, row: int):
    from matplotlib.patches import Rectangle

    return Rectangle((column - 0.5, row - 0.5), 1, 1, fill=False, edgecolor="black", linewidth=1.6)
