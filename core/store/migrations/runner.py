"""Running the migrations in-process, on an engine we already have (no alembic.ini)."""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

# Alembic's scripts: a plain directory, not a package (env.py runs only under Alembic).
_SCRIPTS = Path(__file__).parent / "scripts"
# Alembic's ``context`` is one module-level object: one migration at a time per process.
_ONE_AT_A_TIME = threading.Lock()
# Any fixed number: the PostgreSQL advisory lock migrating processes queue on.
_ADVISORY_LOCK_KEY = 0x5144_4D49


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run every migration up to ``revision`` in one transaction (both SQLite and
    PostgreSQL have transactional DDL). Processes starting together on a new database
    queue: the first migrates, the others then find the schema current."""
    with _ONE_AT_A_TIME, engine.begin() as connection:
        _exclude_other_migrators(connection)
        command.upgrade(_config(connection), revision)


def _exclude_other_migrators(connection: Connection) -> None:
    """Hold, until the transaction ends, a lock only one migrating connection can
    hold: SQLite's write lock taken up front, or a PostgreSQL advisory lock."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_ADVISORY_LOCK_KEY})")


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None for one that was never migrated."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    """The newest revision this Quarterdeck knows."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None, "the migrations directory has no revisions"
    return head
