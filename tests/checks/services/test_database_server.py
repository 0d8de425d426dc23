"""database.connections and database.replication against real PostgreSQL servers: a
primary with a streaming replica made by pg_basebackup, sessions held open for real."""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest

from checks.probes import Scope
from checks.probes.database_server import (
    ConnectionsParams,
    ReplicationParams,
    connections,
    replication,
)
from core.events import Verdict
from tests.postgres import PostgresServer, postgres_server, standby_of

from .conftest import MakeContext


@pytest.fixture(scope="module")
def primary() -> Iterator[PostgresServer]:
    """A server of this module's own (the run's shared one has sessions of other tests),
    with few connections, so that headroom is quick to use up."""
    with postgres_server("max_connections=12", "superuser_reserved_connections=2") as server:
        yield server


def ctx_for(make_ctx: MakeContext, url: str):
    return make_ctx(scope=Scope.TARGET_DATABASE, database_url=url)


async def test_headroom_and_no_leak_pass(make_ctx: MakeContext, primary: PostgresServer):
    result = await connections(ctx_for(make_ctx, primary.url()), ConnectionsParams())
    assert result.verdict is Verdict.PASS, result.reason
    assert result.evidence["max_connections"] == 12
    assert result.reason == (
        "1 of 10 connections in use (10%); none idle in a transaction over 60 s"
    )


async def test_connections_near_the_limit_fail(make_ctx: MakeContext, primary: PostgresServer):
    held = [psycopg.connect(primary.url()) for _ in range(8)]
    try:
        result = await connections(ctx_for(make_ctx, primary.url()), ConnectionsParams())
    finally:
        for connection in held:
            connection.close()
    assert result.verdict is Verdict.FAIL
    # the 8 held, the probe's own, and any background client of the server
    assert result.reason.startswith("9 of 10 connections in use (90%), over 80%")


async def test_a_session_idle_in_a_transaction_is_a_leak(
    make_ctx: MakeContext, primary: PostgresServer
) -> None:
    leaked = psycopg.connect(primary.url(), application_name="forgetful-worker")
    try:
        leaked.execute("SELECT 1")  # opens a transaction, never ended
        time.sleep(1.2)
        params = ConnectionsParams(max_idle_in_transaction_seconds=1)
        result = await connections(ctx_for(make_ctx, primary.url()), params)
    finally:
        leaked.close()
    assert result.verdict is Verdict.FAIL
    assert "1 session(s) idle in a transaction over 1 s: pid " in result.reason
    assert "(forgetful-worker, " in result.reason


async def test_a_sqlite_database_is_not_applicable(make_ctx: MakeContext, tmp_path) -> None:
    result = await connections(ctx_for(make_ctx, f"sqlite:///{tmp_path / 'x.db'}"),
                               ConnectionsParams())  # fmt: skip
    assert result.verdict is Verdict.WARN
    assert result.reason.startswith("not applicable: the database is sqlite")


async def test_replication_fails_without_a_replica_and_passes_with_one(
    make_ctx: MakeContext, primary: PostgresServer
) -> None:
    ctx = ctx_for(make_ctx, primary.url())
    alone = await replication(ctx, ReplicationParams())
    assert alone.verdict is Verdict.FAIL
    assert alone.reason == "0 streaming replica(s), fewer than 1"
    with standby_of(primary, name="replica-a") as standby:
        streaming = await _until_streaming(ctx)
        assert streaming.verdict is Verdict.PASS, streaming.reason
        assert streaming.reason.startswith("1 streaming replica(s): replica-a (async); at most ")
        two = await replication(ctx, ReplicationParams(min_replicas=2))
        assert two.verdict is Verdict.FAIL
        assert two.reason == "1 streaming replica(s), fewer than 2"
        on_standby = await replication(ctx_for(make_ctx, standby.url()), ReplicationParams())
        assert on_standby.verdict is Verdict.PASS, on_standby.reason
        assert on_standby.reason.startswith("a standby streaming from its primary, ")
        assert on_standby.evidence["role"] == "standby"


async def _until_streaming(ctx):
    deadline = time.monotonic() + 20
    while True:
        result = await replication(ctx, ReplicationParams())
        if result.verdict is Verdict.PASS or time.monotonic() > deadline:
            return result
        time.sleep(0.2)
