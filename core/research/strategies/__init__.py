"""The strategy registry: every strategy Quarterdeck knows, by id.

``REGISTRY`` holds the built-ins from import on; the user strategies (the
strategies folder, then the ``quarterdeck.strategies`` entry points, as
``core.research.strategy_sources`` names them) join it the first time
``get_strategy`` is asked for an id that is not built in, or ``all_strategies``
lists the library. What did not load is in ``load_errors()``.

A reload (the strategies folder changed: ``core.strategy_library``) may run while
jobs, the engine and consoles read the registry in other threads: it builds the
new map whole and then swaps it in, so a reader sees the library before or after
the reload, never half of it, and a run keeps the ``Strategy`` it already holds.
"""

from __future__ import annotations

import threading
from collections.abc import ItemsView, Iterator, KeysView, Mapping, ValuesView

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


class Registry(Mapping[str, Strategy]):
    """The strategies by id: a read-only view of a map that a reload replaces whole."""

    def __init__(self, strategies: Mapping[str, Strategy]) -> None:
        self._current = dict(strategies)

    def __getitem__(self, strategy_id: str) -> Strategy:
        return self._current[strategy_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._current)  # the map of now: a later swap does not change it

    def __len__(self) -> int:
        return len(self._current)

    def keys(self) -> KeysView[str]:
        return self._current.keys()

    def values(self) -> ValuesView[Strategy]:
        return self._current.values()

    def items(self) -> ItemsView[str, Strategy]:
        return self._current.items()

    def swap(self, strategies: dict[str, Strategy]) -> None:
        """Make ``strategies`` (a map nobody changes afterwards) the registry."""
        self._current = strategies


BUILTINS: dict[str, Strategy] = {
    s.id: s for s in (*TREND, *REVERSION, *VOLUME, *BREAKOUT, *BANDS, *PATTERN)
}
REGISTRY = Registry(BUILTINS)
_loaded_generation = 0  # the strategy_sources generation the user strategies come from
_errors: tuple[LoadError, ...] = ()
_loading = threading.Lock()  # one load at a time: a reload, and a job's first look-up


class UnknownStrategyError(KeyError):
    def __str__(self) -> str:
        return f"unknown strategy {self.args[0]!r}"


def load_user_strategies() -> list[LoadError]:
    """(Re)load the user strategies from the configured sources into ``REGISTRY``;
    what did not load, each naming its file (or package) and line."""
    with _loading:
        return _load()


def _load() -> list[LoadError]:
    global _loaded_generation, _errors
    folder, entry_points, generation = strategy_sources.configured()
    batches = [load_folder(folder)] if folder is not None else []
    if entry_points:
        batches.append(load_entry_points())
    merged = merge(BUILTINS, *batches)
    REGISTRY.swap({**BUILTINS, **{s.id: s for s in merged.strategies}})
    _errors = tuple(merged.errors)
    _loaded_generation = generation
    return list(merged.errors)


def _ensure_loaded() -> None:
    if _loaded_generation != strategy_sources.configured()[2]:
        with _loading:
            if _loaded_generation != strategy_sources.configured()[2]:  # not loaded meanwhile
                _load()


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
    "Registry",
    "Strategy",
    "UnknownStrategyError",
    "all_strategies",
    "get_strategy",
    "load_errors",
    "load_user_strategies",
]
