"""`quarterdeck --http-port N`: the local console, in a real terminal, also answers
/health over HTTP, and closes the port when it quits."""

from __future__ import annotations

import os
import re
import socket
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.tmux import TmuxSession

ROOT = Path(__file__).resolve().parents[2]
QUARTERDECK = Path(sys.executable).with_name("quarterdeck")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def health(port: int) -> str:
    response = httpx.get(f"http://127.0.0.1:{port}/health", timeout=10)
    assert response.status_code == 200
    return str(response.json()["status"])


def test_the_local_console_serves_health_while_it_runs(tmp_path: Path) -> None:
    env = {"QD_DATA_DIR": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "TERM": "xterm-256color", "PATH": os.environ["PATH"],
           "HOME": os.environ.get("HOME", str(tmp_path)), "QD_DEMO_JOB": "false",
           "PYTHONPATH": str(ROOT)}  # fmt: skip
    terminal = TmuxSession(120, 40, env, ROOT)
    try:
        port = free_port()
        terminal.type(f'{QUARTERDECK} --http-port {port}; echo "EXIT=$?"')
        terminal.press("Enter")
        terminal.wait_for(lambda s: "Portfolio" in s and "Equity" in s, timeout=60)
        deadline = time.monotonic() + 60  # the first frame may come before the Deck runs
        while (status := health(port)) != "ok" and time.monotonic() < deadline:
            assert status == "starting"
            time.sleep(0.1)
        assert status == "ok"
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        assert "quarterdeck_console_sessions 1.0" in metrics  # the local console itself
        terminal.press("q")
        screen = terminal.wait_for(lambda s: re.search(r"^EXIT=\d+", s, re.M) is not None, 30)
        assert re.search(r"^EXIT=0$", screen, re.M), screen
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=5)
    finally:
        terminal.close()
