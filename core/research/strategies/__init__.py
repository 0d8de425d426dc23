"""The strategy registry: every strategy Quarterdeck knows, by id.

``REGISTRY`` holds the built-ins from import on; the user strategies (the
strategies folder, then the ``quarterdeck.strategies`` entry points, as
``core.research.strategy_sources`` names them) join it the first time
``get_strategy`` is asked for an id that is not built in, or ``all_strategies``
lists the library. What did not load is in ``load_errors()``.
"""

from __future__ import annotations

from core.research import strategy_sources
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
from core.research.strategies.loading import LoadError, load_entry_points, load_folder, merge
from core.research.strategies.pattern import PATTERN
from core.research.strategies.reversion import REVERSION
from core.research.strategies.trend import TREND
from core.research.strategies.volume import VOLUME

REGISTRY: dict[str, Strategy] = {
    s.id: s for s in (*TREND, *REVERSION, *VOLUME, *BREAKOUT, *BANDS, *PATTERN)
}
BUILTINS: dict[str, Strategy] = dict(REGISTRY)
_loaded_generation = 0  # the strategy_sources generation the user strategies come from
_errors: list[LoadError] = []


class UnknownStrategyError(KeyError):
    def __str__(self) -> str:
        return f"unknown strategy {self.args[0]!r}"


def load_user_strategies() -> list[LoadError]:
    """(Re)load the user strategies from the configured sources into ``REGISTRY``;
    what did not load, each naming its file (or package) and line."""
    global _loaded_generation
    folder, entry_points, generation = strategy_sources.configured()
    batches = [load_folder(folder)] if folder is not None else []
    if entry_points:
        batches.append(load_entry_points())
    merged = merge(BUILTINS, *batches)
    REGISTRY.clear()
    REGISTRY.update(BUILTINS)
    REGISTRY.update({s.id: s for s in merged.strategies})
    _errors[:] = merged.errors
    _loaded_generation = generation
    return list(merged.errors)


def _ensure_loaded() -> None:
    if _loaded_generation != strategy_sources.configured()[2]:
        load_user_strategies()


def all_strategies() -> list[Strategy]:
    """Built-ins and user strategies, by id."""
    _ensure_loaded()
    return sorted(REGISTRY.values(), key=lambda s: s.id)


def load_errors() -> list[LoadError]:
    """What did not load, the last time the user strategies were loaded."""
    _ensure_loaded()
    return list(_errors)


def get_strategy(strategy_id: str) -> Strategy:
    _ensure_loaded()
    try:
        return REGISTRY[strategy_id]
    except KeyError:
        raise UnknownStrategyError(strategy_id) from None


__all__ = [
    "BUILTINS",
    "REGISTRY",
    "Direction",
    "Family",
    "LoadError",
    "Param",
    "ParameterError",
    "Params",
    "Strategy",
    "UnknownStrategyError",
    "all_strategies",
    "get_strategy",
    "load_errors",
    "load_user_strategies",
]
