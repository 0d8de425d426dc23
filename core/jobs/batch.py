"""The batch job: strategies x datasets, each pair backtested or briefly searched."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from core.jobs.manager import JobContext
from core.market.history import Bars, simulated_bars
from core.market.loader import load_bars
from core.research.backtest import BacktestConfig
from core.research.batch import run_batch
from core.research.optimizer import Objective
from core.research.strategies import get_strategy

SIMULATED = "sim:"


@dataclass(frozen=True)
class BatchRequest:
    """``datasets`` are data files, or ``sim:SYMBOL`` for 5,000 simulated hourly bars."""

    strategies: tuple[str, ...]
    datasets: tuple[str, ...]
    trials: int = 1
    objective: str = "sharpe"
    commission: float = 0.0005
    seed: int = 0

    @property
    def title(self) -> str:
        return f"batch {len(self.strategies)} strategies x {len(self.datasets)} datasets"

    def as_params(self) -> dict[str, Any]:
        return asdict(self)


def dataset_bars(spec: str, seed: int = 0) -> Bars:
    """Bars for a dataset spec: a CSV/Parquet path (``DataFileError`` names any
    problem) or ``sim:SYMBOL``."""
    if spec.startswith(SIMULATED):
        return simulated_bars(spec[len(SIMULATED) :], seed, 5_000, 3_600.0, 60.0)
    return load_bars(spec)


def run_batch_job(request: BatchRequest, context: JobContext) -> dict[str, Any]:
    strategies = [get_strategy(s) for s in request.strategies]
    datasets = {spec: dataset_bars(spec, request.seed) for spec in request.datasets}
    context.progress(0, len(strategies) * len(datasets))
    rows = run_batch(
        strategies, datasets, BacktestConfig(commission=request.commission),
        trials=request.trials, objective=Objective(request.objective), seed=request.seed,
        progress=context.progress, should_stop=context.should_stop,
    )  # fmt: skip
    best = max(rows, key=lambda r: Objective(request.objective).score(r.metrics))
    return {
        "summary": f"best {best.strategy} on {best.dataset} "
        f"{request.objective}={best.metrics[request.objective]:.2f}",
        "rows": [asdict(r) for r in rows],
    }
