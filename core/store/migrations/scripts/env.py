"""Alembic's entry point: runs the migrations on the connection ``runner`` passes in.

SQLite cannot alter most of a table in place, so migrations run in "batch"
mode there (Alembic copies the table); on PostgreSQL batch mode is a no-op.
"""

from alembic import context
from sqlmodel import SQLModel

from core.store import tables  # noqa: F401  (the models, for autogenerate's comparisons)

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("Quarterdeck runs its migrations in-process: use core.store.migrations")

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
