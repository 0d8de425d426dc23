"""Tick-to-order latency: the recorder's ring and quantiles, the simulator's due times,
and the engine recording one sample per order placed on a tick."""

from __future__ import annotations

import time

from core.bus import Bus
from core.events import Tick
from core.market import SimulatorFeed
from core.trading.latency import LatencyRecorder


def test_recorder_keeps_the_newest_samples_and_counts_every_one() -> None:
    recorder = LatencyRecorder(kept=3)
    assert recorder.quantile(0.5) is None
    for value in (5.0, 1.0, 2.0, 3.0):
        recorder.record(value)
    assert recorder.samples() == [1.0, 2.0, 3.0]
    assert recorder.count == 4
    assert recorder.total == 11.0
    assert recorder.quantile(0.0) == 1.0
    assert recorder.quantile(0.5) == 2.0
    assert recorder.quantile(0.99) == 3.0


def test_simulator_due_time_follows_its_wall_clock_schedule() -> None:
    feed = SimulatorFeed(Bus(), ["SPY"], seed=1, tick_rate=100.0, step_seconds=1.0,
                         bar_seconds=60, start_ts=6_000.0)  # fmt: skip
    tick = Tick("SPY", 6_010.0, 100.0, 1.0)
    assert feed.due(tick) is None  # not running: nothing was scheduled
    feed._schedule = (500.0, 6_000.0)  # as ``_run`` records when it starts
    assert feed.due(tick) == 500.0 + 10 / 100.0  # the tenth step, at 100 steps a second
    assert feed.due(Tick("SPY", 6_000.0, 100.0, 1.0)) is None  # from before the run


def test_simulator_on_another_clock_gives_no_due_time() -> None:
    feed = SimulatorFeed(Bus(), ["SPY"], seed=1, tick_rate=100.0, step_seconds=1.0,
                         bar_seconds=60, start_ts=6_000.0, clock=lambda: 0.0)  # fmt: skip
    feed._schedule = (0.0, 6_000.0)
    assert feed.due(Tick("SPY", 6_010.0, 100.0, 1.0)) is None


def test_engine_records_a_sample_per_trading_tick_from_its_due_time() -> None:
    from core.market.history import simulated_bars
    from core.research.strategies import get_strategy
    from core.trading.engine import LiveEngine, StrategySpec
    from tests.core.test_engine import feed

    bars = simulated_bars("BTCUSD", 17, 600, 3600, 60)
    engine = LiveEngine(Bus(), [StrategySpec(get_strategy("sma_cross"), {"fast": 5, "slow": 20},
                                             ("BTCUSD",), 100_000.0)], run_id="t")  # fmt: skip
    due_at = time.monotonic() - 2.0  # every tick was due two seconds ago
    engine.tick_due = lambda tick: due_at
    feed(engine, "BTCUSD", bars)
    samples = engine.tick_to_order.samples()
    assert engine.orders > 0
    assert 0 < len(samples) <= engine.orders  # one per tick that traded, before its orders
    assert all(sample >= 2.0 for sample in samples)
