"""``http.load``: a bounded load keeps latency percentiles and the error rate in bounds."""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter

import httpx
from pydantic import Field, model_validator

from checks.probes.base import ProbeContext, ProbeParams, ProbeResult, Scope
from checks.probes.http.client import (
    ProbeClient,
    Unreachable,
    run_http_probe,
    target_ssl_context,
)
from checks.probes.http.load_client import LoadConnection
from checks.probes.registry import probe
from core.events import Verdict


class LoadParams(ProbeParams):
    path: str = "/health"
    requests: int = Field(default=200, ge=1, le=100_000)
    concurrency: int = Field(default=20, ge=1, le=500)
    p50_ms: float = Field(default=50.0, gt=0)
    p95_ms: float = Field(default=100.0, gt=0)
    p99_ms: float = Field(default=200.0, gt=0)
    max_error_rate: float = Field(default=0.001, ge=0, le=1)

    @model_validator(mode="after")
    def _concurrency_within_requests(self) -> LoadParams:
        if self.concurrency > self.requests:
            raise ValueError(f"concurrency ({self.concurrency}) exceeds requests ({self.requests})")
        return self


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile: the smallest value with at least ``p`` % at or below it."""
    if not sorted_values:
        raise ValueError("no values")
    rank = max(1, math.ceil(p / 100.0 * len(sorted_values)))
    return sorted_values[rank - 1]


@probe("http.load", scopes=(Scope.TARGET,), params=LoadParams, exclusive=True,
       needs=("base_url",), disturbs="it loads the target with requests")  # fmt: skip
async def load(ctx: ProbeContext, params: LoadParams) -> ProbeResult:
    """``requests`` GETs of ``path``, ``concurrency`` at a time, within latency and error bounds.

    Latency is each request's round trip (nearest-rank percentiles over the
    requests that got an answer). An error is a request without an answer or
    with a status of 400 or more. FAIL: p50, p95 or p99 over its bound, or the
    error rate over ``max_error_rate``, or no request answered at all.
    """

    async def body(http: ProbeClient) -> ProbeResult:
        latencies: list[float] = []
        statuses: Counter[str] = Counter()
        failures: list[Unreachable] = []
        queue = iter(range(params.requests))
        url = httpx.URL(http.url(params.path))

        async def worker() -> None:
            connection = LoadConnection(url, target_ssl_context(ctx.target), http.timeout,
                                        http.api_key_headers())  # fmt: skip
            try:
                for _ in queue:
                    try:
                        status, elapsed = await connection.get()
                    except httpx.TransportError as exc:
                        failure = Unreachable("GET", str(url), exc)
                        failures.append(failure)
                        statuses[failure.kind] += 1
                        continue
                    latencies.append(elapsed)
                    statuses[str(status)] += 1
            finally:
                await connection.close()

        started = time.perf_counter()
        async with asyncio.TaskGroup() as group:
            for _ in range(params.concurrency):
                group.create_task(worker())
        wall_s = time.perf_counter() - started

        if not latencies:
            raise failures[0]  # nothing answered: the target is down
        latencies.sort()
        errors = len(failures) + sum(
            count for status, count in statuses.items() if status.isdigit() and int(status) >= 400
        )
        error_rate = errors / params.requests
        measured = {
            "p50_ms": percentile(latencies, 50),
            "p95_ms": percentile(latencies, 95),
            "p99_ms": percentile(latencies, 99),
        }
        evidence: dict[str, object] = {
            "url": http.url(params.path),
            "requests": params.requests,
            "concurrency": params.concurrency,
            "answered": len(latencies),
            "errors": errors,
            "error_rate": round(error_rate, 5),
            **{name: round(value, 2) for name, value in measured.items()},
            "max_ms": round(latencies[-1], 2),
            "mean_ms": round(sum(latencies) / len(latencies), 2),
            "throughput_rps": round(params.requests / wall_s, 1) if wall_s > 0 else None,
            "wall_s": round(wall_s, 3),
            "statuses": dict(sorted(statuses.items())),
            "thresholds": {
                "p50_ms": params.p50_ms,
                "p95_ms": params.p95_ms,
                "p99_ms": params.p99_ms,
                "max_error_rate": params.max_error_rate,
            },
        }
        if failures:
            evidence["first_error"] = failures[0].reason
        limits = {"p50_ms": params.p50_ms, "p95_ms": params.p95_ms, "p99_ms": params.p99_ms}
        over = [
            f"{name[:3]} {measured[name]:.1f} ms > {limit:g} ms"
            for name, limit in limits.items()
            if measured[name] > limit
        ]
        if error_rate > params.max_error_rate:
            over.append(f"error rate {error_rate:.2%} > {params.max_error_rate:.2%}")
        summary = (
            f"{params.requests} requests at concurrency {params.concurrency}: "
            f"p50 {measured['p50_ms']:.1f} / p95 {measured['p95_ms']:.1f} / "
            f"p99 {measured['p99_ms']:.1f} ms, {errors} errors"
        )
        if over:
            return ProbeResult(Verdict.FAIL, f"{summary}; {'; '.join(over)}", evidence)
        return ProbeResult(Verdict.PASS, summary, evidence)

    return await run_http_probe(
        ctx.target, body, max_connections=params.concurrency, honour_throttling=False
    )
