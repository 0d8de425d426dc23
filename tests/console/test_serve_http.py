"""`serve --http-port`: the API server and its monitoring routes wired to the Deck,
readiness and SSH."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncssh
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from checks import ReadinessService
from console.api.server import ApiServer
from console.cli import main
from console.commands.serve import listen_http, listen_ssh
from console.ssh.server import SSHService
from console.ssh.users import add_user, read_key_file
from core.access import Role
from core.config import Settings
from core.deck import Deck
from core.events import Verdict
from tests.console.ssh.keys import make_key
from tests.console.ssh.served import Served, connect, open_console, until

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Serving:
    deck: Deck
    readiness: ReadinessService
    ssh: SSHService
    http: ApiServer
    keys: dict[str, Path]


@pytest.fixture
async def serving(settings: Settings, tmp_path: Path) -> AsyncIterator[Serving]:
    keys = {name: make_key(tmp_path / "keys", name) for name in ("alice", "mallory")}
    add_user(settings.users_file, "alice", Role.VIEWER, read_key_file(Path(f"{keys['alice']}.pub")))
    deck = Deck(settings)
    readiness = ReadinessService(deck)
    deck.add_service(readiness)
    ssh = await listen_ssh(deck, readiness, "127.0.0.1", 0)
    http = await listen_http(deck, readiness, ssh, 0)
    await deck.start()
    try:
        yield Serving(deck, readiness, ssh, http, keys)
    finally:
        await deck.stop()


def metric(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    raise AssertionError(f"{name}{labels or ''} is not in the exposition")


async def test_metrics_and_details_count_ssh_sessions_failed_logins_and_probes(
    serving: Serving,
) -> None:
    served = Served(serving.deck, serving.ssh, serving.keys)
    url = f"http://127.0.0.1:{serving.http.port}"
    async with httpx.AsyncClient(base_url=url) as client:
        text = (await client.get("/metrics")).text
        assert metric(text, "quarterdeck_ssh_sessions") == 0
        assert metric(text, "quarterdeck_ssh_failed_logins_total") == 0

        with pytest.raises(asyncssh.PermissionDenied):  # a key the users file does not know
            await connect(served, "alice", serving.keys["mallory"])
        conn = await connect(served, "alice")
        chan, _ = await open_console(conn)
        await until(lambda: len(serving.ssh.sessions) == 1)
        text = (await client.get("/metrics")).text
        assert metric(text, "quarterdeck_ssh_sessions") == 1
        assert metric(text, "quarterdeck_console_sessions") == 1
        assert metric(text, "quarterdeck_ssh_failed_logins_total") == 1
        chan.close()
        conn.close()

        await until(lambda: serving.readiness.runs_completed >= 1)
        text = (await client.get("/metrics")).text
        probes = sum(metric(text, "quarterdeck_probe_results", verdict=v.value) for v in Verdict)
        assert probes == len(serving.readiness.results) > 0

        details = (await client.get("/health/detailed")).json()["components"]
        assert set(details) == {"store", "feeds", "engine", "jobs", "probes", "ssh", "alerts"}
        assert details["ssh"]["failed_logins"] == 1
        assert sum(details["probes"]["results"].values()) == probes


def test_a_taken_http_port_is_reported_and_nothing_is_left_listening(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--ssh-port", "0", "--http-port", str(port)]) == 1
    err = capsys.readouterr().err
    assert f"cannot listen for HTTP on 127.0.0.1:{port}" in err


def test_an_unreadable_tls_key_is_reported_naming_the_setting(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "monitor.crt").write_text("not a certificate")
    monkeypatch.setenv("QD_HTTP_TLS_CERT_FILE", str(tmp_path / "monitor.crt"))
    monkeypatch.setenv("QD_HTTP_TLS_KEY_FILE", str(tmp_path / "absent.key"))
    assert main(["serve", "--ssh-port", "0", "--http-port", "0"]) == 1
    err = capsys.readouterr().err
    assert f"cannot serve HTTPS: http_tls_key_file: {tmp_path / 'absent.key'} is not" in err


def test_http_port_before_a_command_points_at_serve(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--http-port", "9100", "jobs", "list"]) == 2
    assert "quarterdeck serve --http-port N" in capsys.readouterr().err


def test_serve_answers_health_over_http_until_sigterm(tmp_path: Path) -> None:
    env = {**os.environ, "QD_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "QD_DEMO_JOB": "false",
           "QD_SIM_TICK_RATE": "400"}  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "console.cli", "serve", "--ssh-port", "0", "--http-port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        assert "SSH on 127.0.0.1:" in process.stdout.readline()
        line = process.stdout.readline()
        found = re.search(r"HTTP on 127\.0\.0\.1:(\d+)", line)
        assert found, line + process.stderr.read()  # type: ignore[union-attr]
        assert "deck started" in process.stdout.readline()
        base = f"http://127.0.0.1:{found.group(1)}"
        health = httpx.get(f"{base}/health", timeout=10)
        assert health.status_code == 200 and health.json()["status"] == "ok"
        assert "quarterdeck_uptime_seconds" in httpx.get(f"{base}/metrics", timeout=10).text
        missing = httpx.get(f"{base}/api/v1/nothing", timeout=10)
        assert missing.status_code == 404 and missing.json()["status"] == 404
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{base}/health", timeout=5)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
