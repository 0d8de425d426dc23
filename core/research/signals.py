"""Signal codes and building blocks shared by strategy kernels.

A strategy kernel returns, for every bar, either the position wanted from
that bar's close on (``LONG``, ``FLAT``, ``SHORT``) or ``HOLD``: no new
instruction, keep whatever position is held. Expressing signals as events
rather than a running state means the signal of the newest bar depends only
on a bounded look-back, so the live engine can compute it from a trailing
window and get exactly what the backtest gets from the whole history.
"""

from __future__ import annotations

import numpy as np
from numba import njit

LONG = 1
FLAT = 0
SHORT = -1
HOLD = -128


@njit(cache=True, nogil=True)
def crossover_signals(fast: np.ndarray, slow: np.ndarray, allow_short: bool) -> np.ndarray:
    """``LONG`` where ``fast`` crosses above ``slow``; ``SHORT`` (or ``FLAT`` when
    shorting is not allowed) where it crosses below; ``HOLD`` elsewhere.

    A cross at bar i means fast < slow at i-1 and fast > slow at i (strictly,
    both ways), the same definition as backtesting.py's ``crossover``. Bars
    where either series is NaN hold.
    """
    n = fast.shape[0]
    out = np.full(n, HOLD, dtype=np.int8)
    down = SHORT if allow_short else FLAT
    for i in range(1, n):
        a0, b0, a1, b1 = fast[i - 1], slow[i - 1], fast[i], slow[i]
        if np.isnan(a0) or np.isnan(b0) or np.isnan(a1) or np.isnan(b1):
            continue
        if a0 < b0 and a1 > b1:
            out[i] = LONG
        elif a0 > b0 and a1 < b1:
            out[i] = down
    return out
