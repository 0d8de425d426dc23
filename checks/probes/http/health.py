"""``http.health``: the health endpoint answers, with the expected status and body, quickly."""

from __future__ import annotations

from pydantic import Field

from checks.probes.base import ProbeContext, ProbeParams, ProbeResult, Scope
from checks.probes.http.client import ProbeClient, body_excerpt, elapsed_ms, run_http_probe
from checks.probes.registry import probe
from core.events import Verdict

EVIDENCE_HEADERS = ("content-type", "content-length", "cache-control", "retry-after")


class HealthParams(ProbeParams):
    path: str = "/health"
    expect_status: int = Field(default=200, ge=100, le=599)
    expect_body_contains: str | None = None
    # Slower than this is a WARN: the service answers, but something is wrong.
    max_latency_ms: float = Field(default=500.0, gt=0)


@probe("http.health", scopes=(Scope.TARGET,), params=HealthParams, needs=("base_url",))
async def health(ctx: ProbeContext, params: HealthParams) -> ProbeResult:
    """The health endpoint answers ``expect_status`` (and the expected text) within the latency.

    FAIL: no answer, another status, or the body lacks ``expect_body_contains``.
    WARN: right answer, slower than ``max_latency_ms``.
    """

    async def body(http: ProbeClient) -> ProbeResult:
        response = await http.get(params.path, evidence_headers=EVIDENCE_HEADERS)
        latency = elapsed_ms(response)
        evidence: dict[str, object] = {
            "status": response.status_code,
            "latency_ms": round(latency, 2),
            "max_latency_ms": params.max_latency_ms,
            "body": body_excerpt(response),
            "exchanges": http.exchanges,
        }
        where = f"GET {response.url}"
        if response.status_code != params.expect_status:
            reason = f"{where} answered {response.status_code}, expected {params.expect_status}"
            return ProbeResult(Verdict.FAIL, reason, evidence)
        wanted = params.expect_body_contains
        if wanted is not None and wanted not in response.text:
            reason = f"{where} answered {response.status_code} without {wanted!r} in the body"
            return ProbeResult(Verdict.FAIL, reason, evidence)
        if latency > params.max_latency_ms:
            reason = f"{where} took {latency:.0f} ms, over {params.max_latency_ms:g} ms"
            return ProbeResult(Verdict.WARN, reason, evidence)
        reason = f"{where} answered {response.status_code} in {latency:.0f} ms"
        return ProbeResult(Verdict.PASS, reason, evidence)

    return await run_http_probe(ctx.target, body, breakers=ctx.breakers)
