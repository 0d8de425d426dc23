"""Database engine creation and schema set-up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, inspect, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import Insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel, create_engine

from core.store import tables  # noqa: F401  (registers the tables on SQLModel.metadata)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def create_database_engine(url: str) -> Engine:
    """An engine for ``url`` (no connection yet); SQLite connections get WAL mode."""
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


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

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def create_schema(self) -> None:
        """Create missing tables (and a SQLite file's directory), and add the columns
        a newer Quarterdeck gave an existing table."""
        database = self.engine.url.database
        if self.is_sqlite and database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        SQLModel.metadata.create_all(self.engine)
        self._add_missing_columns()

    def _add_missing_columns(self) -> None:
        """Additive upgrades only: a new column is added as nullable, with its server
        default if it has one. Anything else (a renamed or retyped column) would need
        a real migration, and the tables are designed never to need one."""
        inspector = inspect(self.engine)
        with self.engine.begin() as connection:
            for table in SQLModel.metadata.sorted_tables:
                present = {column["name"] for column in inspector.get_columns(table.name)}
                for column in table.columns:
                    if column.name in present:
                        continue
                    kind = column.type.compile(dialect=self.engine.dialect)
                    default = column.server_default
                    clause = f" DEFAULT '{default.arg}'" if default is not None else ""
                    connection.execute(
                        text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}{clause}')
                    )

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def dispose(self) -> None:
        self.engine.dispose()
