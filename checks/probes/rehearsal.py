"""The rollback rehearsed: a real run of a runbook against this target, recent, that
succeeded within its RTO, as the audit trail recorded it.

The evidence is Quarterdeck's own audit trail, but what it records is a run of the
target's runbook against the target (``runbook.start`` names it), so the item examines
the target: a rehearsal against another target, or a dry run, is no evidence.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from dataclasses import dataclass
from typing import Any

from pydantic import Field
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from checks.probes.base import NO_TARGET, ProbeContext, ProbeParams, ProbeResult, Scope
from checks.probes.reach import OutOfReach
from checks.probes.registry import probe
from core.events import Verdict
from core.store.tables import AuditRow

DAY = 86_400.0


class RehearsedParams(ProbeParams):
    runbook: str = Field(default="rollback", min_length=1)
    max_age_days: float = Field(default=30.0, gt=0)


@dataclass(frozen=True, slots=True)
class Rehearsal:
    finished_at: float
    actor: str
    succeeded: bool
    elapsed: float
    within_rto: bool
    rto_minutes: float | None
    verdict: str


def _rehearsals(engine: Engine, runbook: str, target: str) -> list[Rehearsal]:
    """The real (not dry) runs of ``runbook`` started against ``target``, newest first."""
    query = (select(AuditRow)
             .where(col(AuditRow.subject) == runbook)
             .where(col(AuditRow.action).in_(("runbook.start", "runbook.finish")))
             .order_by(col(AuditRow.seq)))  # fmt: skip
    with Session(engine) as session:
        rows = session.exec(query).all()
    runs: list[Rehearsal] = []
    start: dict[str, Any] | None = None
    for row in rows:
        detail = json.loads(row.detail_json)
        if row.action == "runbook.start":
            start = detail
            continue
        if start is None or start.get("target") != target or detail.get("dry_run"):
            continue
        runs.append(Rehearsal(
            row.ts, row.actor, bool(detail.get("succeeded")),
            float(detail.get("elapsed") or 0), bool(detail.get("within_rto")),
            start.get("rto_minutes"), str(detail.get("verdict", "")),
        ))  # fmt: skip
        start = None
    return runs[::-1]


@probe("runbook.rehearsed", scopes=(Scope.TARGET,), params=RehearsedParams, needs=("base_url",))
async def rehearsed(ctx: ProbeContext, params: RehearsedParams) -> ProbeResult:
    """The runbook (the rollback by default) was rehearsed for real against this target
    lately, and that run succeeded within its RTO."""
    target = ctx.target.base_url
    if not target:
        raise OutOfReach(NO_TARGET, "base_url")
    runs = await asyncio.to_thread(_rehearsals, ctx.database_engine, params.runbook, target)
    evidence: dict[str, object] = {
        "runbook": params.runbook, "target": target, "real_runs": len(runs),
        "max_age_days": params.max_age_days,
    }  # fmt: skip
    if not runs:
        reason = (f"no real run of the {params.runbook} runbook against {target} is recorded "
                  "(dry runs do not count)")  # fmt: skip
        return ProbeResult(Verdict.FAIL, reason, evidence)
    last = runs[0]
    age_days = (time.time() - last.finished_at) / DAY
    when = dt.datetime.fromtimestamp(last.finished_at, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    evidence.update(last_run=when, actor=last.actor, age_days=round(age_days, 2),
                    elapsed_seconds=last.elapsed, rto_minutes=last.rto_minutes,
                    verdict=last.verdict)  # fmt: skip
    failures: list[str] = []
    if not last.succeeded:
        failures.append(f"the last run ({when}, {last.actor}) failed: {last.verdict}")
    elif not last.within_rto:
        failures.append(f"the last run ({when}) took {last.elapsed:.0f} s, over its "
                        f"{last.rto_minutes:g}-minute RTO")  # fmt: skip
    if age_days > params.max_age_days:
        failures.append(f"the last run was {age_days:.0f} days ago (max {params.max_age_days:g})")
    if failures:
        return ProbeResult(Verdict.FAIL, "; ".join(failures), evidence)
    reason = (f"rehearsed {when} by {last.actor}, {age_days:.1f} days ago: "
              f"{last.verdict}")  # fmt: skip
    return ProbeResult(Verdict.PASS, reason, evidence)
