"""Overfitting statistics against hand calculations and their defining behaviour."""

import math
from statistics import NormalDist

import numpy as np
import pytest

from core.research.overfitting import (
    deflated_sharpe,
    expected_max_sharpe,
    probabilistic_sharpe,
    probability_of_backtest_overfitting,
)


def test_expected_max_sharpe_matches_the_formula_by_hand() -> None:
    # N = 100 trials, V[SR] = 0.5**2: sqrt(V) * ((1-g) Z(1-1/N) + g Z(1-1/(N e)))
    z = NormalDist().inv_cdf
    g = 0.5772156649015329
    expected = 0.5 * ((1 - g) * z(0.99) + g * z(1 - 1 / (100 * math.e)))
    assert expected_max_sharpe(100, 0.25) == pytest.approx(expected, rel=1e-12)
    # by hand with 4-digit z-values: 0.5 * (0.4228 * 2.3263 + 0.5772 * 2.6808) = 1.2655
    assert expected_max_sharpe(100, 0.25) == pytest.approx(1.2655, abs=5e-4)
    assert expected_max_sharpe(1, 0.25) == 0.0


def test_probabilistic_sharpe_for_normal_returns() -> None:
    # Normal returns: skew 0, kurtosis 3 -> denominator sqrt(1 + SR^2 / 2)
    value = probabilistic_sharpe(0.1, 0.0, 251, 0.0, 3.0)
    assert value == pytest.approx(NormalDist().cdf(0.1 * math.sqrt(250) / math.sqrt(1.005)))


def test_more_trials_deflate_more() -> None:
    returns = np.random.default_rng(0).normal(0.001, 0.01, 1000)
    values = [deflated_sharpe(returns, n, 0.002) for n in (1, 10, 100, 1000)]
    assert values == sorted(values, reverse=True)
    assert values[0] > 0.95 and values[-1] < values[0]


def test_pbo_of_pure_noise_is_near_one_half() -> None:
    noise = np.random.default_rng(1).normal(0, 0.01, (1600, 40))
    assert 0.25 <= probability_of_backtest_overfitting(noise, 8) <= 0.75


def test_pbo_of_a_truly_better_trial_is_near_zero() -> None:
    rng = np.random.default_rng(2)
    trials = rng.normal(0, 0.01, (1600, 40))
    trials[:, 7] += 0.01  # one trial has real, persistent skill
    assert probability_of_backtest_overfitting(trials, 8) == 0.0


def test_pbo_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError, match="even"):
        probability_of_backtest_overfitting(np.zeros((100, 3)), 3)
    with pytest.raises(ValueError, match="too few"):
        probability_of_backtest_overfitting(np.zeros((10, 3)), 8)
