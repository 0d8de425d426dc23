"""The whole console from the keyboard, in a real terminal: every screen by its key, a
backtest, a job started and cancelled, the readiness checks run against a local target
(a real uvicorn server on 127.0.0.1), help, and a clean quit."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.checks.http.conftest import serve
from tests.checks.http.trading_api import VALID_API_KEY, TradingAPIServer
from tests.e2e.tmux import TmuxSession

ROOT = Path(__file__).resolve().parents[2]
QUARTERDECK = Path(sys.executable).with_name("quarterdeck")
# A sweep long enough to hold the only job slot for the whole tour.
BLOCKER = {"strategy": "sma_cross", "dataset": "sim:SPY", "bars": 400_000,
           "grid": {"fast": [5, 60, 1], "slow": [10, 400, 1]}}  # fmt: skip


@pytest.fixture
def target() -> Iterator[str]:
    with serve(TradingAPIServer()) as root:
        yield f"{root}/{uuid.uuid4().hex[:12]}/good"


def header(title: str):
    return lambda screen: f"Quarterdeck {title}" in screen


def test_tour_of_every_screen_with_a_backtest_a_cancelled_job_and_readiness(
    tmp_path: Path, target: str
) -> None:
    env = {
        "QD_DATA_DIR": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "QD_DEMO_JOB": "false",
        "QD_JOB_CONCURRENCY": "1",
        "QD_CHECK_TARGET": target,
        "QD_CHECK_API_KEY": VALID_API_KEY,
        "TERM": "xterm-256color",
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(tmp_path)),
    }
    subprocess.run(
        [str(QUARTERDECK), "jobs", "submit", "optimize", json.dumps(BLOCKER)],
        env={**os.environ, **env}, check=True, capture_output=True,
    )  # fmt: skip
    terminal = TmuxSession(120, 40, env, ROOT)
    try:
        terminal.type(f'{QUARTERDECK}; echo "EXIT=$?"')
        terminal.press("Enter")
        terminal.wait_for(lambda s: "Portfolio" in s and "Equity" in s, timeout=60)

        # Research: a backtest of the selected strategy, then an optimization job.
        terminal.press("2")
        terminal.wait_for(header("Research"), timeout=10)
        terminal.wait_for(lambda s: "trend" in s, timeout=10)
        terminal.press("b")
        terminal.wait_for(lambda s: "Sharpe" in s and "Max drawdown" in s, timeout=60)
        terminal.press("o")
        terminal.wait_for(lambda s: "queued as job" in s, timeout=30)

        # Jobs: the optimization waits behind the blocker; cancel it with a reason.
        terminal.press("3")
        terminal.wait_for(header("Jobs"), timeout=10)
        terminal.wait_for(lambda s: "queued" in s and "running" in s, timeout=30)
        terminal.press("Down")  # the second job, ours
        terminal.press("c")
        terminal.wait_for(lambda s: "cannot be resumed" in s, timeout=10)
        terminal.type("tour: not needed")
        terminal.press("Enter")
        terminal.wait_for(lambda s: "cancelled" in s, timeout=30)

        terminal.press("4")
        terminal.wait_for(lambda s: header("Trading")(s) and "sma_cross" in s, timeout=10)

        # Readiness: run every automated item against the local target.
        terminal.press("5")
        terminal.wait_for(header("Readiness"), timeout=10)
        terminal.press("a")
        terminal.wait_for(lambda s: re.search(r"PASS", s) is not None, timeout=120)

        for key, title in (("6", "Runbook"), ("7", "Audit"), ("8", "Logs"), ("1", "Dashboard")):
            terminal.press(key)
            terminal.wait_for(header(title), timeout=10)
        terminal.press("?")
        terminal.wait_for(lambda s: "app.screen.logs" in s, timeout=10)
        terminal.press("Escape")
        # Escape then a key at once reads as alt+key: let the dialog close first.
        terminal.wait_for(lambda s: "app.screen.logs" not in s, timeout=10)
        terminal.press("q")
        screen = terminal.wait_for(lambda s: re.search(r"^EXIT=\d+", s, re.M) is not None, 60)
        assert re.search(r"^EXIT=0$", screen, re.M) and "Traceback" not in screen
    finally:
        terminal.close()
    log = (tmp_path / "data" / "logs" / "quarterdeck.jsonl").read_text()
    assert "Traceback" not in log
    jobs = subprocess.run(
        [str(QUARTERDECK), "jobs", "show", "2", "--json"],
        env={**os.environ, **env}, check=True, capture_output=True, text=True,
    )  # fmt: skip
    assert json.loads(jobs.stdout)["state"] == "cancelled"
