"""runbook.rehearsed reads real runs of a runbook, executed and audited into a real store."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pytest

from checks import ProbeContext
from checks.probes import Scope, Target
from checks.probes.reach import OutOfReach
from checks.probes.rehearsal import RehearsedParams, rehearsed
from checks.runbooks.execute import audit_to, execute_runbook
from core.access import Principal, Role
from core.config import Settings
from core.events import Verdict
from core.store import Store

OLGA = Principal("olga", Role.OPERATOR)
TARGET = "https://prod.example:8443"


@dataclass
class Step:
    id: str
    command: str
    kind: str = "shell"
    timeout: float | None = 5.0
    probe: str | None = None
    params: dict = field(default_factory=dict)
    instructions: str = ""
    title: str = "a step"


@dataclass
class Runbook:
    steps: list[Step]
    id: str = "rollback"
    title: str = "Rollback"
    rto_minutes: float = 5.0


@pytest.fixture
def ctx(settings: Settings, store: Store) -> ProbeContext:
    return ProbeContext(settings, store.engine, "paper", Target(base_url=TARGET))


async def run(store: Store, ctx: ProbeContext, book: Runbook, dry_run: bool = False) -> None:
    async def yes(step: object) -> bool:
        return True

    await execute_runbook(book, actor=OLGA, confirm=yes, audit=audit_to(store, OLGA),
                          probe_context=ctx, dry_run=dry_run)  # fmt: skip


async def test_a_recent_real_run_within_its_rto_passes(store: Store, ctx: ProbeContext) -> None:
    await run(store, ctx, Runbook([Step("switch", "true")]))
    result = await rehearsed(ctx, RehearsedParams())
    assert result.verdict is Verdict.PASS, result.reason
    assert " by olga, 0.0 days ago: rollback succeeded in 00:00, within the 5-minute RTO" in (
        result.reason
    )
    assert result.evidence["real_runs"] == 1
    too_old = await rehearsed(ctx, RehearsedParams(max_age_days=1e-9))
    assert too_old.verdict is Verdict.FAIL
    assert too_old.reason.startswith("the last run was 0 days ago (max 1e-09)")


async def test_dry_runs_and_runs_against_other_targets_do_not_count(
    store: Store, ctx: ProbeContext
) -> None:
    await run(store, ctx, Runbook([Step("switch", "true")]), dry_run=True)
    staging = replace(ctx, target=Target(base_url="https://staging.example"))
    await run(store, staging, Runbook([Step("switch", "true")]))
    result = await rehearsed(ctx, RehearsedParams())
    assert result.verdict is Verdict.FAIL
    assert result.reason == (f"no real run of the rollback runbook against {TARGET} is "
                             "recorded (dry runs do not count)")  # fmt: skip


async def test_the_newest_run_decides_and_a_failed_one_fails(
    store: Store, ctx: ProbeContext
) -> None:
    await run(store, ctx, Runbook([Step("switch", "true")]))
    await run(store, ctx, Runbook([Step("switch", "exit 3")]))
    result = await rehearsed(ctx, RehearsedParams())
    assert result.verdict is Verdict.FAIL
    assert result.reason.startswith("the last run (")
    assert "olga) failed: rollback FAILED" in result.reason
    assert result.evidence["real_runs"] == 2


async def test_a_run_over_its_rto_fails(store: Store, ctx: ProbeContext) -> None:
    await run(store, ctx, Runbook([Step("switch", "sleep 0.2")], rto_minutes=0.001))
    result = await rehearsed(ctx, RehearsedParams())
    assert result.verdict is Verdict.FAIL
    assert "over its 0.001-minute RTO" in result.reason


async def test_no_target_is_out_of_reach(store: Store, ctx: ProbeContext) -> None:
    with pytest.raises(OutOfReach):
        await rehearsed(replace(ctx, target=Target()), RehearsedParams())


def test_its_scope_is_the_target() -> None:
    from checks.probes import REGISTRY

    assert REGISTRY.get("runbook.rehearsed").scopes == (Scope.TARGET,)
