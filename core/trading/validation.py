"""Order validation: the checks an order passes before it reaches the broker.

Each check names the field at fault, so a rejection tells the operator (or the
strategy's log) exactly what to fix.
"""

from __future__ import annotations

import math

from core.trading.instruments import Instrument, on_increment
from core.trading.orders import OrderRequest, OrderType


def validate(
    request: OrderRequest, instrument: Instrument | None, last_price: float | None
) -> str | None:
    """Why ``request`` must be rejected, or None when it may go on to the risk checks."""
    if instrument is None:
        return f"symbol: unknown symbol {request.symbol!r}"
    q = request.quantity
    if not math.isfinite(q) or q <= 0:
        return f"quantity: must be a positive number, got {q}"
    if not on_increment(q, instrument.lot_size):
        return f"quantity: {q} is not a multiple of the lot size {instrument.lot_size}"
    needs_limit = request.type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
    needs_stop = request.type in (OrderType.STOP, OrderType.STOP_LIMIT)
    for name, price, needed in (
        ("limit_price", request.limit_price, needs_limit),
        ("stop_price", request.stop_price, needs_stop),
    ):
        if needed and price is None:
            return f"{name}: required for a {request.type.value} order"
        if not needed and price is not None:
            return f"{name}: not used by a {request.type.value} order"
        if price is None:
            continue
        if not math.isfinite(price) or price <= 0:
            return f"{name}: must be a positive number, got {price}"
        if not on_increment(price, instrument.tick_size):
            return f"{name}: {price} is not a multiple of the tick size {instrument.tick_size}"
        if last_price is not None and abs(price / last_price - 1.0) > instrument.price_band:
            band = f"{instrument.price_band:.0%}"
            return f"{name}: {price} is more than {band} from the last price {last_price}"
    reference = request.limit_price or request.stop_price or last_price
    if reference is None:
        return "symbol: no price yet to value the order"
    notional = q * reference
    if notional < instrument.min_notional:
        return f"quantity: notional {notional:.2f} is below the minimum {instrument.min_notional}"
    if notional > instrument.max_notional:
        return f"quantity: notional {notional:.2f} is above the maximum {instrument.max_notional}"
    return None
