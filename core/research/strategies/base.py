"""How a strategy is defined: once, with its parameters, rule and signal kernel.

Everything else (the live engine, the optimizer, the UI, exports) reads a
``Strategy``; nothing keeps its own copy of a strategy's parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np


class Family(StrEnum):
    TREND = "trend"
    MEAN_REVERSION = "mean reversion"
    VOLUME = "volume"
    BREAKOUT = "volatility/breakout"
    PATTERN = "pattern"


class Direction(StrEnum):
    LONG = "long"
    SHORT = "short"
    BOTH = "both"


class ParameterError(ValueError):
    """A parameter value is of the wrong type, out of range or breaks a constraint."""


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    type: type[int] | type[float]
    default: int | float
    min: int | float
    max: int | float
    step: int | float
    description: str = ""

    def coerce(self, value: Any) -> int | float:
        """``value`` as this parameter's type, checked against its range."""
        try:
            number = self.type(value)
        except (TypeError, ValueError):
            raise ParameterError(f"{self.name}: {value!r} is not a {self.type.__name__}") from None
        if self.type is int and isinstance(value, float | str) and float(value) != number:
            raise ParameterError(f"{self.name}: {value!r} is not a whole number")
        if not self.min <= number <= self.max:
            raise ParameterError(f"{self.name}: {number} is outside [{self.min}, {self.max}]")
        return number


Params = dict[str, int | float]
SignalKernel = Callable[..., np.ndarray]


@dataclass(frozen=True)
class Strategy:
    """One trading rule.

    ``signal(open, high, low, close, volume, *params)`` returns one signal code
    per bar (see ``core.research.signals``). ``lookback(params)`` is how many
    bars, ending at bar t, determine the signal at t exactly; the live engine
    keeps that many bars per symbol.
    """

    id: str
    name: str
    family: Family
    direction: Direction
    description: str
    params: tuple[Param, ...]
    signal: SignalKernel
    lookback: Callable[[Params], int]
    constraints: tuple[tuple[str, Callable[[Params], bool]], ...] = field(default=())

    def defaults(self) -> Params:
        return {p.name: p.default for p in self.params}

    def resolve(self, overrides: Mapping[str, Any] | None = None) -> Params:
        """Defaults updated with ``overrides``, type-checked and range-checked."""
        known = {p.name: p for p in self.params}
        values = self.defaults()
        for name, raw in (overrides or {}).items():
            if name not in known:
                raise ParameterError(
                    f"{self.id} has no parameter {name!r} (known: {', '.join(known)})"
                )
            values[name] = known[name].coerce(raw)
        for text, holds in self.constraints:
            if not holds(values):
                raise ParameterError(f"{self.id}: constraint {text} does not hold for {values}")
        return values

    def signals(self, bars: Mapping[str, np.ndarray], params: Params) -> np.ndarray:
        ordered = [params[p.name] for p in self.params]
        return self.signal(
            bars["open"], bars["high"], bars["low"], bars["close"], bars["volume"], *ordered
        )
