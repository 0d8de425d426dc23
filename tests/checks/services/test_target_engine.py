"""The engine items judge the target's engine, through its control API: a real Quarterdeck
serving on 127.0.0.1, read and drilled with its users' keys."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from checks.probes import REGISTRY, ProbeContext, ProbeParams, Target
from checks.probes.engine import KillSwitchParams, RiskLimitsParams, kill_switch, paper_mode
from checks.probes.engine import risk_limits as risk_limits_probe
from checks.runner import run_probe_named
from core.access import Role
from core.config import Settings
from core.events import RiskState, Verdict
from tests.console.api.conftest import Api, role_keys, serving

from .target_api import aimed_at


async def test_paper_mode_is_read_from_the_target_s_engine(api: Api) -> None:
    # The checking side says "live"; the target's engine is on paper, and that is judged.
    result = await paper_mode(aimed_at(api, Role.VIEWER), ProbeParams())
    assert result.verdict is Verdict.PASS, result.reason
    assert result.evidence["engine_mode"] == "paper"
    assert result.evidence["exchanges"][0]["url"] == f"{api.url}/api/v1/risk"


async def test_the_target_s_unset_limits_fail_naming_them(api: Api) -> None:
    result = await risk_limits_probe(aimed_at(api, Role.VIEWER), RiskLimitsParams())
    # The test settings leave every one of them unset.
    assert result.verdict is Verdict.FAIL
    assert result.evidence["unset"] == ["max_order_notional", "max_position_notional",
                                        "daily_loss_limit"]  # fmt: skip
    assert result.reason.startswith("no limit set for max_order_notional")


async def test_the_target_s_limits_pass_when_each_is_set(settings: Settings) -> None:
    limited = settings.model_copy(update={
        "risk_max_order_notional": 50_000.0, "risk_max_position_notional": 200_000.0,
        "risk_daily_loss_limit": 2_000.0})  # fmt: skip
    async with serving(limited, role_keys(limited)) as api:
        result = await risk_limits_probe(aimed_at(api, Role.VIEWER), RiskLimitsParams())
    assert result.verdict is Verdict.PASS, result.reason
    assert result.evidence["limits"] == {"max_order_notional": 50_000.0,
                                         "max_position_notional": 200_000.0,
                                         "daily_loss_limit": 2_000.0}  # fmt: skip


async def test_an_undrilled_kill_switch_only_warns(api: Api) -> None:
    result = await kill_switch(aimed_at(api, Role.VIEWER), KillSwitchParams())
    assert result.verdict is Verdict.WARN
    assert "not drilled" in result.reason
    assert api.deck.engine.execution.state is RiskState.ACTIVE


async def test_a_drill_halts_flattens_and_lifts_the_target_with_an_admin_key(api: Api) -> None:
    result = await kill_switch(aimed_at(api, Role.ADMIN), KillSwitchParams(drill=True))
    assert result.verdict is Verdict.PASS, result.reason
    assert result.evidence["state_after_kill"] == "halted"
    assert result.evidence["state_after_reset"] == "active"
    assert api.deck.engine.execution.state is RiskState.ACTIVE
    assert api.deck.engine.stopped  # strategies stay stopped until an operator starts them


async def test_a_drill_an_operator_cannot_lift_fails_saying_the_target_is_left_halted(
    api: Api,
) -> None:
    result = await kill_switch(aimed_at(api, Role.OPERATOR), KillSwitchParams(drill=True))
    assert result.verdict is Verdict.FAIL
    assert "left HALTED" in result.reason
    assert api.deck.engine.execution.state is RiskState.HALTED


@pytest.mark.parametrize("probe", ["engine.paper_mode", "engine.risk_limits",
                                   "engine.kill_switch"])  # fmt: skip
async def test_a_target_without_an_engine_api_is_an_error_not_a_verdict(
    probe: str, static_site: str, settings: Settings, wal_engine: Engine
) -> None:
    # Quarterdeck's own engine is on paper: no evidence about a target that has none.
    ctx = ProbeContext(settings, wal_engine, "paper", Target(base_url=static_site, api_key="k"))
    result = await run_probe_named(probe, {}, ctx, REGISTRY, 10.0)
    assert result.verdict is Verdict.ERROR
    assert "has no engine API" in result.reason
    assert result.evidence["scope"] == "target"
