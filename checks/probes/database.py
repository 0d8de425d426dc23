"""Database probes: reachability (with latency), SQLite's journal mode, and backups."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import tempfile
import time
from pathlib import Path

from pydantic import Field
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from checks.probes.base import ProbeContext, ProbeParams, ProbeResult, Scope
from checks.probes.reach import database_engine
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
            # PASS would claim something was verified; nothing was.
            reason = f"not applicable: the database is {dialect}, not SQLite or PostgreSQL"
            return ProbeResult(Verdict.WARN, reason, evidence)
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


class BackupParams(ProbeParams):
    max_age_hours: float = Field(default=24.0, gt=0)
    pattern: str = Field(default="*.db", min_length=1)
    # Tables a restored backup must hold (the store's names); each one's rows are counted.
    tables: list[str] = Field(default_factory=lambda: ["fills", "jobs"])


def _newest(directory: Path, pattern: str) -> Path | None:
    files = [path for path in directory.glob(pattern) if path.is_file()]
    return max(files, key=lambda path: path.stat().st_mtime, default=None)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _restore(backup: Path, scratch: Path, tables: list[str]) -> dict[str, object]:
    """Restore ``backup`` into a fresh SQLite database under ``scratch`` (the backup API,
    read-only on the source) and examine the copy: integrity, tables, row counts.

    Raises ``sqlite3.DatabaseError`` when the file is not a readable SQLite database.
    """
    restored = scratch / "restored.db"
    source = sqlite3.connect(f"{backup.resolve().as_uri()}?mode=ro", uri=True)
    try:
        target = sqlite3.connect(restored)
        try:
            source.backup(target)
            integrity = [row[0] for row in target.execute("PRAGMA integrity_check")]
            present = {
                row[0]
                for row in target.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
            counts: dict[str, int] = {}
            for table in tables:
                if table in present:  # a name the backup itself lists, quoted
                    query = f"SELECT COUNT(*) FROM {_quoted(table)}"  # nosec B608
                    counts[table] = target.execute(query).fetchone()[0]
        finally:
            target.close()
    finally:
        source.close()
    return {
        "integrity": "ok" if integrity == ["ok"] else "; ".join(integrity[:5]),
        "tables": sorted(present),
        "row_counts": counts,
        "missing_tables": [table for table in tables if table not in present],
    }


def _examine(backup: Path, tables: list[str]) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="qd-backup-check-") as scratch:
        return _restore(backup, Path(scratch), tables)


@probe(
    "database.backup", scopes=(Scope.TARGET_DATABASE,), params=BackupParams, needs=("backup_dir",)
)
async def backup(ctx: ProbeContext, params: BackupParams) -> ProbeResult:
    """The newest database backup is recent and restores into an intact SQLite database
    holding the store's tables."""
    directory = ctx.target.backup_dir
    if directory is None:
        return ProbeResult(Verdict.ERROR, "target.backup_dir is not set")
    evidence: dict[str, object] = {
        "backup_dir": str(directory),
        "pattern": params.pattern,
        "max_age_hours": params.max_age_hours,
    }
    if not directory.is_dir():
        return ProbeResult(Verdict.FAIL, f"backup directory {directory} does not exist", evidence)
    newest = await asyncio.to_thread(_newest, directory, params.pattern)
    if newest is None:
        reason = f"no backup matching {params.pattern!r} in {directory}"
        return ProbeResult(Verdict.FAIL, reason, evidence)
    stat = newest.stat()
    age_hours = (time.time() - stat.st_mtime) / 3600.0
    evidence.update(
        file=str(newest),
        size_bytes=stat.st_size,
        modified=dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC).isoformat(),
        age_hours=round(age_hours, 2),
    )
    try:
        examined = await asyncio.to_thread(_examine, newest, params.tables)
    except sqlite3.Error as exc:
        evidence["restore_error"] = f"{type(exc).__name__}: {exc}"
        return ProbeResult(Verdict.FAIL, f"{newest.name} does not restore: {exc}", evidence)
    evidence.update(examined)

    failures: list[str] = []
    if age_hours > params.max_age_hours:
        failures.append(f"{newest.name} is {age_hours:.1f} h old (max {params.max_age_hours:g} h)")
    if examined["integrity"] != "ok":
        failures.append(f"{newest.name} fails integrity_check: {examined['integrity']}")
    if examined["missing_tables"]:
        missing = ", ".join(examined["missing_tables"])  # type: ignore[arg-type]
        failures.append(f"{newest.name} lacks table(s) {missing}")
    if failures:
        return ProbeResult(Verdict.FAIL, "; ".join(failures), evidence)
    counts = ", ".join(f"{t} {n}" for t, n in examined["row_counts"].items())  # type: ignore[attr-defined]
    counts = counts or "no tables checked"
    reason = f"{newest.name}, {age_hours:.1f} h old, restores intact ({counts})"
    return ProbeResult(Verdict.PASS, reason, evidence)
