"""`quarterdeck` in a real terminal: it draws the dashboard, takes keys, quits cleanly
and gives the terminal back as it found it."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.tmux import TmuxSession

ROOT = Path(__file__).resolve().parents[2]
QUARTERDECK = Path(sys.executable).with_name("quarterdeck")
# At 80x24 the dashboard shows the account, jobs and alerts; the other panes scroll in.
PANES = {120: ("Portfolio", "Jobs", "Alerts", "Health", "Readiness"),
         80: ("Portfolio", "Jobs", "Alerts")}  # fmt: skip


@pytest.fixture
def terminal(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TmuxSession]:
    width, height = request.param
    env = {
        "QD_DATA_DIR": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "TERM": "xterm-256color",
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(tmp_path)),
    }
    session = TmuxSession(width, height, env, ROOT)
    yield session
    session.close()


def header_clock(screen: str) -> str | None:
    found = re.search(r"\d\d:\d\d:\d\dZ", screen)
    return found.group(0) if found else None


def panes(terminal: TmuxSession) -> tuple[str, ...]:
    return PANES[int(terminal.flag("pane_width"))]


def start(terminal: TmuxSession) -> str:
    terminal.type(f'{QUARTERDECK}; echo "EXIT=$?"')
    terminal.press("Enter")
    return terminal.wait_for(
        lambda s: all(p in s for p in panes(terminal)) and "Equity" in s and "sma_cross" in s,
        timeout=60,
    )


def exited(screen: str) -> str | None:
    """The exit code the shell printed after quarterdeck ended, if it has."""
    found = re.search(r"^EXIT=(\d+)", screen, re.MULTILINE)
    return found.group(1) if found else None


def assert_terminal_restored(terminal: TmuxSession) -> None:
    assert terminal.flag("alternate_on") == "0"  # back on the normal screen
    assert terminal.flag("cursor_flag") == "1"  # cursor visible again
    assert terminal.flag("mouse_any_flag") == "0"  # mouse reporting off


def child_pid(shell_pid: int) -> int:
    out = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(shell_pid)], capture_output=True, text=True
    )
    return int(out.stdout.split()[0])


@pytest.mark.parametrize("terminal", [(120, 40), (80, 24)], indirect=True, ids=["120x40", "80x24"])
def test_dashboard_draws_takes_keys_and_quits_with_terminal_restored(
    terminal: TmuxSession, tmp_path: Path
) -> None:
    screen = start(terminal)
    assert terminal.flag("alternate_on") == "1"
    # the simulator is live: equity and the clock move; the job's progress appears
    terminal.wait_for(lambda s: re.search(r"\d+%", s) is not None, timeout=30)
    first = header_clock(terminal.screen())
    terminal.wait_for(lambda s: header_clock(s) not in (None, first), timeout=5)
    terminal.press("Tab")  # move focus between panes
    terminal.press("Down")
    assert all(p in terminal.screen() for p in panes(terminal))
    terminal.press("q")
    screen = terminal.wait_for(exited, timeout=30)
    assert exited(screen) == "0"
    assert "Traceback" not in screen
    assert_terminal_restored(terminal)
    log_lines = (tmp_path / "data" / "logs" / "quarterdeck.jsonl").read_text().splitlines()
    messages = [json.loads(line)["message"] for line in log_lines]
    assert "deck started" in messages and messages[-1] == "deck stopped"


@pytest.mark.parametrize("terminal", [(120, 40)], indirect=True, ids=["120x40"])
def test_sigterm_shuts_down_cleanly(terminal: TmuxSession, tmp_path: Path) -> None:
    start(terminal)
    pid = child_pid(terminal.shell_pid())
    time.sleep(1.0)  # let the engine trade and the writer queue rows
    os.kill(pid, signal.SIGTERM)
    screen = terminal.wait_for(exited, timeout=30)
    assert exited(screen) == "0"
    assert_terminal_restored(terminal)
    log = (tmp_path / "data" / "logs" / "quarterdeck.jsonl").read_text()
    assert "SIGTERM received" in log and log.splitlines()[-1].find("deck stopped") > 0
