"""`quarterdeck db`: the store's schema revision, migrations and backups."""

from __future__ import annotations

import argparse
from pathlib import Path

from console.commands.errors import UsageError
from console.commands.options import number
from core import bounds


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser("db", help="schema migrations and backups of the store")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    current = actions.add_parser("current", help="the database's schema revision")
    current.set_defaults(handler=current_command)
    upgrade = actions.add_parser("upgrade", help="migrate the schema (to the newest by default)")
    upgrade.add_argument("revision", nargs="?", default="head", metavar="REVISION")
    upgrade.set_defaults(handler=upgrade_command)
    backup = actions.add_parser("backup", help="an online copy of a SQLite store into DIR")
    backup.add_argument("directory", type=Path, metavar="DIR")
    backup.add_argument(
        "--keep",
        type=number(bounds.POSITIVE_COUNT),
        metavar="N",
        help="keep only the newest N backups",
    )
    backup.set_defaults(handler=backup_command)


def current_command(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import OperationalError

    from core.store.database import create_database_engine, printable_url, unavailable
    from core.store.migrations import current_revision, head_revision

    url = args.settings.resolved_database_url
    engine = create_database_engine(url)
    try:
        revision = current_revision(engine)
    except OperationalError as exc:
        raise unavailable(url, exc) from exc
    finally:
        engine.dispose()
    head = head_revision()
    state = ("up to date" if revision == head
             else "never migrated" if revision is None else f"behind {head}")  # fmt: skip
    print(f"{printable_url(url)}: revision {revision or '-'} ({state})")
    return 0


def upgrade_command(args: argparse.Namespace) -> int:
    from alembic.util import CommandError
    from sqlalchemy.exc import OperationalError

    from core.store.database import create_database_engine, printable_url, unavailable
    from core.store.migrations import current_revision, upgrade

    url = args.settings.resolved_database_url
    engine = create_database_engine(url)
    try:
        before = current_revision(engine)
        upgrade(engine, args.revision)
        after = current_revision(engine)
    except CommandError as exc:
        raise UsageError(f"revision {args.revision!r}: {exc}") from None
    except OperationalError as exc:
        raise unavailable(url, exc) from exc
    finally:
        engine.dispose()
    change = "already at" if before == after else f"{before or 'empty'} ->"
    print(f"{printable_url(url)}: {change} revision {after}")
    return 0


def backup_command(args: argparse.Namespace) -> int:
    from core.store.backup import BackupError, backup_sqlite

    try:
        path = backup_sqlite(args.settings.resolved_database_url, args.directory, keep=args.keep)
    except BackupError as exc:
        raise UsageError(str(exc)) from None
    print(f"backed up to {path}")
    return 0
