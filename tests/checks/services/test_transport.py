"""transport.encrypted: the target's URLs judged by scheme, its database by a real
PostgreSQL server's TLS setting and pg_hba rules (one server with TLS on, one off, one
admitting the network without TLS)."""

from __future__ import annotations

import os
import pwd
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from checks.probes import ProbeParams, Scope
from checks.probes.transport import encrypted
from core.events import Verdict
from tests.postgres import PostgresServer, postgres_server

from .conftest import MakeContext
from .pki import Authority

HBA_LOOPBACK = "local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n"
REMOTE = "192.0.2.10"  # TEST-NET-1: never this machine, never contacted (schemes are read)


def server_files(lines: str) -> tuple[Path, Path, Path]:
    """A certificate, key and pg_hba.conf the server account can read: (cert, key, hba)."""
    directory = Path(tempfile.mkdtemp(prefix="quarterdeck-pg-tls-"))
    directory.chmod(0o755)
    cert, key = Authority.create().issue(directory, "postgres")
    hba = directory / "pg_hba.conf"
    hba.write_text(lines)
    key.chmod(0o600)
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        for path in (cert, key, hba):
            os.chown(path, account.pw_uid, account.pw_gid)
    return cert, key, hba


@pytest.fixture(scope="module")
def tls_server() -> Iterator[PostgresServer]:
    cert, key, hba = server_files(HBA_LOOPBACK)
    with postgres_server("ssl=on", f"ssl_cert_file={cert}", f"ssl_key_file={key}",
                         f"hba_file={hba}") as server:  # fmt: skip
        yield server


@pytest.fixture(scope="module")
def open_server() -> Iterator[PostgresServer]:
    cert, key, hba = server_files(HBA_LOOPBACK + "host all all 0.0.0.0/0 scram-sha-256\n")
    with postgres_server("ssl=on", f"ssl_cert_file={cert}", f"ssl_key_file={key}",
                         f"hba_file={hba}") as server:  # fmt: skip
        yield server


def ctx_for(make_ctx: MakeContext, **target: object):
    target.setdefault("base_url", "https://127.0.0.1:8443")
    return make_ctx(scope=Scope.TARGET, **target)


async def test_tls_everywhere_passes(make_ctx: MakeContext, tls_server: PostgresServer):
    ctx = ctx_for(make_ctx, base_url=f"https://{REMOTE}", redis_url=f"rediss://{REMOTE}:6380",
                  database_url=tls_server.url())  # fmt: skip
    result = await encrypted(ctx, ProbeParams())
    assert result.verdict is Verdict.PASS, result.reason
    assert result.reason == (
        f"QD_CHECK_TARGET: https://{REMOTE}; QD_CHECK_REDIS_URL: rediss://{REMOTE}; "
        "database: server ssl on, this connection encrypted (this machine)"
    )


async def test_plaintext_to_remote_hosts_fails_naming_each(make_ctx: MakeContext) -> None:
    ctx = ctx_for(make_ctx, base_url=f"http://{REMOTE}:8080", redis_url=f"redis://{REMOTE}",
                  prometheus_url="http://127.0.0.1:9090")  # fmt: skip
    result = await encrypted(ctx, ProbeParams())
    assert result.verdict is Verdict.FAIL
    assert result.reason == (f"QD_CHECK_TARGET: http:// to {REMOTE}, not https or wss; "
                             f"QD_CHECK_REDIS_URL: redis:// to {REMOTE}, not rediss")  # fmt: skip
    assert (
        "QD_CHECK_PROMETHEUS_URL: http://127.0.0.1 (this machine: no network crossed)"
        in (result.evidence["connections"])
    )


async def test_a_database_server_without_tls_fails(
    make_ctx: MakeContext, postgres: PostgresServer
) -> None:
    result = await encrypted(ctx_for(make_ctx, database_url=postgres.url()), ProbeParams())
    assert result.verdict is Verdict.FAIL
    assert result.reason == "the database server has ssl off: no client can connect encrypted"


async def test_pg_hba_admitting_the_network_without_tls_fails(
    make_ctx: MakeContext, open_server: PostgresServer
) -> None:
    result = await encrypted(ctx_for(make_ctx, database_url=open_server.url()), ProbeParams())
    assert result.verdict is Verdict.FAIL
    assert result.reason == ("pg_hba line 4: host 0.0.0.0/0.0.0.0 scram-sha-256: a network "
                             "client may connect without TLS")  # fmt: skip
