"""Opening a SQLite file as a replay journal, refusing a file that is not one.

``replay --journal PATH`` resumes from whatever the file holds, and creating the
schema in a file writes to it: so a path that names a directory, a file that is
not SQLite, or someone else's SQLite database is refused before anything is
written, with the reason. A damaged journal is the store's ``StoreDamaged``.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from core.config import create_directory
from core.store import Store
from core.store.database import damaged, is_damage

SQLITE_MAGIC = b"SQLite format 3\x00"
JOURNAL_TABLE = "journal"


class JournalFileError(ValueError):
    """The path cannot be a journal; the message names it and says why."""


def open_journal_store(path: Path) -> Store:
    """The store of the journal at ``path``, created (with its folder) if absent."""
    path = path.resolve()
    if path.is_dir():
        raise JournalFileError(f"{path} is a directory, not a journal file")
    if path.is_file() and path.stat().st_size:
        _check_existing(path)
    try:
        create_directory(path.parent)
    except ValueError as exc:
        raise JournalFileError(f"{path}: {exc}") from None
    store = Store(f"sqlite:///{path}")
    store.create_schema()
    return store


def _check_existing(path: Path) -> None:
    with path.open("rb") as file:
        if file.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
            raise JournalFileError(f"{path} is not a journal (not a SQLite database)")
    connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        tables = {row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
        )}  # fmt: skip
    except sqlite3.DatabaseError as exc:
        if is_damage(exc):
            raise damaged(f"sqlite:///{path}", exc) from None
        raise JournalFileError(f"{path}: cannot read it as a journal: {exc}") from None
    finally:
        connection.close()
    if tables and JOURNAL_TABLE not in tables:
        raise JournalFileError(
            f"{path} is a SQLite database but not a Quarterdeck journal (no {JOURNAL_TABLE} "
            "table): give a new file or an earlier journal"
        )
