"""Online backups of a SQLite store, as the readiness backup probe expects them.

The copy is taken with SQLite's backup API, so it is consistent while the
engine keeps writing (WAL mode), written beside its final name and renamed into
place, so a reader never sees half a backup. PostgreSQL is backed up with its
own tools (``pg_dump``); this refuses it, naming them.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import make_url

PREFIX = "quarterdeck-"
SUFFIX = ".db"


class BackupError(Exception):
    """The backup could not be taken; the message says what and where."""


def backup_sqlite(
    database_url: str,
    directory: Path,
    *,
    keep: int | None = None,
    clock: Callable[[], float] = time.time,
) -> Path:
    """Copy the SQLite database at ``database_url`` into ``directory`` as
    ``quarterdeck-YYYYMMDDTHHMMSSZ.db``; with ``keep``, only the newest ``keep``
    backups there are kept. Returns the new backup's path."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        raise BackupError(
            f"DATABASE_URL is {url.get_backend_name()}: back it up with its own tools "
            "(pg_dump for PostgreSQL); this command copies SQLite stores"
        )
    source = Path(url.database or "")
    if not url.database or url.database == ":memory:" or not source.is_file():
        raise BackupError(f"no SQLite database at {source}")
    if keep is not None and keep < 1:
        raise BackupError(f"--keep must be at least 1, got {keep}")
    directory.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(clock()))
    final = directory / f"{PREFIX}{stamp}{SUFFIX}"
    partial = directory / f".{final.name}.partial"
    try:
        _copy(source, partial)
        os.replace(partial, final)
    except (OSError, sqlite3.Error) as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"backing up {source} to {final}: {exc}") from None
    if keep is not None:
        for old in sorted(directory.glob(f"{PREFIX}*{SUFFIX}"))[:-keep]:
            old.unlink()
    return final


def _copy(source: Path, target: Path) -> None:
    reader = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        writer = sqlite3.connect(target)
        try:
            reader.backup(writer)
            writer.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            writer.close()
    finally:
        reader.close()
    with open(target, "rb") as file:
        os.fsync(file.fileno())
