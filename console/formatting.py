"""How figures are shown. Every number a user sees goes through one of these.

Rounding is half away from zero on the shortest decimal form of the float
(so 2.675 shows as 2.68, as a person expects, not 2.67 as binary rounding
gives). Signed figures carry an arrow as well as a sign, so gains and losses
read the same without colour.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Context, Decimal

from core.outcomes import INFINITE

UP = "▲"
DOWN = "▼"
LEVEL = "•"


#: Enough digits for any finite float (up to 1.8e308) with its decimals: the default
#: context's 28 raised InvalidOperation on a figure past about 1e26.
_EXACT = Context(prec=400)


def _rounded(value: float, places: int) -> Decimal:
    return Decimal(repr(float(value))).quantize(
        Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP, context=_EXACT
    )


def _unbounded(value: float) -> str | None:
    """How a figure without a value shows (``∞``, ``-∞``, ``n/a``), or None for a finite
    one: a profit factor without losses is infinite, and is shown, not an exception."""
    if math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    return None


def money(value: float, places: int = 2) -> str:
    """``1234.5`` -> ``1,234.50``; negatives keep their minus sign."""
    if (shown := _unbounded(value)) is not None:
        return shown
    rounded = _rounded(value, places)
    if rounded == 0:
        rounded = abs(rounded)  # never show -0.00
    return f"{rounded:,.{places}f}"


def ratio(value: float, places: int = 2) -> str:
    """A ratio such as a Sharpe or a profit factor: ``money`` for a finite one; an
    infinite one (a profit factor without a losing trade) is ``∞``."""
    if math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return INFINITE if value > 0 else f"-{INFINITE}"
    return money(value, places)


def signed_money(value: float, places: int = 2) -> str:
    """``12.5`` -> ``▲ +12.50``, ``-3`` -> ``▼ -3.00``, ``0`` -> ``• 0.00``."""
    if (shown := _unbounded(value)) is not None:
        return shown
    rounded = _rounded(value, places)
    if rounded > 0:
        return f"{UP} +{rounded:,.{places}f}"
    if rounded < 0:
        return f"{DOWN} {rounded:,.{places}f}"
    return f"{LEVEL} {abs(rounded):,.{places}f}"


def percent(fraction: float, places: int = 2) -> str:
    """A fraction as a percentage: ``0.01234`` -> ``1.23%``."""
    if (shown := _unbounded(fraction)) is not None:
        return shown
    rounded = _rounded(fraction * 100.0, places)
    if rounded == 0:
        rounded = abs(rounded)
    return f"{rounded:.{places}f}%"


def signed_percent(fraction: float, places: int = 2) -> str:
    if (shown := _unbounded(fraction)) is not None:
        return shown
    rounded = _rounded(fraction * 100.0, places)
    if rounded > 0:
        return f"{UP} +{rounded:.{places}f}%"
    if rounded < 0:
        return f"{DOWN} {rounded:.{places}f}%"
    return f"{LEVEL} {abs(rounded):.{places}f}%"


def quantity(value: float) -> str:
    """Up to 6 decimals, trailing zeros dropped: ``1.500000`` -> ``1.5``."""
    if (shown := _unbounded(value)) is not None:
        return shown
    text = f"{_rounded(value, 6):,.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def price(value: float, tick: float = 0.0) -> str:
    """A price on its instrument's tick, with the tick's decimals: the nearest multiple
    of ``tick`` (half away from zero), so ``price(1.0799800000000002, 0.00001)`` is
    ``1.07998`` and ``price(101.3, 0.25)`` is ``101.25``. With no tick known (0), enough
    decimals for its size: 5 under 10, 2 otherwise."""
    if (shown := _unbounded(value)) is not None:
        return shown
    if tick <= 0:
        return money(value, 5 if abs(value) < 10 else 2)
    step = Decimal(repr(float(tick))).normalize()
    places = max(0, -int(step.as_tuple().exponent))
    steps = _EXACT.divide(Decimal(repr(float(value))), step).quantize(
        Decimal(1), rounding=ROUND_HALF_UP, context=_EXACT
    )
    return f"{steps * step:,.{places}f}"


def age(seconds: float) -> str:
    """How long something has run, in its two largest units: ``3d04h``, else as
    ``duration``."""
    days, rest = divmod(max(0, int(seconds)), 86_400)
    return f"{days}d{rest // 3600:02d}h" if days else duration(rest)


def duration(seconds: float | None) -> str:
    """``75`` -> ``1m15s``; ``None`` -> ``--``."""
    if seconds is None:
        return "--"
    whole = int(_rounded(seconds, 0))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def size_bytes(count: int) -> str:
    """Binary units with one decimal: ``1536`` -> ``1.5 KiB``."""
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(value) < 1024 or unit == "GiB":
            return f"{int(value)} B" if unit == "B" else f"{_rounded(value, 1)} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def bar(fraction: float, width: int = 12) -> str:
    """A text progress bar in eighths of a cell: ``bar(0.5, 4)`` -> ``██  ``."""
    fraction = min(max(fraction, 0.0), 1.0)
    eighths = int(_rounded(fraction * width * 8, 0))
    full, part = divmod(eighths, 8)
    partial = " ▏▎▍▌▋▊▉"[part] if full < width else ""
    return ("█" * full + partial).ljust(width)


def clock(ts: float) -> str:
    """An epoch time as the local wall clock, ``HH:MM:SS``."""
    return datetime.fromtimestamp(ts).strftime("%H:%M:%S")


def utc_stamp(ts: float) -> str:
    """An epoch time as a UTC date and minute, ``2026-11-23 12:00Z``: the same on every
    machine, whatever its timezone (audit and ledger times are shown this way)."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%MZ")


def stopwatch(seconds: float) -> str:
    """Elapsed time on a stopwatch: ``83`` -> ``01:23``, ``3723`` -> ``1:02:03``."""
    whole = max(int(seconds), 0)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def utc_timestamp(ts: float) -> str:
    """An epoch time as a full UTC date and time: ``2026-11-23 12:00:00Z``."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def utc_clock_ms(ts: float) -> str:
    """An epoch time as the UTC wall clock to the millisecond: ``12:00:00.123``."""
    moment = datetime.fromtimestamp(ts, UTC)
    return f"{moment:%H:%M:%S}.{moment.microsecond // 1000:03d}"
