"""The journal on a real SQLite file: what is committed survives, and recovery rebuilds it."""

from __future__ import annotations

import pytest

from core.events import Side, Tick
from core.store import Store
from core.trading.execution import Execution
from core.trading.instruments import Instrument
from core.trading.journal import Cursor, Journal, recover
from core.trading.orders import OrderRequest, OrderType
from core.trading.paper_broker import PaperBroker
from core.trading.portfolio import Portfolio
from core.trading.risk import RiskGovernor, RiskLimits, RiskState


def execution_with(journal: Journal, limits: RiskLimits | None = None) -> Execution:
    return Execution(
        PaperBroker(),
        RiskGovernor(limits or RiskLimits(), 10_000.0), Portfolio(10_000.0),
        {"X": Instrument("X"), "Y": Instrument("Y")}, journal.record,
    )  # fmt: skip


def session(execution: Execution, journal: Journal) -> None:
    """A little trading: fills on two symbols, a resting limit, a cancel, a risk event."""
    execution.on_tick(Tick("X", 1.0, 100.0, 1.0))
    execution.on_tick(Tick("Y", 1.0, 50.0, 1.0))
    execution.submit(OrderRequest("a", "X", Side.BUY, 10.0), 1.5)
    execution.submit(OrderRequest("b", "Y", Side.SELL, 4.0), 1.5)
    execution.submit(OrderRequest("a", "X", Side.BUY, 5.0, OrderType.LIMIT, 90.0), 1.5)
    cancelled = execution.submit(OrderRequest("a", "X", Side.BUY, 1.0, OrderType.LIMIT, 80.0), 1.6)
    execution.on_tick(Tick("X", 2.0, 101.0, 1.0))
    execution.on_tick(Tick("Y", 2.0, 49.0, 1.0))
    execution.cancel(cancelled.order_id, "changed my mind", 2.5)
    execution.submit(OrderRequest("a", "X", Side.SELL, 4.0), 2.6)
    execution.on_tick(Tick("X", 3.0, 104.0, 1.0))
    journal.record(Cursor("X", 3.0, "tick"))
    journal.record(Cursor("Y", 2.0, "tick"))


def test_recovery_rebuilds_portfolio_orders_risk_state_and_cursor(store: Store) -> None:
    journal = Journal(store, "run-1")
    execution = execution_with(journal)
    session(execution, journal)
    execution.kill("erin", "drill", 4.0)
    assert journal.commit() > 10

    entries = Journal(store, "run-1").read()
    state = recover(entries, 10_000.0)
    original = execution.portfolio
    assert state.portfolio.cash == pytest.approx(original.cash, rel=1e-15)
    for symbol in ("X", "Y"):
        assert state.portfolio.position(symbol).quantity == original.position(symbol).quantity
        assert state.portfolio.position(symbol).avg_price == original.position(symbol).avg_price
    assert state.portfolio.realized_pnl == pytest.approx(original.realized_pnl)
    assert state.risk_state is RiskState.HALTED
    assert state.working == []  # the kill switch cancelled the resting limit
    assert state.next_order_id == 6 and state.next_fill_id == 4
    assert state.cursors == {"X": Cursor("X", 3.0, "tick"), "Y": Cursor("Y", 2.0, "tick")}
    assert Journal(store, "another-run").read() == []


def test_working_orders_are_recovered_with_their_requests(store: Store) -> None:
    journal = Journal(store, "run-2")
    execution = execution_with(journal)
    session(execution, journal)
    journal.commit()
    state = recover(Journal(store, "run-2").read(), 10_000.0)
    [resting] = state.working
    assert resting.order_id == 3 and resting.request.limit_price == 90.0
    assert resting.request.type is OrderType.LIMIT and resting.remaining == 5.0


def test_nothing_uncommitted_is_read_back(store: Store) -> None:
    journal = Journal(store, "run-3")
    execution = execution_with(journal)
    execution.on_tick(Tick("X", 1.0, 100.0, 1.0))
    execution.submit(OrderRequest("a", "X", Side.BUY, 1.0), 1.0)
    assert journal.pending == 1 and Journal(store, "run-3").read() == []
    journal.commit()
    assert len(Journal(store, "run-3").read()) == 1 and journal.pending == 0
