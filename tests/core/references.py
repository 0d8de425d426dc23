"""Indicators restated in pandas, independently of the numba kernels, for parity tests."""

from __future__ import annotations

import numpy as np
import pandas as pd


def pd_smoothed(values: np.ndarray, alpha: float, period: int) -> np.ndarray:
    """Exponential smoothing seeded with the mean of the first ``period`` valid values."""
    s = pd.Series(values)
    first = int(s.first_valid_index())
    out = np.full(len(s), np.nan)
    level = s.iloc[first : first + period].mean()
    out[first + period - 1] = level
    for i in range(first + period, len(s)):
        level = alpha * s.iloc[i] + (1 - alpha) * level
        out[i] = level
    return out


def pd_ema(values: np.ndarray, span: int) -> np.ndarray:
    return pd_smoothed(values, 2 / (span + 1), span)


def pd_rsi(close: np.ndarray, window: int) -> np.ndarray:
    change = pd.Series(close).diff().to_numpy()
    gain = pd_smoothed(
        np.where(np.isnan(change), np.nan, np.maximum(change, 0)), 1 / window, window
    )
    loss = pd_smoothed(
        np.where(np.isnan(change), np.nan, np.maximum(-change, 0)), 1 / window, window
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(loss == 0, np.where(gain == 0, 50.0, 100.0), 100 - 100 / (1 + gain / loss))
