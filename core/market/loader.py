"""Loading OHLCV bars from CSV or Parquet files, refusing bad data rather than fixing it.

Column names are matched case-insensitively. The time column is one of
``date``, ``time``, ``timestamp`` or ``datetime`` (a Parquet file's named
index counts as a column): real datetimes, ISO dates or times (naive means
UTC) or epoch numbers in seconds, milliseconds, microseconds or nanoseconds,
all read by ``core.market.times``. ``volume`` is optional and reads as 0
when absent. Every
problem raises ``DataFileError`` naming the file, the line (CSV, header =
line 1) or row (Parquet, first row = 1) and the column.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from core.market.history import Bars
from core.market.times import epoch_seconds

if TYPE_CHECKING:
    import pandas as pd

TIME_COLUMNS = ("date", "time", "timestamp", "datetime")
PRICE_COLUMNS = ("open", "high", "low", "close")


class DataFileError(ValueError):
    """Bad data; the message reads ``file:row [column]: problem``."""

    def __init__(self, path: Path, row: int | None, column: str | None, problem: str) -> None:
        where = f"{path.name}:{row}" if row is not None else path.name
        what = f" [{column}]" if column else ""
        super().__init__(f"{where}{what}: {problem}")
        self.path, self.row, self.column, self.problem = path, row, column, problem


Fail = Callable[[int, str, str], DataFileError]


def _read(path: Path) -> tuple[pd.DataFrame, int]:
    """The raw frame, and the offset from a row index to the number a user sees."""
    import pandas as pd  # here, not at the top: pandas costs the console's start ~0.15 s

    suffix = "".join(path.suffixes[-2:]).lower() if path.suffix == ".gz" else path.suffix.lower()
    try:
        if suffix in (".csv", ".csv.gz"):
            return pd.read_csv(path, dtype=str, keep_default_na=False), 2
        if suffix in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
            named_index = any(name is not None for name in frame.index.names)
            return (frame.reset_index() if named_index else frame), 1
    except FileNotFoundError:
        raise DataFileError(path, None, None, "no such file") from None
    except (OSError, ValueError, pd.errors.ParserError, ImportError) as exc:
        raise DataFileError(path, None, None, f"cannot be read: {exc}") from None
    raise DataFileError(path, None, None, "unknown format: use .csv, .csv.gz, .parquet or .pq")


def load_bars(path: str | Path) -> Bars:
    import pandas as pd

    path = Path(path)
    frame, offset = _read(path)
    columns = {str(c).strip().lower(): c for c in frame.columns}
    time_names = [c for c in TIME_COLUMNS if c in columns]
    if len(time_names) != 1:
        found = ", ".join(map(str, frame.columns)) or "none"
        problem = (
            "several time columns: " + ", ".join(time_names)
            if time_names
            else (f"no time column (date, time, timestamp or datetime); columns found: {found}")
        )
        raise DataFileError(path, None, None, problem)
    for name in PRICE_COLUMNS:
        if name not in columns:
            found = ", ".join(map(str, frame.columns))
            raise DataFileError(path, None, name, f"missing column; columns found: {found}")
    if frame.empty:
        raise DataFileError(path, None, None, "no data rows")

    def fail(index: int, column: str, problem: str) -> DataFileError:
        return DataFileError(path, index + offset, column, problem)

    ts = epoch_seconds(frame[columns[time_names[0]]], time_names[0], fail)
    bars: Bars = {"ts": ts}
    for name in (*PRICE_COLUMNS, "volume"):
        if name not in columns:
            bars[name] = np.zeros(len(frame))
            continue
        raw = frame[columns[name]]
        values = pd.to_numeric(raw, errors="coerce").to_numpy(np.float64)
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise fail(int(bad[0]), name, f"not a number: {raw.iloc[bad[0]]!r}")
        bars[name] = np.ascontiguousarray(values)
    _check(bars, time_names[0], fail)
    return bars


def _check(bars: Bars, time_column: str, fail: Fail) -> None:
    """The first row that breaks a rule, in row order of the rules below."""
    open_, high, low, close = (bars[k] for k in PRICE_COLUMNS)
    rules = [
        (np.minimum.reduce([open_, high, low, close]) <= 0, None, "not a positive price"),
        (high < low, "high", "high is below low"),
        ((open_ < low) | (open_ > high), "open", "open is outside [low, high]"),
        ((close < low) | (close > high), "close", "close is outside [low, high]"),
        (bars["volume"] < 0, "volume", "negative volume"),
    ]
    steps = np.diff(bars["ts"])
    first_bad: list[tuple[int, int, str, str]] = []  # row, rule order, column, problem
    for order, (mask, column, problem) in enumerate(rules):
        rows = np.flatnonzero(mask)
        if rows.size:
            row = int(rows[0])
            if column is None:  # name the first non-positive price column in that row
                column = next(k for k in PRICE_COLUMNS if bars[k][row] <= 0)
                problem = f"{problem}: {bars[column][row]:g}"
            first_bad.append((row, order, column, problem))
    for rows, problem in ((np.flatnonzero(steps == 0), "duplicate timestamp"),
                          (np.flatnonzero(steps < 0), "time goes backwards")):  # fmt: skip
        if rows.size:
            first_bad.append((int(rows[0]) + 1, len(rules), time_column, problem))
    if first_bad:
        row, _, column, problem = min(first_bad)
        raise fail(row, column, problem)
