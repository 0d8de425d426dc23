"""Quarterdeck's strategy SDK: the one public module a strategy file imports.

A strategy is a function of the bars and its parameters that returns boolean
arrays, one value per bar::

    import pandas as pd
    from core.sdk import Param, strategy

    @strategy(
        id="channel_breakout",
        name="Channel breakout",
        params=[Param("n", int, default=20, min=2, max=200, step=1),
                Param("m", int, default=10, min=2, max=200, step=1)],
    )
    def channel_breakout(bars, n, m):
        close = bars["close"]
        upper = pd.Series(bars["high"]).rolling(n).max().shift(1).to_numpy()
        lower = pd.Series(bars["low"]).rolling(m).min().shift(1).to_numpy()
        return close > upper, close < lower

``bars`` maps ``open``, ``high``, ``low``, ``close`` and ``volume`` to read-only
float arrays. Return ``(entries, exits)`` for the long side, or ``(long_entries,
long_exits, short_entries, short_exits)``. A signal on bar t is read at its
close and fills by the run's fill rule (the next open by default), exactly as
the built-ins' do. The decorated function stays a plain function (call it in
your own tests); the strategy it defines is ``fn.__quarterdeck_strategy__``.

For speed, two richer forms:

- **Declared features.** ``features=[Feature("upper", channel_high, ("n",),
  inputs=("high",)), ...]`` names each indicator the rule uses, the parameters
  it depends on and the bar columns it reads: ``channel_high(high, n)`` returns
  one float per bar. The decorated function is then the rule of them,
  ``fn(bars, upper, lower, n, m)`` (features and parameters by name), and a
  sweep computes each feature once per distinct value of its parameters, not
  once per combination.
- **A numba function.** ``@strategy(...)`` on an ``@njit`` function: numba takes
  no dict of arrays, so it is called positionally,
  ``fn(open, high, low, close, volume, *features, *params)`` (the features, if
  declared, then the parameters, each in declared order; ``int`` parameters as
  integers), returning a tuple of 2 or 4 boolean arrays as above. A sweep runs
  it, with the backtest, for every combination in one parallel kernel; with
  declared features (numba or not) it sweeps at the built-ins' speed. The
  first sweep of it in a process compiles that kernel (a few seconds).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from core.research.features import Feature
from core.research.strategies.base import Direction, Family, Param, ParameterError, Params, Strategy
from core.research.strategies.user import (
    ATTRIBUTE,
    Constraint,
    StrategyCodeError,
    UserFunction,
    as_strategy,
    sample_bars,
)


def strategy(
    *,
    id: str,
    name: str,
    params: Sequence[Param] = (),
    constraints: Sequence[Constraint] = (),
    family: Family | str = Family.CUSTOM,
    description: str = "",
    direction: Direction | str | None = None,
    pine: str = "",
    lookback: int | Callable[[Params], int] | None = None,
    features: Sequence[Feature] = (),
) -> Callable[[UserFunction], UserFunction]:
    """Declare ``fn(bars, **params)`` a Quarterdeck strategy.

    - ``id``: unique, lowercase letters, digits and ``_``; it may not be a built-in's.
    - ``params``: ``Param(name, int | float, default=, min=, max=, step=)``, each
      passed to the function by name; sweeps and the optimizer range over them.
    - ``constraints``: ``("slow > fast", lambda p: p["slow"] > p["fast"])`` pairs
      every parameter set must satisfy (the defaults included).
    - ``family``: one of ``trend``, ``mean reversion``, ``volume``,
      ``volatility/breakout``, ``pattern``, ``custom`` (the default).
    - ``description``: shown in the listing and reports (default: the docstring).
    - ``direction``: the side(s) it trades by default; without it, ``long`` for a
      function returning two arrays, ``both`` for four.
    - ``pine``: a Pine Script v6 body defining ``longEntry`` and ``shortEntry`` (and
      optionally ``longExit``, ``shortExit``) from the parameters, for the Pine export.
    - ``lookback``: the bars ending at bar t that its signal at t needs (an int or a
      function of the parameters), for the live engine; without it, a guess.
    - ``features``: ``Feature(name, kernel, params, inputs=("close",))`` for each
      indicator the rule uses; the function then takes them by name (see above).

    The function is called once on sample bars when the decorator runs, so a broken
    one is reported (file and line) when its file loads, not in the middle of a run.
    """

    def decorate(fn: UserFunction) -> UserFunction:
        made = as_strategy(
            fn, id=id, name=name, params=params, constraints=constraints, family=family,
            description=description, direction=direction, pine=pine, lookback=lookback,
            features=features,
        )  # fmt: skip
        setattr(fn, ATTRIBUTE, made)
        return fn

    return decorate


__all__ = [
    "Direction",
    "Family",
    "Feature",
    "Param",
    "ParameterError",
    "Params",
    "Strategy",
    "StrategyCodeError",
    "sample_bars",
    "strategy",
]
