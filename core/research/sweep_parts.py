"""What every sweep path shares: the one-combination evaluation kernel, the backtest
settings as kernel arrays, chunking, and the lock parallel kernels are entered under.

Parallel kernels are entered one at a time per process: numba's fallback
threading layer (workqueue) aborts the process when two threads launch parallel
kernels at once, and one sweep already uses every core.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np
from numba import njit

from core.research.backtest import BacktestConfig, backtest_kernel
from core.research.metrics import metrics_kernel

ProgressCallback = Callable[[int, int], None]
PARALLEL = threading.Lock()


class Cancelled(Exception):
    """The caller asked the search to stop."""


@njit(cache=True, nogil=True)
def evaluate_signals(
    open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray,
    signals: np.ndarray, settings: np.ndarray, flags: np.ndarray, years: float, ppy: float,
) -> np.ndarray:  # fmt: skip
    """Backtest ``signals`` and return the metrics vector.

    ``settings`` = [cash, size, commission, fixed_fee, slippage, stop_loss,
    take_profit]; ``flags`` = [fill_on_close, whole_units, close_at_end].
    """
    equity, index, price, numbers, count = backtest_kernel(
        open_, high, low, close, signals,
        settings[0], settings[1], settings[2], settings[3], settings[4],
        flags[0], flags[1], settings[5], settings[6], flags[2],
    )  # fmt: skip
    return metrics_kernel(equity, settings[0], years, ppy, index, price, numbers, count)


def settings_arrays(config: BacktestConfig) -> tuple[np.ndarray, np.ndarray]:
    settings = np.array([
        config.cash, config.size, config.commission, config.fixed_fee,
        config.slippage_bps / 10_000.0, config.stop_loss or 0.0, config.take_profit or 0.0,
    ])  # fmt: skip
    flags = np.array([config.fill == "close", config.units == "whole", config.close_at_end])
    return settings, flags


def chunks(total: int, size: int) -> list[range]:
    return [range(i, min(i + size, total)) for i in range(0, total, size)]
