"""A snapshot of an account in its journal, so that a restart need not replay every fill.

Every ``SNAPSHOT_EVERY`` fills, and at a clean stop, the engine journals the
whole of its trading state (the account, each book and strategy ledger, the
working orders, the next ids, the risk state, the stopped strategies and a
flatten the kill switch still owes) in the same commit as its mark. Recovery
starts from the newest snapshot and replays only what followed it, so an
account of any age comes back in about the same time. The entries before a
snapshot stay in the journal: they are the account's history.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from core.events import StrategyChanged
from core.trading.orders import STATUSES, Order, request_from
from core.trading.portfolio import Portfolio, Position
from core.trading.risk import RiskEvent, RiskState

#: Fills between two snapshots: recovery replays at most about this many.
SNAPSHOT_EVERY = 5_000


@dataclass(frozen=True)
class Snapshot:
    """The engine's trading state at one commit (see the module's docstring)."""

    ts: float
    portfolio: Portfolio
    working: tuple[Order, ...]
    orders: int  # accepted orders so far, of any status
    next_order_id: int
    next_fill_id: int
    risk_state: RiskState
    stopped: tuple[StrategyChanged, ...]  # the stopped strategies: who stopped each, and why
    flatten: frozenset[str]
    halt: RiskEvent | None
    books: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict)
    ledgers: dict[str, Portfolio] = field(default_factory=dict)


def encode_snapshot(snapshot: Snapshot) -> dict[str, Any]:
    return {
        "ts": snapshot.ts,
        "portfolio": encode_portfolio(snapshot.portfolio),
        "working": [encode_order(order) for order in snapshot.working],
        "orders": snapshot.orders,
        "next_order_id": snapshot.next_order_id,
        "next_fill_id": snapshot.next_fill_id,
        "risk_state": snapshot.risk_state.value,
        "stopped": [asdict(change) for change in snapshot.stopped],
        "flatten": sorted(snapshot.flatten),
        "halt": None if snapshot.halt is None else asdict(snapshot.halt),
        "books": [[strategy, symbol, units, cash]
                  for (strategy, symbol), (units, cash) in snapshot.books.items()],
        "ledgers": {name: encode_portfolio(p) for name, p in snapshot.ledgers.items()},
    }  # fmt: skip


def decode_snapshot(payload: dict[str, Any]) -> Snapshot:
    halt = payload["halt"]
    return Snapshot(
        ts=payload["ts"],
        portfolio=decode_portfolio(payload["portfolio"]),
        working=tuple(decode_order(order) for order in payload["working"]),
        orders=payload["orders"],
        next_order_id=payload["next_order_id"],
        next_fill_id=payload["next_fill_id"],
        risk_state=RiskState(payload["risk_state"]),
        stopped=tuple(StrategyChanged(**change) for change in payload["stopped"]),
        flatten=frozenset(payload["flatten"]),
        halt=None if halt is None else RiskEvent(
            **{**halt, "previous": RiskState(halt["previous"]), "state": RiskState(halt["state"])}
        ),
        books={(strategy, symbol): (units, cash)
               for strategy, symbol, units, cash in payload["books"]},
        ledgers={name: decode_portfolio(p) for name, p in payload["ledgers"].items()},
    )  # fmt: skip


def encode_portfolio(portfolio: Portfolio) -> dict[str, Any]:
    return {
        "starting_cash": portfolio.starting_cash, "cash": portfolio.cash,
        "realized_pnl": portfolio.realized_pnl, "commissions": portfolio.commissions,
        "slippage": portfolio.slippage,
        "fills": portfolio.fills, "peak_equity": portfolio.peak_equity, "ts": portfolio.ts,
        "positions": {symbol: [p.quantity, p.avg_price, p.realized_pnl, p.last_price]
                      for symbol, p in portfolio.positions.items()},
    }  # fmt: skip


def decode_portfolio(payload: dict[str, Any]) -> Portfolio:
    portfolio = Portfolio(payload["starting_cash"])
    portfolio.cash, portfolio.realized_pnl = payload["cash"], payload["realized_pnl"]
    portfolio.commissions, portfolio.fills = payload["commissions"], payload["fills"]
    portfolio.slippage = payload.get("slippage", 0.0)
    portfolio.peak_equity, portfolio.ts = payload["peak_equity"], payload["ts"]
    portfolio.positions = {symbol: Position(*fields)
                           for symbol, fields in payload["positions"].items()}  # fmt: skip
    return portfolio


def encode_order(order: Order) -> dict[str, Any]:
    return asdict(order)


def decode_order(payload: dict[str, Any]) -> Order:
    return Order(
        payload["order_id"], request_from(payload["request"]), payload["ts"],
        STATUSES[payload["status"]], payload["filled_quantity"], payload["average_price"],
        payload["triggered"], payload["reason"], list(payload["fill_ids"]),
    )  # fmt: skip
