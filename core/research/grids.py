"""Search grids a person did not have to type, and a search's results laid on two axes.

``default_grid`` spreads a few values of every parameter over its whole
declared range, few enough that the grid stays small however many parameters
a rule has. ``heatmap`` reduces any search's evaluations to a two-parameter
table: where other parameters varied too, each cell keeps the best objective
over them (the usual optimisation heatmap, as backtesting.py's
``plot_heatmaps`` draws it), so the best cell is the search's best result.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.research.optimizer import Evaluation, Objective
from core.research.strategies import Strategy

#: A default grid has at most this many combinations before constraints prune it.
GRID_BUDGET = 1_000
#: And at most this many values per parameter.
MAX_POINTS = 6

Bounds = tuple[float, float, float]


def default_grid(strategy: Strategy, budget: int = GRID_BUDGET) -> dict[str, Bounds]:
    """(start, stop, step) per parameter: up to ``MAX_POINTS`` evenly spaced values from
    its minimum to its maximum, steps rounded up to the parameter's own step."""
    count = len(strategy.params)
    if count == 0:
        return {}
    points = max(2, min(MAX_POINTS, math.floor(budget ** (1 / count) + 1e-9)))
    grid: dict[str, Bounds] = {}
    for p in strategy.params:
        span = float(p.max) - float(p.min)
        step = max(float(p.step), math.ceil(span / (points - 1) / p.step - 1e-9) * p.step)
        grid[p.name] = (float(p.min), float(p.max), round(step, 10))
    return grid


@dataclass(frozen=True)
class Heatmap:
    """``values[row][column]``: the objective at ``y = ys[row]``, ``x = xs[column]``, or
    None where no evaluation landed (a constraint pruned it)."""

    x: str
    y: str
    metric: str
    xs: tuple[float, ...]
    ys: tuple[float, ...]
    values: tuple[tuple[float | None, ...], ...]

    def best(self, objective: Objective) -> tuple[int, int] | None:
        """(row, column) of the best cell."""
        cells = [
            (objective.score({self.metric: value}), row, column)
            for row, line in enumerate(self.values)
            for column, value in enumerate(line)
            if value is not None and not math.isnan(value)
        ]
        if not cells:
            return None
        _, row, column = max(cells)
        return row, column


def varied_params(evaluations: Sequence[Evaluation]) -> list[str]:
    """The parameters that took more than one value, in the order the first evaluation
    lists them."""
    if not evaluations:
        return []
    return [
        name for name in evaluations[0].params if len({e.params.get(name) for e in evaluations}) > 1
    ]


def heatmap(
    evaluations: Sequence[Evaluation],
    x: str,
    y: str,
    objective: Objective,
    min_trades: int = 0,
    *,
    max_columns: int | None = None,
    max_rows: int | None = None,
) -> Heatmap:
    """``objective``'s metric over ``x`` and ``y``, the best over any other parameter.
    As in the search, a combination with fewer than ``min_trades`` closed trades does
    not count, so the best cell is the search's winner.

    With ``max_columns`` (``max_rows``), neighbouring values of ``x`` (``y``) share a
    cell once there are more of them, each cell the best over its range, labelled by
    its range's first value: a screen shows what fits it, whatever the grid's size (a
    200 x 400 grid drawn cell for cell had stalled the console for seconds)."""
    count = len(evaluations)
    xv = np.fromiter((e.params[x] for e in evaluations), float, count)
    yv = np.fromiter((e.params[y] for e in evaluations), float, count)
    value = np.fromiter((e.metrics[objective.metric] for e in evaluations), float, count)
    trades = np.fromiter((e.metrics["trades"] for e in evaluations), float, count)
    columns, column_of = _binned(xv, max_columns)
    rows, row_of = _binned(yv, max_rows)
    counted = ~np.isnan(value) & (trades >= min_trades)
    score = value if objective.maximise else -value
    best = np.full((len(rows), len(columns)), -np.inf)
    np.maximum.at(best, (row_of[counted], column_of[counted]), score[counted])
    landed = np.zeros(best.shape, dtype=bool)
    landed[row_of[counted], column_of[counted]] = True
    cells = best if objective.maximise else -best
    values = tuple(
        tuple(float(v) if hit else None for v, hit in zip(line, hits, strict=True))
        for line, hits in zip(cells.tolist(), landed.tolist(), strict=True)
    )
    return Heatmap(x, y, objective.metric, columns, rows, values)


def _binned(values: np.ndarray, most: int | None) -> tuple[tuple[float, ...], np.ndarray]:
    """The cells' labels along one axis and each value's cell: at most ``most`` cells of
    neighbouring distinct values, as even as they divide, each labelled by its first
    value (a cell per distinct value without ``most``)."""
    distinct = np.unique(values)
    index = np.searchsorted(distinct, values)
    if most is None or len(distinct) <= most:
        return tuple(distinct.tolist()), index
    group = np.arange(len(distinct)) * most // len(distinct)
    firsts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    return tuple(distinct[firsts].tolist()), np.searchsorted(firsts, index, side="right") - 1
