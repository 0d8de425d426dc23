"""Restoring a backup for real, into a scratch copy nobody else uses, and examining it.

A SQLite backup is restored with SQLite's backup API into a temporary file. A pg_dump is
restored with PostgreSQL's own tools (``pg_restore``, or ``psql`` for plain SQL) into a
scratch database made for the purpose on the target's server and dropped afterwards:
only the server that runs the database proves the dump restores there.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

from checks.probes.backup_files import BackupFormat


class RestoreError(Exception):
    """The backup did not restore; the message says what failed, in the tool's words."""


class RestoreTimeout(RestoreError):
    """The restore was stopped at its time limit."""


@dataclass
class Restored:
    """What a restored copy holds."""

    integrity: str = "ok"
    tables: list[str] = field(default_factory=list)
    row_counts: dict[str, int] = field(default_factory=dict)
    missing_tables: list[str] = field(default_factory=list)

    def as_evidence(self) -> dict[str, object]:
        return {"integrity": self.integrity, "tables": self.tables,
                "row_counts": self.row_counts, "missing_tables": self.missing_tables}  # fmt: skip


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def restore_sqlite(backup: Path, scratch: Path, tables: list[str]) -> Restored:
    """Restore ``backup`` into a fresh SQLite database under ``scratch`` (the backup API,
    read-only on the source) and examine the copy: integrity, tables, row counts."""
    restored = scratch / "restored.db"
    try:
        source = sqlite3.connect(f"{backup.resolve().as_uri()}?mode=ro", uri=True)
        try:
            target = sqlite3.connect(restored)
            try:
                source.backup(target)
                integrity = [row[0] for row in target.execute("PRAGMA integrity_check")]
                present = {row[0] for row in target.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'")}  # fmt: skip
                counts = {table: target.execute(
                              f"SELECT COUNT(*) FROM {_quoted(table)}").fetchone()[0]  # nosec B608
                          for table in tables if table in present}  # fmt: skip
            finally:
                target.close()
        finally:
            source.close()
    except sqlite3.Error as exc:
        raise RestoreError(str(exc)) from None
    return Restored(
        integrity="ok" if integrity == ["ok"] else "; ".join(integrity[:5]),
        tables=sorted(present),
        row_counts=counts,
        missing_tables=[table for table in tables if table not in present],
    )


def decrypt(backup: Path, command: list[str], scratch: Path, timeout: float) -> Path:
    """``backup`` decrypted by ``command`` (its ``{file}`` replaced by the path; the
    plaintext read from its standard output) into a file under ``scratch``."""
    plain = scratch / "decrypted"
    argv = [part.replace("{file}", str(backup)) for part in command]
    try:
        with plain.open("wb") as output:
            done = subprocess.run(argv, stdout=output, stderr=subprocess.PIPE, timeout=timeout,
                                  check=False)  # fmt: skip
    except subprocess.TimeoutExpired:
        raise RestoreTimeout(f"decrypt_command took over {timeout:g} s") from None
    except OSError as exc:
        raise RestoreError(f"decrypt_command failed to run: {exc}") from None
    if done.returncode != 0:
        said = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
        raise RestoreError(f"decrypt_command exited {done.returncode}: {said[0]}")
    return plain


def restore_postgres(
    dump: Path, kind: BackupFormat, server: Engine, tables: list[str], timeout: float
) -> Restored:
    """Restore ``dump`` into a scratch database on ``server``'s PostgreSQL, examine it and
    drop it."""
    if server.dialect.name != "postgresql":
        raise RestoreError(f"a pg_dump restores into PostgreSQL; QD_CHECK_DATABASE_URL is "
                           f"{server.dialect.name}")  # fmt: skip
    name = f"qd_restore_check_{secrets.token_hex(4)}"
    with server.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    scratch_url = server.url.set(database=name)
    try:
        _run_restore_tool(dump, kind, scratch_url, timeout)
        return _examine_postgres(scratch_url, tables)
    finally:
        with server.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _run_restore_tool(dump: Path, kind: BackupFormat, url: URL, timeout: float) -> None:
    # libpq's URI without the password, which goes in the environment (not in ps output).
    uri = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    environment = dict(os.environ)
    if url.password:
        environment["PGPASSWORD"] = str(url.password)
    if kind is BackupFormat.PG_CUSTOM:
        argv = [_tool("pg_restore"), "--exit-on-error", "--no-owner", "--no-privileges",
                "--dbname", uri, str(dump)]  # fmt: skip
    else:
        argv = [_tool("psql"), "--quiet", "--no-psqlrc", "--set", "ON_ERROR_STOP=1",
                "--dbname", uri, "--file", str(dump)]  # fmt: skip
    try:
        done = subprocess.run(argv, capture_output=True, env=environment, timeout=timeout,
                              check=False)  # fmt: skip
    except subprocess.TimeoutExpired:
        raise RestoreTimeout(f"{Path(argv[0]).name} took over {timeout:g} s") from None
    if done.returncode != 0:
        said = done.stderr.decode(errors="replace").strip().splitlines()
        raise RestoreError(f"{Path(argv[0]).name} exited {done.returncode}: "
                           f"{said[0] if said else 'no message'}")  # fmt: skip


def postgres_binary(name: str) -> str | None:
    """PostgreSQL's program ``name``: the newest under /usr/lib/postgresql (Debian's
    layout, where /usr/bin's wrapper may pick an older client than the server), else on
    PATH; None when it is not installed."""
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
                        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0)  # fmt: skip
    return str(candidates[-1]) if candidates else shutil.which(name)


def _tool(name: str) -> str:
    path = postgres_binary(name)
    if path is None:
        raise RestoreError(f"{name} is not installed here (Debian: postgresql-client)")
    return path


USER_TABLES = (
    "SELECT table_name FROM information_schema.tables "
    "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
)


def _examine_postgres(url: URL, tables: list[str]) -> Restored:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            present = set(connection.execute(text(USER_TABLES)).scalars())
            counts = {table: int(connection.execute(
                          text(f"SELECT COUNT(*) FROM {_quoted(table)}")).scalar_one())  # nosec B608
                      for table in tables if table in present}  # fmt: skip
    finally:
        engine.dispose()
    return Restored(tables=sorted(present), row_counts=counts,
                    missing_tables=[table for table in tables if table not in present])  # fmt: skip
