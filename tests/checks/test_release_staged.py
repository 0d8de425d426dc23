"""release.staged reads the staging verdicts of the same release from a real ledger."""

from __future__ import annotations

import pytest

from checks import ProbeContext, builtin_checklists
from checks.ledger import record_results
from checks.probes import ProbeResult, Scope
from checks.probes.release_staged import StagedParams, staged
from checks.release import Release
from core.access import Principal, Role
from core.config import Settings
from core.events import Verdict
from core.store import Store

ADA = Principal("ada", Role.ADMIN)
VERSION = "2.4.0"


@pytest.fixture
def ctx(settings: Settings, store: Store) -> ProbeContext:
    return ProbeContext(settings, store.engine, "paper", scope=Scope.QUARTERDECK)


def judge_staging(store: Store, verdict_of: dict[str, Verdict] | None = None) -> None:
    checklist = builtin_checklists()["production"]
    results = {item.id: ProbeResult((verdict_of or {}).get(item.id, Verdict.PASS), "ok")
               for item in checklist.items}  # fmt: skip
    release = Release("production", VERSION, "staging")
    record_results(store, release, results, ADA, target="https://staging.example")


async def test_a_release_ready_on_staging_passes(store: Store, ctx: ProbeContext) -> None:
    judge_staging(store)
    result = await staged(ctx, StagedParams(release=VERSION))
    assert result.verdict is Verdict.PASS, result.reason
    assert result.reason == (f"{VERSION} on staging is ready (90 items judged, against "
                             "https://staging.example)")  # fmt: skip
    unsigned = await staged(ctx, StagedParams(release=VERSION, signed_off=True))
    assert unsigned.verdict is Verdict.FAIL
    assert unsigned.reason.startswith(f"{VERSION} on staging lacks sign-off from Security")


async def test_a_blocking_failure_on_staging_fails_but_this_item_is_left_out(
    store: Store, ctx: ProbeContext
) -> None:
    judge_staging(store, {"ci.staging_first": Verdict.FAIL})
    assert (await staged(ctx, StagedParams(release=VERSION))).verdict is Verdict.PASS
    judge_staging(store, {"database.backup_fresh": Verdict.FAIL})
    result = await staged(ctx, StagedParams(release=VERSION))
    assert result.verdict is Verdict.FAIL
    assert result.reason == (f"{VERSION} on staging is not ready: 1 blocking item(s) open "
                             "(database.backup_fresh fail)")  # fmt: skip


async def test_a_release_never_judged_on_staging_fails(store: Store, ctx: ProbeContext) -> None:
    judge_staging(store)
    result = await staged(ctx, StagedParams(release="9.9.9"))
    assert result.verdict is Verdict.FAIL
    assert result.reason == ("9.9.9 on staging was never judged: no verdict recorded for the "
                             "production checklist there")  # fmt: skip
