"""The risk governor: pre-trade limits, loss limits, the kill switch and resets."""

from __future__ import annotations

import pytest

from core.events import LimitUsage, Side
from core.trading.orders import OrderRequest
from core.trading.risk import RiskGovernor, RiskLimits, RiskState

DAY = 86_400.0


def buy(quantity: float = 1.0) -> OrderRequest:
    return OrderRequest("s", "X", Side.BUY, quantity)


def sell(quantity: float = 1.0) -> OrderRequest:
    return OrderRequest("s", "X", Side.SELL, quantity)


def test_pre_trade_limits_name_what_was_exceeded() -> None:
    governor = RiskGovernor(
        RiskLimits(max_order_notional=1_000, max_position_notional=1_500, max_open_orders=2),
        10_000,
    )
    assert governor.check(buy(9), 100.0, 0.0, 0, 1.0) is None
    assert governor.check(buy(11), 100.0, 0.0, 0, 1.0) == (
        "risk: order notional 1100.00 exceeds 1000.00"
    )
    assert governor.check(buy(6), 100.0, 10.0, 0, 1.0).startswith(
        "risk: position notional would be 1600.00, over the 1500.00 limit for X"
    )
    assert governor.check(sell(6), 100.0, 20.0, 0, 1.0) is None  # reducing is always allowed
    assert governor.check(buy(1), 100.0, 0.0, 2, 1.0) == "risk: 2 open orders, the most allowed"


def test_order_rate_limit_uses_a_sliding_second() -> None:
    governor = RiskGovernor(RiskLimits(max_orders_per_second=2), 10_000)
    assert governor.check(buy(), 1.0, 0.0, 0, 10.0) is None
    assert governor.check(buy(), 1.0, 0.0, 0, 10.5) is None
    assert governor.check(buy(), 1.0, 0.0, 0, 10.9) == "risk: more than 2 orders in one second"
    assert governor.check(buy(), 1.0, 0.0, 0, 11.01) is None  # the order at 10.0 has aged out


def test_daily_loss_moves_to_reducing_and_then_only_reductions_pass() -> None:
    governor = RiskGovernor(RiskLimits(daily_loss_limit=500), 10_000, ts=0.0)
    assert governor.observe(9_600, 100.0) == []
    events = governor.observe(9_500, 200.0)
    assert [(e.kind, e.previous, e.state) for e in events] == [
        ("breach", RiskState.ACTIVE, RiskState.ACTIVE),
        ("transition", RiskState.ACTIVE, RiskState.REDUCING),
    ]
    assert events[1].who == "risk governor" and "daily loss 500.00" in events[1].why
    assert governor.check(buy(), 10.0, 5.0, 0, 300.0) == (
        "risk: reducing only, and this order adds exposure"
    )
    assert governor.check(sell(5), 10.0, 5.0, 0, 300.0) is None
    assert governor.check(sell(6), 10.0, 5.0, 0, 300.0) is not None  # would flip to short
    assert governor.observe(9_000, 400.0) == []  # already reducing: no new transition
    governor.observe(9_000, DAY + 1)  # a new day does not lift it
    assert governor.state is RiskState.REDUCING


def test_a_new_day_starts_a_new_loss_budget() -> None:
    governor = RiskGovernor(RiskLimits(daily_loss_limit=500), 10_000, ts=0.0)
    governor.observe(9_600, 3_600.0)
    governor.observe(9_600, DAY + 10)  # the day's first equity is 9,600
    assert governor.observe(9_200, DAY + 20) == []
    assert usage(governor)["daily loss"].fraction == pytest.approx(400 / 500)
    assert governor.observe(9_100, DAY + 30)[1].state is RiskState.REDUCING


def test_drawdown_halts_and_only_an_operator_reset_resumes() -> None:
    governor = RiskGovernor(RiskLimits(max_drawdown=0.10), 10_000)
    governor.observe(12_000, 1.0)
    assert usage(governor)["drawdown"].fraction == 0
    events = governor.observe(10_800, 2.0)  # 10% below the 12,000 peak
    assert events[-1].state is RiskState.HALTED and "drawdown 10.00%" in events[-1].why
    assert governor.check(sell(), 1.0, 5.0, 0, 3.0) == "risk: trading is halted"
    with pytest.raises(ValueError, match="who and why"):
        governor.reset("", "because", 4.0)
    reset = governor.reset("alice", "limits reviewed", 4.0)
    assert (reset.kind, reset.previous, reset.state, reset.who) == (
        "reset",
        RiskState.HALTED,
        RiskState.ACTIVE,
        "alice",
    )
    assert governor.observe(10_800, 5.0) == []  # the peak restarted at the reset


def test_kill_switch_halts_from_any_state() -> None:
    governor = RiskGovernor(RiskLimits(), 10_000)
    event = governor.kill("bob", "runaway strategy", 7.0)
    assert (event.kind, event.previous, event.state) == ("kill", RiskState.ACTIVE, RiskState.HALTED)
    assert governor.state is RiskState.HALTED


@pytest.mark.parametrize(
    "limits",
    [{"max_order_notional": 0}, {"max_drawdown": 0}, {"max_drawdown": 1.5},
     {"max_open_orders": 0}, {"daily_loss_limit": -1}],
)  # fmt: skip
def test_nonsense_limits_are_refused(limits: dict) -> None:
    with pytest.raises(ValueError):
        RiskLimits(**limits)


def usage(governor: RiskGovernor, exposures: dict[str, float] | None = None,
          open_orders: int = 0, ts: float = 0.0) -> dict[str, LimitUsage]:  # fmt: skip
    return {u.name: u for u in governor.usage(exposures or {}, open_orders, ts)}


def test_usage_measures_the_distance_to_every_limit() -> None:
    limits = RiskLimits(
        max_order_notional=1_000, max_position_notional=5_000, max_open_orders=10,
        max_orders_per_second=4, daily_loss_limit=2_000, max_drawdown=0.5,
    )  # fmt: skip
    governor = RiskGovernor(limits, 10_000)
    assert governor.check(buy(30), 10.0, 0.0, 0, 100.0) is None  # 300 notional
    assert governor.check(buy(60), 10.0, 30.0, 1, 100.5) is None  # 600 notional
    governor.observe(9_000, 100.5)  # lost 1,000 today, 10% below the peak
    found = usage(governor, {"AAA": 900.0, "BBB": 2_500.0}, open_orders=3, ts=100.9)
    assert {name: (u.used, u.limit) for name, u in found.items()} == {
        "order notional": (600.0, 1_000),
        "position notional": (2_500.0, 5_000),
        "open orders": (3, 10),
        "orders per second": (2, 4),
        "daily loss": (1_000.0, 2_000),
        "drawdown": (pytest.approx(0.1), 0.5),
    }
    assert found["position notional"].detail == "BBB"
    assert found["orders per second"].fraction == 0.5
    later = usage(governor, ts=101.2)  # the 100.0 order left the one-second window
    assert later["orders per second"].used == 1
    governor.observe(9_000, DAY + 1)
    assert usage(governor, ts=DAY + 1)["order notional"].used == 0  # a new day


def test_an_unset_limit_reads_as_unused() -> None:
    governor = RiskGovernor(RiskLimits(), 10_000)
    found = usage(governor, {"AAA": 1e9})
    assert found["position notional"].fraction == 0.0
    assert governor.snapshot({}, 0, 0.0).state is RiskState.ACTIVE


def test_restore_takes_up_a_journaled_state_without_new_events() -> None:
    governor = RiskGovernor(RiskLimits(), 10_000)
    governor.restore(RiskState.REDUCING)
    assert governor.state is RiskState.REDUCING
    assert governor.check(buy(), 10.0, 0.0, 0, 1.0) is not None
