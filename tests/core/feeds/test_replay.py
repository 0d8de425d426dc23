"""Replaying OHLCV files: a Tick at each bar's open then the Bar, paced by the bars' times."""

from __future__ import annotations

import asyncio
import math
import time
from pathlib import Path

import pandas as pd
import pytest

from core.bus import Bus
from core.events import Bar, FeedState, Tick
from core.market.feeds import FileReplayFeed
from core.market.history import simulated_bars
from core.market.loader import DataFileError

START = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def write_bars(path: Path, count: int, spacing: float) -> Path:
    bars = simulated_bars("SPY", seed=4, bars=count, bar_seconds=60, step_seconds=1.0)
    frame = pd.DataFrame({k: bars[k] for k in ("open", "high", "low", "close", "volume")})
    frame.insert(0, "timestamp", START + spacing * frame.index)
    if path.suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_csv(path, index=False)
    return path


def expected_events(path: Path) -> list[Tick | Bar]:
    frame = pd.read_csv(path) if path.suffix == ".csv" else pd.read_parquet(path)
    events: list[Tick | Bar] = []
    for row in frame.itertuples(index=False):
        events.append(Tick("SPY", row.timestamp, row.open, 0.0))
        events.append(Bar("SPY", row.timestamp, row.open, row.high, row.low, row.close, row.volume))
    return events


class FakeTime:
    """A monotonic clock that only moves when the feed sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


async def replay(feed: FileReplayFeed) -> float:
    """Run ``feed`` to its end; the wall-clock seconds it took."""
    begun = time.perf_counter()
    feed.start()
    async with asyncio.timeout(10):
        await feed.wait()
    return time.perf_counter() - begun


async def test_replay_at_full_speed_publishes_tick_then_bar_for_every_row_in_order(
    tmp_path: Path,
) -> None:
    path = write_bars(tmp_path / "spy.csv", 1000, 60.0)
    bus = Bus()
    events = bus.subscribe(Tick, Bar, maxsize=5000)
    feed = FileReplayFeed(bus, path, "SPY", speed=None, yield_every=200)
    seen_midway: list[int] = []

    async def watch() -> None:
        while not feed.finished.is_set():
            seen_midway.append(feed.bars)
            await asyncio.sleep(0)

    watcher = asyncio.create_task(watch())
    await replay(feed)
    await watcher
    published = events.drain()
    assert published == expected_events(path)
    assert (feed.ticks, feed.bars, feed.total) == (1000, 1000, 1000)
    assert any(0 < n < 1000 for n in seen_midway)  # the replay yielded to the loop
    assert feed.status().state is FeedState.STOPPED
    assert feed.error is None


async def test_replay_sleeps_follow_bar_times_divided_by_speed(tmp_path: Path) -> None:
    path = write_bars(tmp_path / "spy.csv", 5, 60.0)
    fake = FakeTime()
    feed = FileReplayFeed(Bus(), path, "SPY", speed=30.0, clock=fake.clock, sleep=fake.sleep)
    await replay(feed)
    assert fake.sleeps == [pytest.approx(2.0)] * 4
    assert feed.ticks == 5


async def test_replay_at_speed_one_is_paced_in_real_time(tmp_path: Path) -> None:
    path = write_bars(tmp_path / "spy.csv", 3, 0.2)
    bus = Bus()
    events = bus.subscribe(Tick, Bar)
    elapsed = await replay(FileReplayFeed(bus, path, "SPY", speed=1.0))
    assert elapsed >= 0.3  # 0.4 s of bar time
    assert [type(e) for e in events.drain()] == [Tick, Bar] * 3


async def test_replay_at_high_speed_sleeps_the_scaled_time(tmp_path: Path) -> None:
    path = write_bars(tmp_path / "spy.csv", 21, 60.0)  # 20 minutes of bars
    fake = FakeTime()
    feed = FileReplayFeed(Bus(), path, "SPY", speed=6000.0, clock=fake.clock, sleep=fake.sleep)
    await replay(feed)
    assert sum(fake.sleeps) == pytest.approx(0.2)  # 1,200 s of bars at 6,000x


async def test_replay_of_parquet_publishes_the_same_events(tmp_path: Path) -> None:
    path = write_bars(tmp_path / "spy.parquet", 50, 60.0)
    bus = Bus()
    events = bus.subscribe(Tick, Bar)
    await replay(FileReplayFeed(bus, path, "SPY", speed=math.inf))
    assert events.drain() == expected_events(path)


async def test_replay_of_bad_file_reports_data_file_error_naming_line_and_column(
    tmp_path: Path,
) -> None:
    path = tmp_path / "prices.csv"
    path.write_text("time,open,high,low,close\n1767225600,10,11,9,10.5\n1767225660,10,11,9,x\n")
    bus = Bus()
    events = bus.subscribe(Tick, Bar)
    feed = FileReplayFeed(bus, path, "SPY", speed=None)
    with pytest.raises(DataFileError, match=r"prices.csv:3 \[close\]: not a number: 'x'"):
        await replay(feed)
    assert feed.finished.is_set() and feed.state is FeedState.STOPPED
    assert events.drain() == []


async def test_replay_stopped_midway_stops_and_signals_the_end(tmp_path: Path) -> None:
    path = write_bars(tmp_path / "spy.csv", 3, 60.0)  # a minute between bars at speed 1
    bus = Bus()
    ticks = bus.subscribe(Tick)
    feed = FileReplayFeed(bus, path, "SPY", speed=1.0)
    feed.start()
    async with asyncio.timeout(5):
        await ticks.get()
        assert feed.state is FeedState.LIVE
        await feed.stop()
    assert feed.finished.is_set()
    assert (feed.state, feed.ticks) == (FeedState.STOPPED, 1)


@pytest.mark.parametrize("speed", [0.0, -1.0, math.nan])
def test_replay_refuses_a_speed_that_is_not_positive(tmp_path: Path, speed: float) -> None:
    with pytest.raises(ValueError, match="speed must be positive or None"):
        FileReplayFeed(Bus(), tmp_path / "spy.csv", "SPY", speed=speed)
