"""The optimize job: a parameter search of one strategy over one dataset, checkpointed
segment by segment so a restart carries on where it stopped."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from core import bounds
from core.events import JobState
from core.jobs.context import JobContext
from core.jobs.kinds import JobKind, Params, check_numbers, parse_request
from core.jobs.records import checkpoints, get_job
from core.research.backtest import BacktestConfig
from core.research.optimizer import Evaluation, Objective, Range, optimize
from core.research.space import check_space, checked_search
from core.research.strategies import ParameterError, get_strategy
from core.store import JobRow, Store

#: The numeric fields of an optimize (and walk-forward) request, and what they may be.
NUMBERS = {
    "trials": bounds.POSITIVE_COUNT, "min_trades": bounds.COUNT, "commission": bounds.COMMISSION,
    "seed": bounds.SEED, "bars": bounds.SIM_BARS,
}  # fmt: skip


@dataclass(frozen=True)
class OptimizeRequest:
    """``dataset`` is a CSV/Parquet file, ``catalog:ID`` or ``sim:SYMBOL`` (simulated
    hourly bars of ``bars`` length from ``seed``); ``grid`` maps a parameter to (start,
    stop, step)."""

    KIND: ClassVar[str] = "optimize"
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
        check_numbers(self, self.KIND, NUMBERS)
        try:
            check_space(get_strategy(self.strategy), self.space())
        except ParameterError as exc:  # names the parameter and its range
            raise ValueError(f"grid: {exc}") from None
        if self.method not in ("grid", "random", "tpe"):
            raise ValueError(f"method: {self.method!r} is not grid, random or tpe")
        Objective(self.objective)
        BacktestConfig(commission=self.commission)

    def space(self) -> dict[str, Range]:
        """``grid`` as ranges; a ``ValueError`` names a bad one."""
        if not isinstance(self.grid, dict):
            raise ValueError(f"grid: expected {{NAME: [START, STOP, STEP]}}, got {self.grid!r}")
        space = {}
        for name, ends in self.grid.items():
            if not isinstance(ends, list | tuple) or len(ends) not in (2, 3):
                raise ValueError(f"grid: {name}: expected [START, STOP, STEP], got {ends!r}")
            try:
                space[name] = Range(*ends)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"grid: {name}: {exc}") from None
        return space

    def runs(self) -> int:
        """Searches the job makes: one (a walk-forward makes one per window)."""
        return 1

    def check_size(self, limit: int) -> None:
        """A ``ValueError`` if the search would evaluate more than ``limit`` combinations."""
        checked_search(get_strategy(self.strategy), self.space(), self.method, self.trials,
                       limit, self.runs())  # fmt: skip

    @property
    def title(self) -> str:
        return f"{self.strategy} {self.dataset}"

    def as_params(self) -> dict[str, Any]:
        return asdict(self)


#: Evaluations per saved checkpoint row: encoding or reading one holds the interpreter
#: (json's C code does not let other threads in) for a few milliseconds, not the
#: 150 ms a segment of a million-combination sweep would.
CHECKPOINT_ROWS = 2_048


def run_optimize(request: OptimizeRequest, context: JobContext) -> dict[str, Any]:
    """Run the search in the calling thread; returns the best parameters and metrics."""
    strategy = get_strategy(request.strategy)
    bars = context.bars(request.dataset, request.seed, request.bars)
    context.progress(0, 1)
    space = request.space()
    resume = evaluations_from_checkpoints(context.resume)

    def save(segment: list[Evaluation]) -> None:
        for start in range(0, len(segment), CHECKPOINT_ROWS):
            piece = segment[start : start + CHECKPOINT_ROWS]
            context.checkpoint({
                "params": [e.params for e in piece], "metrics": [e.metrics for e in piece],
            })  # fmt: skip

    result = optimize(
        strategy, bars, space, method=request.method,  # type: ignore[arg-type]
        trials=request.trials, objective=Objective(request.objective),
        config=BacktestConfig(commission=request.commission), min_trades=request.min_trades,
        seed=request.seed, progress=context.progress, should_stop=context.should_stop,
        resume=resume, on_segment=save, executor=context.executor,
    )  # fmt: skip
    code = {"strategy": strategy.id, "strategy_version": strategy.version}
    if result.best is None:
        return {"summary": "no combination traded", "evaluations": len(result.evaluations),
                **code}  # fmt: skip
    best = result.best
    shown = " ".join(f"{k}={v}" for k, v in best.params.items())
    return {
        "summary": f"best {shown} {request.objective}={best.metrics[request.objective]:.2f}",
        "best_params": best.params,
        "best_metrics": best.metrics,
        "evaluations": len(result.evaluations),
        "resumed_evaluations": len(resume),
        **code,
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
    grid = values.get("grid", {})
    if isinstance(grid, dict):  # anything else is refused by the request, naming it
        values["grid"] = {k: tuple(v) if isinstance(v, list) else v for k, v in grid.items()}
    return values


def parse_optimize(params: Params) -> OptimizeRequest:
    return parse_request(OptimizeRequest, "optimize", with_grid_tuples(params))


OPTIMIZE = JobKind(
    "optimize", parse_optimize, run_optimize, lambda r: r.title, OptimizeRequest.check_size
)
