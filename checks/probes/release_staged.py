"""The release went through staging first: the same release, judged on this checklist in
the staging environment, is ready there (every blocking item passed, attested or
waived), as Quarterdeck's ledger holds it.

The evidence is Quarterdeck's own ledger (scope ``quarterdeck``): it shows the release
was judged on staging, not how the staging deployment behaves today.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from pydantic import Field

from checks.probes.base import ProbeContext, ProbeParams, ProbeResult, Scope
from checks.probes.registry import probe
from core.events import Verdict

if TYPE_CHECKING:
    from checks.release import ReleaseState

NAME = "release.staged"


class StagedParams(ProbeParams):
    checklist: str = Field(default="production", min_length=1)
    staging_environment: str = Field(default="staging", min_length=1)
    #: The release judged; empty means the one being checked (QD_RELEASE, else the
    #: running version).
    release: str = ""
    #: Also require every sign-off on staging.
    signed_off: bool = False


def _staging_state(ctx: ProbeContext, params: StagedParams) -> tuple[str, ReleaseState]:
    # here, not at the top: the ledger imports the catalog, which imports the probes
    from checks import builtin_checklists
    from checks.ledger import state
    from checks.release import Release, default_release
    from core.store import Store

    checklist = builtin_checklists()[params.checklist]
    version = params.release or default_release(ctx.settings)
    release = Release(checklist.id, version, params.staging_environment)
    store = Store.of_engine(ctx.database_engine)
    return version, state(store, checklist, release, required_roles=ctx.settings.signoff_roles)


@probe(NAME, scopes=(Scope.QUARTERDECK,), params=StagedParams)
async def staged(ctx: ProbeContext, params: StagedParams) -> ProbeResult:
    """The same release is ready on staging in the ledger (its blocking items passed,
    attested or waived there), signed off too if the item asks."""
    version, staging = await asyncio.to_thread(_staging_state, ctx, params)
    # This item on staging would ask about staging's own staging: it is left out.
    failing = [s for s in staging.blocking_failures if s.item.probe != NAME]
    judged = [s for s in staging.items if s.result is not None]
    evidence: dict[str, object] = {
        "release": str(staging.release), "judged_items": len(judged),
        "blocking_failures": [f"{s.item.id}: {s.verdict}" for s in failing],
        "signed": sorted(staging.signed), "missing_roles": staging.missing_roles,
    }  # fmt: skip
    where = f"{version} on {params.staging_environment}"
    if not judged:
        return ProbeResult(Verdict.FAIL, f"{where} was never judged: no verdict recorded for "
                           f"the {params.checklist} checklist there", evidence)  # fmt: skip
    failures: list[str] = []
    if failing:
        shown = ", ".join(f"{s.item.id} {s.verdict}" for s in failing[:5])
        failures.append(f"{where} is not ready: {len(failing)} blocking item(s) open ({shown})")
    if params.signed_off and staging.missing_roles:
        failures.append(f"{where} lacks sign-off from {', '.join(staging.missing_roles)}")
    if failures:
        return ProbeResult(Verdict.FAIL, "; ".join(failures), evidence)
    targets = staging.target
    return ProbeResult(Verdict.PASS, f"{where} is ready ({len(judged)} items judged, against "
                       f"{targets})", evidence)  # fmt: skip
