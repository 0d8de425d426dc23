"""prometheus.alerting against a real Prometheus and Alertmanager, in a good configuration
and in each bad one (the ``monitoring`` lab, monitoring.py)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from checks.probes import REGISTRY, ProbeContext, ProbeResult, Scope, alertmanager
from checks.probes.alerting import AlertingParams
from checks.runner import run_probe_named
from core.events import Verdict

from .conftest import MakeContext
from .monitoring import MonitoringLab
from .servers import QuietHandler, free_port, threaded_http

REQUIRED = ["HostOutOfDisk", "HostDown", "FeedStale"]


def on(
    make_ctx: MakeContext, lab: MonitoringLab, prometheus: str, **target: object
) -> ProbeContext:
    fields: dict[str, object] = {
        "prometheus_url": lab.prometheus[prometheus],
        "ca_file": lab.ca_file,
    }
    return make_ctx(scope=Scope.TARGET, **(fields | target))


async def run(ctx: ProbeContext, **params: Any) -> ProbeResult:
    return await run_probe_named(
        "prometheus.alerting", params, ctx, REGISTRY, 20.0, scope=ctx.scope
    )


def test_the_probe_is_registered_with_its_params() -> None:
    spec = REGISTRY.get("prometheus.alerting")
    assert (spec.params, spec.scopes, spec.needs) == (AlertingParams, (Scope.TARGET,),
                                                      ("prometheus_url",))  # fmt: skip
    assert (AlertingParams().required_alerts, AlertingParams().fire_test_alert) == ([], True)


async def test_a_good_setup_passes_and_its_test_alert_reaches_the_receiver(
    monitoring: MonitoringLab, make_ctx: MakeContext
) -> None:
    result = await run(on(make_ctx, monitoring, "good"), required_alerts=REQUIRED)
    assert result.verdict is Verdict.PASS, result.reason
    manager = monitoring.alertmanagers["good"]
    assert result.reason == (f"3 alerting rules evaluate cleanly; {manager} notifies through "
                             "webhook and listed the test alert")  # fmt: skip
    assert result.evidence["alertmanagers"] == [f"{manager}/api/v2/alerts"]
    assert result.evidence["alerting_rules"] == ["FeedStale", "HostDown", "HostOutOfDisk"]
    (examined,) = result.evidence["examined_alertmanagers"]
    # A null receiver beside a real one is a choice (dropping Watchdog), not a fault.
    assert examined["receivers"] == {"ops": ["webhook"], "blackhole": []}
    test_alert = examined["test_alert"]
    assert test_alert["labels"]["alertname"] == "QuarterdeckReadinessTest"
    assert test_alert["routed_to"] == ["ops"]
    # The webhook behind the receiver is notified (group_wait is 1 s in the lab).
    marker = test_alert["labels"][alertmanager.TEST_ALERT_LABEL]
    deadline = time.monotonic() + 15
    while not monitoring.webhook.alerts_labelled(alertmanager.TEST_ALERT_LABEL, marker):
        assert time.monotonic() < deadline, "the webhook never got the test alert"
        time.sleep(0.1)


@pytest.mark.parametrize(
    ("prometheus", "reason"),
    [
        ("no_rules", "Prometheus has no alerting rules loaded"),
        ("broken_rule", "1 rule(s) fail to evaluate: DuplicateSeries (vector cannot contain "
                        "metrics with the same labelset)"),
        ("no_alertmanager", "Prometheus reports no active Alertmanager: its alerts go nowhere"),
        ("null_receiver", "has no receiver with a notifier (null receivers: 'blackhole'): "
                          "it notifies nobody"),
    ],
)  # fmt: skip
async def test_each_bad_setup_fails_naming_its_fault(
    prometheus: str, reason: str, monitoring: MonitoringLab, make_ctx: MakeContext
) -> None:
    result = await run(on(make_ctx, monitoring, prometheus))
    assert result.verdict is Verdict.FAIL
    assert reason in result.reason
    assert ";" not in result.reason  # that fault alone


async def test_missing_required_alerts_fail_by_name(
    monitoring: MonitoringLab, make_ctx: MakeContext
) -> None:
    ctx = on(make_ctx, monitoring, "good")
    result = await run(ctx, required_alerts=["HostDown", "EngineHalted", "FeedGap"],
                       fire_test_alert=False)  # fmt: skip
    assert result.verdict is Verdict.FAIL
    assert result.reason == ("required alert(s) not among the loaded alerting rules: "
                             "EngineHalted, FeedGap")  # fmt: skip
    assert result.evidence["missing_alerts"] == ["EngineHalted", "FeedGap"]


async def test_the_given_alertmanager_is_judged_instead_of_the_reported_one(
    monitoring: MonitoringLab, make_ctx: MakeContext
) -> None:
    ctx = on(make_ctx, monitoring, "good", alertmanager_url=monitoring.alertmanagers["null"])
    result = await run(ctx)
    assert result.verdict is Verdict.FAIL
    assert result.reason.startswith(f"Alertmanager {monitoring.alertmanagers['null']} has no")
    # The null receiver got the test alert: said, though it is not the fault reported.
    (examined,) = result.evidence["examined_alertmanagers"]
    assert examined["test_alert"]["routed_to"] == ["blackhole"]


async def test_without_a_test_alert_nothing_is_posted(
    monitoring: MonitoringLab, make_ctx: MakeContext
) -> None:
    result = await run(on(make_ctx, monitoring, "good"), fire_test_alert=False)
    assert result.verdict is Verdict.PASS, result.reason
    assert "test_alert" not in result.evidence["examined_alertmanagers"][0]


@pytest.fixture
def forgetful_alertmanager(monitoring: MonitoringLab) -> Iterator[str]:
    """Says it has a webhook receiver and takes alerts, but never lists one."""
    status = httpx.get(f"{monitoring.alertmanagers['good']}/api/v2/status").content

    class Handler(QuietHandler):
        def _answer(self, body: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            self._answer(status if self.path.startswith("/api/v2/status") else b"[]")

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self._answer(json.dumps({}).encode())

    with threaded_http(Handler) as port:
        yield f"http://127.0.0.1:{port}"


async def test_a_test_alert_that_is_never_listed_fails(
    forgetful_alertmanager: str, monitoring: MonitoringLab, make_ctx: MakeContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setattr(alertmanager, "LISTED_WITHIN_S", 0.5)
    result = await run(on(make_ctx, monitoring, "good", alertmanager_url=forgetful_alertmanager))
    assert result.verdict is Verdict.FAIL
    assert result.reason == (f"the test alert posted to {forgetful_alertmanager} was not listed "
                             "by GET /api/v2/alerts within 0.5 s")  # fmt: skip


async def test_an_unreachable_alertmanager_is_an_error(
    monitoring: MonitoringLab, make_ctx: MakeContext
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = await run(on(make_ctx, monitoring, "good", alertmanager_url=url))
    assert result.verdict is Verdict.ERROR
    assert result.reason.startswith(f"cannot connect to GET {url}/api/v2/status")


async def test_without_a_prometheus_the_probe_names_the_setting(make_ctx: MakeContext) -> None:
    result = await run(make_ctx(scope=Scope.TARGET, base_url="https://192.0.2.7"))
    assert result.verdict is Verdict.ERROR
    assert "QD_CHECK_PROMETHEUS_URL" in result.reason
    assert result.evidence["setting"] == "prometheus_url"
