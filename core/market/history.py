"""Bar histories as columns of numpy arrays, and simulated ones for demos and tests."""

from __future__ import annotations

import numpy as np

from core.market.simulator import PriceSimulator

Bars = dict[str, np.ndarray]  # ts, open, high, low, close, volume


def simulated_bars(
    symbol: str,
    seed: int,
    bars: int,
    bar_seconds: float,
    step_seconds: float,
    start_ts: float = 1_767_225_600.0,  # 2026-01-01T00:00:00Z
) -> Bars:
    """``bars`` OHLCV bars built from the same tick process as the live simulator."""
    per_bar = max(1, round(bar_seconds / step_seconds))
    prices, sizes = PriceSimulator(symbol, seed, step_seconds).next_block(bars * per_bar)
    prices = prices.reshape(bars, per_bar)
    sizes = sizes.reshape(bars, per_bar)
    return {
        "ts": start_ts + bar_seconds * np.arange(bars, dtype=np.float64),
        "open": prices[:, 0].copy(),
        "high": prices.max(axis=1),
        "low": prices.min(axis=1),
        "close": prices[:, -1].copy(),
        "volume": sizes.sum(axis=1),
    }


def periods_per_year(ts: np.ndarray) -> float:
    """Bars per year observed in ``ts`` (seconds): intervals divided by the span in years.

    Counting bars over the calendar span, rather than taking the typical bar
    spacing, gives about 252 for daily stock data (no weekend bars) and 365
    for markets that trade every day.
    """
    if ts.size < 2:
        return 252.0
    span_years = float(ts[-1] - ts[0]) / (365.25 * 24 * 3600)
    return (ts.size - 1) / span_years if span_years > 0 else 252.0
