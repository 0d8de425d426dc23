"""SSH is ready when its port is: a login the moment `quarterdeck serve`'s port accepts a
connection succeeds, on every one of 20 fresh starts (the users are loaded first)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import asyncssh

from console.ssh.users import add_user, read_key_file
from core.access import Role
from tests.console.ssh.keys import make_key

QUARTERDECK = str(Path(sys.executable).with_name("quarterdeck"))
STARTS = 20


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def first_login(port: int, key: Path, process: subprocess.Popen[bytes]) -> float:
    """Log in as soon as the port accepts; returns the seconds spent waiting for it.
    A refused key (or a "starting" banner) fails the test."""
    begun = time.monotonic()
    while True:
        assert process.poll() is None, "serve exited"
        try:
            conn = await asyncssh.connect(
                "127.0.0.1", port, username="alice", client_keys=[str(key)],
                known_hosts=None, agent_path=None, config=None,
            )  # fmt: skip
        except (ConnectionRefusedError, OSError) as exc:
            if isinstance(exc, asyncssh.Error):
                raise
            await asyncio.sleep(0.005)
            continue
        conn.close()
        await conn.wait_closed()
        return time.monotonic() - begun


async def test_a_login_the_moment_the_port_accepts_is_never_refused(tmp_path: Path) -> None:
    env = {**os.environ, "QD_DATA_DIR": str(tmp_path / "data"), "QD_DEMO_JOB": "false"}
    key = make_key(tmp_path / "keys", "alice")
    users_file = tmp_path / "data" / "users.toml"
    add_user(users_file, "alice", Role.OPERATOR, read_key_file(Path(f"{key}.pub")))
    for _ in range(STARTS):
        port = free_port()
        process = subprocess.Popen([QUARTERDECK, "serve", "--ssh-port", str(port)], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
        try:
            await asyncio.wait_for(first_login(port, key, process), 60)
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = process.communicate(timeout=60)
        assert process.returncode == 0, stderr.decode()
