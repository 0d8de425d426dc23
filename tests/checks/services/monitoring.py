"""A real monitoring stack for the Prometheus probes: node_exporter, Prometheus and
Alertmanager, in good and bad configurations, on free 127.0.0.1 ports.

- ``node``: one scrape job of the ``good`` Prometheus, with six machines: the real
  node_exporter of this machine (``this-host``), four served by a tiny exporter in this
  process with figures chosen to pass (``steady-host``), fail (``bad-host``: high load,
  5% memory, 2% disk on ``/``, clock 2 s off), run unsynchronised (``unsynced-host``)
  or carry samples 10 minutes old (``stale-host``), and one nobody listens for
  (``down-host``).
- Prometheus servers: ``good`` (served over TLS by a test CA, rules, the ``good``
  Alertmanager), ``no_rules``, ``broken_rule`` (one rule fails at every evaluation),
  ``no_alertmanager`` and ``null_receiver`` (sends to an Alertmanager whose only
  receiver is a null one).
- Alertmanagers: ``good`` (a webhook receiver, a test HTTP server here, beside a null
  one) and ``null``.

Every process runs in the foreground as a child of the test process, with its config,
data and log in the lab's directory, and is stopped when the session ends.
"""

from __future__ import annotations

import json
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from .pki import Authority
from .servers import QuietHandler, executable, free_port, stop, threaded_http, wait_for_ports

#: How old the stale machine's samples are: past the probes' 300 s limit, within the
#: good Prometheus's lookback (``--query.lookback-delta=15m``), so that queries see them.
STALE_BY_S = 600

STEADY = {
    "node_load1": 0.2,
    "node_load5": 0.3,
    "node_load15": 0.25,
    'node_cpu_seconds_total{cpu="0",mode="idle"}': 1000,
    'node_cpu_seconds_total{cpu="1",mode="idle"}': 1000,
    "node_memory_MemAvailable_bytes": 6e9,
    "node_memory_MemTotal_bytes": 1e10,
    'node_filesystem_avail_bytes{device="/dev/sda1",fstype="ext4",mountpoint="/"}': 7e10,
    'node_filesystem_size_bytes{device="/dev/sda1",fstype="ext4",mountpoint="/"}': 1e11,
    'node_filesystem_avail_bytes{device="/dev/sdb1",fstype="xfs",mountpoint="/data"}': 8e11,
    'node_filesystem_size_bytes{device="/dev/sdb1",fstype="xfs",mountpoint="/data"}': 1e12,
    "node_timex_offset_seconds": 0.003,
    "node_timex_sync_status": 1,
}
BAD = STEADY | {
    "node_load1": 8.0,
    "node_memory_MemAvailable_bytes": 5e8,
    'node_filesystem_avail_bytes{device="/dev/sda1",fstype="ext4",mountpoint="/"}': 2e9,
    "node_timex_offset_seconds": 2.0,
}
UNSYNCED = STEADY | {"node_timex_offset_seconds": 0.0, "node_timex_sync_status": 0}
#: The fake exporter's machines: path -> figures, and whether they are stale.
FAKE_MACHINES = {
    "steady-host": (STEADY, False),
    "bad-host": (BAD, False),
    "unsynced-host": (UNSYNCED, False),
    "stale-host": (STEADY, True),
}

RULES = {
    "groups": [{
        "name": "quarterdeck",
        "rules": [
            {"alert": "HostOutOfDisk", "for": "10m",
             "expr": "node_filesystem_avail_bytes / node_filesystem_size_bytes < 0.01"},
            {"alert": "HostDown", "expr": "up == 0", "for": "10m"},
            {"alert": "FeedStale", "expr": "absent(up{job=\"feed\"})", "for": "10m"},
            {"record": "instance:load_per_core", "expr": "node_load1"},
        ],
    }],
}  # fmt: skip
#: Two series that label_replace makes identical: an error at every evaluation.
BROKEN_RULES = {
    "groups": [{
        "name": "broken",
        "rules": [{"alert": "DuplicateSeries", "expr": 'label_replace(label_replace(vector(1), '
                   '"a", "x", "", "") or label_replace(vector(2), "a", "y", "", ""), '
                   '"a", "z", "", "")'}],
    }],
}  # fmt: skip


@dataclass
class Webhook:
    """A receiver's HTTP endpoint: keeps every notification Alertmanager posts."""

    received: list[dict[str, Any]] = field(default_factory=list)

    def alerts_labelled(self, label: str, value: str) -> list[dict[str, Any]]:
        return [alert for body in list(self.received) for alert in body.get("alerts", [])
                if alert.get("labels", {}).get(label) == value]  # fmt: skip


@dataclass(frozen=True)
class MonitoringLab:
    prometheus: dict[str, str]  # name -> root URL
    alertmanagers: dict[str, str]
    ca_file: Path  # signs the good Prometheus's certificate
    webhook: Webhook


def _exposition(figures: dict[str, float], stale: bool) -> str:
    stamp = f" {int((time.time() - STALE_BY_S) * 1000)}" if stale else ""
    return "".join(f"{series} {value}{stamp}\n" for series, value in figures.items())


class FakeExporter(QuietHandler):
    """Serves each fake machine's figures at ``/<machine>``."""

    def do_GET(self) -> None:
        figures, stale = FAKE_MACHINES[self.path.strip("/")]
        body = _exposition(figures, stale).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def webhook_handler(webhook: Webhook) -> type[QuietHandler]:
    """A receiver that keeps what Alertmanager posts it in ``webhook.received``."""

    class Handler(QuietHandler):
        def do_POST(self) -> None:
            webhook.received.append(
                json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            )
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Handler


@contextmanager
def process(command: list[str], directory: Path, port: int) -> Iterator[None]:
    """``command`` running with its output in ``directory/log``, until its port listens."""
    log = directory / "log"
    with log.open("wb") as output:
        child = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    try:
        wait_for_ports(child, [port], log)
        yield
    finally:
        stop(child)


def node_exporter(stack: ExitStack, root: Path) -> int:
    directory, port = root / "node_exporter", free_port()
    directory.mkdir()
    # Overlay (a container's root) is left out by default, leaving no "/" to measure.
    fs_types = ("^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|"
                "hugetlbfs|iso9660|mqueue|nsfs|proc|procfs|pstore|rpc_pipefs|securityfs|"
                "selinuxfs|squashfs|sysfs|tracefs)$")  # fmt: skip
    command = [executable("prometheus-node-exporter"), f"--web.listen-address=127.0.0.1:{port}",
               f"--collector.filesystem.fs-types-exclude={fs_types}"]  # fmt: skip
    stack.enter_context(process(command, directory, port))
    return port


def alertmanager(stack: ExitStack, root: Path, name: str, config: dict[str, Any]) -> str:
    directory, port = root / f"alertmanager-{name}", free_port()
    directory.mkdir()
    (directory / "alertmanager.yml").write_text(yaml.safe_dump(config))
    command = [
        executable("prometheus-alertmanager"),
        f"--config.file={directory / 'alertmanager.yml'}",
        f"--storage.path={directory / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
    ]  # fmt: skip  (no gossip port: they would clash)
    stack.enter_context(process(command, directory, port))
    return f"http://127.0.0.1:{port}"


def prometheus(
    stack: ExitStack, root: Path, name: str, config: dict[str, Any],
    rules: list[dict[str, Any]], extra: tuple[str, ...] = (),
) -> int:  # fmt: skip
    directory, port = root / f"prometheus-{name}", free_port()
    directory.mkdir()
    config = {"global": {"scrape_interval": "1s", "scrape_timeout": "1s",
                         "evaluation_interval": "1s"}, **config}  # fmt: skip
    if rules:
        config["rule_files"] = []
        for index, groups in enumerate(rules):
            (directory / f"rules-{index}.yml").write_text(yaml.safe_dump(groups))
            config["rule_files"].append(str(directory / f"rules-{index}.yml"))
    (directory / "prometheus.yml").write_text(yaml.safe_dump(config))
    command = [executable("prometheus"), f"--config.file={directory / 'prometheus.yml'}",
               f"--storage.tsdb.path={directory / 'data'}",
               f"--web.listen-address=127.0.0.1:{port}", *extra]  # fmt: skip
    stack.enter_context(process(command, directory, port))
    return port


def sends_to(alertmanager_url: str) -> dict[str, Any]:
    target = alertmanager_url.removeprefix("http://")
    return {"alerting": {"alertmanagers": [{"static_configs": [{"targets": [target]}]}]}}


def node_job(node_exporter_port: int, fake_port: int) -> dict[str, Any]:
    targets = [{"targets": [f"127.0.0.1:{node_exporter_port}"],
                "labels": {"instance": "this-host"}}]  # fmt: skip
    targets += [{"targets": [f"127.0.0.1:{fake_port}"],
                 "labels": {"instance": machine, "__metrics_path__": f"/{machine}"}}
                for machine in FAKE_MACHINES]  # fmt: skip
    targets.append({"targets": [f"127.0.0.1:{free_port()}"], "labels": {"instance": "down-host"}})
    return {"scrape_configs": [{"job_name": "node", "static_configs": targets}]}


def wait_until(what: str, check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not ready after {timeout:g} s: {what}")
        time.sleep(0.2)


def _data(client: httpx.Client, url: str, **params: str) -> Any:
    try:
        return client.get(url, params=params).json()["data"]
    except (httpx.HTTPError, ValueError, KeyError):
        return None


def wait_ready(client: httpx.Client, url: str, *, rules: int, alertmanagers: bool) -> None:
    """Until ``url``'s Prometheus has evaluated all ``rules`` and found its Alertmanager."""

    def evaluated() -> bool:
        data = _data(client, f"{url}/api/v1/rules") or {"groups": []}
        found = [rule for group in data["groups"] for rule in group["rules"]]
        return len(found) == rules and all(rule["health"] != "unknown" for rule in found)

    def discovered() -> bool:
        data = _data(client, f"{url}/api/v1/alertmanagers") or {}
        return bool(data.get("activeAlertmanagers"))

    wait_until(f"{url} evaluated its {rules} rules", evaluated)
    if alertmanagers:
        wait_until(f"{url} found its Alertmanager", discovered)


def wait_scraped(client: httpx.Client, url: str) -> None:
    """Until every machine of the node job is scraped (or failed), series and all."""

    def count(query: str) -> float:
        data = _data(client, f"{url}/api/v1/query", query=query) or {"result": []}
        return float(data["result"][0]["value"][1]) if data["result"] else 0.0

    machines = len(FAKE_MACHINES) + 2
    wait_until("the node job scraped", lambda: count('count(up{job="node"})') == machines
               and count('count(node_timex_sync_status{job="node"})') == machines - 1)  # fmt: skip


@contextmanager
def monitoring_lab(root: Path) -> Iterator[MonitoringLab]:
    webhook = Webhook()
    authority = Authority.create("Quarterdeck monitoring test CA")
    ca_file = authority.write(root / "ca.pem")
    cert, key = authority.issue(root, "prometheus")
    (root / "web.yml").write_text(yaml.safe_dump(
        {"tls_server_config": {"cert_file": str(cert), "key_file": str(key)}}))  # fmt: skip
    with ExitStack() as stack:
        fake_port = stack.enter_context(threaded_http(FakeExporter))
        webhook_port = stack.enter_context(threaded_http(webhook_handler(webhook)))
        managers = {
            "good": alertmanager(stack, root, "good", {
                "route": {"receiver": "ops", "group_by": ["alertname"], "group_wait": "1s",
                          "group_interval": "1s", "repeat_interval": "1h",
                          "routes": [{"matchers": ['alertname="Watchdog"'],
                                      "receiver": "blackhole"}]},
                "receivers": [{"name": "ops", "webhook_configs": [
                                  {"url": f"http://127.0.0.1:{webhook_port}/alerts"}]},
                              {"name": "blackhole"}],
            }),
            "null": alertmanager(stack, root, "null", {"route": {"receiver": "blackhole"},
                                                       "receivers": [{"name": "blackhole"}]}),
        }  # fmt: skip
        node = node_exporter(stack, root)
        good_am, null_am = sends_to(managers["good"]), sends_to(managers["null"])
        ports = {
            "good": prometheus(stack, root, "good", node_job(node, fake_port) | good_am, [RULES],
                               ("--query.lookback-delta=15m",
                                f"--web.config.file={root / 'web.yml'}")),
            "no_rules": prometheus(stack, root, "no_rules", good_am, []),
            "broken_rule": prometheus(stack, root, "broken_rule", good_am, [RULES, BROKEN_RULES]),
            "no_alertmanager": prometheus(stack, root, "no_alertmanager", {}, [RULES]),
            "null_receiver": prometheus(stack, root, "null_receiver", null_am, [RULES]),
        }  # fmt: skip
        urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        urls["good"] = f"https://127.0.0.1:{ports['good']}"
        with httpx.Client(verify=ssl.create_default_context(cafile=str(ca_file))) as client:
            rules = len(RULES["groups"][0]["rules"])
            wait_scraped(client, urls["good"])
            wait_ready(client, urls["good"], rules=rules, alertmanagers=True)
            wait_ready(client, urls["no_rules"], rules=0, alertmanagers=True)
            wait_ready(client, urls["broken_rule"], rules=rules + 1, alertmanagers=True)
            wait_ready(client, urls["no_alertmanager"], rules=rules, alertmanagers=False)
            wait_ready(client, urls["null_receiver"], rules=rules, alertmanagers=True)
        yield MonitoringLab(urls, managers, ca_file, webhook)
