"""An Alertmanager, judged on what it would do with an alert: its receivers, and a test
alert posted to it and listed back.

A receiver with a name and no ``*_configs`` is a null receiver: alerts routed to it
are dropped. Null receivers beside real ones are a common way to silence noise; an
Alertmanager with nothing else notifies nobody.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import yaml

from checks.probes.http.client import ProbeClient, body_excerpt, join_url
from checks.probes.prometheus_api import ApiError, get_json

TEST_ALERT_NAME = "QuarterdeckReadinessTest"
#: The label that tells this run's test alert from any other.
TEST_ALERT_LABEL = "quarterdeck_check"
#: Long enough to outlive a default ``group_wait`` (30 s), so that the receivers are
#: notified while it fires; short enough to resolve itself soon after.
TEST_ALERT_LIFETIME_S = 120.0
#: How long the posted alert may take to be listed by ``GET /api/v2/alerts``.
LISTED_WITHIN_S = 5.0
LIST_POLL_S = 0.2


@dataclass
class Findings:
    """What is wrong (FAIL), what is doubtful (WARN), and the evidence for both."""

    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    evidence: dict[str, object] = field(default_factory=dict)
    notifiers: set[str] = field(default_factory=set)  # the kinds its receivers use


def alertmanager_base(api_url: str) -> str:
    """The Alertmanager's root from the API URL Prometheus reports for it
    (``http://am:9093/prefix/api/v2/alerts`` -> ``http://am:9093/prefix``)."""
    for suffix in ("/api/v2/alerts", "/api/v1/alerts"):
        if api_url.endswith(suffix):
            return api_url.removesuffix(suffix)
    return api_url.rstrip("/")


def receivers(config_yaml: str) -> dict[str, list[str]]:
    """Each receiver of an Alertmanager configuration with its notifier kinds
    (``webhook``, ``email``...); an empty list is a null receiver."""
    try:
        config = yaml.safe_load(config_yaml) or {}
    except yaml.YAMLError as exc:
        raise ApiError(f"the Alertmanager's configuration is not YAML: {exc}") from None
    listed = (config.get("receivers") if isinstance(config, dict) else None) or []
    found: dict[str, list[str]] = {}
    for receiver in (r for r in listed if isinstance(r, dict)):
        kinds = sorted(key.removesuffix("_configs") for key, value in receiver.items()
                       if key.endswith("_configs") and value)  # fmt: skip
        found[str(receiver.get("name", ""))] = kinds
    return found


async def examine(http: ProbeClient, base: str, fire_test_alert: bool) -> Findings:
    """The Alertmanager at ``base``: a receiver that notifies, and (``fire_test_alert``)
    a test alert it accepts and lists."""
    status = await get_json(http, join_url(base, "/api/v2/status"))
    original = (status.get("config") or {}).get("original") if isinstance(status, dict) else None
    if not isinstance(original, str):
        raise ApiError(f"GET {join_url(base, '/api/v2/status')} has no config.original")
    found = receivers(original)
    null = [name for name, kinds in found.items() if not kinds]
    findings = Findings(evidence={"url": base, "receivers": found, "null_receivers": null},
                        notifiers={kind for kinds in found.values() for kind in kinds})  # fmt: skip
    if not any(found.values()):
        named = ", ".join(repr(name) for name in null) or "none configured"
        findings.failures.append(f"Alertmanager {base} has no receiver with a notifier "
                                 f"(null receivers: {named}): it notifies nobody")  # fmt: skip
    if fire_test_alert:
        await _fire(http, base, null, findings)
    return findings


async def _fire(http: ProbeClient, base: str, null: list[str], findings: Findings) -> None:
    """Post a test alert and wait until the Alertmanager lists it."""
    labels = {"alertname": TEST_ALERT_NAME, TEST_ALERT_LABEL: uuid.uuid4().hex}
    now = dt.datetime.now(dt.UTC)
    alert = {
        "labels": labels,
        "annotations": {"summary": "Quarterdeck readiness check: a test alert, nothing is "
                        f"wrong; it resolves itself within {TEST_ALERT_LIFETIME_S:g} s"},
        "startsAt": now.isoformat(),
        "endsAt": (now + dt.timedelta(seconds=TEST_ALERT_LIFETIME_S)).isoformat(),
    }  # fmt: skip
    evidence: dict[str, object] = {"labels": labels, "ends_at": alert["endsAt"]}
    findings.evidence["test_alert"] = evidence
    url = join_url(base, "/api/v2/alerts")
    posted = await http.send("POST", url, json=[alert], record=False)
    if posted.status_code >= 300:
        findings.failures.append(f"Alertmanager {base} refused the test alert: HTTP "
                                 f"{posted.status_code} {body_excerpt(posted)!r}")  # fmt: skip
        return
    listed = await _listed(http, url, labels)
    if listed is None:
        findings.failures.append(f"the test alert posted to {base} was not listed by GET "
                                 f"/api/v2/alerts within {LISTED_WITHIN_S:g} s")  # fmt: skip
        return
    routed = [str(receiver.get("name")) for receiver in listed.get("receivers") or []]
    state = listed.get("status") or {}
    evidence.update(listed_after_ms=listed["listed_after_ms"], routed_to=routed,
                    state=state.get("state"))  # fmt: skip
    if routed and all(name in null for name in routed):
        findings.warnings.append(f"the test alert was routed only to null receiver(s) "
                                 f"{', '.join(routed)}: alerts that match no route are "
                                 "dropped")  # fmt: skip
    if state.get("state") == "suppressed":
        why = {"silenced_by": state.get("silencedBy"), "inhibited_by": state.get("inhibitedBy")}
        findings.warnings.append(f"the test alert is suppressed ({why}): would real ones be too?")


async def _listed(http: ProbeClient, url: str, labels: dict[str, str]) -> dict[str, Any] | None:
    """The alert with ``labels`` as ``GET /api/v2/alerts`` lists it, with ``listed_after_ms``;
    None if it is not listed within ``LISTED_WITHIN_S``."""
    started = time.monotonic()
    matcher = f'{TEST_ALERT_LABEL}="{labels[TEST_ALERT_LABEL]}"'
    while True:
        alerts = await get_json(http, url, {"filter": [matcher]})
        for alert in alerts if isinstance(alerts, list) else []:
            if alert.get("labels") == labels:
                return {**alert, "listed_after_ms": round((time.monotonic() - started) * 1000)}
        if time.monotonic() - started > LISTED_WITHIN_S:
            return None
        await asyncio.sleep(LIST_POLL_S)
