"""The one reader of a data file's time column: every form of time to epoch seconds.

A column holds one of three forms, and each is read on its own scale:

- real datetimes (a Parquet timestamp column, any unit; naive means UTC);
- text: ISO dates or times (naive means UTC), as CSV files hold them;
- epoch numbers in seconds, milliseconds, microseconds or nanoseconds.

An epoch number's unit is told by its magnitude alone. Only instants from
1973-03-03 (1e8 s) to 2262-04-11 (the last nanosecond time an int64 holds)
are accepted: in that window the four units' ranges do not overlap, so no
number can be read two ways. A number outside every range (``0``, a
``20240102`` date, a truncated value) is refused rather than guessed, and so
is a column that mixes units. Integers are converted exactly, through
integer nanoseconds; fractional numbers are divided once.

Every refusal is a ``DataFileError`` made by the caller's ``fail(row, column,
problem)``, so it names the file, the row and the column.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

Fail = Callable[[int, str, str], Exception]

UNITS = ("seconds", "milliseconds", "microseconds", "nanoseconds")
#: Nanoseconds per unit, in ``UNITS`` order.
NANOS = (1_000_000_000, 1_000_000, 1_000, 1)
EARLIEST_SECONDS = 100_000_000  # 1973-03-03T09:46:40Z
LATEST_SECONDS = 9_223_372_036  # 2262-04-11T23:47:16Z
WINDOW = "1973-03-03 to 2262-04-11"
_INT64_MAX = np.iinfo(np.int64).max


def epoch_seconds(raw: pd.Series, column: str, fail: Fail) -> np.ndarray:
    """Seconds since 1970-01-01 UTC (float64) of each value of a time column."""
    import pandas as pd

    if isinstance(raw.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(raw.dtype):
        return _from_datetimes(raw, column, fail)
    numeric = pd.to_numeric(raw, errors="coerce") if not _is_bool(raw) else None
    if numeric is not None and pd.notna(numeric.iloc[0]):
        missing = np.flatnonzero(numeric.isna().to_numpy())
        if missing.size:
            row = int(missing[0])
            raise fail(row, column, f"not an epoch number: {raw.iloc[row]!r}")
        return _from_epochs(numeric, column, fail)
    text = raw.astype(str)
    parsed = pd.to_datetime(text, errors="coerce", utc=True, format="mixed")
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if bad.size:
        row = int(bad[0])
        raise fail(row, column, f"not a date or time: {text.iloc[row]!r}")
    return _from_datetimes(parsed, column, fail)


def _is_bool(raw: pd.Series) -> bool:
    import pandas as pd

    return pd.api.types.is_bool_dtype(raw.dtype)


def nanoseconds_to_seconds(ns: np.ndarray) -> np.ndarray:
    """Whole seconds plus the fraction, so whole-second instants convert exactly."""
    whole, part = np.divmod(ns, 1_000_000_000)
    return whole.astype(np.float64) + part.astype(np.float64) / 1e9


def _from_datetimes(raw: pd.Series, column: str, fail: Fail) -> np.ndarray:
    missing = np.flatnonzero(raw.isna().to_numpy())
    if missing.size:
        raise fail(int(missing[0]), column, "no time (an empty or NaT value)")
    if raw.dt.tz is not None:
        raw = raw.dt.tz_convert("UTC").dt.tz_localize(None)
    values = raw.to_numpy()
    unit, _ = np.datetime_data(values.dtype)
    ticks = values.view(np.int64)
    scale = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}.get(unit)
    if scale is None:  # days or coarser: exact in nanoseconds for any date numpy holds
        ticks = values.astype("datetime64[ns]").view(np.int64)
        scale = 1
    outside = np.flatnonzero(np.abs(ticks) > _INT64_MAX // scale)
    if outside.size:
        row = int(outside[0])
        raise fail(row, column, f"time out of range (1677-09-21 to 2262-04-11): {raw.iloc[row]}")
    return nanoseconds_to_seconds(ticks * scale)


def _from_epochs(numeric: pd.Series, column: str, fail: Fail) -> np.ndarray:
    integers = numeric.dtype.kind in "iu"
    values = numeric.to_numpy(np.float64)  # exact enough to tell the unit
    unit = np.full(values.size, -1)
    for k, nanos in enumerate(NANOS):
        per = 1_000_000_000 // nanos  # units per second
        unit[(values >= EARLIEST_SECONDS * per) & (values <= LATEST_SECONDS * per)] = k
    unknown = np.flatnonzero(unit < 0)
    if unknown.size:
        row = int(unknown[0])
        raise fail(
            row,
            column,
            f"not a time: {numeric.iloc[row]} is no epoch in seconds, milliseconds, "
            f"microseconds or nanoseconds from {WINDOW}",
        )
    mixed = np.flatnonzero(unit != unit[0])
    if mixed.size:
        row = int(mixed[0])
        raise fail(
            row,
            column,
            f"epoch in {UNITS[unit[row]]} where the first row is in {UNITS[unit[0]]}: "
            f"{numeric.iloc[row]}",
        )
    k = int(unit[0])
    if integers or np.all(values == np.floor(values)):
        whole = numeric.to_numpy(np.int64) if integers else values.astype(np.int64)
        return nanoseconds_to_seconds(whole * NANOS[k])
    return values / (1_000_000_000 // NANOS[k])
