"""Parameter sweeps over a strategy, run off the event loop with progress and cancellation."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from core.market.history import Bars, periods_per_year
from core.research.backtest import BacktestConfig, BacktestSummary, summarize
from core.research.strategies import ParameterError, Params, Strategy


class Cancelled(Exception):
    """The caller asked the sweep to stop."""


@dataclass(frozen=True, slots=True)
class Evaluation:
    params: Params
    summary: BacktestSummary


@dataclass(frozen=True, slots=True)
class SweepResult:
    best: Evaluation | None
    evaluations: int
    seconds: float
    objective: str


ProgressCallback = Callable[[int, int], None]


def grid_combinations(
    strategy: Strategy, grid: Mapping[str, Sequence[int | float]]
) -> list[Params]:
    """Every combination of ``grid`` values (other parameters at their defaults)
    that passes the strategy's range checks and constraints."""
    names = list(grid)
    combos: list[Params] = []
    for values in itertools.product(*(grid[n] for n in names)):
        try:
            combos.append(strategy.resolve(dict(zip(names, values, strict=True))))
        except ParameterError:
            continue
    return combos


def sweep(
    strategy: Strategy,
    bars: Bars,
    combos: Sequence[Params],
    *,
    objective: str = "sharpe",
    config: BacktestConfig | None = None,
    min_trades: int = 1,
    progress: ProgressCallback | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    chunk: int = 64,
) -> SweepResult:
    """Backtest every combination and keep the one that maximises ``objective``.

    Calls ``progress(done, total)`` after each chunk and raises ``Cancelled``
    at the first chunk boundary after ``should_stop()`` turns true.
    """
    config = config or BacktestConfig()
    started = time.perf_counter()
    per_year = periods_per_year(bars["ts"])
    best: Evaluation | None = None
    best_score = -np.inf
    for start in range(0, len(combos), chunk):
        if should_stop():
            raise Cancelled
        for params in combos[start : start + chunk]:
            signals = strategy.signals(bars, params)
            summary = summarize(bars, signals, config, per_year)
            score = summary.metric(objective)
            if summary.trades >= min_trades and score > best_score:
                best, best_score = Evaluation(params, summary), score
        if progress is not None:
            progress(min(start + chunk, len(combos)), len(combos))
    return SweepResult(best, len(combos), time.perf_counter() - started, objective)
