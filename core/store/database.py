"""Database engine creation and schema set-up."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Engine, event
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import Insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlmodel import Session, SQLModel, create_engine

from core.store import (
    migrations,
    tables,  # noqa: F401  (registers the tables on SQLModel.metadata)
)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=5000")
    _enter_wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _enter_wal(cursor: sqlite3.Cursor, patience: float = 5.0) -> None:
    """Put the file in WAL mode (a property of the file: set once, kept). The first
    openers of a new file race to set it, and SQLite answers the losers "database is
    locked" at once rather than through the busy timeout, so they retry."""
    deadline = time.monotonic() + patience
    while True:
        try:
            if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


class StoreUnavailable(Exception):
    """The database cannot be reached or opened; the message names it (without any
    password) and says why."""


class StoreDamaged(StoreUnavailable):
    """A SQLite file that is not, or no longer, a whole database; the message names the
    file and how to put a backup in its place."""


# SQLite's primary result codes for a damaged file (a torn page, a truncated file, bytes
# that are not a database at all), as sqlite3 reports them in ``sqlite_errorcode``.
_DAMAGE_CODES = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})


def is_damage(exc: BaseException) -> bool:
    """Whether ``exc`` (a driver error, or SQLAlchemy's wrapping of one) says the SQLite
    file itself is damaged, as opposed to busy, missing or refused."""
    original = getattr(exc, "orig", None) or exc
    code = getattr(original, "sqlite_errorcode", None)
    return isinstance(code, int) and code & 0xFF in _DAMAGE_CODES


def damaged(url: str, exc: BaseException) -> StoreDamaged:
    """The error for a damaged SQLite file: which file, SQLite's words, and the way back."""
    path = make_url(url).database
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    return StoreDamaged(
        f"the database {path} is damaged ({reason}): stop Quarterdeck, move it and its "
        "-wal and -shm files aside, and copy the newest backup (quarterdeck-*.db from "
        "`quarterdeck db backup DIR`) in its place"
    )


def printable_url(url: str) -> str:
    """``url`` as it may be shown and logged: any password masked."""
    return make_url(url).render_as_string(hide_password=True)


def unavailable(url: str, exc: OperationalError) -> StoreUnavailable:
    """The error for a database at ``url`` that refused us: where, and the driver's reason."""
    reason = str(exc.orig or exc).strip().splitlines()[0]
    return StoreUnavailable(f"cannot use the database at {printable_url(url)}: {reason}")


def _damage_names_the_file(url: str) -> Callable[[ExceptionContext], None]:
    """A ``handle_error`` hook: damage found by any statement, however late, is raised as
    ``StoreDamaged`` naming the file, the one error every front end knows (exit code 3)."""

    def hook(context: ExceptionContext) -> None:
        if is_damage(context.original_exception):
            raise damaged(url, context.original_exception)

    return hook


def engine_url(url: str) -> URL:
    """``url`` as SQLAlchemy needs it: a plain ``postgresql://`` (or ``postgres://``) URL,
    the form every PostgreSQL tool and host gives, is driven by psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg")
    return parsed


def create_database_engine(url: str) -> Engine:
    """An engine for ``url`` (no connection yet); SQLite connections get WAL mode."""
    parsed = engine_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "handle_error", _damage_names_the_file(url))
        return engine
    return create_engine(parsed, pool_pre_ping=True)


def upsert_statement(engine: Engine, model: type[SQLModel]) -> Insert:
    """INSERT ... ON CONFLICT (primary key) DO UPDATE for SQLite and PostgreSQL.

    Executed with a list of full rows; each either inserts or replaces every
    non-key column of the stored row.
    """
    table = model.__table__  # type: ignore[attr-defined]
    dialect_insert = {"sqlite": sqlite_insert, "postgresql": postgresql_insert}[engine.dialect.name]
    statement = dialect_insert(table)
    keys = [c.name for c in table.primary_key.columns]
    updates = {c.name: statement.excluded[c.name] for c in table.columns if c.name not in keys}
    return statement.on_conflict_do_update(index_elements=keys, set_=updates)


class Store:
    """Owns the engine; creates the schema; hands out sessions.

    All methods here block: call them from a worker thread (the BatchWriter
    does) or at start-up through ``asyncio.to_thread``.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_database_engine(url)

    @classmethod
    def of_engine(cls, engine: Engine) -> Store:
        """A store on ``engine``, which its owner keeps (and disposes of): a reader that
        is handed the Deck's engine needs no second pool on the same database."""
        store = cls.__new__(cls)
        store.url = engine.url.render_as_string(hide_password=False)
        store.engine = engine
        return store

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def create_schema(self) -> None:
        """Bring the schema to the newest migration (creating a SQLite file's directory)."""
        database = self.engine.url.database
        if self.is_sqlite and database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        try:
            migrations.upgrade(self.engine)
        except (DatabaseError, sqlite3.DatabaseError) as exc:
            if is_damage(exc):  # found while connecting, before SQLAlchemy's hook applies
                raise damaged(self.url, exc) from exc
            if isinstance(exc, OperationalError):
                raise unavailable(self.url, exc) from exc
            raise

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def dispose(self) -> None:
        self.engine.dispose()
