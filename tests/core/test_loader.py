"""Loading OHLCV files: the right values, and a clear error for every kind of bad data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from backtesting.test import GOOG

from core.market.loader import DataFileError, load_bars

GOOD = """Date,OPEN,High,low,Close,Volume
2024-01-02,10,11,9,10.5,100
2024-01-03,10.5,12,10,11.5,200
2024-01-04,11.5,11.6,11,11.2,150
"""


def write(tmp_path: Path, text: str, name: str = "prices.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_csv_with_mixed_case_headers_and_iso_dates_loads(tmp_path: Path) -> None:
    bars = load_bars(write(tmp_path, GOOD))
    assert bars["ts"].tolist() == [
        pd.Timestamp(d, tz="UTC").timestamp() for d in ("2024-01-02", "2024-01-03", "2024-01-04")
    ]
    assert bars["close"].tolist() == [10.5, 11.5, 11.2]
    assert bars["volume"].tolist() == [100, 200, 150]
    assert all(bars[k].dtype == np.float64 for k in bars)


def test_epoch_seconds_milliseconds_and_timezones_agree(tmp_path: Path) -> None:
    base = load_bars(write(tmp_path, GOOD))["ts"]
    seconds = GOOD.replace("2024-01-02", "1704153600").replace("2024-01-03", "1704240000")
    seconds = seconds.replace("2024-01-04", "1704326400")
    millis = seconds.replace("1704153600", "1704153600000").replace("1704240000", "1704240000000")
    millis = millis.replace("1704326400", "1704326400000")
    zoned = GOOD.replace("2024-01-02", "2024-01-02T01:00:00+01:00")
    assert load_bars(write(tmp_path, seconds, "s.csv"))["ts"].tolist() == base.tolist()
    assert load_bars(write(tmp_path, millis, "ms.csv"))["ts"].tolist() == base.tolist()
    assert load_bars(write(tmp_path, zoned, "tz.csv"))["ts"][0] == base[0]


def test_missing_volume_reads_as_zero(tmp_path: Path) -> None:
    text = "\n".join(",".join(line.split(",")[:5]) for line in GOOD.splitlines())
    assert load_bars(write(tmp_path, text))["volume"].tolist() == [0, 0, 0]


def test_parquet_round_trip_gives_the_same_arrays(tmp_path: Path) -> None:
    frame = pd.read_csv(write(tmp_path, GOOD))
    frame.to_parquet(tmp_path / "prices.parquet")
    from_csv = load_bars(tmp_path / "prices.csv")
    from_parquet = load_bars(tmp_path / "prices.parquet")
    for key in from_csv:
        np.testing.assert_array_equal(from_csv[key], from_parquet[key])


def test_real_data_loads_with_the_same_closes(tmp_path: Path) -> None:
    path = tmp_path / "goog.csv"
    GOOG.rename_axis("Date").to_csv(path)
    bars = load_bars(path)
    np.testing.assert_array_equal(bars["close"], GOOG["Close"].to_numpy())
    assert bars["ts"][0] == GOOG.index[0].tz_localize("UTC").timestamp()


ROW3 = "2024-01-03,10.5,12,10,11.5,200"
ROW4 = "2024-01-04,11.5,11.6,11,11.2,150"


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        (ROW3, "2024-01-03,10.5,12,10,abc,200", "prices.csv:3 [close]: not a number"),
        (ROW3, "2024-01-03,10.5,12,10,,200", "prices.csv:3 [close]: not a number"),
        (ROW4, "2024-01-04,-1,11.6,11,11.2,150", "prices.csv:4 [open]: not a positive price"),
        (ROW3, "2024-01-03,10.5,9,10,9.5,200", "prices.csv:3 [high]: high is below low"),
        (ROW3, "2024-01-03,10.5,12,10,12.5,200", "prices.csv:3 [close]: close is outside"),
        (ROW3, "2024-01-03,10.5,12,10,11.5,-5", "prices.csv:3 [volume]: negative volume"),
        ("2024-01-04", "2024-01-03", "prices.csv:4 [date]: duplicate timestamp"),
        ("2024-01-04", "2024-01-01", "prices.csv:4 [date]: time goes backwards"),
        ("2024-01-03", "yesterday", "prices.csv:3 [date]: not a date or time"),
    ],
)
def test_bad_rows_name_the_file_line_and_column(
    tmp_path: Path, old: str, new: str, where: str
) -> None:
    with pytest.raises(DataFileError) as error:
        load_bars(write(tmp_path, GOOD.replace(old, new)))
    assert where in str(error.value)


@pytest.mark.parametrize(
    ("text", "name", "message"),
    [
        (GOOD.replace("Close", "Last"), "prices.csv", "prices.csv [close]: missing column"),
        (GOOD.replace("Date", "Day"), "prices.csv", "no time column"),
        (GOOD.replace("Volume", "Time"), "prices.csv", "several time columns: date, time"),
        ("Date,Open,High,Low,Close\n", "prices.csv", "no data rows"),
        (GOOD, "prices.xlsx", "unknown format"),
    ],
)
def test_bad_files_are_refused_with_a_reason(
    tmp_path: Path, text: str, name: str, message: str
) -> None:
    with pytest.raises(DataFileError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_bars(write(tmp_path, text, name))


def test_missing_file_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="no such file"):
        load_bars(tmp_path / "absent.csv")
