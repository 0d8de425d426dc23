"""engine.reconcile and engine.strategies against a real Quarterdeck serving its API on
127.0.0.1, its simulator trading for real."""

from __future__ import annotations

import copy
from pathlib import Path

from checks.probes.engine_books import (
    ReconcileParams,
    StrategiesParams,
    consistent_reads,
    discrepancies,
    reconcile,
    strategies,
)
from checks.probes.http.client import ProbeClient
from checks.probes.target_engine import TargetEngine
from core.config import Settings
from core.events import Verdict
from tests.console.api.conftest import Api, role_keys, serving
from tests.console.api.test_trading_routes import fills_seen

from .target_api import aimed_at


async def test_a_trading_account_reconciles_with_its_fills(api: Api) -> None:
    await fills_seen(api.deck, 4)
    result = await reconcile(aimed_at(api), ReconcileParams())
    assert result.verdict is Verdict.PASS, result.reason
    assert result.evidence["fills"] >= 4
    assert result.evidence["discrepancies"] == []
    assert result.reason.startswith(f"{result.evidence['fills']} fill(s) reconcile: cash ")


async def test_books_that_do_not_add_up_are_named_with_both_sides(api: Api) -> None:
    await fills_seen(api.deck, 2)
    async with ProbeClient(aimed_at(api).target) as http:
        portfolio, fills = await consistent_reads(TargetEngine(http), ReconcileParams())
    assert discrepancies(portfolio, fills, 0.01) == []
    cooked = copy.deepcopy(portfolio)
    cooked["cash"] += 5.0
    found = discrepancies(cooked, fills, 0.01)
    assert found[0] == (f"cash is {cooked['cash']:,.2f}, but {portfolio['cash']:,.2f} "
                        "from the fills")  # fmt: skip
    lost = fills[1:]
    assert any(f"{fills[0]['symbol']} position is " in line for line in
               discrepancies(portfolio, lost, 0.01))  # fmt: skip


async def test_every_strategy_loads(api: Api) -> None:
    result = await strategies(aimed_at(api), StrategiesParams(min_strategies=60,
                                                              required=["sma_cross"]))  # fmt: skip
    assert result.verdict is Verdict.PASS, result.reason
    assert result.evidence["loaded"] >= 60
    missing = await strategies(aimed_at(api), StrategiesParams(required=["no_such_strategy"]))
    assert missing.verdict is Verdict.FAIL
    assert missing.reason == "missing from the library: no_such_strategy"


async def test_a_strategy_that_does_not_load_fails(
    strategy_folder: Path, settings: Settings
) -> None:
    (strategy_folder / "broken.py").write_text("def signals(:\n")
    async with serving(settings, role_keys(settings)) as api:
        result = await strategies(aimed_at(api), StrategiesParams())
    assert result.verdict is Verdict.FAIL
    assert result.reason.startswith("1 did not load: ")
    assert "broken.py:1" in result.reason
