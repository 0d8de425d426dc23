"""The target's machines as its Prometheus sees them: node_exporter series, per instance.

A host probe examining the target's host reads the series it judges for every instance
of ``job`` whose ``instance`` label matches the ``instance`` regex, and judges each
machine on its own; the item gets the worst verdict, with every machine's in evidence.

The machines are those of the ``up`` series, not of the judged series: a machine whose
scrapes fail (``up`` 0), whose exporter lacks a series, or whose samples are older than
``STALE_AFTER_S`` is an ERROR of its own instead of silently missing from the verdict.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from pydantic import Field

from checks.probes.base import ProbeContext, ProbeParams, ProbeResult
from checks.probes.http.client import ProbeClient, Unreachable
from checks.probes.prometheus_api import ApiError, Sample, instant_query, promql_string
from core.events import Verdict

#: A sample older than this describes the machine as it was, not as it is.
STALE_AFTER_S = 300.0
#: Worst last: a machine that could not be judged outranks one judged to fail.
RANK = {Verdict.PASS: 0, Verdict.WARN: 1, Verdict.FAIL: 2, Verdict.ERROR: 3}


class NodeSeriesParams(ProbeParams):
    """Which of the target's machines to judge, when their figures come from Prometheus."""

    job: str = Field(default="node", min_length=1)  # the scrape job of their node_exporter
    instance: str = Field(default=".+", min_length=1)  # a PromQL regex on the instance label


@dataclass(frozen=True, slots=True)
class Series:
    """A series a probe judges: a metric and, optionally, more label matchers
    (``'mode="idle"'``)."""

    metric: str
    matchers: str = ""

    def selector(self, where: str) -> str:
        """The series of the machines ``where`` names (label matchers)."""
        return f"{self.metric}{{{', '.join(m for m in (where, self.matchers) if m)}}}"


#: Judges one machine: its instance label and, per series name, its samples (never empty).
Judge = Callable[[str, Mapping[str, list[Sample]]], ProbeResult]


async def judge_machines(
    ctx: ProbeContext,
    url: str,
    params: NodeSeriesParams,
    wanted: Mapping[str, Series],
    judge: Judge,
    evidence: Mapping[str, object],
) -> ProbeResult:
    """Each machine's verdict on ``wanted``'s series from the Prometheus at ``url``; the
    worst is the result's. ``evidence`` (the thresholds) is added to the result's."""
    where = f"job={promql_string(params.job)}, instance=~{promql_string(params.instance)}"
    queries = {"up": Series("up").selector(where)}
    queries |= {name: series.selector(where) for name, series in wanted.items()}
    found: dict[str, object] = {"source": "prometheus", "prometheus_url": url,
                                "queries": list(queries.values()), **evidence}  # fmt: skip
    try:
        async with ProbeClient(ctx.target) as http:
            answers = await asyncio.gather(
                *(instant_query(http, url, q) for q in queries.values()),
                *(instant_query(http, url, f"timestamp({q})") for q in queries.values()),
            )
    except Unreachable as exc:
        return ProbeResult(Verdict.ERROR, f"cannot query Prometheus: {exc.reason}", found)
    except ApiError as exc:
        return ProbeResult(Verdict.ERROR, f"Prometheus refused a query: {exc}", found)
    values = dict(zip(queries, answers[: len(queries)], strict=True))
    stamps = dict(zip(queries, answers[len(queries) :], strict=True))
    if not values["up"]:
        reason = (f"{queries['up']} matched no series at {url}: it scrapes no instance of job "
                  f"{params.job!r} matching {params.instance!r}")  # fmt: skip
        return ProbeResult(Verdict.ERROR, reason, found)
    instances = sorted({sample.labels.get("instance", "") for sample in values["up"]})
    judged = {
        instance: _judge_one(instance, queries, _of(values, instance), _of(stamps, instance), judge)
        for instance in instances
    }
    found["instances"] = {instance: {"verdict": result.verdict.value, "reason": result.reason,
                                     **result.evidence}
                          for instance, result in judged.items()}  # fmt: skip
    worst = max((result.verdict for result in judged.values()), key=RANK.__getitem__)
    reasons = [f"{instance}: {result.reason}" for instance, result in judged.items()
               if result.verdict is worst]  # fmt: skip
    if len(judged) > 1:
        reasons[0] = f"{len(reasons)} of {len(judged)} instances {worst.value}: {reasons[0]}"
    return ProbeResult(worst, "; ".join(reasons), found)


def _of(answers: Mapping[str, list[Sample]], instance: str) -> dict[str, list[Sample]]:
    return {name: [s for s in samples if s.labels.get("instance", "") == instance]
            for name, samples in answers.items()}  # fmt: skip


def _judge_one(
    instance: str,
    queries: Mapping[str, str],
    values: Mapping[str, list[Sample]],
    stamps: Mapping[str, list[Sample]],
    judge: Judge,
) -> ProbeResult:
    down = [sample.value for sample in values["up"] if sample.value != 1]
    if down:
        return ProbeResult(Verdict.ERROR, f"its scrapes fail (up {down[0]:g})", {"up": down[0]})
    missing = [queries[name] for name, samples in values.items() if not samples]
    if missing:
        return ProbeResult(Verdict.ERROR, f"no series from {', '.join(missing)}")
    ages = {name: max(s.evaluated_at - s.value for s in samples)
            for name, samples in stamps.items() if samples}  # fmt: skip
    oldest = max(ages, key=ages.__getitem__, default="up")
    evidence: dict[str, object] = {"oldest_sample_s": round(ages.get(oldest, 0.0), 1)}
    if ages.get(oldest, 0.0) > STALE_AFTER_S:
        reason = (f"stale: its newest {queries[oldest]} sample is {ages[oldest]:.0f} s old, "
                  f"over {STALE_AFTER_S:g} s")  # fmt: skip
        return ProbeResult(Verdict.ERROR, reason, evidence)
    result = judge(instance, {name: values[name] for name in queries if name != "up"})
    return ProbeResult(result.verdict, result.reason, {**result.evidence, **evidence})
