"""database.backup against real backups of a real store."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import pytest

from checks.probes import REGISTRY
from checks.probes.backup import BackupParams, backup
from core.events import Verdict
from core.store import FillRow, Store

from .conftest import MakeContext

FILLS = 7


def make_backup(tmp_path: Path, directory: Path, name: str = "quarterdeck-1.db") -> Path:
    """A store with ``FILLS`` fills, backed up (SQLite's online backup) into ``directory``."""
    live_path = tmp_path / f"live-{name}"
    store = Store(f"sqlite:///{live_path}")
    store.create_schema()
    with store.session() as session:
        for i in range(FILLS):
            row = FillRow(run_id="r", fill_id=i, order_id=i, strategy="s", symbol="A",
                          side="buy", quantity=1.0, price=100.0, commission=0.0, ts=i)  # fmt: skip
            session.add(row)
        session.commit()
    store.dispose()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    with sqlite3.connect(live_path) as live, sqlite3.connect(path) as copy:
        live.backup(copy)
    live.close()
    copy.close()
    return path


def age(path: Path, hours: float) -> None:
    then = time.time() - hours * 3600
    os.utime(path, (then, then))


def test_backup_probe_is_registered() -> None:
    assert REGISTRY.get("database.backup").params is BackupParams


async def test_recent_restorable_backup_passes(tmp_path: Path, make_ctx: MakeContext) -> None:
    directory = tmp_path / "backups"
    older = make_backup(tmp_path, directory, "quarterdeck-0.db")
    age(older, 30)
    newest = make_backup(tmp_path, directory, "quarterdeck-1.db")
    age(newest, 2)
    result = await backup(make_ctx(backup_dir=directory), BackupParams())
    assert result.verdict is Verdict.PASS, result.reason
    evidence = result.evidence
    assert evidence["file"] == str(newest)  # the newest, not the older one
    assert 1.9 < evidence["age_hours"] < 2.1
    assert evidence["integrity"] == "ok"
    assert evidence["row_counts"] == {"fills": FILLS, "jobs": 0}
    assert {"fills", "jobs", "audit", "journal"} <= set(evidence["tables"])
    assert result.reason == (
        "quarterdeck-1.db, 2.0 h old, restores intact in 0.0 s (fills 7, jobs 0)"
    )
    assert evidence["format"] == "sqlite"
    assert newest.stat().st_mtime == pytest.approx(time.time() - 7200, abs=60)  # untouched


async def test_backup_older_than_policy_fails(tmp_path: Path, make_ctx: MakeContext) -> None:
    path = make_backup(tmp_path, tmp_path / "backups")
    age(path, 30)
    result = await backup(make_ctx(backup_dir=tmp_path / "backups"), BackupParams())
    assert result.verdict is Verdict.FAIL
    assert result.reason == "quarterdeck-1.db is 30.0 h old (max 24 h)"
    assert result.evidence["integrity"] == "ok"  # it was still examined
    ctx = make_ctx(backup_dir=tmp_path / "backups")
    lenient = await backup(ctx, BackupParams(max_age_hours=48))
    assert lenient.verdict is Verdict.PASS


async def test_corrupt_backup_fails(tmp_path: Path, make_ctx: MakeContext) -> None:
    directory = tmp_path / "backups"
    directory.mkdir()
    (directory / "quarterdeck.db").write_bytes(b"this is not a database\n" * 200)
    result = await backup(make_ctx(backup_dir=directory), BackupParams())
    assert result.verdict is Verdict.FAIL
    assert result.reason == (
        "quarterdeck.db does not restore: it is no backup this probe can restore (unknown): "
        "a SQLite database or a pg_dump (custom or plain), encrypted or not"
    )


async def test_damaged_pages_fail_the_integrity_check(tmp_path: Path, make_ctx: MakeContext):
    path = make_backup(tmp_path, tmp_path / "backups")
    data = bytearray(path.read_bytes())
    page = 4096
    assert len(data) > 3 * page
    data[2 * page : 3 * page] = b"\xff" * page  # scribble over a b-tree page
    path.write_bytes(bytes(data))
    result = await backup(make_ctx(backup_dir=tmp_path / "backups"), BackupParams())
    assert result.verdict is Verdict.FAIL
    assert "quarterdeck-1.db" in result.reason
    # SQLite cannot even read the schema or count the rows: the restore itself fails.
    assert result.reason == "quarterdeck-1.db does not restore: database disk image is malformed"


async def test_integrity_check_findings_fail(tmp_path: Path, make_ctx: MakeContext) -> None:
    """A backup that reads fine but is not intact: an index dropped from the schema
    behind SQLite's back leaves its pages orphaned, which only integrity_check sees."""
    path = make_backup(tmp_path, tmp_path / "backups")
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA writable_schema=ON")
        connection.execute("DELETE FROM sqlite_master WHERE name = 'ix_fills_symbol'")
    connection.close()
    result = await backup(make_ctx(backup_dir=tmp_path / "backups"), BackupParams())
    assert result.verdict is Verdict.FAIL
    assert result.reason.startswith("quarterdeck-1.db fails integrity_check: ")
    assert "is never used" in result.evidence["integrity"]
    assert result.evidence["row_counts"] == {"fills": FILLS, "jobs": 0}


async def test_backup_without_the_store_tables_fails(tmp_path: Path, make_ctx: MakeContext):
    directory = tmp_path / "backups"
    directory.mkdir()
    with sqlite3.connect(directory / "other.db") as connection:
        connection.execute("CREATE TABLE fills (x)")
    connection.close()
    result = await backup(make_ctx(backup_dir=directory), BackupParams())
    assert result.verdict is Verdict.FAIL
    assert result.reason == "other.db lacks table(s) jobs"


async def test_missing_directory_fails(tmp_path: Path, make_ctx: MakeContext) -> None:
    result = await backup(make_ctx(backup_dir=tmp_path / "nowhere"), BackupParams())
    assert result.verdict is Verdict.FAIL
    assert result.reason == f"backup directory {tmp_path / 'nowhere'} does not exist"


async def test_empty_directory_fails(tmp_path: Path, make_ctx: MakeContext) -> None:
    (tmp_path / "backups").mkdir()
    (tmp_path / "backups" / "notes.txt").write_text("no backups here")
    result = await backup(make_ctx(backup_dir=tmp_path / "backups"), BackupParams())
    assert result.verdict is Verdict.FAIL
    assert result.reason == f"no backup matching '*.db' in {tmp_path / 'backups'}"


async def test_unset_backup_dir_is_an_error(make_ctx: MakeContext) -> None:
    result = await backup(make_ctx(), BackupParams())
    assert result.verdict is Verdict.ERROR
    assert result.reason == "target.backup_dir is not set: give it with QD_CHECK_BACKUP_DIR"
