"""prometheus.alerting: the target's alerts are defined, evaluated and delivered.

Evidence from the target's Prometheus (``QD_CHECK_PROMETHEUS_URL``): its loaded rules
and the Alertmanagers it sends to; and from each of those Alertmanagers (or the one
``QD_CHECK_ALERTMANAGER_URL`` names): its receivers, and a test alert it accepts.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from checks.probes.alertmanager import alertmanager_base, examine
from checks.probes.base import ProbeContext, ProbeParams, ProbeResult, Scope
from checks.probes.http.client import ProbeClient, Unreachable
from checks.probes.prometheus_api import ApiError, prometheus_data
from checks.probes.reach import prometheus_url
from checks.probes.registry import probe
from core.events import Verdict


class AlertingParams(ProbeParams):
    #: Alert names (``alert:`` of a rule) that must be among the loaded alerting rules.
    required_alerts: list[str] = Field(default_factory=list)
    #: Post a test alert to the Alertmanager: its receivers are notified, as they would be
    #: of a real one (that is the point), and it resolves itself two minutes later.
    fire_test_alert: bool = True


@probe(
    "prometheus.alerting",
    scopes=(Scope.TARGET,),
    params=AlertingParams,
    needs=("prometheus_url",),
    disturbs="its test alert reaches the target's on-call",
)
async def alerting(ctx: ProbeContext, params: AlertingParams) -> ProbeResult:
    """Prometheus evaluates alerting rules and sends to an Alertmanager that notifies someone.

    FAIL: no alerting rule loaded, a rule failing to evaluate, a required alert missing,
    no active Alertmanager, an Alertmanager with only null receivers, or a test alert it
    refuses or does not list. WARN: the test alert routed only to null receivers, or
    suppressed. ERROR: Prometheus or an Alertmanager unreachable from here."""
    url = prometheus_url(ctx)
    evidence: dict[str, object] = {"prometheus_url": url}
    given = (ctx.target.alertmanager_url or "").strip().rstrip("/")
    try:
        async with ProbeClient(ctx.target) as http:
            rules = await prometheus_data(http, url, "/api/v1/rules")
            names, failures = _judge_rules(rules, params.required_alerts, evidence)
            reported = await prometheus_data(http, url, "/api/v1/alertmanagers")
            listed = (reported.get("activeAlertmanagers") if isinstance(reported, dict)
                      else None) or []  # fmt: skip
            active = [str(am.get("url")) for am in listed]
            evidence["alertmanagers"] = active
            if not active:
                failures.append("Prometheus reports no active Alertmanager: its alerts go nowhere")
            bases = [given] if given else list(dict.fromkeys(map(alertmanager_base, active)))
            examined = [await examine(http, base, params.fire_test_alert) for base in bases]
    except Unreachable as exc:
        hint = "" if given else (
            "; if Prometheus reaches its Alertmanager at an address this machine cannot, "
            "give one it can with QD_CHECK_ALERTMANAGER_URL")  # fmt: skip
        return ProbeResult(Verdict.ERROR, f"{exc.reason}{hint}", evidence)
    except ApiError as exc:
        return ProbeResult(Verdict.ERROR, str(exc), evidence)
    evidence["examined_alertmanagers"] = [findings.evidence for findings in examined]
    failures += [failure for findings in examined for failure in findings.failures]
    warnings = [warning for findings in examined for warning in findings.warnings]
    if failures:
        return ProbeResult(Verdict.FAIL, "; ".join(failures), evidence)
    if warnings:
        return ProbeResult(Verdict.WARN, "; ".join(warnings), evidence)
    notifiers = sorted({kind for findings in examined for kind in findings.notifiers})
    reason = (f"{len(names)} alerting rules evaluate cleanly; {', '.join(bases)} notifies "
              f"through {', '.join(notifiers)}")  # fmt: skip
    if params.fire_test_alert:
        reason += " and listed the test alert"
    return ProbeResult(Verdict.PASS, reason, evidence)


def _judge_rules(
    data: Any, required: list[str], evidence: dict[str, object]
) -> tuple[list[str], list[str]]:
    """The loaded alerting rules' names, and what is wrong with the rules: none alerting,
    any failing, any required missing."""
    groups = (data.get("groups") if isinstance(data, dict) else None) or []
    rules = [rule for group in groups for rule in group.get("rules") or []]
    names = sorted({str(rule.get("name")) for rule in rules if rule.get("type") == "alerting"})
    broken = [{"name": rule.get("name"), "error": rule.get("lastError", "")}
              for rule in rules if rule.get("health") == "err"]  # fmt: skip
    missing = [name for name in required if name not in names]
    evidence.update(rule_groups=len(groups), alerting_rules=names, broken_rules=broken,
                    required_alerts=required, missing_alerts=missing)  # fmt: skip
    failures = []
    if not names:
        failures.append("Prometheus has no alerting rules loaded")
    if broken:
        failures.append(f"{len(broken)} rule(s) fail to evaluate: "
                        + "; ".join(f"{b['name']} ({b['error']})" for b in broken))  # fmt: skip
    if missing:
        failures.append(f"required alert(s) not among the loaded alerting rules: "
                        f"{', '.join(missing)}")  # fmt: skip
    return names, failures
