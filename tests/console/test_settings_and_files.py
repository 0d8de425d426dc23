"""Settings and files that cannot be used: one line naming the setting or file, exit 2;
a damaged SQLite store: one line naming the file and the way back, exit 3."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from console.cli import EXIT_STORE_UNAVAILABLE, EXIT_USAGE, main
from core.store import JobRow, Store
from core.store.backup import backup_sqlite
from tests.core.data import random_bars

QUARTERDECK = str(Path(sys.executable).with_name("quarterdeck"))


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    return err


def test_a_setting_that_is_not_json_is_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("QD_STRATEGIES", '[{"id": "sma_cross",')
    assert main(["jobs", "list"]) == EXIT_USAGE
    assert "QD_STRATEGIES: not valid JSON" in one_line_error(capsys)


def test_a_config_file_that_is_not_utf8_is_named_with_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_bytes(b'environment = "paper"\nlog_level = "\xff\xfe"\n')
    monkeypatch.setenv("QD_CONFIG_FILE", str(config))
    assert main(["jobs", "list"]) == EXIT_USAGE
    assert f"{config}: line 2: not UTF-8" in one_line_error(capsys)


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_a_config_file_named_but_absent_is_an_error(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    config = tmp_path / "config.toml"
    if kind == "directory":
        config.mkdir()
    monkeypatch.setenv("QD_CONFIG_FILE", str(config))
    assert main(["jobs", "list"]) == EXIT_USAGE
    assert f"QD_CONFIG_FILE: {config}" in one_line_error(capsys)


@pytest.mark.parametrize("where", ["is-a-file", "under-a-file"])
def test_a_data_directory_that_cannot_be_one_is_named(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    blocker = tmp_path / "plain-file"
    blocker.write_text("not a folder")
    data_dir = blocker if where == "is-a-file" else blocker / "data"
    monkeypatch.setenv("QD_DATA_DIR", str(data_dir))
    assert main(["jobs", "list"]) == EXIT_USAGE
    assert f"QD_DATA_DIR: {blocker} is a file, not a directory" in one_line_error(capsys)


@pytest.mark.parametrize("where", ["is-a-directory", "under-a-file"])
def test_a_database_path_that_cannot_be_a_file_is_named(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    blocker = tmp_path / "in-the-way"
    if where == "is-a-directory":
        blocker.mkdir()
        database, expected = blocker, f"{blocker} is a directory, not a database file"
    else:
        blocker.write_text("x")
        database, expected = blocker / "quarterdeck.db", f"{blocker} is a file, not a directory"
    monkeypatch.setenv("QD_DATABASE_URL", f"sqlite:///{database}")
    assert main(["jobs", "list"]) == EXIT_USAGE
    assert f"QD_DATABASE_URL: {expected}" in one_line_error(capsys)


@pytest.fixture
def bars_csv(tmp_path: Path) -> Path:
    import pandas as pd

    frame = pd.DataFrame(random_bars(120, seed=3))
    frame["ts"] = 1_704_067_200 + frame["ts"].astype("int64")  # daily from 2024
    path = tmp_path / "bars.csv"
    frame.rename(columns={"ts": "timestamp"}).to_csv(path, index=False)
    return path


def foreign_sqlite(path: Path) -> Path:
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE customers (name TEXT)")
    connection.commit()
    connection.close()
    return path


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: p.write_text("hello\n") and p, "is not a journal (not a SQLite database)"),
        (lambda p: p.mkdir() or p, "is a directory, not a journal file"),
        (foreign_sqlite, "is a SQLite database but not a Quarterdeck journal"),
    ],
    ids=["text", "directory", "foreign-sqlite"],
)
def test_a_journal_path_that_is_not_a_journal_is_refused_untouched(
    make: object, expected: str, tmp_path: Path, bars_csv: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    path = tmp_path / "journal.db"
    make(path)  # type: ignore[operator]
    before = path.read_bytes() if path.is_file() else None
    args = ["replay", "sma_cross", "--data", str(bars_csv), "--journal", str(path)]
    assert main(args) == EXIT_USAGE
    err = one_line_error(capsys)
    assert f"--journal: {path} {expected}" in err
    if before is not None:
        assert path.read_bytes() == before  # nothing was written into it


def test_a_journal_replays_and_resumes(tmp_path: Path, bars_csv: Path) -> None:
    path = tmp_path / "journals" / "run.db"
    args = ["replay", "sma_cross", "--data", str(bars_csv), "--journal", str(path)]
    assert main(args) == 0
    assert main(args) == 0  # the same journal again: it is one


def filled_store(data_dir: Path) -> Path:
    """A real store with rows in it, as a running console leaves it."""
    database = data_dir / "quarterdeck.db"
    store = Store(f"sqlite:///{database}")
    store.create_schema()
    with store.session() as session:
        session.add_all(JobRow(kind="backtest", title=f"job {n}", state="queued",
                               created_at=float(n)) for n in range(400))  # fmt: skip
        session.commit()
    store.dispose()
    return database


def damage(database: Path, how: str) -> None:
    if how == "random-bytes":
        database.write_bytes(bytes(range(256)) * 64)
    elif how == "truncated":
        database.write_bytes(database.read_bytes()[:3000])
    else:  # a page of the jobs table overwritten: found by the first read of it
        connection = sqlite3.connect(database)
        page = connection.execute("SELECT rootpage FROM sqlite_master WHERE name = 'jobs'")
        page = page.fetchone()[0]
        connection.close()
        with database.open("r+b") as file:
            file.seek((page - 1) * 4096)
            file.write(b"garbage!" * 8)


@pytest.mark.parametrize("how", ["random-bytes", "truncated", "table-page"])
def test_a_damaged_store_exits_3_naming_the_file_and_the_backup(
    how: str, isolated_environment: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = filled_store(isolated_environment)
    backup = backup_sqlite(f"sqlite:///{database}", tmp_path / "backups")
    damage(database, how)
    # damage to the whole file stops any command; damage to one table, the first read of it
    commands = [["jobs", "list"]] + ([["audit", "verify"]] if how != "table-page" else [])
    for command in commands:
        assert main(command) == EXIT_STORE_UNAVAILABLE
        err = one_line_error(capsys)
        assert f"the database {database} is damaged" in err
        assert "newest backup" in err and "quarterdeck db backup" in err
    # and the way back the message gives works
    for side in ("-wal", "-shm"):
        Path(f"{database}{side}").unlink(missing_ok=True)
    database.write_bytes(backup.read_bytes())
    restored = subprocess.run([QUARTERDECK, "jobs", "list"], capture_output=True, text=True,
                              env=os.environ, timeout=120)  # fmt: skip
    assert restored.returncode == 0, restored.stderr
    assert "job 399" in restored.stdout
