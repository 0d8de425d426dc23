"""The audit trail of trades and decisions verifies: every entry's hash chain and every
signed checkpoint, read through the target's ``GET /api/v1/audit/verify`` or, for
Quarterdeck itself, verified here on its own store."""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import Field

from checks.probes.base import ProbeContext, ProbeParams, ProbeResult, Scope
from checks.probes.http.client import ProbeClient, run_http_probe
from checks.probes.reach import OutOfReach
from checks.probes.registry import probe
from checks.probes.target_engine import API, TargetEngine
from core.events import Verdict
from core.store import Store


class AuditChainParams(ProbeParams):
    #: A trail never signed can be rewritten whole by anyone who can write the database.
    require_checkpoint: bool = True
    #: Entries after the newest signed checkpoint beyond this WARN: they are chained but
    #: not yet signed (Quarterdeck signs one an hour).
    max_unsigned_entries: int = Field(default=10_000, ge=0)


def _own_verification(ctx: ProbeContext) -> dict[str, Any]:
    from core.audit import verification

    return verification(Store.of_engine(ctx.database_engine), ctx.settings.audit_key_file)


def _verdict(found: dict[str, Any], params: AuditChainParams) -> ProbeResult:
    evidence = dict(found)
    if not found.get("ok"):
        return ProbeResult(Verdict.FAIL, f"the audit trail does NOT verify: "
                           f"{found.get('problem', 'no reason given')}", evidence)  # fmt: skip
    entries, checkpoints = int(found["entries"]), int(found["checkpoints"])
    covered = int(found.get("last_checkpoint_at") or 0)
    if params.require_checkpoint and checkpoints == 0:
        return ProbeResult(Verdict.FAIL, f"{entries} entries chained but never signed: no "
                           "checkpoint (quarterdeck audit checkpoint)", evidence)  # fmt: skip
    reason = f"{entries} entries verified, {checkpoints} signed checkpoint(s) covering {covered}"
    if entries - covered > params.max_unsigned_entries:
        return ProbeResult(Verdict.WARN, f"{reason}: {entries - covered} entries not yet "
                           f"signed (over {params.max_unsigned_entries})", evidence)  # fmt: skip
    return ProbeResult(Verdict.PASS, reason, evidence)


@probe("audit.chain", scopes=(Scope.TARGET, Scope.QUARTERDECK), params=AuditChainParams,
       needs=("base_url", "api_key"))  # fmt: skip
async def chain(ctx: ProbeContext, params: AuditChainParams) -> ProbeResult:
    """The audit trail verifies (hash chain and signed checkpoints) and is signed."""
    if ctx.scope is Scope.QUARTERDECK:
        return _verdict(await asyncio.to_thread(_own_verification, ctx), params)

    async def body(http: ProbeClient) -> ProbeResult:
        found = await TargetEngine(http).read("/audit/verify")
        if "ok" not in found:
            raise OutOfReach(f"GET {API}/audit/verify does not say whether the trail verifies")
        return _verdict(found, params)

    return await run_http_probe(ctx.target, body, needs_api_key=True, breakers=ctx.breakers)
