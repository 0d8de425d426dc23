"""The production checklist run against Quarterdeck's own `serve`: every item that
applies to it passes.

A real `quarterdeck serve` serves the control API over HTTPS with a certificate from
a throwaway CA, redirects plain HTTP to it (``QD_HTTP_REDIRECT_PORT``) and keeps its
rate limits in a real redis-server (``QD_REDIS_URL``) configured as the Redis probe
demands. A real `quarterdeck check run production` examines it with an API key made by
`quarterdeck users add --api-key` (``QD_CHECK_API_KEY``), the CA, the source tree, the
Redis and the risk limits a deployment would configure. Each probe item is put in
exactly one of the groups below, so an item added to the catalog later must be placed
(and reasoned about) here.
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
from tests.checks.services.servers import REDIS_GOOD, redis_servers

ROOT = Path(__file__).resolve().parents[2]
REDIRECT_ITEM = 'id = "network.https_redirect"'

# Items the target (this Quarterdeck's `serve`, its host, database and tree) must pass.
MUST_PASS = {
    "security.error_leaks", "security.headers", "security.cors", "security.code_scan",
    "security.rate_limiting", "network.tls_certificate", "network.https_redirect",
    "authentication.required", "authentication.tokens", "authentication.lockout",
    "security.no_weak_secrets", "infrastructure.clock_sync", "infrastructure.redis",
    "database.reachable", "database.sqlite_wal", "monitoring.health_endpoint",
    "monitoring.health_metrics", "trading.paper_mode", "trading.risk_limits",
    "database.backup_fresh", "database.restore_tested", "database.migrations",
    "database.performance", "security.input_validation", "security.transport_encryption",
    "security.secrets_management", "monitoring.structured_logging", "performance.caching",
    "docs.reference", "trading.market_data_quality", "trading.portfolio_accuracy",
    "trading.strategies_available", "compliance.audit_trail",
}  # fmt: skip
# Read but not drilled: a drill halts the target (it needs `drill = true` and an admin's
# key; tests/checks/services/test_target_engine.py drills a real one). A WARN, never a PASS.
NOT_DRILLED = {"risk.kill_switch"}
# Figures of the machine the test runs on, and a latency measured under whatever else
# that machine is doing: they must be measured (a verdict, not an error), and the load
# tests must get every answer; their thresholds are the host's business (bench/ times it).
MEASURED = {"infrastructure.disk_free", "infrastructure.memory_headroom",
            "infrastructure.cpu_headroom", "performance.response_times",
            "performance.load_tested"}  # fmt: skip
# A SQLite store has no connection limit and no replication of its own: a WARN saying so.
NOT_APPLICABLE = {"infrastructure.connection_pools", "infrastructure.failover"}
# What this test does not give: the release's CI reports and status, a Prometheus. Each
# is an ERROR naming the setting that would reach it.
REPORTS = "QD_CHECK_REPORTS_DIR"
NOT_GIVEN = {
    "security.dependency_scan": REPORTS, "quality.test_suite": REPORTS,
    "testing.integration": REPORTS, "testing.security_tests": REPORTS,
    "ci.pipeline": "QD_CHECK_CI_STATUS_URL", "monitoring.alerting": "QD_CHECK_PROMETHEUS_URL",
}  # fmt: skip
# The readiness key is a viewer's (least privilege): the job drills, which queue jobs on
# the target, are refused it, an ERROR (tests/checks/services/test_engine_jobs.py runs them
# with an operator's key against a real Quarterdeck).
REFUSED_THE_KEY = {"research.optimizer", "exports.generation", "jobs.background_queue"}
# True of a deployment this fresh, and FAILs: no lock file pins the dependencies, one
# unencrypted backup is no schedule, the rollback and deployment were never rehearsed
# against it, and this release was never judged on staging.
FINDINGS = {"infrastructure.dependencies_pinned", "database.backups",
            "operations.rollback_plan", "operations.deployment_procedure",
            "ci.staging_first"}  # fmt: skip


def production_with_redirect_at(http_url: str, directory: Path) -> Path:
    """The built-in production checklist, its redirect item pointed at ``http_url``: a
    deployment redirects from port 80, where the probe looks by default; this test's
    port is whatever was free."""
    text = (ROOT / "checks" / "catalog" / "production.toml").read_text()
    start = text.index(REDIRECT_ITEM)
    end = text.index("\n\n", start)
    assert "[items.params]" not in text[start:end]
    text = text[:end] + f'\n\n[items.params]\nhttp_url = "{http_url}"' + text[end:]
    path = directory / "production.toml"
    path.write_text(text.replace('config = "alembic.ini"', f'config = "{alembic_ini(directory)}"'))
    return path


def alembic_ini(directory: Path) -> Path:
    """The Alembic configuration a deployment keeps beside its tree (Quarterdeck runs its
    migrations in-process, without one): where its migration scripts are."""
    path = directory / "alembic.ini"
    path.write_text(f"[alembic]\nscript_location = {ROOT / 'core/store/migrations/scripts'}\n")
    return path


def api_key(env: dict[str, str]) -> str:
    """A new viewer with an API key, as an operator makes the readiness probes' key."""
    made = subprocess.run(
        [sys.executable, "-m", "console.cli", "users", "add", "readiness", "--role", "viewer",
         "--api-key"], capture_output=True, text=True, check=True, env=env, cwd=ROOT, timeout=60,
    )  # fmt: skip
    return made.stdout.strip().splitlines()[-1]


def test_production_checklist_passes_against_own_serve(tmp_path: Path) -> None:
    authority = Authority.create()
    ca_file = authority.write(tmp_path / "ca.pem")
    cert_file, key_file = authority.issue(tmp_path, "quarterdeck")
    with redis_servers(tmp_path / "redis", {"api": REDIS_GOOD}) as ports:
        redis_url = f"redis://:{REDIS_GOOD['requirepass']}@127.0.0.1:{ports['api']}/0"
        env = {
            **os.environ, "PYTHONPATH": str(ROOT), "QD_DATA_DIR": str(tmp_path / "data"),
            "XDG_CONFIG_HOME": str(tmp_path / "config"), "QD_DEMO_JOB": "false",
            "QD_HTTP_TLS_CERT_FILE": str(cert_file), "QD_HTTP_TLS_KEY_FILE": str(key_file),
            "QD_HTTP_REDIRECT_PORT": "0", "QD_REDIS_URL": redis_url,
            "QD_RISK_MAX_ORDER_NOTIONAL": "250000", "QD_RISK_MAX_POSITION_NOTIONAL": "500000",
            "QD_RISK_DAILY_LOSS_LIMIT": "20000",
        }  # fmt: skip
        key = api_key(env)
        serve = subprocess.Popen(
            [sys.executable, "-m", "console.cli", "serve", "--ssh-port", "0", "--http-port", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
        )  # fmt: skip
        try:
            assert serve.stdout is not None
            assert "SSH on 127.0.0.1:" in serve.stdout.readline()
            line = serve.stdout.readline()
            https = re.search(r"HTTPS on 127\.0\.0\.1:(\d+)", line)
            assert https, line + serve.stderr.read()  # type: ignore[union-attr]
            line = serve.stdout.readline()
            http = re.search(r"HTTP on 127\.0\.0\.1:(\d+) redirects to HTTPS", line)
            assert http, line
            assert "deck started" in serve.stdout.readline()
            backups = tmp_path / "backups"  # taken the way a deployment's cron would
            subprocess.run([sys.executable, "-m", "console.cli", "db", "backup", str(backups)],
                           check=True, env=env, cwd=ROOT, timeout=60)  # fmt: skip
            # The Deck signs a checkpoint of its audit trail hourly; a deployment this new
            # has its operator sign the first one (the audit trail item demands one).
            subprocess.run([sys.executable, "-m", "console.cli", "audit", "checkpoint"],
                           check=True, env=env, cwd=ROOT, timeout=60)  # fmt: skip
            check_env = {**env, "QD_CHECK_CA_FILE": str(ca_file),
                         "QD_CHECK_PROJECT_DIR": str(ROOT), "QD_CHECK_BACKUP_DIR": str(backups),
                         "QD_CHECK_API_KEY": key, "QD_CHECK_REDIS_URL": redis_url,
                         "QD_CHECK_LOG_PATH": str(tmp_path / "data/logs/quarterdeck.jsonl"),
                         "QD_CHECK_DATABASE_URL":
                             f"sqlite:///{tmp_path / 'data' / 'quarterdeck.db'}"}  # fmt: skip
            checklist = production_with_redirect_at(f"http://127.0.0.1:{http.group(1)}/", tmp_path)
            run = subprocess.run(
                [sys.executable, "-m", "console.cli", "check", "run", str(checklist),
                 "--probes-only", "--json", "--target", f"https://127.0.0.1:{https.group(1)}"],
                capture_output=True, text=True, env=check_env, cwd=ROOT, timeout=240,
            )  # fmt: skip
            serve.send_signal(signal.SIGTERM)
            assert serve.wait(timeout=60) == 0
        finally:
            if serve.poll() is None:
                serve.kill()
                serve.wait()
    report = json.loads(run.stdout)
    assert report["checklist"] == "production"
    items = {item["id"]: item for item in report["items"] if item["kind"] == "probe"}
    groups = [MUST_PASS, MEASURED, NOT_DRILLED, NOT_APPLICABLE, set(NOT_GIVEN),
              REFUSED_THE_KEY, FINDINGS]  # fmt: skip
    assert sum(len(group) for group in groups) == len(set().union(*groups))  # disjoint
    assert set(items) == set().union(*groups)
    failed = {i: items[i]["reason"] for i in MUST_PASS if items[i]["verdict"] != "pass"}
    assert not failed, json.dumps(failed, indent=1)
    for item_id in NOT_APPLICABLE:
        assert items[item_id]["verdict"] == "warn", items[item_id]["reason"]
        assert items[item_id]["reason"].startswith("not applicable: the database is sqlite")
    for item_id, setting in NOT_GIVEN.items():
        assert items[item_id]["verdict"] == "error", items[item_id]["reason"]
        assert setting in items[item_id]["reason"], items[item_id]["reason"]
    for item_id in REFUSED_THE_KEY:
        assert items[item_id]["verdict"] == "error", items[item_id]["reason"]
        assert "refused" in items[item_id]["reason"], items[item_id]["reason"]
    for item_id in FINDINGS:
        assert items[item_id]["verdict"] == "fail", (item_id, items[item_id]["reason"])
    assert items["risk.kill_switch"]["verdict"] == "warn", items["risk.kill_switch"]["reason"]
    assert items["risk.kill_switch"]["evidence"]["state_before"] == "active"
    # Each item says what it examined, and the engine's figures are the target's own:
    assert items["trading.paper_mode"]["scope"] == "target"
    assert items["trading.paper_mode"]["evidence"]["exchanges"][0]["url"].endswith("/api/v1/risk")
    assert items["database.reachable"]["scope"] == "target-database"
    assert items["infrastructure.cpu_headroom"]["scope"] == "target-host"
    for item_id in MEASURED:
        assert items[item_id]["verdict"] in ("pass", "warn", "fail"), items[item_id]["reason"]
    assert items["performance.response_times"]["evidence"]["errors"] == 0
    assert items["performance.load_tested"]["evidence"]["errors"] == 0
    # Each passed for the reason it exists, not by accident of the run's order:
    lockout = items["authentication.lockout"]["evidence"]
    # Locked by the fifth failure from this host: the authentication probe's wrong keys,
    # moments before, may count toward the same window.
    assert 1 <= lockout["failures_before_lock"] <= 5 and int(lockout["retry_after"]) > 0
    assert set(items["authentication.required"]["evidence"]["refusals"].values()) == {401}
    assert items["authentication.tokens"]["evidence"]["token_lifetime_s"] <= 900
    # The reads allowance is the probe host's for the whole run, so the auth probes'
    # reads just before may have spent most of it: the 429 and its guidance are the point.
    throttled = items["security.rate_limiting"]["evidence"]["429_headers"]
    assert {"retry-after", "ratelimit-limit", "ratelimit-remaining"} <= throttled.keys()
    assert items["network.https_redirect"]["evidence"]["status"] == 308
