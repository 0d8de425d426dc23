"""Where a job's bars come from: a data file, ``sim:SYMBOL`` for simulated bars, or
``catalog:ID`` for a dataset of the data catalog (``core.market.catalog``)."""

from __future__ import annotations

from core.market.catalog import Catalog, UnknownDataset
from core.market.history import Bars, simulated_bars
from core.market.loader import load_bars

SIMULATED = "sim:"
CATALOGUED = "catalog:"


def dataset_bars(
    spec: str, seed: int = 0, count: int = 5_000, catalog: Catalog | None = None
) -> Bars:
    """Bars for a dataset spec: a CSV/Parquet path (``DataFileError`` names any
    problem), ``sim:SYMBOL``, ``count`` simulated hourly bars from ``seed``, or
    ``catalog:ID`` from ``catalog`` (``UnknownDataset`` if it has no such id)."""
    if spec.startswith(SIMULATED):
        return simulated_bars(spec[len(SIMULATED) :], seed, count, 3_600.0, 60.0)
    if spec.startswith(CATALOGUED):
        if catalog is None:
            raise UnknownDataset(f"{spec}: this process has no data catalog")
        return catalog.bars(spec[len(CATALOGUED) :])
    return load_bars(spec)
