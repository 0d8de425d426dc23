"""engine.risk_limits and the engine.kill_switch drill."""

from __future__ import annotations

import math

import pytest
from pydantic import ValidationError

from checks.probes import REGISTRY, ProbeParams
from checks.probes.engine import KillSwitchParams, RiskLimitsParams, kill_switch, risk_limits
from core.config import Settings
from core.events import Verdict
from core.trading.engine import LiveEngine
from core.trading.execution import Execution

from .conftest import MakeContext


def test_engine_probes_are_registered() -> None:
    assert REGISTRY.get("engine.risk_limits").params is RiskLimitsParams
    assert REGISTRY.get("engine.kill_switch").params is KillSwitchParams
    assert RiskLimitsParams().required == [
        "max_order_notional", "max_position_notional", "daily_loss_limit",
    ]  # fmt: skip


async def test_configured_risk_limits_pass(make_ctx: MakeContext) -> None:
    settings = Settings(
        risk_max_order_notional=50_000, risk_max_position_notional=200_000,
        risk_daily_loss_limit=10_000,
    )  # fmt: skip
    result = await risk_limits(make_ctx(settings), RiskLimitsParams())
    assert result.verdict is Verdict.PASS
    assert result.evidence["limits"] == {
        "max_order_notional": 50_000.0, "max_position_notional": 200_000.0,
        "daily_loss_limit": 10_000.0,
    }  # fmt: skip


async def test_unset_risk_limits_fail_naming_them(make_ctx: MakeContext) -> None:
    settings = Settings(risk_max_order_notional=50_000, risk_daily_loss_limit=math.inf)
    result = await risk_limits(make_ctx(settings), RiskLimitsParams())
    assert result.verdict is Verdict.FAIL
    assert result.reason == (
        "no limit set for max_position_notional, daily_loss_limit "
        "(QD_RISK_MAX_POSITION_NOTIONAL, QD_RISK_DAILY_LOSS_LIMIT)"
    )
    assert result.evidence["unset"] == ["max_position_notional", "daily_loss_limit"]
    assert result.evidence["limits"]["daily_loss_limit"] is None
    only_order = await risk_limits(
        make_ctx(settings), RiskLimitsParams(required=["max_order_notional"])
    )
    assert only_order.verdict is Verdict.PASS


def test_unknown_risk_limit_name_is_rejected() -> None:
    with pytest.raises(ValidationError, match="unknown risk limit"):
        RiskLimitsParams(required=["max_leverage"])


async def test_kill_switch_drill_passes(make_ctx: MakeContext) -> None:
    result = await kill_switch(make_ctx(), ProbeParams())
    assert result.verdict is Verdict.PASS, result.reason
    before, after = result.evidence["before"], result.evidence["after"]
    assert before["state"] == "active" and before["positions"] and before["open_orders"] == 1
    assert after == {"positions": {}, "open_orders": 0, "state": "halted"}
    assert result.evidence["kill_events"] == 1
    assert result.evidence["cancelled_orders"] == 1
    assert len(result.evidence["flattening_fills"]) == 1
    assert result.evidence["flattening_fills"][0].startswith("sell ")


async def test_kill_switch_that_does_not_flatten_fails(
    make_ctx: MakeContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fault injection: a kill switch that halts and cancels but never flattens."""
    monkeypatch.setattr(Execution, "_flatten", lambda self, tick: None)
    monkeypatch.setattr(LiveEngine, "_flatten_books", lambda self, tick: None)
    result = await kill_switch(make_ctx(), ProbeParams())
    assert result.verdict is Verdict.FAIL
    assert "positions still open: {'DRILL':" in result.reason
    assert result.evidence["after"]["state"] == "halted"
    assert result.evidence["flattening_fills"] == []


async def test_kill_switch_that_leaves_orders_working_fails(
    make_ctx: MakeContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Execution, "cancel", lambda self, order_id, reason, ts: None)
    result = await kill_switch(make_ctx(), ProbeParams())
    assert result.verdict is Verdict.FAIL
    assert "1 order(s) still working" in result.reason


async def test_the_default_daily_loss_limit_is_two_percent_of_the_starting_cash(
    make_ctx: MakeContext,
) -> None:
    settings = Settings(starting_cash=500_000)
    result = await risk_limits(make_ctx(settings), RiskLimitsParams(required=["daily_loss_limit"]))
    assert result.verdict is Verdict.PASS
    assert result.evidence["limits"] == {"daily_loss_limit": 10_000.0}
