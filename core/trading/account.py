"""The paper account as the journal holds it: rebuilt at every start, and shown to tools.

``load_account`` replays the journal of every run of one account (through
``core.trading.journal.recover``); the engine takes the result up at start-up,
and ``account_document`` turns it into the JSON that ``quarterdeck account``
prints (a contract other tools rely on: extend it, never rename a field).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select

from core.events import Fill, Side
from core.store import FillRow, Store
from core.store.tables import AccountRow
from core.trading.journal import Recovered, account_entries, recover
from core.trading.portfolio import Portfolio


@dataclass(frozen=True)
class LoadedAccount:
    """An account and the state its journal implies, with how long rebuilding it took."""

    account: AccountRow
    state: Recovered
    seconds: float

    def summary(self) -> dict[str, Any]:
        """What a recovery rebuilt, for the audit trail and the log."""
        state = self.state
        return {
            "account_id": self.account.id,
            "fills": state.portfolio.fills,
            "replayed_fills": len(state.fills),  # after the snapshot it started from, if any
            "from_snapshot": state.snapshot is not None,
            "orders": state.orders,
            "working_orders": len(state.working),
            "risk_state": state.risk_state.value,
            "stopped": sorted(state.stopped),
            "seconds": round(self.seconds, 3),
        }


def load_account(store: Store, account: AccountRow) -> LoadedAccount:
    """Rebuild ``account`` from its journal (blocking: call it off the event loop)."""
    started = time.perf_counter()
    state = recover(account_entries(store, account.id), account.starting_cash)
    return LoadedAccount(account, state, time.perf_counter() - started)


def account_fills(
    store: Store, account_id: str, strategy: str | None = None, before: int | None = None
) -> list[FillRow]:
    """The account's rows of the ``fills`` table (of one strategy; with fill ids below
    ``before``) in time order (fill ids break ties)."""
    query = (
        select(FillRow)
        .where(FillRow.account_id == account_id)
        .order_by(col(FillRow.ts), col(FillRow.fill_id))
    )
    if strategy is not None:
        query = query.where(FillRow.strategy == strategy)
    if before is not None:
        query = query.where(FillRow.fill_id < before)
    with store.session() as session:
        return list(session.exec(query))


def read_account(store: Store, account: AccountRow) -> tuple[LoadedAccount, list[FillRow]]:
    """The account rebuilt from its journal, and the fills that journal holds: one moment's
    figures, which add up (blocking).

    The engine writes a fill's journal entry and its ``fills`` row in one transaction, but
    two reads are two moments: fills committed between them would sit in the fills and
    not in the cash. Fill ids rise in the order fills are booked, so the fills read after
    the journal are cut at the journal's next fill id."""
    loaded = load_account(store, account)
    return loaded, account_fills(store, account.id, before=loaded.state.next_fill_id)


def fill_page(
    store: Store, account_id: str, *, limit: int, before: int | None = None,
    strategy: str | None = None, symbol: str | None = None,
) -> list[FillRow]:  # fmt: skip
    """The account's newest ``limit`` fills (of one strategy, of one symbol) whose fill id
    is below ``before``, newest first: a page, and the next one from its last id."""
    query = select(FillRow).where(FillRow.account_id == account_id)
    if before is not None:
        query = query.where(FillRow.fill_id < before)
    if strategy is not None:
        query = query.where(FillRow.strategy == strategy)
    if symbol is not None:
        query = query.where(FillRow.symbol == symbol)
    query = query.order_by(col(FillRow.fill_id).desc()).limit(limit)
    with store.session() as session:
        return list(session.exec(query))


def account_document(
    loaded: LoadedAccount, fills: list[FillRow], live: set[str] | None = None
) -> dict[str, Any]:
    """The account as ``quarterdeck account --json`` prints it: its summary and every
    fill."""
    return {**account_summary(loaded, fills, live), "fills": [fill_fields(f) for f in fills]}


def account_summary(
    loaded: LoadedAccount, fills: list[FillRow], live: set[str] | None = None
) -> dict[str, Any]:
    """The account's figures, strategies, positions and market, from its journal and its
    fills (the API's ``/portfolio``, which pages the fills apart); ``live`` names the
    strategies configured to trade (the others' fills are history, or the kill switch's)."""
    account, state = loaded.account, loaded.state
    portfolio = state.portfolio
    prices = {c.symbol: (c.price, c.ts) for c in state.cursors.values() if c.price is not None}
    figures = strategy_figures(fills, prices)
    return {
        "account_id": account.id,
        "name": account.name,
        "created_at": account.created_at,
        "starting_cash": account.starting_cash,
        "cash": portfolio.cash,
        "equity": portfolio.equity,
        "realized_pnl": portfolio.realized_pnl,
        "unrealized_pnl": portfolio.unrealized_pnl,
        "commissions": portfolio.commissions,
        "slippage": portfolio.slippage,
        "fees": portfolio.commissions + portfolio.slippage,
        "total_pnl": total_pnl(portfolio),
        "risk_state": state.risk_state.value,
        "stopped_strategies": sorted(state.stopped),
        "strategies": _strategies(figures, state, live or set()),
        "working_orders": len(state.working),
        "positions": _positions(figures),
        "market": [
            {"symbol": c.symbol, "ts": c.ts, "event": c.event, "price": c.price}
            for c in sorted(state.cursors.values(), key=lambda c: c.symbol)
        ],
    }  # fmt: skip


def fill_fields(f: FillRow) -> dict[str, Any]:
    """One fill as the account document (and the API's ``/fills``) shows it."""
    return {"id": f.fill_id, "ts": f.ts, "symbol": f.symbol, "side": f.side,
            "quantity": f.quantity, "price": f.price, "commission": f.commission,
            "strategy": f.strategy, "strategy_version": f.strategy_version,
            "run_id": f.run_id, "order_id": f.order_id}  # fmt: skip


def total_pnl(portfolio: Portfolio) -> float:
    """Realized and unrealized PnL (before costs) less the fees: equity less the start."""
    fees = portfolio.commissions + portfolio.slippage
    return portfolio.realized_pnl + portfolio.unrealized_pnl - fees


@dataclass
class StrategyFigures:
    """One strategy's figures from its own fills: its ledger (PnL, fees), the round trips
    it closed, the notional it traded and the code version its newest fill came from."""

    ledger: Portfolio
    trades: int = 0
    turnover: float = 0.0
    version: str | None = None


def strategy_figures(
    fills: list[FillRow], prices: dict[str, tuple[float, float]]
) -> dict[str, StrategyFigures]:
    """Each strategy's figures (they add up to the account's), marked at ``prices``
    (symbol: price and its time)."""
    figures: dict[str, StrategyFigures] = {}
    for row in fills:
        one = figures.setdefault(row.strategy, StrategyFigures(Portfolio(0.0)))
        held = one.ledger.position(row.symbol).quantity
        one.ledger.apply_fill(fill_of(row), track_peak=False)
        now = one.ledger.position(row.symbol).quantity
        one.trades += held != 0 and (now == 0 or (now > 0) != (held > 0))
        one.turnover += abs(row.quantity * row.price)
        one.version = row.strategy_version
    for symbol, (price, ts) in prices.items():
        for one in figures.values():
            one.ledger.mark(symbol, price, ts)
    return figures


def _strategies(
    figures: dict[str, StrategyFigures], state: Recovered, live: set[str]
) -> list[dict[str, Any]]:
    names = sorted(set(figures) | state.stopped | live)
    empty = StrategyFigures(Portfolio(0.0))
    return [_strategy(name, figures.get(name, empty), state, name in live) for name in names]


def _strategy(name: str, one: StrategyFigures, state: Recovered, live: bool) -> dict[str, Any]:
    stopped, ledger = state.stopped_by.get(name), one.ledger
    running = "running" if live else "not live"
    return {
        "id": name, "state": "stopped" if name in state.stopped else running,
        "stopped_by": stopped.who if stopped else None,
        "stopped_why": stopped.why if stopped else None,
        "realized_pnl": ledger.realized_pnl, "unrealized_pnl": ledger.unrealized_pnl,
        "fees": ledger.commissions + ledger.slippage, "total_pnl": total_pnl(ledger),
        "trades": one.trades, "turnover": one.turnover, "fills": ledger.fills,
        "strategy_version": one.version,
    }  # fmt: skip


def fill_of(row: FillRow) -> Fill:
    return Fill(row.fill_id, row.order_id, row.strategy, row.symbol, Side(row.side),
                row.quantity, row.price, row.commission, row.ts, row.slippage,
                row.strategy_version)  # fmt: skip


def _positions(figures: dict[str, StrategyFigures]) -> list[dict[str, Any]]:
    """Open positions by strategy and symbol (from each strategy's ledger): they add up to
    the account's per symbol."""
    held = sorted(
        (symbol, strategy, p)
        for strategy, one in figures.items()
        for symbol, p in one.ledger.positions.items()
        if p.quantity
    )
    return [{"symbol": symbol, "quantity": p.quantity, "average_price": p.avg_price,
             "strategy": strategy} for symbol, strategy, p in held]  # fmt: skip
