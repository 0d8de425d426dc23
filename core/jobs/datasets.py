"""Where a job's bars come from: a data file, or ``sim:SYMBOL`` for simulated bars."""

from __future__ import annotations

from core.market.history import Bars, simulated_bars
from core.market.loader import load_bars

SIMULATED = "sim:"


def dataset_bars(spec: str, seed: int = 0, count: int = 5_000) -> Bars:
    """Bars for a dataset spec: a CSV/Parquet path (``DataFileError`` names any
    problem) or ``sim:SYMBOL``, ``count`` simulated hourly bars from ``seed``."""
    if spec.startswith(SIMULATED):
        return simulated_bars(spec[len(SIMULATED) :], seed, count, 3_600.0, 60.0)
    return load_bars(spec)
