"""The order path end to end: validation, risk, broker, portfolio, and what is recorded."""

from __future__ import annotations

import pytest

from core.events import Fill, Side, Tick
from core.trading.execution import Execution
from core.trading.instruments import Instrument
from core.trading.orders import OrderEvent, OrderRequest, OrderStatus, OrderType, TimeInForce
from core.trading.paper_broker import PaperBroker
from core.trading.portfolio import Portfolio
from core.trading.risk import RiskEvent, RiskGovernor, RiskLimits, RiskState

DAY = 86_400.0


def make(limits: RiskLimits | None = None) -> tuple[Execution, list]:
    recorded: list = []
    execution = Execution(
        PaperBroker(), RiskGovernor(limits or RiskLimits(), 10_000.0), Portfolio(10_000.0),
        {"X": Instrument("X", tick_size=0.01, lot_size=1.0)}, recorded.append,
    )  # fmt: skip
    return execution, recorded


def kinds(recorded: list) -> list[str]:
    out = []
    for event in recorded:
        if isinstance(event, OrderEvent):
            out.append(f"order {event.order_id} {event.kind}")
        elif isinstance(event, Fill):
            out.append(f"fill {event.order_id} {event.quantity:g}@{event.price:g}")
        else:
            out.append(f"risk {event.kind} {event.state.value}")
    return out


def tick(price: float, ts: float = 1.0) -> Tick:
    return Tick("X", ts, price, 1.0)


def request(side: Side = Side.BUY, quantity: float = 10.0, **extra) -> OrderRequest:
    return OrderRequest("s", "X", side, quantity, **extra)


def test_an_order_is_recorded_accepted_then_filled_and_reaches_the_portfolio() -> None:
    execution, recorded = make()
    execution.on_tick(tick(100.0))
    order = execution.submit(request(), 1.5)
    execution.on_tick(tick(101.0, 2.0))
    assert kinds(recorded) == ["order 1 accepted", "order 1 filled", "fill 1 10@101"]
    assert order.status is OrderStatus.FILLED
    assert execution.portfolio.position("X").quantity == 10
    assert execution.portfolio.cash == pytest.approx(10_000 - 1_010)


def test_invalid_and_risky_orders_are_rejected_with_their_reason() -> None:
    execution, recorded = make(RiskLimits(max_order_notional=500))
    execution.on_tick(tick(100.0))
    bad_lot = execution.submit(request(quantity=2.5), 1.0)
    too_big = execution.submit(request(quantity=10), 1.0)
    unknown = execution.submit(OrderRequest("s", "Y", Side.BUY, 1.0), 1.0)
    assert bad_lot.reason == "quantity: 2.5 is not a multiple of the lot size 1.0"
    assert too_big.reason == "risk: order notional 1000.00 exceeds 500.00"
    assert unknown.reason == "symbol: unknown symbol 'Y'"
    assert kinds(recorded) == ["order 1 rejected", "order 2 rejected", "order 3 rejected"]
    assert execution.broker.working() == []


def test_ioc_and_day_orders_record_their_cancellation_and_expiry() -> None:
    execution, recorded = make()
    execution.on_tick(tick(100.0))
    execution.submit(request(type=OrderType.LIMIT, limit_price=95.0, tif=TimeInForce.IOC), 1.0)
    execution.submit(request(type=OrderType.LIMIT, limit_price=95.0, tif=TimeInForce.DAY), 1.0)
    execution.on_tick(tick(99.0, 2.0))
    execution.on_tick(tick(90.0, DAY + 1))
    assert kinds(recorded) == [
        "order 1 accepted", "order 2 accepted", "order 1 cancelled", "order 2 expired",
    ]  # fmt: skip


def test_drawdown_halts_trading_and_the_kill_switch_flattens_at_the_next_tick() -> None:
    execution, recorded = make(RiskLimits(max_drawdown=0.05))
    execution.on_tick(tick(100.0))
    execution.execute_now(request(quantity=50), tick(100.0, 2.0))
    execution.on_tick(tick(89.0, 3.0))  # equity 10,000 - 550 = 9,450: a 5.5% drawdown
    assert execution.state is RiskState.HALTED
    refused = execution.submit(request(Side.SELL, 10), 4.0)
    assert refused.reason == "risk: trading is halted"
    execution.kill("carol", "feed looks wrong", 5.0)
    assert execution.portfolio.position("X").quantity == 50  # flattened at the next tick
    execution.on_tick(tick(90.0, 6.0))
    assert execution.portfolio.position("X").quantity == 0
    risk = [e for e in recorded if isinstance(e, RiskEvent)]
    assert [(e.kind, e.state) for e in risk] == [
        ("breach", RiskState.ACTIVE), ("transition", RiskState.HALTED),
        ("kill", RiskState.HALTED),
    ]  # fmt: skip
    assert risk[-1].who == "carol" and risk[-1].why == "feed looks wrong"
    flatten = [e for e in recorded if isinstance(e, Fill)][-1]
    assert (flatten.strategy, flatten.side, flatten.quantity, flatten.price) == (
        "kill switch",
        Side.SELL,
        50,
        90.0,
    )
    execution.reset("carol", "checked", 7.0)
    assert execution.state is RiskState.ACTIVE
    assert execution.submit(request(), 8.0).status is OrderStatus.ACCEPTED


def test_kill_switch_cancels_every_working_order() -> None:
    execution, recorded = make()
    execution.on_tick(tick(100.0))
    execution.submit(request(type=OrderType.LIMIT, limit_price=90.0), 1.0)
    execution.submit(request(Side.SELL, type=OrderType.LIMIT, limit_price=110.0), 1.0)
    execution.kill("dave", "end of test", 2.0)
    cancelled = [e for e in recorded if isinstance(e, OrderEvent) and e.kind == "cancelled"]
    assert [e.reason for e in cancelled] == ["kill switch: end of test"] * 2
    assert execution.broker.working() == []
