"""How much of an optimised result is luck: the deflated Sharpe ratio and the
probability of backtest overfitting.

- Deflated Sharpe ratio (Bailey and López de Prado, 2014): the probability
  that the selected strategy's true Sharpe ratio is above zero, given that it
  was the best of ``trials`` tries whose Sharpe ratios have variance
  ``trial_sharpe_variance``, and given the skewness and kurtosis of its
  returns. All Sharpe ratios here are per period (not annualised).
- Probability of backtest overfitting by combinatorially symmetric
  cross-validation (Bailey, Borwein, López de Prado and Zhu, 2017): split the
  T x N matrix of per-period returns of N trials into S row blocks; for every
  choice of S/2 blocks as in-sample, take the trial with the best in-sample
  Sharpe and find its relative rank out-of-sample; PBO is the share of
  choices where that rank is at or below the median (logit <= 0).
"""

from __future__ import annotations

import itertools
import math
from statistics import NormalDist

import numpy as np

EULER_GAMMA = 0.5772156649015329
_NORMAL = NormalDist()


def expected_max_sharpe(trials: int, trial_sharpe_variance: float) -> float:
    """The Sharpe ratio the best of ``trials`` skill-less tries reaches by chance."""
    if trials < 1:
        raise ValueError("trials must be at least 1")
    if trials == 1:
        return 0.0
    inverse = _NORMAL.inv_cdf
    return math.sqrt(trial_sharpe_variance) * (
        (1 - EULER_GAMMA) * inverse(1 - 1 / trials)
        + EULER_GAMMA * inverse(1 - 1 / (trials * math.e))
    )


def probabilistic_sharpe(
    sharpe: float, benchmark: float, observations: int, skewness: float, kurtosis: float
) -> float:
    """P(true Sharpe > benchmark) for an observed per-period ``sharpe`` over
    ``observations`` returns; ``kurtosis`` is the plain (not excess) kurtosis."""
    if observations < 2:
        raise ValueError("need at least two observations")
    spread = 1 - skewness * sharpe + (kurtosis - 1) / 4 * sharpe**2
    if spread <= 0:
        raise ValueError("skewness and kurtosis give a non-positive variance")
    return _NORMAL.cdf((sharpe - benchmark) * math.sqrt(observations - 1) / math.sqrt(spread))


def deflated_sharpe(returns: np.ndarray, trials: int, trial_sharpe_variance: float) -> float:
    """The deflated Sharpe ratio of the selected strategy's per-period ``returns``."""
    returns = np.asarray(returns, dtype=np.float64)
    std = returns.std(ddof=1)
    if returns.size < 2 or std == 0:
        raise ValueError("returns need at least two values and some variation")
    sharpe = returns.mean() / std
    centred = returns - returns.mean()
    population_std = returns.std(ddof=0)
    skewness = float(np.mean(centred**3) / population_std**3)
    kurtosis = float(np.mean(centred**4) / population_std**4)
    benchmark = expected_max_sharpe(trials, trial_sharpe_variance)
    return probabilistic_sharpe(sharpe, benchmark, returns.size, skewness, kurtosis)


def _sharpe_columns(block: np.ndarray) -> np.ndarray:
    std = block.std(axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        sharpe = block.mean(axis=0) / std
    return np.where(std > 0, sharpe, -np.inf)


def probability_of_backtest_overfitting(returns: np.ndarray, partitions: int = 16) -> float:
    """PBO of choosing the best of the N columns of the T x N ``returns`` matrix."""
    returns = np.asarray(returns, dtype=np.float64)
    if returns.ndim != 2 or returns.shape[1] < 2:
        raise ValueError("returns must be a T x N matrix with at least two trials")
    if partitions < 2 or partitions % 2:
        raise ValueError("partitions must be an even number of at least 2")
    rows = returns.shape[0] // partitions * partitions
    if rows < 2 * partitions:
        raise ValueError(f"{returns.shape[0]} periods are too few for {partitions} partitions")
    blocks = np.array_split(returns[:rows], partitions)
    trials = returns.shape[1]
    overfit = 0
    combos = list(itertools.combinations(range(partitions), partitions // 2))
    for chosen in combos:
        in_sample = np.vstack([blocks[i] for i in chosen])
        out_of_sample = np.vstack([blocks[i] for i in range(partitions) if i not in chosen])
        best = int(np.argmax(_sharpe_columns(in_sample)))
        oos = _sharpe_columns(out_of_sample)
        rank = int(np.sum(oos < oos[best])) + 1  # 1 = worst, N = best
        relative = rank / (trials + 1)
        if math.log(relative / (1 - relative)) <= 0:
            overfit += 1
    return overfit / len(combos)
