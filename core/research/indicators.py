"""Indicator kernels. Each returns an array as long as its input, NaN during warm-up.

Compiled with ``nogil`` so sweeps can run them in worker threads, and cached
so only the first run on a machine pays for compilation.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def sma(values: np.ndarray, window: int) -> np.ndarray:
    """Simple moving average: mean of the last ``window`` values, first at index window-1.

    A running sum, re-summed every ``window`` steps so rounding error cannot
    accumulate over long series.
    """
    n = values.shape[0]
    out = np.full(n, np.nan)
    if window < 1 or window > n:
        return out
    total = 0.0
    for i in range(window):
        total += values[i]
    out[window - 1] = total / window
    for i in range(window, n):
        if (i - window + 1) % window == 0:
            total = 0.0
            for j in range(i - window + 1, i + 1):
                total += values[j]
        else:
            total += values[i] - values[i - window]
        out[i] = total / window
    return out
