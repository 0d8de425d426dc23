"""Database probes: reachability (with latency) and durable writes (SQLite's journal
mode, PostgreSQL's fsync and the like). Backups are in ``backup``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

from pydantic import Field
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from checks.probes.base import ProbeContext, ProbeParams, ProbeResult, Scope
from checks.probes.reach import database_engine
from checks.probes.registry import probe
from core.events import Verdict

T = TypeVar("T")


class ReachableParams(ProbeParams):
    # Slower than this is a WARN: the database answers, but something is wrong.
    max_latency_ms: float = Field(default=500.0, gt=0)


def safe_url(engine: Engine) -> str:
    """The engine's URL with any password masked, fit for evidence and logs."""
    return engine.url.render_as_string(hide_password=True)


def _select_one(engine: Engine) -> float:
    """Run ``SELECT 1`` on a fresh checkout; return the round trip in milliseconds."""
    started = time.perf_counter()
    with engine.connect() as connection:
        connection.execute(text("SELECT 1")).scalar_one()
    return (time.perf_counter() - started) * 1000.0


def _journal_mode(engine: Engine) -> str:
    with engine.connect() as connection:
        return str(connection.exec_driver_sql("PRAGMA journal_mode").scalar_one()).lower()


@probe("database.reachable", scopes=(Scope.TARGET_DATABASE, Scope.QUARTERDECK),
       needs=("database_url",), params=ReachableParams)  # fmt: skip
async def reachable(ctx: ProbeContext, params: ReachableParams) -> ProbeResult:
    """The database answers ``SELECT 1``; reports the round-trip latency."""
    with database_engine(ctx) as engine:
        return await _reachable(engine, params)


async def _reachable(engine: Engine, params: ReachableParams) -> ProbeResult:
    evidence: dict[str, object] = {
        "url": safe_url(engine),
        "dialect": engine.dialect.name,
        "max_latency_ms": params.max_latency_ms,
    }
    try:
        latency_ms = await asyncio.to_thread(_select_one, engine)
    except SQLAlchemyError as exc:
        # An unreachable database is a finding about the system, not a broken probe.
        evidence["error"] = _error_text(exc)
        return ProbeResult(Verdict.FAIL, f"database unreachable: {evidence['error']}", evidence)
    evidence["latency_ms"] = round(latency_ms, 3)
    if latency_ms > params.max_latency_ms:
        reason = f"SELECT 1 took {latency_ms:.1f} ms, over {params.max_latency_ms:g} ms"
        return ProbeResult(Verdict.WARN, reason, evidence)
    return ProbeResult(Verdict.PASS, f"SELECT 1 in {latency_ms:.1f} ms", evidence)


async def read_database(engine: Engine, read: Callable[[Connection], T]) -> T:
    """``read(connection)``, on a connection of its own, off the event loop."""

    def run() -> T:
        with engine.connect() as connection:
            return read(connection)

    return await asyncio.to_thread(run)


def unreadable(exc: SQLAlchemyError, evidence: dict[str, object], what: str) -> ProbeResult:
    """A database that answers but will not say ``what`` it was asked: a FAIL."""
    evidence["error"] = _error_text(exc)
    return ProbeResult(Verdict.FAIL, f"cannot read {what}: {evidence['error']}", evidence)


def not_applicable(dialect: str, evidence: dict[str, object], why: str) -> ProbeResult:
    """A WARN for a database the probe cannot judge: a PASS would claim something was
    verified, and nothing was."""
    return ProbeResult(Verdict.WARN, f"not applicable: the database is {dialect}{why}", evidence)


def _error_text(exc: SQLAlchemyError) -> str:
    return str(exc.orig if getattr(exc, "orig", None) else exc).strip()


#: PostgreSQL settings that must be on for an acknowledged write to survive a crash.
POSTGRES_DURABILITY = ("fsync", "synchronous_commit", "full_page_writes")


def _postgres_settings(engine: Engine) -> dict[str, str]:
    with engine.connect() as connection:
        return {name: str(connection.exec_driver_sql(f"SHOW {name}").scalar_one()).lower()
                for name in POSTGRES_DURABILITY}  # fmt: skip


@probe(
    "database.sqlite_wal",
    scopes=(Scope.TARGET_DATABASE, Scope.QUARTERDECK),
    needs=("database_url",),
)
async def sqlite_wal(ctx: ProbeContext, params: ProbeParams) -> ProbeResult:
    """Writes are durable: SQLite in WAL mode, PostgreSQL with fsync and the like on.

    PostgreSQL's fsync, synchronous_commit and full_page_writes must all be on."""
    with database_engine(ctx) as engine:
        dialect = engine.dialect.name
        evidence: dict[str, object] = {"url": safe_url(engine), "dialect": dialect}
        read = {"sqlite": _journal_mode, "postgresql": _postgres_settings}.get(dialect)
        if read is None:
            return not_applicable(dialect, evidence, ", not SQLite or PostgreSQL")
        try:
            found = await asyncio.to_thread(read, engine)
        except SQLAlchemyError as exc:
            evidence["error"] = _error_text(exc)
            return ProbeResult(Verdict.FAIL, f"cannot read its settings: {evidence['error']}",
                               evidence)  # fmt: skip
    if isinstance(found, dict):
        evidence["settings"] = found
        off = [name for name, value in found.items() if value != "on"]
        if off:
            shown = ", ".join(f"{name} is {found[name]!r}" for name in off)
            return ProbeResult(Verdict.FAIL, f"{shown}, not 'on'", evidence)
        return ProbeResult(Verdict.PASS, f"{', '.join(found)} are on", evidence)
    evidence["journal_mode"] = found
    if found != "wal":
        return ProbeResult(Verdict.FAIL, f"journal_mode is {found!r}, not 'wal'", evidence)
    return ProbeResult(Verdict.PASS, "journal_mode is 'wal'", evidence)
