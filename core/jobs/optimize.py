"""The optimize job: a parameter search of one strategy over one dataset, checkpointed
segment by segment so a restart carries on where it stopped."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from core.events import JobState
from core.jobs.context import JobContext
from core.jobs.datasets import dataset_bars
from core.jobs.kinds import JobKind, Params, parse_request
from core.jobs.records import checkpoints, get_job
from core.research.backtest import BacktestConfig
from core.research.optimizer import Evaluation, Objective, Range, optimize
from core.research.strategies import get_strategy
from core.store import JobRow, Store


@dataclass(frozen=True)
class OptimizeRequest:
    """``dataset`` is a CSV/Parquet file or ``sim:SYMBOL`` (simulated hourly bars of
    ``bars`` length from ``seed``); ``grid`` maps a parameter to (start, stop, step)."""

    strategy: str
    dataset: str
    grid: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    method: str = "grid"
    trials: int | None = None
    objective: str = "sharpe"
    min_trades: int = 1
    commission: float = 0.0005
    seed: int = 0
    bars: int = 5_000

    def __post_init__(self) -> None:
        strategy = get_strategy(self.strategy)  # UnknownStrategyError names it
        known = {p.name for p in strategy.params}
        for name, bounds in self.grid.items():
            if name not in known:
                raise ValueError(f"grid: {self.strategy} has no parameter {name!r}")
            Range(*bounds)
        if self.method not in ("grid", "random", "tpe"):
            raise ValueError(f"method: {self.method!r} is not grid, random or tpe")
        Objective(self.objective)
        BacktestConfig(commission=self.commission)

    @property
    def title(self) -> str:
        return f"{self.strategy} {self.dataset}"

    def as_params(self) -> dict[str, Any]:
        return asdict(self)


def run_optimize(request: OptimizeRequest, context: JobContext) -> dict[str, Any]:
    """Run the search in the calling thread; returns the best parameters and metrics."""
    strategy = get_strategy(request.strategy)
    bars = dataset_bars(request.dataset, request.seed, request.bars)
    context.progress(0, 1)
    space = {name: Range(*bounds) for name, bounds in request.grid.items()}
    resume = evaluations_from_checkpoints(context.resume)

    def save(segment: list[Evaluation]) -> None:
        context.checkpoint({
            "params": [e.params for e in segment], "metrics": [e.metrics for e in segment],
        })  # fmt: skip

    result = optimize(
        strategy, bars, space, method=request.method,  # type: ignore[arg-type]
        trials=request.trials, objective=Objective(request.objective),
        config=BacktestConfig(commission=request.commission), min_trades=request.min_trades,
        seed=request.seed, progress=context.progress, should_stop=context.should_stop,
        resume=resume, on_segment=save, executor=context.executor,
    )  # fmt: skip
    if result.best is None:
        return {"summary": "no combination traded", "evaluations": len(result.evaluations)}
    best = result.best
    shown = " ".join(f"{k}={v}" for k, v in best.params.items())
    return {
        "summary": f"best {shown} {request.objective}={best.metrics[request.objective]:.2f}",
        "best_params": best.params,
        "best_metrics": best.metrics,
        "evaluations": len(result.evaluations),
        "resumed_evaluations": len(resume),
    }


def evaluations_from_checkpoints(payloads: Sequence[Any]) -> list[Evaluation]:
    """The evaluations an optimize job saved, segment by segment (see ``save`` above)."""
    return [
        Evaluation(params, metrics)
        for saved in payloads
        for params, metrics in zip(saved["params"], saved["metrics"], strict=True)
    ]


def _optimization(store: Store, job_id: int) -> JobRow:
    row = get_job(store, job_id)
    if row is None:
        raise ValueError(f"job {job_id} does not exist")
    if row.kind != "optimize":
        raise ValueError(f"job {job_id} is a {row.kind} job, not an optimization")
    return row


def saved_search(store: Store, job_id: int) -> tuple[OptimizeRequest, list[Evaluation]]:
    """An optimize job's request and every evaluation it saved. Blocks: call it from a
    worker thread. A ``ValueError`` says why the job has none to give."""
    row = _optimization(store, job_id)
    request = parse_optimize(json.loads(row.params_json))
    return request, evaluations_from_checkpoints(checkpoints(store, job_id))


def best_of(store: Store, job_id: int) -> tuple[OptimizeRequest, dict[str, float]]:
    """A finished optimize job's request and the best parameters it found. Blocks: call
    it from a worker thread. A ``ValueError`` says why the job has none to give."""
    row = _optimization(store, job_id)
    if row.state != JobState.DONE.value:
        raise ValueError(f"job {job_id} has not finished (it is {row.state})")
    best = json.loads(row.result_json or "{}").get("best_params")
    if not best:
        raise ValueError(f"job {job_id} found no parameters that traded")
    return parse_optimize(json.loads(row.params_json)), best


def with_grid_tuples(params: Params) -> dict[str, Any]:
    """Stored parameters with the grid's bounds as tuples again (JSON made them lists)."""
    values = dict(params)
    values["grid"] = {k: tuple(v) for k, v in values.get("grid", {}).items()}
    return values


def parse_optimize(params: Params) -> OptimizeRequest:
    return parse_request(OptimizeRequest, "optimize", with_grid_tuples(params))


OPTIMIZE = JobKind("optimize", parse_optimize, run_optimize, lambda r: r.title)
