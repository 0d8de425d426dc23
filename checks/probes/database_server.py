"""Probes of the target's database server: connection headroom and leaks, and replicas
streaming within their lag. PostgreSQL only: SQLite has neither a connection limit nor
replication of its own, and says so (WARN: nothing was verified)."""

from __future__ import annotations

from typing import Any

from pydantic import Field
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from checks.probes.base import ProbeContext, ProbeParams, ProbeResult, Scope
from checks.probes.database import not_applicable, read_database, safe_url, unreadable
from checks.probes.reach import database_engine
from checks.probes.registry import probe
from core.events import Verdict

#: Why a database other than PostgreSQL is not judged.
NO_SERVER = ", which has no server of its own to examine; attest the item instead"


class ConnectionsParams(ProbeParams):
    #: Client connections over this share of ``max_connections`` (less the superuser's
    #: reserve) FAIL: the next burst of workers would be refused.
    max_used_ratio: float = Field(default=0.8, gt=0, le=1)
    #: A session idle inside a transaction longer than this is a leaked connection: it
    #: holds its locks and its slot until someone kills it.
    max_idle_in_transaction_seconds: float = Field(default=60.0, gt=0)


CONNECTION_QUERIES = {
    "max_connections": "SELECT current_setting('max_connections')::int",
    "reserved": "SELECT current_setting('superuser_reserved_connections')::int",
    "in_use": "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'",
    "idle_in_transaction_session_timeout": "SHOW idle_in_transaction_session_timeout",
}
LEAKED = text(
    "SELECT pid, usename, application_name, client_addr::text, "
    "EXTRACT(EPOCH FROM now() - state_change)::float AS idle_seconds "
    "FROM pg_stat_activity WHERE state LIKE 'idle in transaction%' "
    "AND now() - state_change > make_interval(secs => :seconds) ORDER BY idle_seconds DESC"
)


def _connections(connection: Any, idle_limit: float) -> dict[str, object]:
    found: dict[str, object] = {name: connection.execute(text(query)).scalar_one()
                                for name, query in CONNECTION_QUERIES.items()}  # fmt: skip
    rows = connection.execute(LEAKED, {"seconds": idle_limit}).mappings().all()
    found["idle_in_transaction"] = [
        {**row, "idle_seconds": round(row["idle_seconds"], 1)} for row in rows
    ]
    return found


@probe("database.connections", scopes=(Scope.TARGET_DATABASE, Scope.QUARTERDECK),
       params=ConnectionsParams, needs=("database_url",))  # fmt: skip
async def connections(ctx: ProbeContext, params: ConnectionsParams) -> ProbeResult:
    """The database server has connections to spare and none leaked (sessions left idle
    inside a transaction)."""
    with database_engine(ctx) as engine:
        evidence: dict[str, object] = {"url": safe_url(engine), "dialect": engine.dialect.name}
        if engine.dialect.name != "postgresql":
            return not_applicable(engine.dialect.name, evidence, NO_SERVER)
        limit = params.max_idle_in_transaction_seconds
        try:
            found = await read_database(engine, lambda c: _connections(c, limit))
        except SQLAlchemyError as exc:
            return unreadable(exc, evidence, "the server's state")
    evidence.update(found)
    usable = int(found["max_connections"]) - int(found["reserved"])  # type: ignore[call-overload]
    in_use = int(found["in_use"])  # type: ignore[call-overload]
    ratio = in_use / usable if usable > 0 else 1.0
    evidence["used_ratio"] = round(ratio, 3)
    failures: list[str] = []
    if ratio > params.max_used_ratio:
        failures.append(f"{in_use} of {usable} connections in use ({ratio:.0%}), over "
                        f"{params.max_used_ratio:.0%}")  # fmt: skip
    leaked = found["idle_in_transaction"]
    assert isinstance(leaked, list)
    if leaked:
        shown = ", ".join(f"pid {row['pid']} ({row['application_name'] or row['usename']}, "
                          f"{row['idle_seconds']:g} s)" for row in leaked[:5])  # fmt: skip
        failures.append(f"{len(leaked)} session(s) idle in a transaction over {limit:g} s: "
                        f"{shown}")  # fmt: skip
    if failures:
        return ProbeResult(Verdict.FAIL, "; ".join(failures), evidence)
    reason = (f"{in_use} of {usable} connections in use ({ratio:.0%}); none idle in a "
              f"transaction over {limit:g} s")  # fmt: skip
    return ProbeResult(Verdict.PASS, reason, evidence)


class ReplicationParams(ProbeParams):
    min_replicas: int = Field(default=1, ge=1)
    #: A replica further behind than this (replay lag) FAILs: failing over to it would
    #: lose that much of the record.
    max_lag_seconds: float = Field(default=30.0, gt=0)


REPLICAS = text(
    "SELECT application_name, client_addr::text, state, sync_state, "
    "COALESCE(EXTRACT(EPOCH FROM replay_lag), 0)::float AS lag_seconds, "
    "pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint AS lag_bytes "
    "FROM pg_stat_replication ORDER BY application_name"
)
STANDBY = text(
    "SELECT (SELECT status FROM pg_stat_wal_receiver) AS receiver, "
    "CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
    "ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) "
    "END::float AS lag_seconds"
)


def _replication(connection: Any) -> dict[str, object]:
    if connection.execute(text("SELECT pg_is_in_recovery()")).scalar_one():
        standby = dict(connection.execute(STANDBY).mappings().one())
        return {"role": "standby", **standby}
    replicas = [dict(row) for row in connection.execute(REPLICAS).mappings()]
    return {"role": "primary", "replicas": replicas}


@probe("database.replication", scopes=(Scope.TARGET_DATABASE,), params=ReplicationParams,
       needs=("database_url",))  # fmt: skip
async def replication(ctx: ProbeContext, params: ReplicationParams) -> ProbeResult:
    """The database has streaming replicas to fail over to, each within its lag; pointed
    at a standby, that the standby streams from its primary within the lag."""
    with database_engine(ctx) as engine:
        evidence: dict[str, object] = {"url": safe_url(engine), "dialect": engine.dialect.name,
                                       "max_lag_seconds": params.max_lag_seconds}  # fmt: skip
        if engine.dialect.name != "postgresql":
            return not_applicable(engine.dialect.name, evidence, NO_SERVER)
        try:
            found = await read_database(engine, _replication)
        except SQLAlchemyError as exc:
            return unreadable(exc, evidence, "the server's state")
    evidence.update(found)
    if found["role"] == "standby":
        return _judge_standby(found, params, evidence)
    replicas = found["replicas"]
    assert isinstance(replicas, list)
    streaming = [r for r in replicas if r["state"] == "streaming"]
    failures: list[str] = []
    if len(streaming) < params.min_replicas:
        others = ", ".join(f"{r['application_name']} {r['state']}" for r in replicas
                           if r not in streaming)  # fmt: skip
        failures.append(f"{len(streaming)} streaming replica(s), fewer than "
                        f"{params.min_replicas}" + (f" ({others})" if others else ""))  # fmt: skip
    behind = [r for r in streaming if r["lag_seconds"] > params.max_lag_seconds]
    failures += [f"{r['application_name']} is {r['lag_seconds']:.1f} s behind (max "
                 f"{params.max_lag_seconds:g} s)" for r in behind]  # fmt: skip
    if failures:
        return ProbeResult(Verdict.FAIL, "; ".join(failures), evidence)
    worst = max(r["lag_seconds"] for r in streaming)
    names = ", ".join(f"{r['application_name']} ({r['sync_state']})" for r in streaming)
    reason = f"{len(streaming)} streaming replica(s): {names}; at most {worst:.1f} s behind"
    return ProbeResult(Verdict.PASS, reason, evidence)


def _judge_standby(found: dict[str, object], params: ReplicationParams,
                   evidence: dict[str, object]) -> ProbeResult:  # fmt: skip
    lag = float(found["lag_seconds"])  # type: ignore[arg-type]
    if found["receiver"] != "streaming":
        reason = f"a standby whose WAL receiver is {found['receiver'] or 'not running'}"
        return ProbeResult(Verdict.FAIL, reason, evidence)
    if lag > params.max_lag_seconds:
        reason = f"a standby {lag:.1f} s behind its primary (max {params.max_lag_seconds:g} s)"
        return ProbeResult(Verdict.FAIL, reason, evidence)
    return ProbeResult(Verdict.PASS, f"a standby streaming from its primary, {lag:.1f} s behind",
                       evidence)  # fmt: skip
