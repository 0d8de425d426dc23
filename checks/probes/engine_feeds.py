"""The target's market data feeds are live and fresh, read from its
``GET /health/detailed``: each feed's state, the age of its last tick (the seeds ask for
prices within 1.5 s) and the ticks it dropped."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from checks.probes.base import ProbeContext, ProbeParams, ProbeResult, Scope
from checks.probes.http.client import ProbeClient, run_http_probe
from checks.probes.reach import OutOfReach
from checks.probes.registry import probe
from checks.probes.target_engine import TargetEngine
from core.events import Verdict

PATH = "/health/detailed"


class FeedsParams(ProbeParams):
    max_tick_age_s: float = Field(default=1.5, gt=0)
    #: Dropped ticks over this share of those received WARN (a consumer falling behind,
    #: or a filter throwing away much of the feed).
    max_dropped_ratio: float = Field(default=0.01, ge=0, le=1)


def _judge(feeds: dict[str, dict[str, Any]], params: FeedsParams) -> ProbeResult:
    evidence: dict[str, object] = {"feeds": feeds, "max_tick_age_s": params.max_tick_age_s}
    if not feeds:
        return ProbeResult(Verdict.FAIL, "the target reports no market data feed", evidence)
    failures: list[str] = []
    warnings: list[str] = []
    for name, feed in sorted(feeds.items()):
        age = feed.get("last_tick_age_s")
        if feed.get("state") != "live":
            failures.append(f"{name} is {feed.get('state')}" + (
                f" ({feed['last_error']})" if feed.get("last_error") else ""))  # fmt: skip
        elif age is None or age > params.max_tick_age_s:
            shown = "no tick yet" if age is None else f"last tick {age:.1f} s ago"
            failures.append(f"{name}: {shown} (max {params.max_tick_age_s:g} s)")
        ticks, dropped = int(feed.get("ticks") or 0), int(feed.get("dropped") or 0)
        if ticks and dropped / ticks > params.max_dropped_ratio:
            warnings.append(f"{name} dropped {dropped} of {ticks} ticks")
    if failures:
        return ProbeResult(Verdict.FAIL, "; ".join(failures), evidence)
    if warnings:
        return ProbeResult(Verdict.WARN, "; ".join(warnings), evidence)
    worst = max(float(f["last_tick_age_s"]) for f in feeds.values())
    reason = f"{len(feeds)} feed(s) live, the stalest tick {worst:.2f} s old"
    return ProbeResult(Verdict.PASS, reason, evidence)


@probe("engine.feeds", scopes=(Scope.TARGET,), params=FeedsParams, needs=("base_url", "api_key"))
async def feeds(ctx: ProbeContext, params: FeedsParams) -> ProbeResult:
    """Every market data feed of the target is live, its last tick fresh, few dropped."""

    async def body(http: ProbeClient) -> ProbeResult:
        # 503: a component is down, and the report says which
        health = await TargetEngine(http).get(PATH, answered=(200, 503))
        report = health.get("components", {}).get("feeds", {}).get("feeds")
        if not isinstance(report, dict):
            raise OutOfReach(f"GET {PATH} does not report the feeds")
        return _judge(report, params)

    return await run_http_probe(ctx.target, body, needs_api_key=True, breakers=ctx.breakers)
