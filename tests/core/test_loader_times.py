"""The time column: every way of writing the same instants loads to the same bars, and a
time that cannot be read on one scale is refused naming the file, row and column."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from core.market.loader import DataFileError, load_bars
from core.market.times import EARLIEST_SECONDS, LATEST_SECONDS, NANOS, nanoseconds_to_seconds

PRICES = {"open": 10.0, "high": 11.0, "low": 9.0, "close": 10.5, "volume": 100.0}
ZONES = ("UTC", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe")


@st.composite
def instants(draw: st.DrawFn) -> tuple[int, np.ndarray]:
    """A resolution (index into ``NANOS``) and 1-6 rising instants, in nanoseconds, on it."""
    resolution = draw(st.integers(0, len(NANOS) - 1))
    step = NANOS[resolution]
    latest = LATEST_SECONDS - 86_400  # a local time zone's wall clock must fit too
    low, high = EARLIEST_SECONDS * 1_000_000_000 // step, latest * 1_000_000_000 // step
    ticks = draw(st.lists(st.integers(low, high), min_size=1, max_size=6, unique=True))
    ns = np.array(sorted(ticks), dtype=np.int64) * step
    # Bars are timed in float seconds (a microsecond or so at today's epochs): instants
    # closer than that are one time to the loader, which refuses them as duplicates.
    assume(np.unique(nanoseconds_to_seconds(ns)).size == ns.size)
    return resolution, ns


def frame(times: object, column: str) -> pd.DataFrame:
    data = {column: times, **{k: [v] * len(times) for k, v in PRICES.items()}}  # type: ignore[arg-type]
    return pd.DataFrame(data)


def written(folder: Path, resolution: int, ns: np.ndarray, zone: str) -> dict[str, Path]:
    """The same instants as every kind of file the loader reads, by a name for the form."""
    naive = pd.Series(ns.astype("datetime64[ns]"))
    zoned = naive.dt.tz_localize("UTC").dt.tz_convert(zone)
    frames = {
        "parquet datetime naive": (frame(naive, "timestamp"), "parquet"),
        "parquet datetime tz-aware": (frame(zoned, "Date"), "parquet"),
        "csv iso text with offset": (frame(zoned.map(pd.Timestamp.isoformat), "time"), "csv"),
        "parquet datetime index": (frame(naive, "datetime").set_index("datetime"), "parquet"),
    }
    for unit in range(resolution, len(NANOS)):  # every unit fine enough to hold the instants
        epochs = ns // NANOS[unit]
        frames[f"csv epoch unit {unit}"] = (frame(epochs, "timestamp"), "csv")
        frames[f"parquet epoch unit {unit}"] = (frame(epochs, "timestamp"), "parquet")
    paths = {}
    for i, (name, (table, kind)) in enumerate(frames.items()):
        path = folder / f"{i}.{kind}"
        if kind == "csv":
            table.to_csv(path, index=False)
        else:
            table.to_parquet(path, index=table.index.name is not None)
        paths[name] = path
    return paths


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=instants(), zone=st.sampled_from(ZONES))
def test_every_form_of_the_same_instants_loads_to_the_same_bars(
    drawn: tuple[int, np.ndarray], zone: str
) -> None:
    resolution, ns = drawn
    expected = nanoseconds_to_seconds(ns)
    with tempfile.TemporaryDirectory() as folder:
        for name, path in written(Path(folder), resolution, ns, zone).items():
            bars = load_bars(path)
            np.testing.assert_array_equal(bars["ts"], expected, err_msg=name)
            assert bars["close"].tolist() == [PRICES["close"]] * ns.size, name


@settings(max_examples=60, deadline=None)
@given(seconds=st.integers(EARLIEST_SECONDS, LATEST_SECONDS))
def test_whole_second_instants_are_exact_in_every_unit(seconds: int) -> None:
    for nanos in NANOS:
        ticks = np.array([seconds * (1_000_000_000 // nanos)], dtype=np.int64)
        assert nanoseconds_to_seconds(ticks * nanos)[0] == float(seconds)


def test_fractional_epoch_seconds_keep_their_fraction(tmp_path: Path) -> None:
    path = tmp_path / "prices.csv"
    frame(["1704153600.25", "1704153600.5"], "timestamp").to_csv(path, index=False)
    assert load_bars(path)["ts"].tolist() == [1704153600.25, 1704153600.5]


def write_times(tmp_path: Path, times: list, name: str, column: str = "timestamp") -> Path:
    path = tmp_path / name
    table = frame(times, column)
    if name.endswith(".csv"):
        table.to_csv(path, index=False)
    else:
        table.to_parquet(path, index=False)
    return path


SECONDS = [1_704_153_600, 1_704_240_000, 1_704_326_400]


@pytest.mark.parametrize(
    ("times", "name", "column", "message"),
    [
        (
            [*SECONDS[:2], 20240104],
            "prices.csv",
            "timestamp",
            "prices.csv:4 [timestamp]: not a time: 20240104 is no epoch in seconds, "
            "milliseconds, microseconds or nanoseconds from 1973-03-03 to 2262-04-11",
        ),
        ([0, *SECONDS[1:]], "prices.parquet", "time", "prices.parquet:1 [time]: not a time: 0"),
        (
            [SECONDS[0], 50_000_000_000, SECONDS[2]],  # between seconds and milliseconds
            "prices.parquet",
            "timestamp",
            "prices.parquet:2 [timestamp]: not a time: 50000000000",
        ),
        (
            [SECONDS[0], SECONDS[1], SECONDS[2] * 1000],
            "prices.parquet",
            "timestamp",
            "prices.parquet:3 [timestamp]: epoch in milliseconds where the first row is in seconds",
        ),
        (
            [str(SECONDS[0]), "", str(SECONDS[2])],
            "prices.csv",
            "date",
            "prices.csv:3 [date]: not an epoch number: ''",
        ),
        (
            [float(SECONDS[0]), float("nan"), float(SECONDS[2])],
            "prices.parquet",
            "timestamp",
            "prices.parquet:2 [timestamp]: not an epoch number",
        ),
        (
            pd.to_datetime(["2024-01-02", None, "2024-01-04"]),
            "prices.parquet",
            "datetime",
            "prices.parquet:2 [datetime]: no time",
        ),
        (
            ["2024-01-02", "2024-01-03", "soon"],
            "prices.csv",
            "date",
            "prices.csv:4 [date]: not a date or time: 'soon'",
        ),
    ],
)
def test_unreadable_times_are_refused_naming_file_row_and_column(
    tmp_path: Path, times: list, name: str, column: str, message: str
) -> None:
    with pytest.raises(DataFileError) as error:
        load_bars(write_times(tmp_path, times, name, column))
    assert str(error.value).startswith(message)


def test_a_datetime_column_beyond_nanosecond_time_is_refused(tmp_path: Path) -> None:
    times = pd.Series(np.array(["2024-01-02", "2300-01-01"], dtype="datetime64[s]"))
    with pytest.raises(DataFileError, match=r"prices.parquet:2 \[timestamp\]: time out of range"):
        load_bars(write_times(tmp_path, times, "prices.parquet"))


def test_instants_closer_than_the_seconds_scale_are_refused_as_duplicates(tmp_path: Path) -> None:
    # 1 ns apart in 2023: one float second to the loader (its resolution there is ~0.2 µs).
    ns = np.array([1_700_000_000_000_000_000, 1_700_000_000_000_000_001], dtype=np.int64)
    path = tmp_path / "close.csv"
    frame(ns, "timestamp").to_csv(path, index=False)
    with pytest.raises(DataFileError, match=r"close\.csv:3 \[timestamp\]: duplicate timestamp"):
        load_bars(path)
