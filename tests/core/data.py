"""Real daily data shipped by PyPI packages, as Quarterdeck bar columns."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from core.market.history import Bars


def bars_from(frame: pd.DataFrame) -> Bars:
    """Columns ts (epoch seconds), open, high, low, close, volume from an OHLCV frame."""
    return {
        "ts": frame.index.to_numpy(dtype="datetime64[s]").astype(np.int64).astype(np.float64),
        "open": frame["Open"].to_numpy(np.float64),
        "high": frame["High"].to_numpy(np.float64),
        "low": frame["Low"].to_numpy(np.float64),
        "close": frame["Close"].to_numpy(np.float64),
        "volume": frame["Volume"].to_numpy(np.float64),
    }


@functools.cache
def sp500_frame() -> pd.DataFrame:
    """S&P 500 daily OHLCV, 1999-2018 (5,031 bars), as the arch package ships it."""
    from arch.data import sp500

    return sp500.load()


def sp500() -> Bars:
    return bars_from(sp500_frame())


def random_bars(n: int, seed: int) -> Bars:
    """A random walk with consistent OHLC (high >= open, close >= low) and volume."""
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.015, n)))
    open_ = np.empty(n)
    open_[0] = close[0]
    open_[1:] = close[:-1] * np.exp(rng.normal(0.0, 0.004, n - 1))
    top = np.maximum(open_, close)
    bottom = np.minimum(open_, close)
    return {
        "ts": np.arange(n, dtype=np.float64) * 86_400.0,
        "open": open_,
        "high": top * (1.0 + rng.uniform(0.0, 0.01, n)),
        "low": bottom * (1.0 - rng.uniform(0.0, 0.01, n)),
        "close": close,
        "volume": rng.uniform(1e5, 1e6, n).round(),
    }
