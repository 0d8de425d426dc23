"""The kill switch pressed over SSH holds through a restart: `quarterdeck serve` killed with
SIGKILL (or stopped with SIGTERM) comes back HALTED, and trades nothing until an admin's
reset; the reset is what lets it trade again."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from console.ssh.users import add_user, read_key_file
from core.access import Role
from tests.console.ssh.keys import make_key
from tests.e2e.test_ssh_in_tmux import SSH_OPTIONS, header, login
from tests.e2e.tmux import TmuxSession

ROOT = Path(__file__).resolve().parents[2]
QUARTERDECK = str(Path(sys.executable).with_name("quarterdeck"))


class Serve:
    """`quarterdeck serve` on one data directory, started as often as a test likes."""

    def __init__(self, tmp_path: Path) -> None:
        self.data = tmp_path / "data"
        self.keys = {name: make_key(tmp_path / "keys", name) for name in ("alice", "carol")}
        for name, role in (("alice", Role.OPERATOR), ("carol", Role.ADMIN)):
            key = read_key_file(Path(f"{self.keys[name]}.pub"))
            add_user(self.data / "users.toml", name, role, key)
        self.env = {**os.environ, "QD_DATA_DIR": str(self.data), "QD_DEMO_JOB": "false",
                    "QD_SIM_TICK_RATE": "2000", "QD_SIM_BAR_SECONDS": "5",
                    "XDG_CONFIG_HOME": str(tmp_path / "config")}  # fmt: skip
        self.process: subprocess.Popen[str] | None = None
        self.port = 0

    def start(self) -> None:
        self.process = subprocess.Popen([QUARTERDECK, "serve", "--ssh-port", "0"], env=self.env,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True)  # fmt: skip
        assert self.process.stdout is not None
        found = re.search(r"SSH on 127\.0\.0\.1:(\d+)", self.process.stdout.readline())
        assert found, self.process.stderr.read()  # type: ignore[union-attr]
        self.port = int(found.group(1))
        assert "deck started" in self.process.stdout.readline()

    def end(self, signum: int) -> None:
        assert self.process is not None
        self.process.send_signal(signum)
        self.process.wait(timeout=60)

    def ssh(self, user: str) -> list[str]:
        return ["ssh", "-p", str(self.port), "-i", str(self.keys[user]), *SSH_OPTIONS,
                f"{user}@127.0.0.1"]  # fmt: skip

    def account(self) -> dict:
        done = subprocess.run([QUARTERDECK, "account", "--json"], env=self.env, text=True,
                              capture_output=True, timeout=60, check=True)  # fmt: skip
        return json.loads(done.stdout)

    def journal(self, sql: str) -> int:
        with sqlite3.connect(self.data / "quarterdeck.db", timeout=5) as connection:
            return connection.execute(sql).fetchone()[0]


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[TmuxSession]:
    env = {"TERM": "xterm-256color", "PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    session = TmuxSession(120, 40, env, tmp_path)
    yield session
    session.close()


def press_on_trading(terminal: TmuxSession, key: str, why: str) -> None:
    terminal.press("4")
    terminal.wait_for(lambda s: "Kill switch" in s, timeout=10)
    terminal.press(key)
    terminal.wait_for(lambda s: "why (required)" in s, timeout=10)
    terminal.type(why)
    terminal.press("Enter")


def quit_console(terminal: TmuxSession) -> None:
    terminal.press("q")
    terminal.wait_for(lambda s: "Dashboard" not in s and s.rstrip().endswith(("$", "#")),
                      timeout=20)  # fmt: skip


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_a_halt_over_ssh_survives_a_restart_until_an_admin_resets_it(
    tmp_path: Path, terminal: TmuxSession, signum: int
) -> None:
    serve = Serve(tmp_path)
    serve.start()
    try:
        login(terminal, serve.ssh("alice"))
        deadline = time.monotonic() + 60  # trade first, so the halt has a position to flatten
        while serve.journal("SELECT count(*) FROM fills") == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        killed_at = datetime.now(UTC)
        press_on_trading(terminal, "k", "restart drill")
        terminal.wait_for(lambda s: "risk HALTED" in header(s), timeout=15)
        quit_console(terminal)
    finally:
        serve.end(signum)
    halted = serve.account()
    assert halted["risk_state"] == "halted"
    assert halted["positions"] == [] or all(
        sum(p["quantity"] for p in halted["positions"] if p["symbol"] == symbol) == 0
        for symbol in {p["symbol"] for p in halted["positions"]}
    ), "the kill switch flattens the account"
    fills_at_halt = len(halted["fills"])

    serve.start()
    try:
        login(terminal, serve.ssh("alice"))
        terminal.wait_for(lambda s: "risk HALTED" in header(s), timeout=15)
        # the banner says who halted trading and why, on every screen of every session
        screen = terminal.wait_for(lambda s: "HALTED by alice" in s and "restart drill" in s,
                                   timeout=15)  # fmt: skip
        # when: the wall clock of the kill, not the simulator's market time, nor the restart's
        said = re.search(r"HALTED by alice at (\S+ \S+)Z", " ".join(screen.split()))
        assert said is not None, screen
        when = datetime.strptime(said.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
        assert abs((when - killed_at).total_seconds()) < 30
        terminal.press("4")
        screen = terminal.wait_for(lambda s: "■ stopped · alice" in s, timeout=15)
        assert "HALTED by alice" in screen
        time.sleep(3)  # the simulator runs on; strategies signal; nothing may trade
        run_id = serve.journal("SELECT run_id FROM journal ORDER BY seq DESC LIMIT 1")
        accepted = serve.journal(
            "SELECT count(*) FROM journal WHERE kind = 'order' AND run_id = "
            f"'{run_id}' AND payload_json LIKE '%\"kind\":\"accepted\"%'"
        )
        assert accepted == 0, "an order was accepted while halted"
        assert len(serve.account()["fills"]) == fills_at_halt
        assert serve.account()["risk_state"] == "halted"
        quit_console(terminal)

        login(terminal, serve.ssh("carol"))  # an admin lifts the halt
        press_on_trading(terminal, "R", "drill over")
        terminal.wait_for(lambda s: "risk ACTIVE" in header(s) and "HALTED by" not in s,
                          timeout=15)  # fmt: skip
        assert "■ stopped · alice" in terminal.screen()  # the strategy stays stopped
        quit_console(terminal)
        assert serve.account()["risk_state"] == "active"
    finally:
        serve.end(signal.SIGTERM)
