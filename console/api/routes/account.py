"""``/portfolio``, ``/orders``, ``/fills`` and ``/risk``: the account as the journal holds
it (the documents ``quarterdeck account --json`` prints) and the engine's risk state.

Every role may read; store reads run in a worker thread, off the Deck's loop.
"""

from __future__ import annotations

import asyncio
import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from console.api.caller import Caller
from console.api.context import ApiContext, context_of
from console.api.problems import Problem
from console.api.routes.account_models import Fills, Orders, Portfolio, Risk
from console.api.shared_read import SharedRead
from core import bounds
from core.deck import Deck
from core.events import RiskState
from core.store.tables import AccountRow
from core.trading.account import account_summary, fill_fields, fill_page, read_account
from core.trading.journal import recent_orders
from core.trading.orders import OrderRequest, OrderStatus
from core.trading.risk import LIMIT_NAMES

router = APIRouter(tags=["trading"])
Context = Annotated[ApiContext, Depends(context_of)]
MAX_PAGE = 1000
#: The largest id the store holds (SQLite's INTEGER): a larger one would not bind.
MAX_ROW_ID = int(bounds.ROW_ID.high or 0)
#: Order events read to find the recent orders (each order's newest one).
ORDER_SCAN = 5000
StrategyFilter = Annotated[str | None, Query(max_length=200, description="Only this strategy's.")]
SymbolFilter = Annotated[str | None, Query(max_length=50, description="Only this symbol's.")]


def account_of(deck: Deck) -> AccountRow:
    """The account the engine trades, or 503 while the Deck has not opened it."""
    if deck.account is None:
        raise Problem(503, "the engine has not opened its account yet; try again shortly",
                      headers={"retry-after": "1"})  # fmt: skip
    return deck.account.account


#: How old a portfolio document may be when it is answered again (``SharedRead``).
PORTFOLIO_FRESH_SECONDS = 1.0


class PortfolioRead(SharedRead[dict[str, Any]]):
    """The portfolio document every caller shares (``app.state.portfolio_read``)."""

    def __init__(self) -> None:
        super().__init__(PORTFOLIO_FRESH_SECONDS)


def portfolio_read_of(request: Request) -> PortfolioRead:
    shared: PortfolioRead = request.app.state.portfolio_read
    return shared


@router.get("/portfolio", response_model=Portfolio, summary="The account: cash, PnL, positions "
            f"(rebuilt from the journal at most every {PORTFOLIO_FRESH_SECONDS:g} s)")  # fmt: skip
async def portfolio(
    context: Context, caller: Caller, shared: Annotated[PortfolioRead, Depends(portfolio_read_of)]
) -> dict[str, Any]:
    deck = context.deck
    row = account_of(deck)
    live = set(deck.engine.specs_by_id)

    def read() -> dict[str, Any]:
        return account_summary(*read_account(deck.store, row), live)

    return await shared.get(read)


@router.get("/orders", response_model=Orders, summary="Working orders, and recent ones")
async def orders(
    context: Context, caller: Caller,
    strategy: StrategyFilter = None,
    symbol: SymbolFilter = None,
    status: Annotated[OrderStatus | None, Query(description="Only orders in this status.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Recent orders at most.")] = 100,
) -> dict[str, Any]:  # fmt: skip
    deck = context.deck
    row = account_of(deck)

    def wanted(request: OrderRequest, state: OrderStatus) -> bool:
        return ((strategy is None or request.strategy == strategy)
                and (symbol is None or request.symbol == symbol)
                and (status is None or state == status))  # fmt: skip

    working = [
        _order(o.order_id, o.request, o.status, o.filled_quantity, o.reason, o.ts)
        for o in deck.engine.broker.working()
        if wanted(o.request, o.status)
    ]
    events = await asyncio.to_thread(recent_orders, deck.store, row.id, ORDER_SCAN)
    recent = [_order(e.order_id, e.request, e.status, e.filled_quantity, e.reason, e.ts)
              for e in events if wanted(e.request, e.status)][:limit]  # fmt: skip
    return {"working": working, "recent": recent}


def _order(order_id: int, request: OrderRequest, status: OrderStatus, filled: float,
           reason: str, ts: float) -> dict[str, Any]:  # fmt: skip
    return {"id": order_id, "strategy": request.strategy, "symbol": request.symbol,
            "side": request.side.value, "quantity": request.quantity,
            "type": request.type.value, "limit_price": request.limit_price,
            "stop_price": request.stop_price, "tif": request.tif.value,
            "status": status.value, "filled_quantity": filled, "reason": reason,
            "ts": ts}  # fmt: skip


@router.get("/fills", response_model=Fills, summary="The account's fills, newest first, paged")
async def fills(
    context: Context, caller: Caller,
    before: Annotated[int | None, Query(ge=0, le=MAX_ROW_ID, description="Fills with ids "
                                        "below this (the previous page's next_before).")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Fills per page.")] = 100,
    strategy: StrategyFilter = None,
    symbol: SymbolFilter = None,
) -> dict[str, Any]:  # fmt: skip
    deck = context.deck
    row = account_of(deck)
    page = await asyncio.to_thread(fill_page, deck.store, row.id, limit=limit, before=before,
                                   strategy=strategy, symbol=symbol)  # fmt: skip
    return {"fills": [fill_fields(f) for f in page],
            "next_before": page[-1].fill_id if len(page) == limit else None}  # fmt: skip


@router.get("/risk", response_model=Risk, summary="Risk state, the halt, each limit's use")
async def risk(context: Context, caller: Caller) -> dict[str, Any]:
    return risk_document(context.deck)


def risk_document(deck: Deck) -> dict[str, Any]:
    """The risk governor's state, what holds a halt (who, when, why) and each limit with
    its use; a limit that is not set is null with ``unlimited``."""
    engine = deck.engine
    snapshot = engine.risk_snapshot()
    halt = engine.halt
    settings = {name: field for field, name in LIMIT_NAMES.items()}
    return {
        "mode": engine.mode,
        "state": snapshot.state.value,
        "halted": snapshot.state is RiskState.HALTED,
        "halt": None if halt is None else {"kind": halt.kind, "who": halt.who, "why": halt.why,
                                           "at": halt.at, "ts": halt.ts},
        "limits": [{"name": u.name, "setting": settings.get(u.name), "used": u.used,
                    "limit": None if u.limit == math.inf else u.limit,
                    "unlimited": u.limit == math.inf, "fraction": u.fraction,
                    "detail": u.detail} for u in snapshot.limits],
        "stopped_strategies": sorted(engine.stopped),
    }  # fmt: skip
