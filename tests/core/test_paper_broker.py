"""The paper broker's matching, against hand-worked prices and quantities."""

from __future__ import annotations

import pytest

from core.events import Bar, Side, Tick
from core.trading.fill_model import FillModel
from core.trading.orders import Order, OrderRequest, OrderStatus, OrderType, TimeInForce
from core.trading.paper_broker import OrderNotWorking, PaperBroker

DAY = 86_400.0


def order(order_id: int, side: Side = Side.BUY, quantity: float = 10.0, ts: float = 0.0,
          **request) -> Order:  # fmt: skip
    return Order(order_id, OrderRequest("s", "X", side, quantity, **request), ts)


def tick(price: float, ts: float = 1.0) -> Tick:
    return Tick("X", ts, price, 1.0)


def test_market_order_fills_at_the_next_tick_with_slippage_and_costs() -> None:
    broker = PaperBroker(FillModel(commission=0.001, fixed_fee=1.0, slippage_bps=10))
    market = order(1)
    broker.submit(market)
    [fill] = broker.on_tick(tick(100.0))
    assert fill.price == pytest.approx(100.1)  # 10 bp against the buyer
    assert fill.commission == pytest.approx(0.001 * 10 * 100.1 + 1.0)
    assert (fill.order_id, fill.quantity) == (1, 10.0)
    assert market.status is OrderStatus.FILLED and market.average_price == pytest.approx(100.1)
    assert broker.working() == []


def test_limit_buy_waits_for_its_price_and_never_fills_worse() -> None:
    broker = PaperBroker(FillModel(slippage_bps=50))
    limit = order(1, type=OrderType.LIMIT, limit_price=99.8)
    broker.submit(limit)
    assert broker.on_tick(tick(100.0)) == []
    [fill] = broker.on_tick(tick(99.5))
    assert fill.price == pytest.approx(99.8)  # 99.5 * 1.005 = 99.9975, capped at the limit
    broker.submit(order(2, Side.SELL, type=OrderType.LIMIT, limit_price=101.0))
    [sell] = broker.on_tick(tick(102.0))
    assert sell.price == pytest.approx(102.0 * 0.995)


def test_stop_triggers_at_its_price_then_fills_like_a_market_order() -> None:
    broker = PaperBroker()
    stop_sell = order(1, Side.SELL, type=OrderType.STOP, stop_price=95.0)
    broker.submit(stop_sell)
    assert broker.on_tick(tick(96.0)) == []
    [fill] = broker.on_tick(tick(94.0))  # gapped through the stop: fills at the tick
    assert fill.price == 94.0 and stop_sell.triggered


def test_stop_limit_triggers_then_works_as_a_limit() -> None:
    broker = PaperBroker()
    stop_limit = order(1, type=OrderType.STOP_LIMIT, stop_price=105.0, limit_price=106.0)
    broker.submit(stop_limit)
    assert broker.on_tick(tick(104.0)) == []
    assert broker.on_tick(tick(107.0)) == []  # triggered, but above the limit
    assert stop_limit.triggered and stop_limit.status is OrderStatus.ACCEPTED
    [fill] = broker.on_tick(tick(105.5))
    assert fill.price == 105.5


def test_ioc_gets_one_tick_and_day_orders_expire_at_midnight_utc() -> None:
    broker = PaperBroker()
    ioc = order(1, type=OrderType.LIMIT, limit_price=90.0, tif=TimeInForce.IOC)
    day = order(2, type=OrderType.LIMIT, limit_price=90.0, tif=TimeInForce.DAY, ts=DAY + 10)
    broker.submit(ioc)
    broker.submit(day)
    assert broker.on_tick(tick(100.0, ts=DAY + 20)) == []
    assert ioc.status is OrderStatus.CANCELLED and "ioc" in ioc.reason
    assert day.status is OrderStatus.ACCEPTED
    assert broker.on_tick(tick(80.0, ts=2 * DAY)) == []  # a new UTC day: expired first
    assert day.status is OrderStatus.EXPIRED and broker.working() == []


def test_participation_fills_large_orders_in_parts_against_bar_volume() -> None:
    broker = PaperBroker(participation=0.1)
    big = order(1, quantity=25.0)
    broker.submit(big)
    assert broker.on_tick(tick(100.0)) == []  # no bar yet: no liquidity known
    broker.on_bar(Bar("X", 0.0, 100, 101, 99, 100, 100.0))  # 10% of 100 = 10 per bar
    first = broker.on_tick(tick(100.0, ts=2.0))
    assert [f.quantity for f in first] == [10.0] and big.status is OrderStatus.PARTIALLY_FILLED
    assert broker.on_tick(tick(100.5, ts=3.0)) == []  # this bar's capacity is used up
    broker.on_bar(Bar("X", 60.0, 100, 101, 99, 100, 300.0))  # 30 available
    [last] = broker.on_tick(tick(101.0, ts=4.0))
    assert last.quantity == 15.0 and big.status is OrderStatus.FILLED
    assert big.average_price == pytest.approx((10 * 100.0 + 15 * 101.0) / 25)


def test_cancel_and_replace_a_working_order() -> None:
    broker = PaperBroker()
    first = order(1, type=OrderType.LIMIT, limit_price=90.0)
    second = order(2, type=OrderType.LIMIT, limit_price=90.0)
    broker.submit(first)
    broker.submit(second)
    broker.replace(2, quantity=4.0, limit_price=95.0)
    [fill] = broker.on_tick(tick(94.0))
    assert (fill.order_id, fill.quantity, fill.price) == (2, 4.0, 94.0)
    cancelled = broker.cancel(1, "operator asked")
    assert cancelled.status is OrderStatus.CANCELLED and cancelled.reason == "operator asked"
    with pytest.raises(OrderNotWorking, match="order 1 is not working"):
        broker.cancel(1)


def test_replace_cannot_shrink_below_the_filled_quantity() -> None:
    broker = PaperBroker(participation=0.5)
    partial = order(1, quantity=10.0)
    broker.submit(partial)
    broker.on_bar(Bar("X", 0.0, 1, 1, 1, 1, 8.0))
    broker.on_tick(tick(100.0))
    assert partial.filled_quantity == 4.0
    with pytest.raises(ValueError, match=r"quantity: 4\.0 does not exceed the 4\.0 filled"):
        broker.replace(1, quantity=4.0)


def test_orders_fill_in_arrival_order() -> None:
    broker = PaperBroker(participation=1.0)
    broker.on_bar(Bar("X", 0.0, 1, 1, 1, 1, 12.0))
    broker.submit(order(1))
    broker.submit(order(2))
    fills = broker.on_tick(tick(100.0))
    assert [(f.order_id, f.quantity) for f in fills] == [(1, 10.0), (2, 2.0)]
