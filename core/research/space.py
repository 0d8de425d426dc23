"""A search space checked before anything is expanded or run.

A grid is refused, naming the parameter and its declared range, when a range goes
outside that range or (for a whole-number parameter) is not whole; and a search is
refused when it would evaluate more combinations than ``QD_SWEEP_MAX_COMBOS``, a
number counted from the ranges without listing them. Without these a grid such as
``fast=2:1e12`` tried to list every value and ran the process out of memory, and one
outside the range ran to an empty result that blamed the minimum trade count.
"""

from __future__ import annotations

from collections.abc import Mapping

from core.bounds import shown
from core.research.optimizer import Range
from core.research.strategies import ParameterError, Strategy


class SearchTooLarge(ValueError):
    """A search that would evaluate more combinations than the limit allows."""


def check_space(strategy: Strategy, space: Mapping[str, Range]) -> int:
    """The number of combinations ``space`` lists (before the strategy's constraints
    prune any), once every range is known to lie within its parameter's declared
    range and suits its type; else a ``ParameterError`` naming the parameter."""
    known = {p.name: p for p in strategy.params}
    total = 1
    for name, bounds in space.items():
        param = known.get(name)
        if param is None:
            raise ParameterError(
                f"{strategy.id} has no parameter {name!r} (known: {', '.join(known)})"
            )
        declared = f"[{shown(param.min)}, {shown(param.max)}]"
        if bounds.start < param.min or bounds.stop > param.max:
            raise ParameterError(
                f"{name}: the grid {bounds.start:g}..{bounds.stop:g} goes outside "
                f"{name}'s range {declared}"
            )
        if param.type is int and not (
            float(bounds.start).is_integer() and float(bounds.step).is_integer()
        ):
            raise ParameterError(
                f"{name}: takes whole numbers in {declared}, so the grid's start and step "
                f"must be whole, got {bounds.start:g}:{bounds.stop:g}:{bounds.step:g}"
            )
        total *= bounds.count
    return total


def planned_evaluations(combinations: int, method: str = "grid", trials: int | None = None) -> int:
    """How many backtests a search of ``combinations`` runs with ``method``: every one
    for a grid, ``trials`` of them for random (all, by default), ``trials`` (default
    100) for TPE, which lists none."""
    if method == "tpe":
        return trials or 100
    if method == "random" and trials is not None:
        return min(trials, combinations) if combinations > 0 else trials
    return combinations


def check_size(evaluations: int, limit: int, what: str = "the search") -> None:
    """A ``SearchTooLarge`` if ``evaluations`` exceeds ``limit`` (``QD_SWEEP_MAX_COMBOS``).
    A random search lists the whole grid before it draws from it, so its grid counts."""
    if evaluations > limit:
        raise SearchTooLarge(
            f"{what} has {evaluations:,} combinations, more than QD_SWEEP_MAX_COMBOS "
            f"({limit:,}) allows: narrow the grid, widen its step or lower --trials"
        )


def checked_search(
    strategy: Strategy,
    space: Mapping[str, Range],
    method: str,
    trials: int | None,
    limit: int,
    runs: int = 1,
) -> int:
    """``check_space`` and ``check_size`` together, for a search run ``runs`` times (a
    walk-forward searches once per window); returns the evaluations planned."""
    combinations = check_space(strategy, space)
    if method != "tpe":  # grid and random searches list every combination first
        check_size(combinations, limit, "the grid")
    planned = planned_evaluations(combinations, method, trials) * runs
    check_size(planned, limit, f"the search, run {runs} times," if runs > 1 else "the search")
    return planned
