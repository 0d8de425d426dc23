"""The quality gate: bad events are dropped, counted and announced; good ones pass."""

from __future__ import annotations

import pytest

from core.bus import Bus
from core.events import Bar, Tick
from core.market.feeds import AlertKind, FeedAlert, QualityFilter, QualitySettings


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_filter(**settings: float) -> tuple[QualityFilter, Bus, FakeClock]:
    bus, clock = Bus(), FakeClock()
    quality = QualityFilter(bus, "test", ["SPY", "QQQ"], QualitySettings(**settings), clock)
    return quality, bus, clock


def quiet_ticks(n: int, start: float = 100.0) -> list[Tick]:
    """A calm market: moves of about 0.01%, alternating in sign."""
    return [Tick("SPY", float(i), start * (1 + 0.0001 * (-1) ** i), 1.0) for i in range(n)]


def test_stale_symbol_alerts_once_and_clears_when_it_updates() -> None:
    quality, bus, clock = make_filter(stale_after=5.0)
    alerts = bus.subscribe(FeedAlert)
    clock.now += 3
    assert quality.admit(Tick("SPY", 1.0, 100.0, 1.0))
    clock.now += 3  # QQQ silent 6 s, SPY 3 s
    assert quality.check_stale() == ["QQQ"]
    assert quality.check_stale() == []  # reported once
    clock.now += 3
    assert quality.check_stale() == ["SPY"]
    assert quality.admit(Tick("QQQ", 2.0, 400.0, 1.0))
    published = [(a.kind, a.symbol, a.active) for a in alerts.drain()]
    assert published == [
        (AlertKind.STALE, "QQQ", True),
        (AlertKind.STALE, "SPY", True),
        (AlertKind.STALE, "QQQ", False),
    ]
    assert quality.stale_symbols == {"SPY"}
    assert quality.counts[AlertKind.STALE] == 2


def test_watching_again_restarts_the_staleness_clock() -> None:
    quality, _, clock = make_filter(stale_after=5.0)
    clock.now += 60
    quality.watch(["SPY", "QQQ"])
    clock.now += 3
    assert quality.check_stale() == []


def test_spike_beyond_k_sigma_is_dropped_and_the_stream_goes_on() -> None:
    quality, bus, _ = make_filter(spike_sigma=6.0, spike_window=50, spike_min_returns=20)
    alerts = bus.subscribe(FeedAlert)
    assert all(quality.admit(t) for t in quiet_ticks(30))
    assert not quality.admit(Tick("SPY", 30.0, 120.0, 1.0))
    assert quality.admit(Tick("SPY", 31.0, 100.01, 1.0))
    assert quality.counts[AlertKind.SPIKE] == 1
    [alert] = alerts.drain()
    assert alert.kind is AlertKind.SPIKE and alert.symbol == "SPY"
    assert "sigma" in alert.message


def test_spike_is_not_judged_before_enough_returns() -> None:
    quality, _, _ = make_filter(spike_min_returns=20)
    assert all(quality.admit(t) for t in quiet_ticks(5))
    assert quality.admit(Tick("SPY", 5.0, 120.0, 1.0))


def test_new_level_held_for_several_prints_is_accepted_as_a_real_move() -> None:
    quality, _, _ = make_filter(spike_accept_after=3)
    assert all(quality.admit(t) for t in quiet_ticks(30))
    outcomes = [quality.admit(Tick("SPY", 30.0 + i, 130.0, 1.0)) for i in range(4)]
    assert outcomes == [False, False, True, True]
    assert quality.counts[AlertKind.SPIKE] == 2


def test_out_of_order_tick_is_dropped() -> None:
    quality, _, _ = make_filter()
    assert quality.admit(Tick("SPY", 10.0, 100.0, 1.0))
    assert not quality.admit(Tick("SPY", 9.0, 100.0, 1.0))
    assert quality.admit(Tick("SPY", 11.0, 100.0, 1.0))
    assert quality.counts[AlertKind.OUT_OF_ORDER] == 1


def test_duplicate_timestamp_without_trade_ids_is_dropped() -> None:
    quality, _, _ = make_filter()
    assert quality.admit(Tick("SPY", 10.0, 100.0, 1.0))
    assert not quality.admit(Tick("SPY", 10.0, 100.0, 1.0))
    assert quality.counts[AlertKind.DUPLICATE] == 1


def test_trade_ids_tell_same_millisecond_trades_apart_and_catch_repeats() -> None:
    quality, _, _ = make_filter()
    assert quality.admit(Tick("SPY", 10.0, 100.0, 1.0), seq=7)
    assert quality.admit(Tick("SPY", 10.0, 100.01, 2.0), seq=8)  # same ms, new trade
    assert not quality.admit(Tick("SPY", 10.0, 100.01, 2.0), seq=8)
    assert not quality.admit(Tick("SPY", 10.5, 100.0, 1.0), seq=6)
    assert quality.counts[AlertKind.DUPLICATE] == 1
    assert quality.counts[AlertKind.OUT_OF_ORDER] == 1


def test_bars_and_ticks_are_ordered_separately_and_duplicate_bar_is_dropped() -> None:
    quality, _, _ = make_filter()
    assert quality.admit(Tick("SPY", 65.0, 100.0, 1.0))
    bar = Bar("SPY", 0.0, 100.0, 101.0, 99.0, 100.5, 10.0)
    assert quality.admit(bar)  # a bar starts before the newest tick
    assert not quality.admit(bar)
    assert quality.counts[AlertKind.DUPLICATE] == 1


@pytest.mark.parametrize(
    "event",
    [
        Tick("SPY", 1.0, 0.0, 1.0),
        Tick("SPY", 1.0, -5.0, 1.0),
        Tick("SPY", 1.0, float("nan"), 1.0),
        Bar("SPY", 1.0, 100.0, 101.0, 0.0, 100.0, 1.0),
    ],
)
def test_non_positive_price_is_dropped(event: Tick | Bar) -> None:
    quality, _, _ = make_filter()
    assert not quality.admit(event)
    assert quality.counts[AlertKind.NON_POSITIVE_PRICE] == 1


def test_negative_size_is_dropped() -> None:
    quality, _, _ = make_filter()
    assert not quality.admit(Tick("SPY", 1.0, 100.0, -1.0))
    assert quality.counts[AlertKind.NEGATIVE_SIZE] == 1


@pytest.mark.parametrize(
    ("bar", "problem"),
    [
        (Bar("SPY", 1.0, 100.0, 99.0, 101.0, 100.0, 1.0), "high 99 is below low 101"),
        (Bar("SPY", 1.0, 102.0, 101.0, 99.0, 100.0, 1.0), "open 102 is outside [low, high]"),
        (Bar("SPY", 1.0, 100.0, 101.0, 99.0, 98.0, 1.0), "close 98 is outside [low, high]"),
    ],
)
def test_crossed_bar_is_dropped_with_the_reason(bar: Bar, problem: str) -> None:
    quality, bus, _ = make_filter()
    alerts = bus.subscribe(FeedAlert)
    assert not quality.admit(bar)
    assert quality.counts[AlertKind.CROSSED_BAR] == 1
    [alert] = alerts.drain()
    assert problem in alert.message


def test_unparseable_message_is_counted_and_announced() -> None:
    quality, bus, _ = make_filter()
    alerts = bus.subscribe(FeedAlert)
    quality.reject_message("generic: not JSON: 'x'")
    assert quality.counts[AlertKind.UNPARSEABLE] == 1
    assert [(a.kind, a.message) for a in alerts.drain()] == [
        (AlertKind.UNPARSEABLE, "generic: not JSON: 'x'")
    ]


def test_bad_settings_are_refused_naming_the_setting() -> None:
    with pytest.raises(ValueError, match="spike_window"):
        QualitySettings(spike_window=1)
    with pytest.raises(ValueError, match="stale_after"):
        QualitySettings(stale_after=0)
