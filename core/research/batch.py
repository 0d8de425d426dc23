"""Batch research: many strategies over many datasets in one run.

For every (strategy, dataset) pair the batch backtests the strategy's
defaults, or, with ``trials``, evaluates that many parameter sets drawn from
the strategy's declared ranges (the defaults always among them) and keeps the
best by the objective. Evaluations go through the executor's sweeps, so a pair
with many trials uses every core, and on a Dask cluster the pairs run at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from core.market.history import Bars
from core.research.backtest import BacktestConfig
from core.research.executors import LOCAL, SweepExecutor
from core.research.metrics import as_dict
from core.research.optimizer import Objective
from core.research.strategies import ParameterError, Params, Strategy
from core.research.sweep import Cancelled


@dataclass(frozen=True, slots=True)
class BatchRow:
    strategy: str
    dataset: str
    params: Params
    metrics: dict[str, float]
    evaluations: int


def sample_params(strategy: Strategy, count: int, seed: int) -> list[Params]:
    """The defaults plus up to ``count - 1`` distinct valid parameter sets drawn
    uniformly from each parameter's min..max on its step grid."""
    rng = np.random.default_rng(seed)
    chosen = [strategy.defaults()]
    seen = {tuple(chosen[0].values())}
    attempts = 0
    while len(chosen) < count and attempts < 50 * count:
        attempts += 1
        draw = {}
        for p in strategy.params:
            steps = int(np.floor((p.max - p.min) / p.step + 1e-9))
            draw[p.name] = p.min + p.step * int(rng.integers(0, steps + 1))
        try:
            params = strategy.resolve({k: round(v, 10) for k, v in draw.items()})
        except ParameterError:
            continue
        key = tuple(params.values())
        if key not in seen:
            seen.add(key)
            chosen.append(params)
    return chosen


def run_batch(
    strategies: Sequence[Strategy],
    datasets: Mapping[str, Bars],
    config: BacktestConfig | None = None,
    *,
    trials: int = 1,
    objective: Objective | None = None,
    min_trades: int = 1,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    resume: Sequence[BatchRow] = (),
    on_row: Callable[[BatchRow], None] | None = None,
    executor: SweepExecutor = LOCAL,
) -> list[BatchRow]:
    """One row per (strategy, dataset): the best of ``trials`` parameter sets (with
    at least ``min_trades`` closed trades when any qualifies).

    Each row goes to ``on_row`` as it is made (a job checkpoints it); given back
    as ``resume``, rows already made are not made again."""
    config = config or BacktestConfig()
    objective = objective or Objective()
    pairs = [(s, name) for s in strategies for name in datasets]
    if [(r.strategy, r.dataset) for r in resume] != [(s.id, n) for s, n in pairs[: len(resume)]]:
        raise ValueError("the saved rows do not match this batch's strategies and datasets")
    rows: list[BatchRow] = list(resume)
    if should_stop():
        raise Cancelled
    todo = pairs[len(resume) :]
    tasks = [(strategy, datasets[name], sample_params(strategy, trials, seed))
             for strategy, name in todo]  # fmt: skip
    tables = executor.sweep_each(tasks, config, should_stop=should_stop)
    for done, ((strategy, name), (_, _, combos), table) in enumerate(
        zip(todo, tasks, tables, strict=True), start=len(resume) + 1
    ):
        evaluated = [as_dict(row) for row in table]
        qualified = [i for i, m in enumerate(evaluated) if m["trades"] >= min_trades] or list(
            range(len(evaluated))
        )
        best = max(qualified, key=lambda i: objective.score(evaluated[i]))
        rows.append(BatchRow(strategy.id, name, combos[best], evaluated[best], len(combos)))
        if on_row is not None:
            on_row(rows[-1])
        if progress is not None:
            progress(done, len(pairs))
    return rows
