"""``POST /api/v1/backtests``: one strategy on one dataset, answered at once with the
figures of ``quarterdeck backtest --json``.

Synchronous, so small: at most ``MAX_BARS`` bars (a larger dataset is 422, naming
it), run in a worker thread so the engine's loop never waits for it. Viewing needs
no role, and neither does a backtest (it changes nothing), as in the console.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from console.api.caller import current_principal
from console.api.context import ApiContext, context_of
from console.api.problems import invalid
from console.api.responses import JsonText
from console.api.routes.inputs import DatasetSpec, ParamValues, StrategyId, dataset_spec
from console.commands.research import backtest_document
from core import bounds
from core.jobs.datasets import CATALOGUED, dataset_bars
from core.market.catalog import Catalog
from core.research.backtest import BacktestConfig
from core.research.runner import run_backtest
from core.research.strategies import get_strategy

router = APIRouter(prefix="/backtests", tags=["backtests"],
                   dependencies=[Depends(current_principal)])  # fmt: skip
Context = Annotated[ApiContext, Depends(context_of)]
#: The most bars a synchronous backtest runs on: more is a job's work.
MAX_BARS = 100_000


class BacktestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    strategy: StrategyId
    dataset: DatasetSpec
    params: ParamValues = {}
    cash: float = bounds.CASH.field(100_000.0)
    commission: float = bounds.COMMISSION.field(0.0, description="Fraction of notional per fill.")
    fixed_fee: float = bounds.FEE.field(0.0, description="Per fill.")
    slippage_bps: float = bounds.SLIPPAGE_BPS.field(0.0)
    fill: Literal["next_open", "close"] = "next_open"
    units: Literal["whole", "fractional"] = "whole"
    size: float = bounds.FRACTION.field(1.0, description="Fraction of equity per entry.")
    stop_loss: float | None = bounds.STOP_LOSS.field(None)
    take_profit: float | None = bounds.TAKE_PROFIT.field(None)
    close_at_end: bool = False
    direction: Literal["long", "short", "both"] | None = Field(
        None, description="Sides to trade (default: the strategy's own)."
    )
    seed: int = bounds.SEED.field(0, description="Seed of a `sim:` dataset's bars.")
    bars: int = Field(5_000, ge=bounds.SIM_BARS.low, le=MAX_BARS,
                      description="Bars of a `sim:` dataset.")  # fmt: skip

    def config(self) -> BacktestConfig:
        return BacktestConfig(
            cash=self.cash, commission=self.commission, fixed_fee=self.fixed_fee,
            slippage_bps=self.slippage_bps, fill=self.fill, units=self.units, size=self.size,
            stop_loss=self.stop_loss, take_profit=self.take_profit,
            close_at_end=self.close_at_end, direction=self.direction,
        )  # fmt: skip


class BacktestDocument(BaseModel):
    """The fields of `quarterdeck backtest --json`."""

    strategy: str
    strategy_version: str = Field(description="The version of the code that produced this.")
    strategy_source: str
    params: dict[str, int | float] = Field(description="Every parameter the run used.")
    metrics: dict[str, Any] = Field(description="Figures; null where a figure has no value.")
    trades: list[dict[str, Any]]
    equity_final: float
    bankrupt: bool
    bankrupt_bar: int | None
    bankrupt_time: str | None


def _run(body: BacktestBody, spec: str, catalog: Catalog) -> dict[str, Any]:
    strategy = get_strategy(body.strategy)
    if spec.startswith(CATALOGUED):
        rows = catalog.get(spec.removeprefix(CATALOGUED)).rows
        if rows > MAX_BARS:
            raise invalid("body.dataset", f"{body.dataset} has {rows:,} bars, more than a "
                                     f"synchronous backtest runs ({MAX_BARS:,})")  # fmt: skip
    bars = dataset_bars(spec, body.seed, body.bars, catalog)
    return backtest_document(strategy, run_backtest(strategy, bars, body.params, body.config()))


@router.post("", summary="Backtest a strategy on a dataset, synchronously (small runs)",
             response_model=BacktestDocument)  # fmt: skip
async def backtest(context: Context, body: BacktestBody) -> JsonText:
    try:
        get_strategy(body.strategy).resolve(body.params)
    except ValueError as exc:
        raise invalid("body.params", str(exc)) from None
    catalog = context.deck.catalog
    spec = await dataset_spec(catalog, body.dataset)
    return JsonText(await asyncio.to_thread(_run, body, spec, catalog))
