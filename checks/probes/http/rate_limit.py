"""``http.rate_limit``: a burst of requests is throttled with 429 and says when to retry."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
from pydantic import Field, model_validator

from checks.probes.base import ProbeContext, ProbeParams, ProbeResult, Scope
from checks.probes.http.client import ProbeClient, response_headers, run_http_probe
from checks.probes.registry import probe
from core.events import Verdict

#: Headers that tell a throttled client when it may come back (RFC 9110 Retry-After, the
#: IETF RateLimit / RateLimit-Policy fields and their older draft and X- forms).
RATE_LIMIT_HEADERS = (
    "retry-after",
    "ratelimit",
    "ratelimit-policy",
    "ratelimit-limit",
    "ratelimit-remaining",
    "ratelimit-reset",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
)


class RateLimitParams(ProbeParams):
    path: str = "/api/v1/risk"
    burst: int = Field(default=50, ge=1, le=10_000)
    concurrency: int = Field(default=10, ge=1, le=200)

    @model_validator(mode="after")
    def _concurrency_within_burst(self) -> RateLimitParams:
        if self.concurrency > self.burst:
            raise ValueError(f"concurrency ({self.concurrency}) exceeds burst ({self.burst})")
        return self


@probe(
    "http.rate_limit",
    scopes=(Scope.TARGET,),
    params=RateLimitParams,
    exclusive=True,
    needs=("base_url",),
)
async def rate_limit(ctx: ProbeContext, params: RateLimitParams) -> ProbeResult:
    """A burst of at most ``burst`` GETs of ``path`` meets 429 with retry guidance.

    Requests go ``concurrency`` at a time (with the API key, when configured,
    since limits are often per key); none is sent after the first 429. It runs
    alone: the allowance it spends is the probe host's, which probes beside it share.
    PASS: a 429 with ``Retry-After`` or ``RateLimit*``/``X-RateLimit-*``
    headers. WARN: a 429 without any of them. FAIL: no 429 in the burst.
    """

    async def body(http: ProbeClient) -> ProbeResult:
        statuses: Counter[int] = Counter()
        sent = 0
        answered = 0
        # (answers received before it, the response) for each 429
        throttled: list[tuple[int, httpx.Response]] = []
        stop = asyncio.Event()
        headers = http.api_key_headers()

        async def worker() -> None:
            nonlocal sent, answered
            while not stop.is_set() and sent < params.burst:
                sent += 1
                response = await http.get(params.path, headers=headers, record=False)
                statuses[response.status_code] += 1
                if response.status_code == 429:
                    throttled.append((answered, response))
                    stop.set()
                answered += 1

        async with asyncio.TaskGroup() as group:
            for _ in range(params.concurrency):
                group.create_task(worker())

        evidence: dict[str, object] = {
            "url": http.url(params.path),
            "burst": params.burst,
            "concurrency": params.concurrency,
            "sent": sent,
            "statuses": {str(code): count for code, count in sorted(statuses.items())},
        }
        if not throttled:
            reason = (
                f"no 429 in a burst of {sent} GET {params.path}: "
                f"answers {dict(sorted(statuses.items()))}"
            )
            return ProbeResult(Verdict.FAIL, reason, evidence)
        before, response = throttled[0]
        guidance = response_headers(response, RATE_LIMIT_HEADERS)
        evidence["answers_before_first_429"] = before
        evidence["429_headers"] = guidance
        evidence["429_all_headers"] = response_headers(response)
        if not guidance:
            reason = (
                f"429 after {before} answers, but without Retry-After or RateLimit headers: "
                "clients cannot tell when to retry"
            )
            return ProbeResult(Verdict.WARN, reason, evidence)
        names = ", ".join(sorted(guidance))
        return ProbeResult(Verdict.PASS, f"429 after {before} answers, with {names}", evidence)

    return await run_http_probe(
        ctx.target, body, max_connections=params.concurrency, honour_throttling=False
    )
