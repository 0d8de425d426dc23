"""Readiness speed: the whole automated production checklist against a loopback target.

    .venv/bin/python -m bench.readiness_speed

Serves the tests' trading-API fixture (good configuration) with uvicorn on
127.0.0.1 and runs every probe item of the built-in ``production``
checklist against it, 16 at a time, as ``quarterdeck check run`` does.
Target: under 3 seconds. TLS, Redis and backups are not configured here, so
those probes answer at once that their setting is missing; the bandit scan
of our own source tree and the kill-switch drill run for real.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from checks import ProbeContext, builtin_checklist, run_checklist
from checks.probes import Target
from core.config import Settings
from core.store import Store
from tests.checks.http.conftest import serve
from tests.checks.http.trading_api import VALID_API_KEY, TradingAPIServer

RUNS = 3


async def one_run(root: str, settings: Settings, store: Store) -> tuple[float, dict[str, int]]:
    target = Target(base_url=f"{root}/{uuid.uuid4().hex[:12]}/good", api_key=VALID_API_KEY,
                    project_dir=Path(__file__).resolve().parent.parent)  # fmt: skip
    context = ProbeContext(settings, store.engine, "paper", target)
    checklist = builtin_checklist("production")
    started = time.perf_counter()
    results = await run_checklist(checklist, context, lambda update: None, 16, 5.0)
    elapsed = time.perf_counter() - started
    return elapsed, dict(collections.Counter(r.verdict.value for r in results.values()))


def main() -> None:
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as folder, serve(TradingAPIServer()) as root:
        settings = Settings(data_dir=Path(folder), risk_max_order_notional=1e6,
                            risk_max_position_notional=1e6, risk_daily_loss_limit=1e5)  # fmt: skip
        store = Store(settings.resolved_database_url)
        store.create_schema()
        runs = [asyncio.run(one_run(root, settings, store)) for _ in range(RUNS + 1)][1:]
        store.dispose()
    probes = len(builtin_checklist("production").probe_items)
    times = [elapsed for elapsed, _ in runs]
    print(f"production checklist: {probes} probe items against {root}")
    print(f"verdicts (last run): {runs[-1][1]}")
    print(f"wall time, median of {RUNS} after a warm-up: {statistics.median(times):.2f} s "
          f"(min {min(times):.2f}, max {max(times):.2f}); target < 3 s")  # fmt: skip


if __name__ == "__main__":
    main()
