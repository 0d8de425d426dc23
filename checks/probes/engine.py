"""Trading engine probes."""

from __future__ import annotations

from checks.probes.base import ProbeContext, ProbeParams, ProbeResult
from checks.probes.registry import probe
from core.events import Verdict

PAPER = "paper"


@probe("engine.paper_mode")
async def paper_mode(ctx: ProbeContext, params: ProbeParams) -> ProbeResult:
    """The live engine trades on paper (no real orders) outside production."""
    environment = ctx.settings.environment
    evidence: dict[str, object] = {"engine_mode": ctx.engine_mode, "environment": environment}
    if ctx.engine_mode == PAPER:
        return ProbeResult(Verdict.PASS, "engine is in paper mode", evidence)
    reason = (
        f"engine is in {ctx.engine_mode!r} mode in the {environment!r} environment; "
        "it must be in paper mode"
    )
    return ProbeResult(Verdict.FAIL, reason, evidence)
