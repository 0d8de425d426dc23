"""How a strategy is defined: once, with its parameters, rule and signal kernel.

Everything else (the live engine, the optimizer, the UI, exports) reads a
``Strategy``; nothing keeps its own copy of a strategy's parameters.
"""

from __future__ import annotations

import hashlib
import math
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from core.research.features import FeatureModel
from core.research.signals import DIRECTION_CODES, apply_direction


class Family(StrEnum):
    TREND = "trend"
    MEAN_REVERSION = "mean reversion"
    VOLUME = "volume"
    BREAKOUT = "volatility/breakout"
    PATTERN = "pattern"
    CUSTOM = "custom"  # a user strategy that names no family of its own


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
        except (TypeError, ValueError, OverflowError):  # int(inf) overflows
            raise ParameterError(f"{self.name}: {value!r} is not a {self.type.__name__}") from None
        if isinstance(value, bool) or not math.isfinite(number):
            raise ParameterError(f"{self.name}: {value!r} is not a finite number")
        if self.type is int and isinstance(value, float | str) and float(value) != number:
            raise ParameterError(f"{self.name}: {value!r} is not a whole number")
        if not self.min <= number <= self.max:
            raise ParameterError(f"{self.name}: {number} is outside [{self.min}, {self.max}]")
        return number


Params = dict[str, int | float]

#: The time exit shared by pattern and breakout rules (see ``signals.event_signals``):
#: its parameter, and the Pine lines that close a trade ``hold`` bars after its entry.
HOLD_PARAM = Param("hold", int, 5, 1, 100, 1, "bars a trade is held")
TIME_EXIT_PINE = (
    "longExit = ta.barssince(longEntry) == hold\nshortExit = ta.barssince(shortEntry) == hold\n"
)
#: Wilder's ATR as ``indicators.atr`` has it: true ranges from the second bar on, so
#: the first value comes at bar ``n``. (Pine's ``ta.atr`` counts the first bar's
#: high - low as a true range, which moves its warm-up one bar earlier.)
ATR_PINE = "wilderAtr(n) => ta.rma(ta.tr(false), n)\n"
SignalKernel = Callable[..., np.ndarray]


def source_version(source: bytes) -> str:
    """The version of some code: the first 12 hex digits of its SHA-256."""
    return hashlib.sha256(source).hexdigest()[:12]


@cache
def _module_version(path: str) -> str:
    return source_version(Path(path).read_bytes())


@dataclass(frozen=True)
class Strategy:
    """One trading rule.

    ``signal(open, high, low, close, volume, *params)`` returns one signal code
    per bar for both sides (see ``core.research.signals``); ``direction`` is
    the side it trades by default, which a run may override.

    ``lookback(params)`` is how many bars, ending at bar t, the signal at t
    needs: no signal appears before bar ``lookback - 1`` (``lookback - 1 - hold``
    for a rule with a ``hold`` time exit, which looks back ``hold`` bars
    beyond its indicators' warm-up). For a windowed rule
    those bars determine the signal exactly. A ``recursive`` rule (built on
    exponential smoothing, Wilder averages, SAR or cumulative volume) depends,
    ever more faintly, on all earlier bars, so the live engine keeps a long
    history for it rather than just the look-back.

    ``pine`` is the body of the Pine Script v6 strategy the exporter wraps: it
    may use every parameter by name and must define the bool series
    ``longEntry`` and ``shortEntry``; ``longExit`` and ``shortExit`` are
    optional (exits otherwise come from the opposite entry). An empty ``pine``
    means the strategy has none (a user strategy may give none).

    ``source`` says where the code comes from: ``built-in``, a strategy file's
    path or a package (``name==version``); ``version`` identifies that code (a
    hash of its source file, and the package version for a package), so a
    result can be traced to the exact code that produced it.
    """

    id: str
    name: str
    family: Family
    direction: Direction
    description: str
    params: tuple[Param, ...]
    signal: SignalKernel
    lookback: Callable[[Params], int]
    pine: str
    constraints: tuple[tuple[str, Callable[[Params], bool]], ...] = field(default=())
    recursive: bool = False
    #: For "fast(close) crosses slow(close)" rules with ``fast``/``slow`` windows:
    #: the feature kernel ``f(close, window)``, which sweeps compute once per window.
    cross_feature: Callable[[np.ndarray, int], np.ndarray] | None = None
    #: The rule's features and the rule of them (``core.research.features``): sweeps
    #: compute each distinct feature once; ``signal`` is the same rule, features included.
    features: FeatureModel | None = None
    source: str = "built-in"
    version: str = ""

    def __post_init__(self) -> None:
        if not self.version:  # a built-in: the hash of the module its kernel lives in
            module = sys.modules.get(getattr(self.signal, "__module__", ""))
            path = getattr(module, "__file__", None)
            object.__setattr__(self, "version", _module_version(path) if path else "unknown")

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

    def signals(
        self,
        bars: Mapping[str, np.ndarray],
        params: Params,
        direction: Direction | None = None,
    ) -> np.ndarray:
        """Signal codes for ``bars``, narrowed to ``direction`` (default: the strategy's)."""
        ordered = [params[p.name] for p in self.params]
        raw = self.signal(
            bars["open"], bars["high"], bars["low"], bars["close"], bars["volume"], *ordered
        )
        return apply_direction(raw, DIRECTION_CODES[direction or self.direction])
