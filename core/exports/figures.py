"""How the report shows numbers: the console's rounding rules, for documents.

The domain cannot import the console's ``formatting`` module, so the rules
are restated here: half away from zero on the shortest decimal form of the
float (2.675 shows as 2.68), never a ``-0.00``, thousands separated by
commas. PDFs carry signs, not the console's arrows. Tests hold these to the
console's functions value for value.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

from core.outcomes import INFINITE

NOT_A_NUMBER = "n/a"

#: Metrics shown as percentages; the rest as plain numbers (``trades`` as a count).
PERCENT_METRICS = frozenset({
    "total_return", "cagr", "volatility", "max_drawdown", "win_rate", "exposure",
    "avg_trade", "best_trade", "worst_trade",
})  # fmt: skip


def _rounded(value: float, places: int) -> Decimal:
    rounded = Decimal(repr(float(value))).quantize(
        Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP
    )
    return abs(rounded) if rounded == 0 else rounded


def money(value: float, places: int = 2) -> str:
    """``1234.5`` -> ``1,234.50``."""
    if not math.isfinite(value):
        return NOT_A_NUMBER
    return f"{_rounded(value, places):,.{places}f}"


def signed_money(value: float, places: int = 2) -> str:
    """``12.5`` -> ``+12.50``, ``-3`` -> ``-3.00``, ``0`` -> ``0.00``."""
    text = money(value, places)
    return f"+{text}" if _rounded(value, places) > 0 else text


def percent(fraction: float, places: int = 2) -> str:
    """A fraction as a percentage: ``0.01234`` -> ``1.23%``."""
    if not math.isfinite(fraction):
        return NOT_A_NUMBER
    return f"{_rounded(fraction * 100.0, places):.{places}f}%"


def short_percent(fraction: float, places: int = 4) -> str:
    """A setting as a percentage, no trailing zeros: ``0.001`` -> ``0.1%``, ``1`` -> ``100%``."""
    text = percent(fraction, places).removesuffix("%")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"


def number(value: float, places: int = 3) -> str:
    if not math.isfinite(value):
        return NOT_A_NUMBER
    return f"{_rounded(value, places):,.{places}f}"


def price(value: float) -> str:
    """Prices keep enough decimals for their size: 5 under 10, 2 otherwise."""
    return money(value, 5 if abs(value) < 10 else 2)


def quantity(value: float) -> str:
    """Up to 6 decimals, trailing zeros dropped: ``1.500000`` -> ``1.5``."""
    text = f"{_rounded(value, 6):,.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def metric(name: str, value: float | None) -> str:
    """One metric as the backtest command prints it: percentages, a count, money or 3 places."""
    if value is None:
        return NOT_A_NUMBER
    if name in PERCENT_METRICS:
        return percent(value)
    if name == "trades":
        return f"{int(value):,}"
    if name == "equity_final":
        return money(value)
    if value == math.inf:  # a profit factor without a losing trade
        return INFINITE
    return number(value)


def parameter(value: float) -> str:
    """A parameter value as given: ``20`` stays ``20``, ``2.5`` stays ``2.5``."""
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))
