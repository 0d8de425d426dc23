"""Every strategy in the registry: complete, causal, warmed up, exact over its look-back,
and trading on real data."""

from __future__ import annotations

import re

import numpy as np
import pytest

from core.research.backtest import BacktestConfig
from core.research.runner import run_backtest
from core.research.signals import HOLD
from core.research.strategies import REGISTRY, Family, Strategy
from tests.core.data import random_bars, sp500

STRATEGIES = sorted(REGISTRY.values(), key=lambda s: s.id)
IDS = [s.id for s in STRATEGIES]
N = 900


def slice_bars(bars: dict[str, np.ndarray], start: int, stop: int) -> dict[str, np.ndarray]:
    return {name: column[start:stop].copy() for name, column in bars.items()}


def alternative_params(strategy: Strategy, seed: int) -> dict[str, int | float]:
    """A valid parameter set away from the defaults: each parameter moved a few steps."""
    rng = np.random.default_rng(seed)
    for _ in range(200):
        values = {}
        for p in strategy.params:
            steps = int(rng.integers(-3, 4))
            value = min(max(p.default + steps * p.step, p.min), p.max)
            values[p.name] = p.type(round(value, 10))
        if all(holds(values) for _, holds in strategy.constraints):
            return values
    return strategy.defaults()


def test_the_library_has_at_least_65_strategies_in_every_family() -> None:
    assert len(REGISTRY) >= 65
    assert {s.family for s in STRATEGIES} == set(Family) - {Family.CUSTOM}  # CUSTOM: users'


@pytest.mark.parametrize("strategy", STRATEGIES, ids=IDS)
def test_definition_is_complete_and_self_consistent(strategy: Strategy) -> None:
    assert re.fullmatch(r"[a-z][a-z0-9_]*", strategy.id)
    assert strategy.name and len(strategy.description) > 60
    names = [p.name for p in strategy.params]
    assert len(names) == len(set(names))
    for p in strategy.params:
        assert p.min <= p.default <= p.max and p.step > 0, p
        assert isinstance(p.default, p.type), p
    strategy.resolve({})  # the defaults pass their own constraints
    # the Pine template defines the entries and uses every parameter
    assert re.search(r"^longEntry =", strategy.pine, re.M)
    assert re.search(r"^shortEntry =", strategy.pine, re.M)
    for name in names:
        assert re.search(rf"\b{name}\b", strategy.pine), f"pine ignores {name}"


@pytest.mark.parametrize("strategy", STRATEGIES, ids=IDS)
def test_no_look_ahead_changing_later_bars_never_changes_earlier_signals(
    strategy: Strategy,
) -> None:
    bars = random_bars(N, seed=1)
    params = strategy.defaults()
    full = strategy.signals(bars, params, "both")
    for t in (300, 600):
        changed = {k: v.copy() for k, v in bars.items()}
        rng = np.random.default_rng(t)
        factor = np.exp(rng.normal(0.0, 0.05, N - t - 1))
        for column in ("open", "high", "low", "close"):
            changed[column][t + 1 :] *= factor
        changed["volume"][t + 1 :] = rng.uniform(1e5, 1e6, N - t - 1).round()
        again = strategy.signals(changed, params, "both")
        np.testing.assert_array_equal(again[: t + 1], full[: t + 1])
        truncated = strategy.signals(slice_bars(bars, 0, t + 1), params, "both")
        np.testing.assert_array_equal(truncated, full[: t + 1])


@pytest.mark.parametrize("strategy", STRATEGIES, ids=IDS)
def test_no_signal_before_the_indicators_exist(strategy: Strategy) -> None:
    for seed in (2, 3):
        params = alternative_params(strategy, seed) if seed == 3 else strategy.defaults()
        signals = strategy.signals(random_bars(N, seed), params, "both")
        # a time exit looks back `hold` bars beyond the indicators' warm-up
        first = strategy.lookback(params) - 1 - int(params.get("hold", 0))
        assert (signals[:first] == HOLD).all(), (params, np.flatnonzero(signals != HOLD)[:3])
        assert (signals[first:] != HOLD).any(), params


@pytest.mark.parametrize("strategy", [s for s in STRATEGIES if not s.recursive], ids=str)
def test_windowed_signal_is_exact_over_its_look_back(strategy: Strategy) -> None:
    """What the live engine relies on: the last ``lookback`` bars give the signal."""
    bars = random_bars(N, seed=4)
    for params in (strategy.defaults(), alternative_params(strategy, 5)):
        full = strategy.signals(bars, params, "both")
        window = strategy.lookback(params)
        for t in range(window - 1, N, 7):
            recent = strategy.signals(slice_bars(bars, t - window + 1, t + 1), params, "both")
            assert recent[-1] == full[t], (params, t)


@pytest.fixture(scope="module")
def real_bars() -> dict[str, np.ndarray]:
    return sp500()


@pytest.mark.parametrize("strategy", STRATEGIES, ids=IDS)
def test_trades_on_real_data_with_its_defaults(
    strategy: Strategy, real_bars: dict[str, np.ndarray]
) -> None:
    for direction in (None, "both"):
        result = run_backtest(strategy, real_bars, config=BacktestConfig(direction=direction))
        closed = [t for t in result.trades if t.exit_time is not None]
        assert closed, direction
        assert np.isfinite(result.metrics["equity_final"]) and result.metrics["equity_final"] > 0
        if direction is None and strategy.direction == "long":
            assert all(t.size > 0 for t in result.trades)
