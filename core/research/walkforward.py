"""Walk-forward validation: optimise in-sample, then trade the winner out-of-sample.

The history is cut into ``windows + 1`` equal segments. Window k (1..K)
trades segment k out-of-sample; its in-sample period is segment k-1
(``rolling``) or segments 0..k-1 (``anchored``). The out-of-sample backtest
computes its indicators over the in-sample bars too, but trades only from
the first out-of-sample bar, starting with fresh cash.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from core.market.history import Bars
from core.research.backtest import BacktestConfig
from core.research.executors import LOCAL, SweepExecutor
from core.research.optimizer import Method, Objective, ProgressCallback, Space, optimize
from core.research.runner import run_backtest
from core.research.strategies import Params, Strategy

Mode = Literal["rolling", "anchored"]


@dataclass(frozen=True, slots=True)
class WindowResult:
    index: int
    in_sample: tuple[float, float]  # first and last bar time
    out_of_sample: tuple[float, float]
    params: Params | None  # None when no combination qualified in-sample
    in_sample_score: float | None
    out_of_sample_score: float | None


@dataclass(frozen=True)
class WalkForwardResult:
    mode: Mode
    objective: Objective
    windows: list[WindowResult]

    @property
    def mean_in_sample(self) -> float | None:
        scores = [w.in_sample_score for w in self.windows if w.in_sample_score is not None]
        return sum(scores) / len(scores) if scores else None

    @property
    def mean_out_of_sample(self) -> float | None:
        scores = [w.out_of_sample_score for w in self.windows if w.out_of_sample_score is not None]
        return sum(scores) / len(scores) if scores else None

    @property
    def degradation(self) -> float | None:
        """Mean in-sample minus mean out-of-sample metric: how much of the optimised
        performance did not survive contact with unseen data."""
        ins, outs = self.mean_in_sample, self.mean_out_of_sample
        return None if ins is None or outs is None else ins - outs


def window_bounds(bars_count: int, windows: int, mode: Mode) -> list[tuple[int, int, int]]:
    """(in-sample start, out-of-sample start, out-of-sample end) bar indices per window."""
    if windows < 1:
        raise ValueError("walk-forward needs at least one window")
    if mode not in ("rolling", "anchored"):
        raise ValueError(f"unknown walk-forward mode {mode!r}")
    segment = bars_count // (windows + 1)
    if segment < 2:
        raise ValueError(f"{bars_count} bars are too few for {windows} windows")
    bounds = []
    for k in range(1, windows + 1):
        oos_start = k * segment
        oos_end = bars_count if k == windows else (k + 1) * segment
        is_start = 0 if mode == "anchored" else (k - 1) * segment
        bounds.append((is_start, oos_start, oos_end))
    return bounds


def walk_forward(
    strategy: Strategy,
    bars: Bars,
    space: Space,
    *,
    mode: Mode = "rolling",
    windows: int = 4,
    method: Method = "grid",
    trials: int | None = None,
    objective: Objective | None = None,
    config: BacktestConfig | None = None,
    min_trades: int = 1,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    resume: Sequence[WindowResult] = (),
    on_window: Callable[[WindowResult], None] | None = None,
    executor: SweepExecutor = LOCAL,
) -> WalkForwardResult:
    """Each window's result goes to ``on_window`` as it is made (a job checkpoints it);
    given back as ``resume``, those windows are not searched again."""
    objective = objective or Objective()
    results = list(resume)
    bounds = window_bounds(len(bars["close"]), windows, mode)
    if len(results) > len(bounds) or any(r.index != k for k, r in enumerate(results, start=1)):
        raise ValueError("the saved windows do not match this walk-forward's windows")
    for k, (is_start, oos_start, oos_end) in enumerate(bounds, start=1):
        if k <= len(resume):
            continue
        in_sample = {name: column[is_start:oos_start] for name, column in bars.items()}
        found = optimize(
            strategy, in_sample, space, method=method, trials=trials, objective=objective,
            config=config, min_trades=min_trades, seed=seed, should_stop=should_stop,
            executor=executor,
        )  # fmt: skip
        params = found.best.params if found.best else None
        oos_score = None
        if params is not None:
            history = {name: column[is_start:oos_end] for name, column in bars.items()}
            traded = run_backtest(strategy, history, params, config, start=oos_start - is_start)
            oos_score = traded.metrics[objective.metric]
        ts = bars["ts"]
        results.append(
            WindowResult(
                index=k,
                in_sample=(float(ts[is_start]), float(ts[oos_start - 1])),
                out_of_sample=(float(ts[oos_start]), float(ts[oos_end - 1])),
                params=params,
                in_sample_score=found.best.metrics[objective.metric] if found.best else None,
                out_of_sample_score=oos_score,
            )
        )
        if on_window is not None:
            on_window(results[-1])
        if progress is not None:
            progress(k, len(bounds))
    return WalkForwardResult(mode, objective, results)
