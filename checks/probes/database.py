"""Database probes: reachability (with latency) and SQLite's journal mode."""

from __future__ import annotations

import asyncio
import time

from pydantic import Field
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from checks.probes.base import ProbeContext, ProbeParams, ProbeResult
from checks.probes.registry import probe
from core.events import Verdict


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


@probe("database.reachable", params=ReachableParams)
async def reachable(ctx: ProbeContext, params: ReachableParams) -> ProbeResult:
    """The database answers ``SELECT 1``; reports the round-trip latency."""
    engine = ctx.database_engine
    evidence: dict[str, object] = {
        "url": safe_url(engine),
        "dialect": engine.dialect.name,
        "max_latency_ms": params.max_latency_ms,
    }
    try:
        latency_ms = await asyncio.to_thread(_select_one, engine)
    except SQLAlchemyError as exc:
        # An unreachable database is a finding about the system, not a broken probe.
        evidence["error"] = str(exc.orig if getattr(exc, "orig", None) else exc)
        return ProbeResult(Verdict.FAIL, f"database unreachable: {evidence['error']}", evidence)
    evidence["latency_ms"] = round(latency_ms, 3)
    if latency_ms > params.max_latency_ms:
        reason = f"SELECT 1 took {latency_ms:.1f} ms, over {params.max_latency_ms:g} ms"
        return ProbeResult(Verdict.WARN, reason, evidence)
    return ProbeResult(Verdict.PASS, f"SELECT 1 in {latency_ms:.1f} ms", evidence)


@probe("database.sqlite_wal")
async def sqlite_wal(ctx: ProbeContext, params: ProbeParams) -> ProbeResult:
    """A SQLite database runs in WAL mode, so readers never block the writer."""
    engine = ctx.database_engine
    dialect = engine.dialect.name
    evidence: dict[str, object] = {"url": safe_url(engine), "dialect": dialect}
    if dialect != "sqlite":
        # PASS would claim something was verified; nothing was.
        reason = f"not applicable: the database is {dialect}, not SQLite"
        return ProbeResult(Verdict.WARN, reason, evidence)
    try:
        mode = await asyncio.to_thread(_journal_mode, engine)
    except SQLAlchemyError as exc:
        evidence["error"] = str(exc.orig if getattr(exc, "orig", None) else exc)
        return ProbeResult(Verdict.FAIL, f"cannot read journal mode: {evidence['error']}", evidence)
    evidence["journal_mode"] = mode
    if mode != "wal":
        return ProbeResult(Verdict.FAIL, f"journal_mode is {mode!r}, not 'wal'", evidence)
    return ProbeResult(Verdict.PASS, "journal_mode is 'wal'", evidence)
