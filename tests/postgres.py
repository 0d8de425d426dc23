"""A real PostgreSQL server for the tests: a throwaway cluster on a free port.

``initdb`` makes a cluster in the test session's own directory (trust
authentication, fsync off: the data is thrown away), and ``postgres`` runs in
the foreground as a child of the test process, listening on 127.0.0.1 and on
a socket in that directory. PostgreSQL refuses to run as root, so under root
(CI) both run as the ``postgres`` account that Debian's package creates.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from checks.probes.backup_restore import postgres_binary

SUPERUSER = "quarterdeck"


def _binary(name: str) -> str:
    """PostgreSQL's ``name`` (``postgres_binary``: the newest of Debian's layout)."""
    path = postgres_binary(name)
    if path is None:  # a failure, not a skip: scripts/system-deps.sh installs it
        raise RuntimeError(f"PostgreSQL's {name} is not installed; run scripts/system-deps.sh")
    return path


def _as_server_account(command: list[str]) -> list[str]:
    """Under root, ``command`` as the ``postgres`` account; setpriv execs in place (no
    intermediate process), so signals sent to the child reach the server itself."""
    if os.geteuid() != 0:
        return command
    return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", *command]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PostgresServer:
    port: int
    _names: Iterator[int] = field(default_factory=itertools.count)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database; its URL."""
        name = f"qd_test_{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextmanager
def postgres_server(*options: str) -> Iterator[PostgresServer]:
    """A running server with its cluster in a new directory under the system's temporary
    directory (pytest's own is private to root, where ``postgres`` could not reach it);
    stopped and removed on exit. ``options`` are more ``-c name=value`` settings."""
    root = _server_directory()
    data = root / "data"
    subprocess.run(
        _as_server_account([_binary("initdb"), "-D", str(data), "-U", SUPERUSER, "-A", "trust",
                            "-E", "UTF8", "--no-sync"]),
        check=True, capture_output=True,
    )  # fmt: skip
    with _running(root, data, options) as server:
        yield server


@contextmanager
def standby_of(primary: PostgresServer, name: str = "standby") -> Iterator[PostgresServer]:
    """A streaming replica of ``primary`` (``pg_basebackup -R``), named ``name`` in the
    primary's ``pg_stat_replication``; stopped and removed on exit."""
    root = _server_directory()
    data = root / "data"
    subprocess.run(
        _as_server_account([_binary("pg_basebackup"), "-D", str(data), "-R", "-X", "stream",
                            "-d", f"{primary.url()}?application_name={name}"]),
        check=True, capture_output=True,
    )  # fmt: skip
    with _running(root, data, ()) as server:
        yield server


def _server_directory() -> Path:
    root = Path(tempfile.mkdtemp(prefix="quarterdeck-pg-"))
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        os.chown(root, account.pw_uid, account.pw_gid)
    return root


@contextmanager
def _running(root: Path, data: Path, options: tuple[str, ...]) -> Iterator[PostgresServer]:
    log = root / "server.log"
    port = _free_port()
    settings = ["listen_addresses=127.0.0.1", "fsync=off", "full_page_writes=off", *options]
    with log.open("wb") as output:
        process = subprocess.Popen(
            _as_server_account([_binary("postgres"), "-D", str(data), "-p", str(port),
                                "-k", str(root),
                                *(arg for setting in settings for arg in ("-c", setting))]),
            stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        server = PostgresServer(port)
        _wait_until_ready(process, server, log)
        yield server
    finally:
        process.send_signal(signal.SIGINT)  # "fast" shutdown: ends open sessions too
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


def _wait_until_ready(process: subprocess.Popen[bytes], server: PostgresServer, log: Path) -> None:
    deadline = time.monotonic() + 30.0
    while True:
        if process.poll() is not None:
            raise RuntimeError(
                f"postgres exited with {process.returncode}:\n{log.read_text(errors='replace')}"
            )
        try:
            with psycopg.connect(server.url(), connect_timeout=2):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
