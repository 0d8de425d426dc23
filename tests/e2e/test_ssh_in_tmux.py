"""`quarterdeck serve` with the real OpenSSH client in real terminals (tmux): shared live
data, resize, Esc, refusals, lockout and a killed client."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.ssh.users import add_user, read_key_file
from core.access import Role
from core.audit import read_entries
from core.store import Store
from tests.console.ssh.keys import make_key
from tests.e2e.tmux import TmuxSession

ROOT = Path(__file__).resolve().parents[2]
SSH_OPTIONS = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
               "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes"]  # fmt: skip


class Server:
    """A `quarterdeck serve` process on a free port with its own data directory."""

    def __init__(self, tmp_path: Path, users: dict[str, Role]) -> None:
        self.data = tmp_path / "data"
        self.keys = {name: make_key(tmp_path / "keys", name) for name in users}
        for name, role in users.items():
            key = read_key_file(Path(f"{self.keys[name]}.pub"))
            add_user(self.data / "users.toml", name, role, key)
        env = {**os.environ, "QD_DATA_DIR": str(self.data), "PYTHONPATH": str(ROOT),
               "XDG_CONFIG_HOME": str(tmp_path / "config"), "QD_DEMO_JOB": "false",
               "QD_SIM_TICK_RATE": "400"}  # fmt: skip
        self.process = subprocess.Popen(
            [sys.executable, "-m", "console.cli", "serve", "--ssh-port", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
        )  # fmt: skip
        assert self.process.stdout is not None
        first = self.process.stdout.readline()
        found = re.search(r"SSH on 127\.0\.0\.1:(\d+), host key (SHA256:\S+)", first)
        assert found, first + self.process.stderr.read()  # type: ignore[union-attr]
        self.port = int(found.group(1))
        assert "deck started" in self.process.stdout.readline()

    def ssh(self, user: str, key: str | None = None) -> list[str]:
        return ["ssh", "-p", str(self.port), "-i", str(key or self.keys[user]), *SSH_OPTIONS,
                f"{user}@127.0.0.1"]  # fmt: skip

    def audit(self, prefix: str) -> list[str]:
        store = Store(f"sqlite:///{self.data / 'quarterdeck.db'}")
        try:
            return [entry.action for entry in read_entries(store, prefix)]
        finally:
            store.dispose()

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


@pytest.fixture
def terminals(tmp_path: Path) -> Iterator[list[TmuxSession]]:
    made: list[TmuxSession] = []
    yield made
    for terminal in made:
        terminal.close()


def open_terminal(terminals: list[TmuxSession], tmp_path: Path, width: int = 120,
                  height: int = 40) -> TmuxSession:  # fmt: skip
    env = {"TERM": "xterm-256color", "PATH": os.environ["PATH"],
           "HOME": os.environ.get("HOME", str(tmp_path))}  # fmt: skip
    terminal = TmuxSession(width, height, env, tmp_path)
    terminals.append(terminal)
    return terminal


def login(terminal: TmuxSession, command: list[str]) -> str:
    terminal.type(" ".join(command))
    terminal.press("Enter")
    return terminal.wait_for(lambda s: "Dashboard" in s and "Equity" in s, timeout=60)


def header(screen: str) -> str:
    return screen.splitlines()[0]


def first_box_line(screen: str) -> str:
    """The top border of the first pane (under the header and any halt banner)."""
    return next((line.rstrip() for line in screen.splitlines() if line.startswith("╭")), "")


def clock(screen: str) -> str | None:
    found = re.search(r"\d\d:\d\d:\d\dZ", header(screen))
    return found.group(0) if found else None


def test_two_users_share_one_live_deck(tmp_path: Path, terminals: list[TmuxSession]) -> None:
    server = Server(tmp_path, {"alice": Role.OPERATOR, "bob": Role.VIEWER})
    try:
        alice, bob = open_terminal(terminals, tmp_path), open_terminal(terminals, tmp_path)
        login(alice, server.ssh("alice"))
        login(bob, server.ssh("bob"))
        for terminal in (alice, bob):  # both see who is on, and live data
            terminal.wait_for(lambda s: "alice" in header(s) and "bob" in header(s), timeout=30)
            first = clock(terminal.screen())
            terminal.wait_for(lambda s, first=first: clock(s) not in (None, first), timeout=10)
            assert "risk ACTIVE" in header(terminal.screen())

        # Esc arrives promptly: it closes the help screen (no key follows it)
        bob.press("?")
        bob.wait_for(lambda s: "Key bindings for bob (viewer)" in s, timeout=10)
        bob.press("Escape")
        bob.wait_for(lambda s: "Key bindings" not in s, timeout=2)

        # an action in one session shows in the other: alice pulls the kill switch
        alice.press("4")
        alice.wait_for(lambda s: "Kill switch" in s, timeout=10)
        alice.press("k")
        alice.wait_for(lambda s: "why (required)" in s, timeout=10)
        alice.type("ssh e2e drill")
        alice.press("Enter")
        bob.wait_for(lambda s: "risk HALTED" in header(s), timeout=15)
        alice.wait_for(lambda s: "risk HALTED" in header(s), timeout=15)

        # resize: bob's app lays itself out again at the new width
        bob.press("1")
        bob._tmux("resize-window", "-t", bob.target, "-x", "90", "-y", "30")
        # (tmux cuts the old frame at once; the app's new frame closes its boxes within 90
        # columns: at 90 or, when the narrow dashboard scrolls, at 89 beside its scrollbar)
        bob.wait_for(lambda s: re.fullmatch(r"╭.{87,88}╮", first_box_line(s)) is not None,
                     timeout=10)  # fmt: skip

        # killing alice's client leaves bob's session running
        ssh_pid = int(subprocess.run(["pgrep", "-P", str(alice.shell_pid()), "ssh"],
                                     capture_output=True, text=True).stdout.split()[0])  # fmt: skip
        os.kill(ssh_pid, signal.SIGKILL)
        bob.wait_for(lambda s: "alice" not in header(s) and "bob" in header(s), timeout=30)
        first = clock(bob.screen())
        bob.wait_for(lambda s: clock(s) not in (None, first), timeout=10)
        assert server.process.poll() is None

        bob.press("q")
        bob.wait_for(lambda s: "Dashboard" not in s and s.rstrip().endswith(("$", "#")),
                     timeout=20)  # fmt: skip
    finally:
        assert server.stop() == 0
    actions = server.audit("ssh.")
    assert actions.count("ssh.login") == 2 and actions.count("ssh.logout") == 2


def test_unknown_key_wrong_user_and_exec_are_refused(tmp_path: Path) -> None:
    server = Server(tmp_path, {"alice": Role.OPERATOR})
    stranger = make_key(tmp_path / "keys", "stranger")
    try:
        unknown_key = subprocess.run(server.ssh("alice", str(stranger)), capture_output=True,
                                     text=True, timeout=30, stdin=subprocess.DEVNULL)  # fmt: skip
        assert unknown_key.returncode == 255
        assert "Permission denied (publickey)" in unknown_key.stderr

        wrong_user = server.ssh("alice")
        wrong_user[-1] = "carol@127.0.0.1"
        refused = subprocess.run(wrong_user, capture_output=True, text=True, timeout=30,
                                 stdin=subprocess.DEVNULL)  # fmt: skip
        assert refused.returncode == 255 and "Permission denied" in refused.stderr

        marker = tmp_path / "ran"
        exec_ = subprocess.run([*server.ssh("alice"), f"touch {marker}; ls"],
                               capture_output=True, text=True, timeout=30)  # fmt: skip
        assert exec_.returncode != 0
        assert "exec request failed" in exec_.stderr
        assert exec_.stdout == "" and not marker.exists()
    finally:
        assert server.stop() == 0
    assert server.audit("ssh.").count("ssh.auth_failed") == 2


def test_the_sixth_attempt_is_locked_out(tmp_path: Path) -> None:
    server = Server(tmp_path, {"alice": Role.OPERATOR, "bob": Role.VIEWER})
    stranger = make_key(tmp_path / "keys", "stranger")
    try:
        for _ in range(5):
            bad = subprocess.run(server.ssh("alice", str(stranger)), capture_output=True,
                                 text=True, timeout=30, stdin=subprocess.DEVNULL)  # fmt: skip
            assert bad.returncode == 255
        # the right key, now too late: alice and this address are locked
        for user in ("alice", "bob"):
            locked = subprocess.run([*server.ssh(user), "-tt"],
                                    capture_output=True, text=True, timeout=30,
                                    stdin=subprocess.DEVNULL)  # fmt: skip
            assert locked.returncode == 255
            assert "Too many failed logins: locked" in locked.stderr
    finally:
        assert server.stop() == 0
    actions = server.audit("ssh.")
    assert actions.count("ssh.auth_failed") == 5
    assert actions.count("ssh.lockout") == 1
    assert actions.count("ssh.locked_out") == 2 and "ssh.login" not in actions
