"""The batch job: strategies x datasets, each pair backtested or briefly searched,
checkpointed pair by pair."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from core import bounds
from core.jobs.context import JobContext
from core.jobs.kinds import JobKind, check_numbers, parse_request
from core.research.backtest import BacktestConfig
from core.research.batch import BatchRow, run_batch
from core.research.optimizer import Objective
from core.research.space import check_size
from core.research.strategies import get_strategy


@dataclass(frozen=True)
class BatchRequest:
    """``datasets`` are data files, ``catalog:ID``, or ``sim:SYMBOL`` for 5,000 simulated
    hourly bars."""

    strategies: tuple[str, ...]
    datasets: tuple[str, ...]
    trials: int = 1
    objective: str = "sharpe"
    commission: float = 0.0005
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.strategies or not self.datasets:
            raise ValueError("batch: needs at least one strategy and one dataset")
        for strategy in self.strategies:
            get_strategy(strategy)
        numbers = {"trials": bounds.POSITIVE_COUNT, "commission": bounds.COMMISSION,
                   "seed": bounds.SEED}  # fmt: skip
        check_numbers(self, "batch", numbers)
        Objective(self.objective)

    def check_size(self, limit: int) -> None:
        """A ``ValueError`` if the batch would run more than ``limit`` backtests."""
        runs = self.trials * len(self.strategies) * len(self.datasets)
        check_size(runs, limit, "the batch")

    @property
    def title(self) -> str:
        return f"batch {len(self.strategies)} strategies x {len(self.datasets)} datasets"

    def as_params(self) -> dict[str, Any]:
        return asdict(self)


def run_batch_job(request: BatchRequest, context: JobContext) -> dict[str, Any]:
    strategies = [get_strategy(s) for s in request.strategies]
    datasets = {spec: context.bars(spec, request.seed) for spec in request.datasets}
    context.progress(0, len(strategies) * len(datasets))
    rows = run_batch(
        strategies, datasets, BacktestConfig(commission=request.commission),
        trials=request.trials, objective=Objective(request.objective), seed=request.seed,
        progress=context.progress, should_stop=context.should_stop,
        resume=[BatchRow(**saved) for saved in context.resume],
        on_row=lambda row: context.checkpoint(asdict(row)), executor=context.executor,
    )  # fmt: skip
    best = max(rows, key=lambda r: Objective(request.objective).score(r.metrics))
    return {
        "summary": f"best {best.strategy} on {best.dataset} "
        f"{request.objective}={best.metrics[request.objective]:.2f}",
        "rows": [asdict(r) for r in rows],
        "strategy_versions": {s.id: s.version for s in strategies},  # the code each ran
    }


BATCH = JobKind(
    "batch",
    lambda params: parse_request(BatchRequest, "batch", params, ("strategies", "datasets")),
    run_batch_job,
    lambda r: r.title,
    BatchRequest.check_size,
)
