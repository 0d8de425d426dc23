"""Running the migrations in-process, on an engine we already have (no alembic.ini)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

_SCRIPTS = Path(__file__).parent


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run every migration up to ``revision``, in one transaction where the database
    allows it (both SQLite and PostgreSQL have transactional DDL)."""
    with engine.begin() as connection:
        command.upgrade(_config(connection), revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None for one that was never migrated."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    """The newest revision this Quarterdeck knows."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None, "the migrations directory has no revisions"
    return head
