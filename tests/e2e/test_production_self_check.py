"""The production checklist run against Quarterdeck's own `serve`: every item that
applies to it passes.

A real `quarterdeck serve` serves HTTPS on its monitoring port with a
certificate from a throwaway CA; a real `quarterdeck check run production`
examines it with the CA, the source tree and the risk limits a deployment
would configure. Each probe item is put in exactly one of the groups below,
so an item added to the catalog later must be placed (and reasoned about) here.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from tests.checks.services.pki import Authority

ROOT = Path(__file__).resolve().parents[2]

# Items about Quarterdeck itself: they must pass.
MUST_PASS = {
    "security.error_leaks", "security.headers", "security.cors", "security.code_scan",
    "security.rate_limiting", "network.tls_certificate", "security.no_weak_secrets",
    "infrastructure.clock_sync", "database.reachable", "database.sqlite_wal",
    "monitoring.health_endpoint", "monitoring.health_metrics", "trading.paper_mode",
    "trading.risk_limits", "risk.kill_switch", "database.backup_fresh",
}  # fmt: skip
# Figures of the machine the test runs on, and a latency measured under whatever else
# that machine is doing: they must be measured (a verdict, not an error), and the load
# test must get every answer; their thresholds are the host's business (bench/ times it).
MEASURED = {"infrastructure.disk_free", "infrastructure.memory_headroom",
            "infrastructure.cpu_headroom", "performance.response_times"}  # fmt: skip
# What does not apply to the monitoring port, and why.
NOT_APPLICABLE = {
    # It has no accounts and no login: people sign in over SSH, with keys and lockout.
    "authentication.required": "error",
    "authentication.tokens": "error",
    "authentication.lockout": "error",
    # It serves HTTPS only; nothing listens for plain HTTP, so nothing to redirect.
    "network.https_redirect": "warn",
    # Quarterdeck uses no Redis.
    "infrastructure.redis": "error",
}


def test_production_checklist_passes_against_own_serve(tmp_path: Path) -> None:
    authority = Authority.create()
    ca_file = authority.write(tmp_path / "ca.pem")
    cert_file, key_file = authority.issue(tmp_path, "quarterdeck")
    env = {
        **os.environ, "PYTHONPATH": str(ROOT), "QD_DATA_DIR": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"), "QD_DEMO_JOB": "false",
        "QD_HTTP_TLS_CERT_FILE": str(cert_file), "QD_HTTP_TLS_KEY_FILE": str(key_file),
        "QD_RISK_MAX_ORDER_NOTIONAL": "250000", "QD_RISK_MAX_POSITION_NOTIONAL": "500000",
        "QD_RISK_DAILY_LOSS_LIMIT": "20000",
    }  # fmt: skip
    serve = subprocess.Popen(
        [sys.executable, "-m", "console.cli", "serve", "--ssh-port", "0", "--http-port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )  # fmt: skip
    try:
        assert serve.stdout is not None
        assert "SSH on 127.0.0.1:" in serve.stdout.readline()
        line = serve.stdout.readline()
        found = re.search(r"HTTPS on 127\.0\.0\.1:(\d+)", line)
        assert found, line + serve.stderr.read()  # type: ignore[union-attr]
        assert "deck started" in serve.stdout.readline()
        backups = tmp_path / "backups"  # taken the way a deployment's cron would, while it runs
        subprocess.run([sys.executable, "-m", "console.cli", "db", "backup", str(backups)],
                       check=True, env=env, cwd=ROOT, timeout=60)  # fmt: skip
        check_env = {**env, "QD_CHECK_CA_FILE": str(ca_file), "QD_CHECK_PROJECT_DIR": str(ROOT),
                     "QD_CHECK_BACKUP_DIR": str(backups)}  # fmt: skip
        run = subprocess.run(
            [sys.executable, "-m", "console.cli", "check", "run", "production", "--probes-only",
             "--json", "--target", f"https://127.0.0.1:{found.group(1)}"],
            capture_output=True, text=True, env=check_env, cwd=ROOT, timeout=240,
        )  # fmt: skip
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(timeout=60) == 0
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()
    report = json.loads(run.stdout)
    items = {item["id"]: item for item in report["items"] if item["kind"] == "probe"}
    assert set(items) == MUST_PASS | MEASURED | set(NOT_APPLICABLE)
    failed = {i: items[i]["reason"] for i in MUST_PASS if items[i]["verdict"] != "pass"}
    assert not failed
    for item_id in MEASURED:
        assert items[item_id]["verdict"] in ("pass", "warn", "fail"), items[item_id]["reason"]
    assert items["performance.response_times"]["evidence"]["errors"] == 0
    assert {i: items[i]["verdict"] for i in NOT_APPLICABLE} == NOT_APPLICABLE
