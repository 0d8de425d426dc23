"""The account's documents as the API answers them: the same fields as ``quarterdeck
account --json`` (``core.trading.account.account_document``), orders, fills and risk."""

from __future__ import annotations

from pydantic import BaseModel, Field


class StrategyFigures(BaseModel):
    id: str = Field(description="The strategy's id.")
    state: str = Field(description='"running", "stopped", or "not live" (history only).')
    stopped_by: str | None = Field(description="Who stopped it (while stopped).")
    stopped_why: str | None = Field(description="Why it was stopped (while stopped).")
    realized_pnl: float = Field(description="PnL of its closed positions, before costs.")
    unrealized_pnl: float = Field(description="PnL of its open positions at the last prices.")
    fees: float = Field(description="Its commissions and slippage.")
    total_pnl: float = Field(description="Realized and unrealized PnL less the fees.")
    trades: int = Field(description="Round trips it closed.")
    turnover: float = Field(description="Notional it traded.")
    fills: int = Field(description="Its fills.")
    strategy_version: str | None = Field(description="The code version of its newest fill.")


class Position(BaseModel):
    symbol: str
    quantity: float = Field(description="Signed: negative is short.")
    average_price: float = Field(description="Average entry price.")
    strategy: str = Field(description="The strategy holding it.")


class MarketCursor(BaseModel):
    symbol: str
    ts: float = Field(description="Market time (epoch seconds) of the last event handled.")
    event: str = Field(description='"bar" or "tick".')
    price: float | None = Field(description="Its price, the account's mark.")


class Portfolio(BaseModel):
    """The account as ``quarterdeck account --json`` prints it, less its ``fills``
    (``GET /api/v1/fills`` pages them)."""

    account_id: str
    name: str = Field(description="The account's name (QD_ACCOUNT).")
    created_at: float = Field(description="When it was opened (epoch seconds).")
    starting_cash: float
    cash: float
    equity: float = Field(description="Cash and positions at the last prices.")
    realized_pnl: float
    unrealized_pnl: float
    commissions: float
    slippage: float = Field(description="Money lost to slippage against the prices met.")
    fees: float = Field(description="Commissions and slippage.")
    total_pnl: float = Field(description="Equity less the starting cash.")
    risk_state: str = Field(description='"active", "reducing" or "halted".')
    stopped_strategies: list[str]
    strategies: list[StrategyFigures]
    working_orders: int = Field(description="Orders resting at the broker.")
    positions: list[Position]
    market: list[MarketCursor] = Field(description="Where each symbol's feed has reached.")


class Order(BaseModel):
    id: int = Field(description="The order id (unique in the account).")
    strategy: str
    symbol: str
    side: str = Field(description='"buy" or "sell".')
    quantity: float
    type: str = Field(description='"market", "limit", "stop" or "stop_limit".')
    limit_price: float | None
    stop_price: float | None
    tif: str = Field(description='Time in force: "gtc", "ioc" or "day".')
    status: str = Field(description='"accepted", "partially_filled", "filled", "cancelled", '
                        '"expired" or "rejected".')  # fmt: skip
    filled_quantity: float
    reason: str = Field(description="Why it was rejected, cancelled or expired.")
    ts: float = Field(description="Market time of its newest change (epoch seconds).")


class Orders(BaseModel):
    working: list[Order] = Field(description="Orders resting at the broker now, oldest first.")
    recent: list[Order] = Field(
        description="Recent orders of the account (every run), each as its newest event left "
        "it, newest first."
    )


class Fill(BaseModel):
    id: int = Field(description="The fill id (unique in the account).")
    ts: float = Field(description="Market time (epoch seconds).")
    symbol: str
    side: str
    quantity: float
    price: float
    commission: float
    strategy: str
    strategy_version: str = Field(description="The code version that traded.")
    run_id: str = Field(description="The process run that traded.")
    order_id: int


class Fills(BaseModel):
    fills: list[Fill] = Field(description="Newest first.")
    next_before: int | None = Field(
        description="Pass as ``before`` for the next (older) page; null on the last page."
    )


class Limit(BaseModel):
    name: str
    setting: str | None = Field(description="The limit's setting, QD_RISK_<SETTING> "
                                "(max_order_notional, daily_loss_limit...).")  # fmt: skip
    used: float = Field(description="How much of it is in use.")
    limit: float | None = Field(description="The limit; null when none is set.")
    unlimited: bool = Field(description="True when no limit is set (trading without one).")
    fraction: float = Field(description="Used of the limit, 0 to 1 (0 when unlimited).")
    detail: str = Field(description="Where: the symbol of the largest position, say.")


class Halt(BaseModel):
    kind: str = Field(description='"kill" (the kill switch) or "transition" (a limit).')
    who: str
    why: str
    at: float = Field(description="When, by the wall clock (epoch seconds).")
    ts: float = Field(description="When, in market time (epoch seconds).")


class Risk(BaseModel):
    mode: str = Field(description='How the engine executes: "paper" (simulated fills).')
    state: str = Field(description='"active", "reducing" or "halted".')
    halted: bool
    halt: Halt | None = Field(description="What holds trading halted; null when not halted.")
    limits: list[Limit]
    stopped_strategies: list[str]
