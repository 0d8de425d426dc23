"""Trend-following strategies."""

from __future__ import annotations

import numpy as np
from numba import njit

from core.research.indicators import sma
from core.research.signals import crossover_signals
from core.research.strategies.base import Direction, Family, Param, Strategy


@njit(cache=True, nogil=True)
def sma_cross_signal(
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    volume: np.ndarray,
    fast: int,
    slow: int,
) -> np.ndarray:
    return crossover_signals(sma(close, fast), sma(close, slow), False)


SMA_CROSS = Strategy(
    id="sma_cross",
    name="SMA crossover",
    family=Family.TREND,
    direction=Direction.LONG,
    description=(
        "Goes long when the fast simple moving average of the close crosses above the "
        "slow one and exits when it crosses back below. Signals are taken at the bar's "
        "close; nothing trades until both averages exist."
    ),
    params=(
        Param("fast", int, 10, 2, 200, 1, "bars in the fast average"),
        Param("slow", int, 30, 3, 400, 1, "bars in the slow average"),
    ),
    signal=sma_cross_signal,
    lookback=lambda p: int(p["slow"]) + 1,
    constraints=(("fast < slow", lambda p: p["fast"] < p["slow"]),),
)
