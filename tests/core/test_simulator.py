import numpy as np
import pytest

from core.bus import Bus
from core.events import Bar, Tick
from core.market import BarAggregator, PriceSimulator, SimulatorFeed
from core.market.history import periods_per_year, simulated_bars
from core.market.simulator import on_ticks


def test_same_seed_gives_same_prices() -> None:
    a = PriceSimulator("BTCUSD", seed=42, step_seconds=1.0)
    b = PriceSimulator("BTCUSD", seed=42, step_seconds=1.0)
    for _ in range(3):
        pa, sa = a.next_block(500)
        pb, sb = b.next_block(500)
        np.testing.assert_array_equal(pa, pb)
        np.testing.assert_array_equal(sa, sb)


def test_different_seed_gives_different_prices() -> None:
    a, _ = PriceSimulator("BTCUSD", seed=1, step_seconds=1.0).next_block(100)
    b, _ = PriceSimulator("BTCUSD", seed=2, step_seconds=1.0).next_block(100)
    assert not np.array_equal(a, b)


def test_path_does_not_depend_on_block_sizes() -> None:
    # The live feed steps in blocks whose sizes follow the wall clock; the
    # prices must depend on the seed alone.
    whole, whole_sizes = PriceSimulator("SPY", seed=3, step_seconds=1.0).next_block(1000)
    split = PriceSimulator("SPY", seed=3, step_seconds=1.0)
    blocks = [split.next_block(n) for n in (1, 7, 250, 3, 739)]
    np.testing.assert_array_equal(whole, np.concatenate([b[0] for b in blocks]))
    np.testing.assert_array_equal(whole_sizes, np.concatenate([b[1] for b in blocks]))


def test_prices_are_positive_and_on_the_tick_grid() -> None:
    simulator = PriceSimulator("EURUSD", seed=5, step_seconds=1.0)
    prices, sizes = simulator.next_block(20_000)
    assert (prices > 0).all()
    assert (sizes > 0).all()
    ticks = prices / simulator.profile.tick_size
    np.testing.assert_allclose(ticks, np.round(ticks), atol=1e-6)


@pytest.mark.parametrize(("symbol", "places"), [("EURUSD", 5), ("SPY", 2), ("BTCUSD", 2)])
def test_prices_are_the_floats_of_their_tick_decimals(symbol: str, places: int) -> None:
    """A price reads as the decimal it is (1.07998), never 1.0799800000000002."""
    simulator = PriceSimulator(symbol, seed=5, step_seconds=1.0)
    prices = simulator.next_block(5_000)[0]
    assert all(float(f"{p:.{places}f}") == p for p in prices)
    assert max(len(repr(float(p)).split(".")[1]) for p in prices) <= places


def test_on_ticks_rounds_to_the_nearest_multiple_of_any_tick() -> None:
    values = np.array([1.079984, 101.13, 101.12, 1234.6])
    assert on_ticks(values[:1], 0.00001).tolist() == [1.07998]
    assert on_ticks(values[1:3], 0.25).tolist() == [101.25, 101.0]
    assert on_ticks(values[3:], 5.0).tolist() == [1235.0]


def test_log_return_volatility_matches_the_profile() -> None:
    simulator = PriceSimulator("SPY", seed=11, step_seconds=60.0)
    prices, _ = simulator.next_block(200_000)
    returns = np.diff(np.log(prices))
    annual = returns.std() * np.sqrt(365.25 * 24 * 60)
    p = simulator.profile
    # Between the calm and stressed regimes' volatilities, jumps included.
    assert p.calm_volatility * 0.9 < annual < p.stressed_volatility


def test_symbol_path_is_independent_of_other_symbols() -> None:
    bus_a, bus_b = Bus(), Bus()
    sub_a = bus_a.subscribe(Tick)
    sub_b = bus_b.subscribe(Tick)
    SimulatorFeed(bus_a, ["SPY"], 9, 100, 1.0, 5, start_ts=0).step(50)
    SimulatorFeed(bus_b, ["BTCUSD", "SPY"], 9, 100, 1.0, 5, start_ts=0).step(50)
    spy_a = [t.price for t in sub_a.drain()]
    spy_b = [t.price for t in sub_b.drain() if t.symbol == "SPY"]
    assert spy_a == spy_b


def test_feed_publishes_ticks_and_closed_bars_in_time_order() -> None:
    bus = Bus()
    events = bus.subscribe(Tick, Bar)
    feed = SimulatorFeed(
        bus, ["SPY", "BTCUSD"], 1, 100, step_seconds=1.0, bar_seconds=5, start_ts=0
    )
    feed.step(21)
    published = events.drain()
    ticks = [e for e in published if isinstance(e, Tick)]
    bars = [e for e in published if isinstance(e, Bar)]
    assert len(ticks) == 42
    assert feed.ticks == 42
    # ticks at t=1..21: bars [0,5) [5,10) [10,15) [15,20) closed for each symbol
    assert sorted({b.ts for b in bars}) == [0, 5, 10, 15]
    assert len(bars) == 8
    spy_ticks = [t for t in ticks if t.symbol == "SPY"]
    first_bar = next(b for b in bars if b.symbol == "SPY" and b.ts == 5)
    in_bar = [t.price for t in spy_ticks if 5 <= t.ts < 10]
    assert first_bar.open == in_bar[0]
    assert first_bar.close == in_bar[-1]
    assert first_bar.high == max(in_bar)
    assert first_bar.low == min(in_bar)


def test_aggregator_emits_a_bar_only_when_it_is_complete() -> None:
    aggregator = BarAggregator("X", 60)
    assert aggregator.add(0, 10.0, 1) is None
    assert aggregator.add(30, 12.0, 2) is None
    assert aggregator.add(59.9, 9.0, 3) is None
    bar = aggregator.add(60, 11.0, 4)
    assert bar == Bar("X", 0, 10.0, 12.0, 9.0, 9.0, 6.0)
    assert aggregator.add(125, 13.0, 1) == Bar("X", 60, 11.0, 11.0, 11.0, 11.0, 4.0)


def test_aggregator_skips_empty_buckets() -> None:
    aggregator = BarAggregator("X", 10)
    aggregator.add(1, 1.0, 1)
    bar = aggregator.add(35, 2.0, 1)
    assert bar is not None and bar.ts == 0
    assert aggregator.add(41, 3.0, 1).ts == 30


def test_aggregator_rejects_non_positive_length() -> None:
    with pytest.raises(ValueError):
        BarAggregator("X", 0)


def test_simulated_bars_are_consistent_ohlc() -> None:
    bars = simulated_bars("BTCUSD", seed=1, bars=500, bar_seconds=3600, step_seconds=60)
    assert len(bars["close"]) == 500
    assert (bars["high"] >= np.maximum(bars["open"], bars["close"])).all()
    assert (bars["low"] <= np.minimum(bars["open"], bars["close"])).all()
    assert np.all(np.diff(bars["ts"]) == 3600)


def test_periods_per_year_counts_bars_over_the_calendar_span() -> None:
    hourly = np.arange(0, 365.25 * 24 * 3600 * 2, 3600.0)
    assert periods_per_year(hourly) == pytest.approx(365.25 * 24, rel=1e-3)
    # daily bars on weekdays only: about 261 a year
    days = np.array([d * 86400.0 for d in range(3 * 365) if d % 7 not in (5, 6)])
    assert periods_per_year(days) == pytest.approx(261, rel=0.01)
