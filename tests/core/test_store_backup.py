"""`backup_sqlite`: a consistent copy the readiness backup probe accepts, while writes go on."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlmodel import Session

from checks.probes.backup import BackupParams, backup
from checks.probes.base import ProbeContext, Target
from core.config import Settings
from core.events import Verdict
from core.store import FillRow, Store
from core.store.backup import BackupError, backup_sqlite


def fill(n: int) -> FillRow:
    return FillRow(run_id="r", fill_id=n, order_id=n, strategy="s", symbol="SPY", side="buy",
                   quantity=1.0, price=100.0 + n, commission=0.1, ts=float(n))  # fmt: skip


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store(f"sqlite:///{tmp_path / 'data' / 'quarterdeck.db'}")
    store.create_schema()
    with Session(store.engine) as session:
        session.add_all(fill(n) for n in range(100))
        session.commit()
    return store


async def test_a_backup_taken_during_writes_restores_and_passes_the_probe(
    store: Store, tmp_path: Path, settings: Settings
) -> None:
    stop = threading.Event()

    def keep_writing() -> None:
        n = 100
        while not stop.is_set():
            with Session(store.engine) as session:
                session.add(fill(n))
                session.commit()
            n += 1

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        made = backup_sqlite(store.url, tmp_path / "backups", clock=lambda: 1_790_000_000.0)
    finally:
        stop.set()
        writer.join()
    assert made.name == "quarterdeck-20260921T141320Z.db"
    assert list((tmp_path / "backups").iterdir()) == [made]  # no partial file left
    ctx = ProbeContext(settings, store.engine, "paper",
                       Target(backup_dir=tmp_path / "backups"))  # fmt: skip
    result = await backup(ctx, BackupParams(max_age_hours=10**6))
    assert result.verdict is Verdict.PASS, result.reason
    assert result.evidence["row_counts"]["fills"] >= 100  # type: ignore[index]


def test_keep_leaves_only_the_newest_backups(store: Store, tmp_path: Path) -> None:
    made = [backup_sqlite(store.url, tmp_path / "b", keep=2, clock=lambda t=t: t)
            for t in (1e9, 1e9 + 60, 1e9 + 120)]  # fmt: skip
    assert sorted((tmp_path / "b").iterdir()) == made[1:]


def test_what_cannot_be_backed_up_is_named(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="pg_dump"):
        backup_sqlite("postgresql+psycopg://qd@db/quarterdeck", tmp_path)
    with pytest.raises(BackupError, match=r"no SQLite database at .*absent\.db"):
        backup_sqlite(f"sqlite:///{tmp_path / 'absent.db'}", tmp_path)
