"""host.cpu, host.memory, host.disk and host.clock judging the target's machines from the
node_exporter series of a real Prometheus (the ``monitoring`` lab, monitoring.py)."""

from __future__ import annotations

import shutil
from typing import Any

import psutil
import pytest

from checks.probes import REGISTRY, ProbeContext, ProbeResult, Scope
from checks.runner import run_probe_named
from core.events import Verdict

from .conftest import MakeContext
from .monitoring import STALE_BY_S, MonitoringLab
from .servers import free_port

HOST_PROBES = ["host.cpu", "host.memory", "host.disk", "host.clock"]
#: Thresholds this machine meets whatever the tests around it are doing.
LENIENT: dict[str, dict[str, Any]] = {
    "host.cpu": {"max_load_per_core": 1000, "warn_load_per_core": 1000},
    "host.memory": {"min_available_percent": 1},
    "host.disk": {"min_free_percent": 1},
}


def on_target_host(make_ctx: MakeContext, lab: MonitoringLab, **target: object) -> ProbeContext:
    fields: dict[str, object] = {"prometheus_url": lab.prometheus["good"], "ca_file": lab.ca_file}
    return make_ctx(scope=Scope.TARGET_HOST, **(fields | target))


async def run(name: str, ctx: ProbeContext, **params: Any) -> ProbeResult:
    return await run_probe_named(name, params, ctx, REGISTRY, 10.0, scope=ctx.scope)


@pytest.mark.parametrize("probe", ["host.cpu", "host.memory", "host.disk"])
async def test_this_machine_s_node_exporter_is_judged_with_its_real_figures(
    probe: str, monitoring: MonitoringLab, make_ctx: MakeContext
) -> None:
    ctx = on_target_host(make_ctx, monitoring)
    result = await run(probe, ctx, instance="this-host", **LENIENT[probe])
    assert result.verdict is Verdict.PASS, result.reason
    assert result.reason.startswith("this-host: ")
    assert result.evidence["source"] == "prometheus"
    assert result.evidence["prometheus_url"] == monitoring.prometheus["good"]
    assert result.evidence["queries"][0] == 'up{job="node", instance=~"this-host"}'
    machine = result.evidence["instances"]["this-host"]
    assert machine["verdict"] == "pass"
    assert machine["oldest_sample_s"] < 10
    if probe == "host.cpu":
        assert machine["cores"] == psutil.cpu_count(logical=True)
    elif probe == "host.memory":
        assert machine["total_bytes"] == psutil.virtual_memory().total
    else:
        assert machine["measured_path"] == "/"
        assert machine["total_bytes"] == shutil.disk_usage("/").total


@pytest.mark.parametrize("probe", HOST_PROBES)
async def test_a_healthy_machine_passes_every_host_probe(
    probe: str, monitoring: MonitoringLab, make_ctx: MakeContext
) -> None:
    result = await run(probe, on_target_host(make_ctx, monitoring), instance="steady-host")
    assert result.verdict is Verdict.PASS, result.reason
    assert list(result.evidence["instances"]) == ["steady-host"]


@pytest.mark.parametrize(
    ("probe", "reason"),
    [
        ("host.cpu", "bad-host: load 8.00 on 2 cores (4.00 per core), over 0.9"),
        ("host.memory", "bad-host: 5.0% of memory available, under the 10% minimum"),
        ("host.disk", "bad-host: 2.0% free on /, under the 10% minimum"),
        ("host.clock", "bad-host: clock off by +2000 ms from its NTP source, over 500 ms"),
    ],
)
async def test_a_starved_machine_fails_each_host_probe(
    probe: str, reason: str, monitoring: MonitoringLab, make_ctx: MakeContext
) -> None:
    result = await run(probe, on_target_host(make_ctx, monitoring), instance="bad-host")
    assert result.verdict is Verdict.FAIL
    assert result.reason == reason


async def test_an_unsynchronised_clock_fails_whatever_its_offset(
    monitoring: MonitoringLab, make_ctx: MakeContext
) -> None:
    result = await run("host.clock", on_target_host(make_ctx, monitoring), instance="unsynced-host")
    assert result.verdict is Verdict.FAIL
    assert "the kernel reports its clock unsynchronised (node_timex_sync_status 0)" in result.reason
    assert result.evidence["instances"]["unsynced-host"]["offset_ms"] == 0


async def test_disk_measures_the_filesystem_holding_the_path(
    monitoring: MonitoringLab, make_ctx: MakeContext
) -> None:
    ctx = on_target_host(make_ctx, monitoring)
    result = await run("host.disk", ctx, instance="bad-host", path="/data/db")  # "/" is full
    assert result.verdict is Verdict.PASS, result.reason
    machine = result.evidence["instances"]["bad-host"]
    assert (machine["measured_path"], machine["device"], machine["free_percent"]) == (
        "/data", "/dev/sdb1", 80.0)  # fmt: skip
    assert result.evidence["path"] == "/data/db"


async def test_disk_path_on_the_target_s_host_must_be_absolute(
    monitoring: MonitoringLab, make_ctx: MakeContext
) -> None:
    result = await run("host.disk", on_target_host(make_ctx, monitoring), path="data")
    assert result.verdict is Verdict.ERROR
    assert "must be absolute" in result.reason


async def test_every_matched_machine_is_judged_and_the_worst_verdict_wins(
    monitoring: MonitoringLab, make_ctx: MakeContext
) -> None:
    ctx = on_target_host(make_ctx, monitoring)
    result = await run("host.memory", ctx)  # instance ".+": all six machines
    verdicts = {name: machine["verdict"] for name, machine in result.evidence["instances"].items()}
    assert verdicts == {"bad-host": "fail", "down-host": "error", "stale-host": "error",
                        "steady-host": "pass", "this-host": "pass",
                        "unsynced-host": "pass"}  # fmt: skip
    assert result.verdict is Verdict.ERROR
    assert result.reason.startswith("2 of 6 instances error: down-host: its scrapes fail (up 0)")
    assert "stale-host: stale" in result.reason

    two = await run("host.memory", ctx, instance="steady-host|bad-host")
    assert two.verdict is Verdict.FAIL
    assert two.reason == ("1 of 2 instances fail: bad-host: 5.0% of memory available, "
                          "under the 10% minimum")  # fmt: skip


async def test_samples_older_than_five_minutes_are_an_error(
    monitoring: MonitoringLab, make_ctx: MakeContext
) -> None:
    result = await run("host.cpu", on_target_host(make_ctx, monitoring), instance="stale-host")
    assert result.verdict is Verdict.ERROR
    assert result.reason.startswith("stale-host: stale: its newest node_")
    assert "over 300 s" in result.reason
    assert result.evidence["instances"]["stale-host"]["oldest_sample_s"] == pytest.approx(
        STALE_BY_S, abs=15)  # fmt: skip


@pytest.mark.parametrize(("field", "value"), [("instance", "nowhere"), ("job", "nope")])
async def test_no_matching_series_is_an_error_naming_the_query(
    field: str, value: str, monitoring: MonitoringLab, make_ctx: MakeContext
) -> None:
    result = await run("host.disk", on_target_host(make_ctx, monitoring), **{field: value})
    assert result.verdict is Verdict.ERROR
    query = result.evidence["queries"][0]
    assert f'{field}{"=~" if field == "instance" else "="}"{value}"' in query
    assert result.reason.startswith(f"{query} matched no series at ")


async def test_prometheus_comes_before_this_machine_for_the_target_s_host(
    monitoring: MonitoringLab, make_ctx: MakeContext
) -> None:
    # The target runs here, yet its Prometheus is the source: it sees every machine.
    ctx = on_target_host(make_ctx, monitoring, base_url="http://127.0.0.1:9")
    result = await run("host.memory", ctx, instance="steady-host")
    assert result.evidence["source"] == "prometheus"
    # Quarterdeck's own host is always measured here.
    own = await run("host.memory", make_ctx(prometheus_url=monitoring.prometheus["good"]))
    assert own.evidence["source"] == "local"
    assert own.evidence["scope"] == "quarterdeck"


async def test_prometheus_is_verified_against_the_target_s_ca(
    monitoring: MonitoringLab, make_ctx: MakeContext
) -> None:
    ctx = on_target_host(make_ctx, monitoring, ca_file=None)
    result = await run("host.memory", ctx, instance="steady-host")
    assert result.verdict is Verdict.ERROR
    assert result.reason.startswith("cannot query Prometheus: cannot connect")
    assert "CERTIFICATE_VERIFY_FAILED" in result.reason


async def test_an_unreachable_prometheus_is_an_error(make_ctx: MakeContext) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    ctx = make_ctx(scope=Scope.TARGET_HOST, prometheus_url=url)
    result = await run("host.cpu", ctx)
    assert result.verdict is Verdict.ERROR
    assert result.reason.startswith(f"cannot query Prometheus: cannot connect to GET {url}/")
