"""The backtest job: one strategy on one dataset with given parameters."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from core import bounds
from core.jobs.context import JobContext
from core.jobs.kinds import JobKind, check_numbers, parse_request
from core.research.backtest import BacktestConfig
from core.research.runner import run_backtest
from core.research.strategies import Direction, get_strategy


@dataclass(frozen=True)
class BacktestRequest:
    strategy: str
    dataset: str
    params: dict[str, float] = field(default_factory=dict)
    cash: float = 100_000.0
    commission: float = 0.0
    direction: str | None = None
    seed: int = 0
    bars: int = 5_000

    def __post_init__(self) -> None:
        check_numbers(self, "backtest", {"cash": bounds.CASH, "commission": bounds.COMMISSION,
                                         "seed": bounds.SEED, "bars": bounds.SIM_BARS})  # fmt: skip
        get_strategy(self.strategy).resolve(self.params)  # names a bad parameter
        if self.direction not in (None, *Direction):
            raise ValueError(f"direction: {self.direction!r} is not long, short or both")
        self.config()  # names a bad setting

    def config(self) -> BacktestConfig:
        direction = Direction(self.direction) if self.direction else None
        return BacktestConfig(cash=self.cash, commission=self.commission, direction=direction)

    @property
    def title(self) -> str:
        return f"{self.strategy} {self.dataset}"

    def as_params(self) -> dict[str, Any]:
        return asdict(self)


def run_backtest_job(request: BacktestRequest, context: JobContext) -> dict[str, Any]:
    strategy = get_strategy(request.strategy)
    context.progress(0, 1)
    bars = context.bars(request.dataset, request.seed, request.bars)
    context.check()
    result = run_backtest(strategy, bars, request.params, request.config())
    context.progress(1, 1)
    metrics = result.metrics
    return {
        "summary": f"total return {metrics['total_return']:.2%}, sharpe {metrics['sharpe']:.2f}, "
        f"{int(metrics['trades'])} trades",
        "strategy": strategy.id,
        "strategy_version": strategy.version,
        "params": result.params,
        "metrics": metrics,
        "trades": [trade.as_json() for trade in result.trades],
    }


BACKTEST = JobKind(
    "backtest", lambda params: parse_request(BacktestRequest, "backtest", params),
    run_backtest_job, lambda r: r.title,
)  # fmt: skip
