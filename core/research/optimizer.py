"""Parameter optimisation: grid, random and TPE searches, and walk-forward validation.

Searches run in the calling thread (a worker, never the event loop), report
``progress(done, total)`` and stop at the next evaluation once
``should_stop()`` turns true, raising ``Cancelled``.
"""

from __future__ import annotations

import itertools
import math
import numbers
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from core.market.history import Bars
from core.outcomes import is_bankrupt
from core.research.backtest import BacktestConfig
from core.research.executors import LOCAL, SweepExecutor
from core.research.metrics import METRIC_NAMES, as_dict
from core.research.runner import run_backtest
from core.research.strategies import ParameterError, Params, Strategy
from core.research.sweep import Cancelled, ProgressCallback

Method = Literal["grid", "random", "tpe"]

#: Metrics where smaller is better; every other metric is maximised.
MINIMISED = frozenset({"max_drawdown", "volatility"})


@dataclass(frozen=True, slots=True)
class Range:
    """``start`` to ``stop`` inclusive by ``step``: the ``NAME=START:STOP[:STEP]`` of the CLI."""

    start: float
    stop: float
    step: float = 1

    def __post_init__(self) -> None:
        for end in ("start", "stop", "step"):
            value = getattr(self, end)
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise ValueError(f"{end} must be a number, got {value!r}")
            if not math.isfinite(value):
                raise ValueError(f"{end} must be a finite number, got {value}")
        if self.step <= 0:
            raise ValueError(f"step must be positive, got {self.step}")
        if self.stop < self.start:
            raise ValueError(f"stop {self.stop} is below start {self.start}")

    @property
    def count(self) -> int:
        """How many values ``values()`` lists, known without listing them."""
        return math.floor((self.stop - self.start) / self.step + 1e-9) + 1

    def values(self) -> list[float]:
        return [self.start + self.step * i for i in range(self.count)]


Space = Mapping[str, Range]


@dataclass(frozen=True, slots=True)
class Objective:
    metric: str = "sharpe"

    def __post_init__(self) -> None:
        if self.metric not in METRIC_NAMES:
            raise ValueError(f"unknown metric {self.metric!r} (known: {', '.join(METRIC_NAMES)})")

    @property
    def maximise(self) -> bool:
        return self.metric not in MINIMISED

    def score(self, metrics: Mapping[str, float]) -> float:
        """Higher is better, whichever way the metric points; a bankrupt run scores
        lowest of all (-inf), whatever its metric says."""
        if "equity_final" in metrics and is_bankrupt(metrics):
            return -math.inf
        value = metrics[self.metric]
        return value if self.maximise else -value


@dataclass(frozen=True, slots=True)
class Evaluation:
    params: Params
    metrics: dict[str, float]


@dataclass(frozen=True)
class OptimizationResult:
    best: Evaluation | None
    evaluations: list[Evaluation]
    seconds: float
    objective: Objective
    method: Method


@dataclass
class _Search:
    strategy: Strategy
    bars: Bars
    config: BacktestConfig
    objective: Objective
    min_trades: int
    start: int = 0
    evaluations: list[Evaluation] = field(default_factory=list)

    def evaluate(self, params: Params) -> Evaluation:
        result = run_backtest(self.strategy, self.bars, params, self.config, start=self.start)
        evaluation = Evaluation(result.params, result.metrics)
        self.evaluations.append(evaluation)
        return evaluation

    def qualifies(self, evaluation: Evaluation) -> bool:
        return evaluation.metrics["trades"] >= self.min_trades

    def best(self) -> Evaluation | None:
        candidates = [e for e in self.evaluations if self.qualifies(e)]
        return max(candidates, key=lambda e: self.objective.score(e.metrics), default=None)


def grid_combinations(strategy: Strategy, space: Space) -> list[Params]:
    """Every combination of the ranges' values (other parameters at their defaults)
    that passes the strategy's type, range and constraint checks."""
    names = list(space)
    combos: list[Params] = []
    for values in itertools.product(*(space[n].values() for n in names)):
        try:
            combos.append(strategy.resolve(dict(zip(names, values, strict=True))))
        except ParameterError:
            continue
    if not combos:
        rules = " and ".join(text for text, _ in strategy.constraints) or "its parameter ranges"
        shown = ", ".join(f"{n} {space[n].start:g}..{space[n].stop:g}" for n in names)
        raise ParameterError(
            f"{strategy.id}: no combination of the grid ({shown}) satisfies {rules}"
        )
    return combos


def optimize(
    strategy: Strategy,
    bars: Bars,
    space: Space,
    *,
    method: Method = "grid",
    trials: int | None = None,
    objective: Objective | None = None,
    config: BacktestConfig | None = None,
    min_trades: int = 1,
    seed: int = 0,
    start: int = 0,
    progress: ProgressCallback | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    resume: Sequence[Evaluation] = (),
    on_segment: Callable[[list[Evaluation]], None] | None = None,
    executor: SweepExecutor = LOCAL,
) -> OptimizationResult:
    """Search ``space`` for the parameters that score best on ``objective``.

    ``grid`` tries every valid combination; ``random`` tries ``trials`` of them
    drawn without replacement; ``tpe`` asks Optuna's TPE sampler for
    ``trials`` points inside the ranges. Combinations with fewer than
    ``min_trades`` closed trades never win.

    Grid and random searches run in segments and hand each segment's
    evaluations to ``on_segment`` (a job saves them as a checkpoint); given
    those back as ``resume``, a search skips what they cover and ends with
    exactly the result of an uninterrupted run. A TPE search always starts
    over: its sampler's state is not saved, and with its seed it ends the same.

    Grid and random sweeps run on ``executor`` (a Dask cluster, say), to the same
    evaluations as in this process; TPE asks for one point at a time and runs here.
    """
    started = time.perf_counter()
    search = _Search(
        strategy, bars, config or BacktestConfig(), objective or Objective(), min_trades, start
    )
    if method == "tpe":
        _tpe(search, space, trials or 100, seed, progress, should_stop)
    else:
        combos = grid_combinations(strategy, space)
        if method == "random":
            count = min(trials or len(combos), len(combos))
            chosen = np.random.default_rng(seed).choice(len(combos), size=count, replace=False)
            combos = [combos[i] for i in sorted(chosen)]
        elif method != "grid":
            raise ValueError(f"unknown method {method!r}")
        _check_resume(combos, resume)
        search.evaluations.extend(resume)
        for segment in _segments(len(resume), len(combos)):
            offset = segment.start

            def report(done: int, _total: int, offset: int = offset) -> None:
                if progress is not None:
                    progress(offset + done, len(combos))

            table = executor.sweep(
                strategy, bars, combos[segment.start : segment.stop], search.config,
                start=start, progress=report, should_stop=should_stop,
            )  # fmt: skip
            new = [
                Evaluation(params, as_dict(row))
                for params, row in zip(combos[segment.start : segment.stop], table, strict=True)
            ]
            search.evaluations.extend(new)
            if on_segment is not None:
                on_segment(new)
    return OptimizationResult(
        search.best(), search.evaluations, time.perf_counter() - started, search.objective, method
    )


#: Evaluations per checkpointed segment: at least this many, and at most 50 segments.
SEGMENT = 1_024


def _segments(done: int, total: int) -> list[range]:
    size = max(SEGMENT, -(-total // 50))
    return [range(i, min(i + size, total)) for i in range(done, total, size)]


def _check_resume(combos: Sequence[Params], resume: Sequence[Evaluation]) -> None:
    """A checkpoint must be a prefix of this search's plan, or it belongs to another."""
    if len(resume) > len(combos) or any(
        evaluation.params != combos[i] for i, evaluation in enumerate(resume)
    ):
        raise ValueError("the saved evaluations do not match this search's combinations")


def _tpe(
    search: _Search,
    space: Space,
    trials: int,
    seed: int,
    progress: ProgressCallback | None,
    should_stop: Callable[[], bool],
) -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    known = {p.name: p for p in search.strategy.params}
    for done in range(1, trials + 1):
        if should_stop():
            raise Cancelled
        trial = study.ask()
        params: Params = {}
        for name, bounds in space.items():
            if name in known and known[name].type is int:
                params[name] = trial.suggest_int(
                    name, int(bounds.start), int(bounds.stop), step=int(bounds.step)
                )
            else:
                params[name] = trial.suggest_float(
                    name, bounds.start, bounds.stop, step=bounds.step
                )
        try:
            evaluation = search.evaluate(params)
        except ParameterError:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        else:
            score = search.objective.score(evaluation.metrics)
            # +inf (a profit factor without losses) is the best there is; -inf (bankrupt)
            # and NaN rank with the unqualified
            qualified = search.qualifies(evaluation) and score > -math.inf
            study.tell(trial, score if qualified else -1e300)
        if progress is not None:
            progress(done, trials)
