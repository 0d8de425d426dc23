"""``http.metrics``: the metrics endpoint serves parseable Prometheus exposition text."""

from __future__ import annotations

from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as parse_openmetrics,
)
from prometheus_client.parser import text_string_to_metric_families as parse_prometheus

from checks.probes.base import ProbeContext, ProbeParams, ProbeResult, Scope
from checks.probes.http.client import ProbeClient, body_excerpt, run_http_probe
from checks.probes.registry import probe
from core.events import Verdict

ACCEPT = "text/plain;version=0.0.4;q=1, application/openmetrics-text;version=1.0.0;q=0.5"
#: Exceptions prometheus_client's parsers raise on malformed input.
PARSE_ERRORS = (ValueError, IndexError, KeyError, TypeError)
NAMES_IN_EVIDENCE = 50


class MetricsParams(ProbeParams):
    path: str = "/metrics"
    required: list[str] = []


def metric_names(text: str, content_type: str) -> set[str]:
    """Every family and sample name in an exposition (parsed with prometheus_client).

    Family names lose their ``_total`` suffix in the parser, so both are kept:
    a required ``orders_total`` matches the sample of that name.
    """
    parse = parse_openmetrics if "openmetrics" in content_type else parse_prometheus
    names: set[str] = set()
    for family in parse(text):
        names.add(family.name)
        names.update(sample.name for sample in family.samples)
    return names


@probe("http.metrics", scopes=(Scope.TARGET,), params=MetricsParams, needs=("base_url",))
async def metrics(ctx: ProbeContext, params: MetricsParams) -> ProbeResult:
    """The metrics endpoint answers 200 in Prometheus text format with the required metrics.

    The body is parsed with ``prometheus_client`` (OpenMetrics when the
    Content-Type says so). FAIL: not 200, unparseable, no metrics at all, or
    a name in ``required`` missing (family or sample name).
    """

    async def body(http: ProbeClient) -> ProbeResult:
        headers = {"Accept": ACCEPT, **http.api_key_headers()}
        response = await http.get(
            params.path, headers=headers, evidence_headers=("content-type", "content-length")
        )
        content_type = response.headers.get("content-type", "")
        evidence: dict[str, object] = {
            "status": response.status_code,
            "content_type": content_type,
            "required": params.required,
            "exchanges": http.exchanges,
        }
        where = f"GET {params.path}"
        if response.status_code != 200:
            evidence["body"] = body_excerpt(response)
            return ProbeResult(
                Verdict.FAIL, f"{where} answered {response.status_code}, not 200", evidence
            )
        try:
            names = metric_names(response.text, content_type)
        except PARSE_ERRORS as exc:
            evidence["body"] = body_excerpt(response)
            evidence["parse_error"] = f"{type(exc).__name__}: {exc}"
            reason = f"{where} is not Prometheus exposition format: {exc}"
            return ProbeResult(Verdict.FAIL, reason, evidence)
        evidence["metric_count"] = len(names)
        evidence["metrics"] = sorted(names)[:NAMES_IN_EVIDENCE]
        if not names:
            return ProbeResult(Verdict.FAIL, f"{where} exposes no metrics", evidence)
        missing = [name for name in params.required if name not in names]
        evidence["missing"] = missing
        if missing:
            reason = f"{where} lacks required metrics: {', '.join(missing)}"
            return ProbeResult(Verdict.FAIL, reason, evidence)
        reason = f"{where} exposes {len(names)} metric names, all {len(params.required)} required"
        return ProbeResult(Verdict.PASS, reason, evidence)

    return await run_http_probe(ctx.target, body, breakers=ctx.breakers)
