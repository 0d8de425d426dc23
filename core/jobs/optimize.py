"""The optimize job: a grid sweep of one strategy over one bar history."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from core.jobs.manager import JobContext
from core.market.history import simulated_bars
from core.research.backtest import BacktestConfig
from core.research.optimizer import Objective, Range, optimize
from core.research.strategies import get_strategy


@dataclass(frozen=True)
class OptimizeRequest:
    """A sweep over simulated history (file data arrives with the research issue)."""

    strategy: str
    symbol: str
    seed: int
    bars: int
    bar_seconds: float
    step_seconds: float
    grid: dict[str, tuple[float, float, float]] = field(default_factory=dict)  # start, stop, step
    objective: str = "sharpe"
    commission: float = 0.0005

    @property
    def title(self) -> str:
        return f"{self.strategy} {self.symbol}"

    def as_params(self) -> dict[str, Any]:
        return asdict(self)


def run_optimize(request: OptimizeRequest, context: JobContext) -> dict[str, Any]:
    """Run the search in the calling thread; returns the best parameters and metrics."""
    strategy = get_strategy(request.strategy)
    bars = simulated_bars(
        request.symbol, request.seed, request.bars, request.bar_seconds, request.step_seconds
    )
    context.progress(0, 1)
    space = {name: Range(*bounds) for name, bounds in request.grid.items()}
    result = optimize(
        strategy,
        bars,
        space,
        objective=Objective(request.objective),
        config=BacktestConfig(commission=request.commission),
        progress=context.progress,
        should_stop=context.should_stop,
    )
    if result.best is None:
        return {"summary": "no combination traded", "evaluations": len(result.evaluations)}
    best = result.best
    shown = " ".join(f"{k}={v}" for k, v in best.params.items())
    return {
        "summary": f"best {shown} {request.objective}={best.metrics[request.objective]:.2f}",
        "best_params": best.params,
        "best_metrics": best.metrics,
        "evaluations": len(result.evaluations),
        "seconds": result.seconds,
    }
