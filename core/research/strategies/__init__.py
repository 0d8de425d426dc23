"""The strategy registry: every strategy Quarterdeck knows, by id."""

from __future__ import annotations

from core.research.strategies.bands import BANDS
from core.research.strategies.base import (
    Direction,
    Family,
    Param,
    ParameterError,
    Params,
    Strategy,
)
from core.research.strategies.breakout import BREAKOUT
from core.research.strategies.pattern import PATTERN
from core.research.strategies.reversion import REVERSION
from core.research.strategies.trend import TREND
from core.research.strategies.volume import VOLUME

REGISTRY: dict[str, Strategy] = {
    s.id: s for s in (*TREND, *REVERSION, *VOLUME, *BREAKOUT, *BANDS, *PATTERN)
}


class UnknownStrategyError(KeyError):
    def __str__(self) -> str:
        return f"unknown strategy {self.args[0]!r}"


def get_strategy(strategy_id: str) -> Strategy:
    try:
        return REGISTRY[strategy_id]
    except KeyError:
        raise UnknownStrategyError(strategy_id) from None


__all__ = [
    "REGISTRY",
    "Direction",
    "Family",
    "Param",
    "ParameterError",
    "Params",
    "Strategy",
    "UnknownStrategyError",
    "get_strategy",
]
