"""What a number may be: finite, of the right kind, and within the range that gives it a
meaning. Every numeric command-line option, job field and form field is checked by a
``Bound`` here (settings carry the same limits as pydantic constraints, ``Bound.field``),
so NaN, infinities and values without a meaning (a negative seed, 30,000 basis points
of slippage, a waiver valid for ``inf`` days) are refused in the same words wherever
they are typed, before any work starts.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

#: More money than any account or fee means: past it, figures lose their cents.
MAX_MONEY = 1e15
#: ``QD_SWEEP_MAX_COMBOS``'s default: a sweep keeps every evaluation in memory (about
#: 1.5 kB each with its metrics), so a million is about 1.5 GB.
DEFAULT_SWEEP_MAX_COMBOS = 1_000_000
#: More of anything countable (trials, trades, rows) than a run can mean.
MAX_COUNT = 1_000_000_000


class OutOfBounds(ValueError):
    """A value a ``Bound`` refuses; the message says what it should be and what it got."""


def shown(number: float) -> str:
    """A bound as a person reads it: ``1e+15``, ``10000``, ``0.5``."""
    return f"{number:,}" if isinstance(number, int) else f"{number:g}"


@dataclass(frozen=True, slots=True)
class Bound:
    """A finite number (a whole one if ``whole``) from ``low`` to ``high``; an end is
    excluded when ``low_open`` (``high_open``) is set, and absent when None."""

    whole: bool
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def describe(self) -> str:
        """``a number in (0, 1]``, ``a whole number >= 1``."""
        kind = "a whole number" if self.whole else "a number"
        if self.low is not None and self.high is not None:
            left, right = "(" if self.low_open else "[", ")" if self.high_open else "]"
            return f"{kind} in {left}{shown(self.low)}, {shown(self.high)}{right}"
        if self.low is not None:
            return f"{kind} {'>' if self.low_open else '>='} {shown(self.low)}"
        if self.high is not None:
            return f"{kind} {'<' if self.high_open else '<='} {shown(self.high)}"
        return f"a finite {'whole ' if self.whole else ''}number"

    def check(self, value: Any) -> int | float:
        """``value`` (a number, or the text of one) as an ``int`` or ``float``, or an
        ``OutOfBounds`` saying what it should have been."""
        number = self._number(value)
        if number is None or not self._within(number):
            raise OutOfBounds(f"expected {self.describe()}, got {value!r}")
        return number

    def field(self, default: Any = ..., **kwargs: Any) -> Any:
        """A pydantic ``Field`` with these limits, for a setting or a model's field."""
        from pydantic import Field

        ends = {("gt" if self.low_open else "ge"): self.low,
                ("lt" if self.high_open else "le"): self.high}  # fmt: skip
        limits = {key: end for key, end in ends.items() if end is not None}
        return Field(default, allow_inf_nan=False, **limits, **kwargs)

    def _number(self, value: Any) -> int | float | None:
        if isinstance(value, bool):  # JSON true is not 1
            return None
        if isinstance(value, str):
            text = value.strip().replace("_", "")
            try:
                value = int(text)
            except ValueError:
                try:
                    value = float(text)
                except ValueError:
                    return None
        if isinstance(value, numbers.Integral):
            return int(value) if self.whole else _as_float(value)
        if isinstance(value, numbers.Real):
            number = float(value)
            if not math.isfinite(number):
                return None
            if self.whole:
                return int(number) if number.is_integer() else None
            return number
        return None

    def _within(self, number: float) -> bool:
        if self.low is not None and (number <= self.low if self.low_open else number < self.low):
            return False
        return self.high is None or (number < self.high if self.high_open else number <= self.high)


def _as_float(value: numbers.Integral) -> float | None:
    try:
        return float(value)
    except OverflowError:  # an integer past the largest float
        return None


# The quantities themselves. A new numeric option picks one of these (or adds one).
CASH = Bound(False, 0, MAX_MONEY, low_open=True)
FEE = Bound(False, 0, MAX_MONEY)
#: A fraction of notional per fill: 1 would charge the whole trade.
COMMISSION = Bound(False, 0, 1, high_open=True)
#: 10,000 basis points is 100%: a sell would fill at zero or below.
SLIPPAGE_BPS = Bound(False, 0, 10_000, high_open=True)
#: A fraction of equity (or of a sub-ledger) per entry.
FRACTION = Bound(False, 0, 1, low_open=True)
STOP_LOSS = Bound(False, 0, 1, low_open=True, high_open=True)
#: A gain, as a fraction of the entry price (1000 is +100,000%).
TAKE_PROFIT = Bound(False, 0, 1_000, low_open=True)
#: NumPy's generators and Optuna's samplers take seeds of 32 bits.
SEED = Bound(True, 0, 2**32 - 1)
COUNT = Bound(True, 0, MAX_COUNT)
POSITIVE_COUNT = Bound(True, 1, MAX_COUNT)
#: A row id: SQLite integers are 64-bit.
ROW_ID = Bound(True, 1, 2**63 - 1)
PORT = Bound(True, 0, 65_535)
#: Walk-forward windows: each needs a segment of the history of its own (how many fit
#: depends on the data, which says so itself).
WINDOWS = Bound(True, 1, 100_000)
#: Parallel workers or probes.
CONCURRENCY = Bound(True, 1, 1_024)
#: A waiver's life: ten years at most; ``inf`` would be a waiver that never expires.
DAYS = Bound(False, 0, 3_650, low_open=True)
#: A wait or a time-out, in seconds: up to a day.
WAIT_SECONDS = Bound(False, 0, 86_400)
TIMEOUT_SECONDS = Bound(False, 0, 86_400, low_open=True)
#: Simulated bars of a ``sim:`` dataset (as the Research form allows).
SIM_BARS = Bound(True, 100, 1_000_000)
