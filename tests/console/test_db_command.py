"""`quarterdeck db current|upgrade|backup`, on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from console.cli import EXIT_STORE_UNAVAILABLE, EXIT_USAGE, main
from core.store.migrations import head_revision
from tests.postgres import PostgresServer


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out.strip(), captured.err.strip()


def test_upgrade_migrates_once_and_current_reports_it(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)  # the plain variable hosts set
    head = head_revision()
    assert run(capsys, "db", "current")[1].endswith("revision - (never migrated)")
    assert run(capsys, "db", "upgrade")[1].endswith(f"empty -> revision {head}")
    assert run(capsys, "db", "upgrade")[1].endswith(f"already at revision {head}")
    assert run(capsys, "db", "current")[1].endswith(f"revision {head} (up to date)")
    code, _, err = run(capsys, "db", "upgrade", "no-such-revision")
    assert code == EXIT_USAGE and "revision 'no-such-revision'" in err


def test_an_unreachable_database_is_named_without_its_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("QD_DATABASE_URL", "postgresql://qd:s3cret@127.0.0.1:1/quarterdeck")
    for command in (["db", "current"], ["jobs", "list"]):
        code, _, err = run(capsys, *command)
        assert code == EXIT_STORE_UNAVAILABLE  # as the README says: any command, exit 3
        assert "cannot use the database at postgresql://qd:***@127.0.0.1:1/quarterdeck:" in err
        assert "Connection refused" in err and "s3cret" not in err


def test_backup_copies_a_sqlite_store_and_keeps_the_newest(
    isolated_environment: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "db", "upgrade")
    code, out, _ = run(capsys, "db", "backup", str(tmp_path / "backups"), "--keep", "1")
    backup = Path(out.removeprefix("backed up to "))
    assert code == 0 and backup.parent == tmp_path / "backups"
    with sqlite3.connect(backup) as copy:
        tables = {name for (name,) in copy.execute("SELECT name FROM sqlite_master")}
    assert {"jobs", "audit", "alembic_version"} <= tables
    with pytest.raises(SystemExit) as exited:
        run(capsys, "db", "backup", str(tmp_path), "--keep", "0")
    assert exited.value.code == EXIT_USAGE
    assert "argument --keep: expected a whole number in [1, " in capsys.readouterr().err


def test_backup_refuses_postgresql_naming_its_own_tools(
    postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.setenv("QD_DATABASE_URL", postgres.new_database())
    code, _, err = run(capsys, "db", "backup", str(tmp_path))
    assert code == EXIT_USAGE and "pg_dump" in err
