"""Schema migrations (Alembic), for SQLite and PostgreSQL alike.

``upgrade(engine)`` brings a database to the newest revision; it is what
``Store.create_schema`` and ``quarterdeck db upgrade`` run. The scripts are
in ``versions/``; ``env.py`` runs them on the connection it is handed.
"""

from core.store.migrations.runner import current_revision, head_revision, upgrade

__all__ = ["current_revision", "head_revision", "upgrade"]
