"""Readiness speed: the whole automated production checklist against a real Quarterdeck.

    .venv/bin/python -m bench.readiness_speed

Starts ``quarterdeck serve`` (its own process, as a deployment runs, plain HTTP on
127.0.0.1) with a fresh store, a backup of it and a viewer's API key, then runs every
probe item of the built-in ``production`` checklist against it, 16 at a time, as
``quarterdeck check run`` does, with the settings a release manager would give (its API
key, database, backups, log, and this source tree to scan). The first run scans the
tree cold; the runs after it find the tree unchanged (``checks/probes/scan_cache.py``).
The lockout check is left out: it locks the probe host's logins for five minutes, so
every run after it would be refused. Prints each run's wall time and the slowest items.
Target: under 3 seconds.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from checks import ProbeContext, builtin_checklist, run_checklist
from checks.probes import ProbeResult, Target
from core.config import Settings
from core.store import Store

ROOT = Path(__file__).resolve().parent.parent
WARM_RUNS = 3
SLOWEST = 8


def cli(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-m", "console.cli", *args], capture_output=True,
                          text=True, check=True, env=env, cwd=ROOT, timeout=120)  # fmt: skip
    return done.stdout


def start_serve(env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    serve = subprocess.Popen([sys.executable, "-m", "console.cli", "serve", "--ssh-port", "0",
                              "--http-port", "0"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True, env=env, cwd=ROOT)  # fmt: skip
    assert serve.stdout is not None
    url = ""
    for line in serve.stdout:
        found = re.search(r"HTTP on (127\.0\.0\.1:\d+)", line)
        url = f"http://{found.group(1)}" if found else url
        if "deck started" in line:
            return serve, url
    raise RuntimeError("serve did not start")


async def one_run(target: Target, settings: Settings, store: Store) -> tuple[
    float, dict[str, ProbeResult]
]:  # fmt: skip
    context = ProbeContext(settings, store.engine, "live", target)
    checklist = builtin_checklist("production")
    # The lockout check locks the probe host's logins for 5 minutes by design: it would
    # lock every run after the first (the start-up run leaves it out for the same reason).
    only = [item.id for item in checklist.probe_items if item.id != "authentication.lockout"]
    started = time.perf_counter()
    results = await run_checklist(checklist, context, lambda _: None, 16, only=only)
    return time.perf_counter() - started, results


def report(label: str, elapsed: float, results: dict[str, ProbeResult]) -> None:
    verdicts = dict(collections.Counter(r.verdict.value for r in results.values()))
    print(f"{label}: {elapsed:.2f} s, {verdicts}")
    slowest = sorted(results.items(), key=lambda kv: -(kv[1].elapsed or 0.0))[:SLOWEST]
    print("  slowest: " + ", ".join(f"{k} {r.elapsed or 0:.2f} s" for k, r in slowest))


def main() -> None:
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "QD_DATA_DIR": str(base / "data"),
               "XDG_CONFIG_HOME": str(base / "config"), "QD_DEMO_JOB": "false",
               "QD_RISK_MAX_ORDER_NOTIONAL": "250000", "QD_RISK_MAX_POSITION_NOTIONAL": "500000",
               "QD_RISK_DAILY_LOSS_LIMIT": "20000"}  # fmt: skip
        key = cli("users", "add", "readiness", "--role", "viewer", "--api-key",
                  env=env).strip().splitlines()[-1]  # fmt: skip
        serve, url = start_serve(env)
        try:
            cli("db", "backup", str(base / "backups"), env=env)
            cli("audit", "checkpoint", env=env)
            settings = Settings(data_dir=base / "checker")  # its own store and scan cache
            store = Store(settings.resolved_database_url)
            store.create_schema()
            target = Target(base_url=url, api_key=key, project_dir=ROOT,
                            database_url=f"sqlite:///{base / 'data' / 'quarterdeck.db'}",
                            backup_dir=base / "backups",
                            log_path=base / "data" / "logs" / "quarterdeck.jsonl")  # fmt: skip
            runs = [asyncio.run(one_run(target, settings, store)) for _ in range(WARM_RUNS + 1)]
            store.dispose()
        finally:
            serve.send_signal(signal.SIGTERM)
            serve.wait(timeout=60)
    probes = len(builtin_checklist("production").probe_items)
    print(f"production checklist: {probes} probe items against quarterdeck serve at {url}")
    report("cold (first scan of the tree)", *runs[0])
    for number, run in enumerate(runs[1:], 1):
        report(f"warm run {number} (tree unchanged)", *run)
    warm = sorted(elapsed for elapsed, _ in runs[1:])
    print(f"warm median {warm[len(warm) // 2]:.2f} s; target < 3 s")


if __name__ == "__main__":
    main()
