"""Order validation: every rejection names the field at fault."""

from __future__ import annotations

import pytest

from core.events import Side
from core.trading.instruments import Instrument
from core.trading.orders import OrderRequest, OrderType
from core.trading.validation import validate

BTC = Instrument("BTCUSD", tick_size=0.5, lot_size=0.001, min_notional=10, max_notional=1e6,
                 price_band=0.1)  # fmt: skip


def request(**changes) -> OrderRequest:
    values = {"strategy": "s", "symbol": "BTCUSD", "side": Side.BUY, "quantity": 0.5}
    values.update(changes)
    return OrderRequest(**values)


def test_a_valid_order_passes() -> None:
    assert validate(request(), BTC, 20_000.0) is None
    limit = request(type=OrderType.LIMIT, limit_price=19_500.5)
    assert validate(limit, BTC, 20_000.0) is None


@pytest.mark.parametrize(
    ("changes", "instrument", "message"),
    [
        ({}, None, "symbol: unknown symbol 'BTCUSD'"),
        ({"quantity": 0.0}, BTC, "quantity: must be a positive number, got 0.0"),
        ({"quantity": float("nan")}, BTC, "quantity: must be a positive number"),
        ({"quantity": 0.0015}, BTC, "quantity: 0.0015 is not a multiple of the lot size 0.001"),
        ({"type": OrderType.LIMIT}, BTC, "limit_price: required for a limit order"),
        ({"limit_price": 20_000.0}, BTC, "limit_price: not used by a market order"),
        ({"type": OrderType.STOP}, BTC, "stop_price: required for a stop order"),
        ({"type": OrderType.LIMIT, "limit_price": 20_000.2}, BTC,
         "limit_price: 20000.2 is not a multiple of the tick size 0.5"),
        ({"type": OrderType.LIMIT, "limit_price": -1.0}, BTC,
         "limit_price: must be a positive number, got -1.0"),
        ({"type": OrderType.STOP, "stop_price": 23_000.0}, BTC,
         "stop_price: 23000.0 is more than 10% from the last price 20000.0"),
        ({"quantity": 0.0001}, Instrument("BTCUSD", min_notional=10),
         "quantity: notional 2.00 is below"),
        ({"quantity": 100.0}, BTC, "quantity: notional 2000000.00 is above the maximum"),
    ],
)  # fmt: skip
def test_bad_orders_are_rejected_with_the_field_named(changes, instrument, message) -> None:
    reason = validate(request(**changes), instrument, 20_000.0)
    assert reason is not None and reason.startswith(message)


def test_an_order_cannot_be_valued_before_the_first_price() -> None:
    assert validate(request(), BTC, None) == "symbol: no price yet to value the order"
