"""What can be traded, and the increments and sizes each venue allows."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Instrument:
    """Trading rules of one symbol.

    ``tick_size`` and ``lot_size`` are the price and quantity increments (0: any
    value); ``min_notional`` / ``max_notional`` bound quantity x price of one
    order; ``price_band`` is how far (as a fraction) a limit or stop price may
    stand from the last traded price.
    """

    symbol: str
    tick_size: float = 0.0
    lot_size: float = 0.0
    min_notional: float = 0.0
    max_notional: float = float("inf")
    price_band: float = 0.2


def on_increment(value: float, increment: float) -> bool:
    """True when ``value`` is a whole multiple of ``increment`` (to 1e-9 of a step)."""
    if increment <= 0:
        return True
    steps = value / increment
    return abs(steps - round(steps)) <= 1e-9 * max(1.0, abs(steps))
