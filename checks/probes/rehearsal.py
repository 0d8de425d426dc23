"""The rollback rehearsed: a real run of a runbook against this target, recent, that
succeeded within its RTO, as the audit trail recorded it.

The evidence is Quarterdeck's own audit trail, but what it records is a run of the
target's runbook against the target (``runbook.start`` names it), so the item examines
the target: a rehearsal against another target, or a dry run, is no evidence.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import TYPE_CHECKING

from pydantic import Field

from checks.probes.base import NO_TARGET, ProbeContext, ProbeParams, ProbeResult, Scope
from checks.probes.reach import OutOfReach
from checks.probes.registry import probe
from core.events import Verdict
from core.store import Store

if TYPE_CHECKING:
    from checks.release_report import RunbookRecord

DAY = 86_400.0


class RehearsedParams(ProbeParams):
    runbook: str = Field(default="rollback", min_length=1)
    max_age_days: float = Field(default=30.0, gt=0)


def _rehearsals(ctx: ProbeContext, runbook: str, target: str) -> list[RunbookRecord]:
    """The real (not dry) runs of ``runbook`` started against ``target``, oldest first."""
    # here, not at the top: the release report imports the ledger, which imports the
    # catalog, which imports the probes
    from checks.release_report import runbook_runs

    runs = runbook_runs(Store.of_engine(ctx.database_engine), runbook)
    return [run for run in runs if not run.dry_run and run.target == target]


@probe("runbook.rehearsed", scopes=(Scope.TARGET,), params=RehearsedParams, needs=("base_url",))
async def rehearsed(ctx: ProbeContext, params: RehearsedParams) -> ProbeResult:
    """The runbook (the rollback by default) was rehearsed for real against this target
    lately, and that run succeeded within its RTO."""
    target = ctx.target.base_url
    if not target:
        raise OutOfReach(NO_TARGET, "base_url")
    runs = await asyncio.to_thread(_rehearsals, ctx, params.runbook, target)
    evidence: dict[str, object] = {
        "runbook": params.runbook, "target": target, "real_runs": len(runs),
        "max_age_days": params.max_age_days,
    }  # fmt: skip
    if not runs:
        reason = (f"no real run of the {params.runbook} runbook against {target} is recorded "
                  "(dry runs do not count)")  # fmt: skip
        return ProbeResult(Verdict.FAIL, reason, evidence)
    last = runs[-1]
    age_days = (time.time() - last.finished_at) / DAY
    when = dt.datetime.fromtimestamp(last.finished_at, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    rto_minutes = last.rto_seconds / 60.0 if last.rto_seconds is not None else None
    evidence.update(last_run=when, actor=last.actor, age_days=round(age_days, 2),
                    elapsed_seconds=last.elapsed, rto_minutes=rto_minutes,
                    verdict=last.outcome)  # fmt: skip
    failures: list[str] = []
    if not last.succeeded:
        failures.append(f"the last run ({when}, {last.actor}) failed: {last.outcome}")
    elif not last.within_rto:
        failures.append(f"the last run ({when}) took {last.elapsed:.0f} s, over its "
                        f"{rto_minutes:g}-minute RTO")  # fmt: skip
    if age_days > params.max_age_days:
        failures.append(f"the last run was {age_days:.0f} days ago (max {params.max_age_days:g})")
    if failures:
        return ProbeResult(Verdict.FAIL, "; ".join(failures), evidence)
    reason = f"rehearsed {when} by {last.actor}, {age_days:.1f} days ago: {last.outcome}"
    return ProbeResult(Verdict.PASS, reason, evidence)
