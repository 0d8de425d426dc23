import asyncio
import sqlite3
from pathlib import Path

from sqlmodel import select

from core.store import BatchWriter, FillRow, JobRow, Store


def fill(i: int) -> FillRow:
    return FillRow(
        run_id="r",
        fill_id=i,
        order_id=i,
        strategy="s",
        symbol="SPY",
        side="buy",
        quantity=1.0,
        price=100.0 + i,
        commission=0.1,
        ts=float(i),
    )


def job(state: str, done: int) -> JobRow:
    return JobRow(
        id=1, kind="optimize", title="t", state=state, done=done, total=10, created_at=1.0
    )


def test_sqlite_database_uses_wal_and_creates_its_directory(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "q.db"
    store = Store(f"sqlite:///{path}")
    store.create_schema()
    store.dispose()
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone() == ("wal",)


async def test_writer_batches_many_rows_into_few_transactions(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'q.db'}")
    store.create_schema()
    writer = BatchWriter(store, interval=0.05, batch_size=1000)
    writer.start()
    for i in range(2500):
        writer.append(fill(i))
    await writer.flush()
    with store.session() as session:
        assert len(session.exec(select(FillRow)).all()) == 2500
    assert writer.batches <= 5
    await writer.stop()


async def test_stop_drains_everything_queued(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'q.db'}")
    store.create_schema()
    writer = BatchWriter(store, interval=10.0)  # never flushes on its own in this test
    writer.start()
    for i in range(10):
        writer.append(fill(i))
    await writer.stop()
    with store.session() as session:
        assert [r.fill_id for r in session.exec(select(FillRow).order_by(FillRow.fill_id))] == list(
            range(10)
        )


async def test_upsert_keeps_newest_version_within_and_across_batches(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'q.db'}")
    store.create_schema()
    writer = BatchWriter(store)
    writer.start()
    writer.upsert(job("queued", 0))
    writer.upsert(job("running", 3))  # same batch, same key
    await writer.flush()
    row = job("done", 10)
    writer.upsert(row)
    row.state = "mutated after queueing"  # must not leak into what was queued
    await writer.stop()
    with store.session() as session:
        rows = session.exec(select(JobRow)).all()
    assert [(r.id, r.state, r.done) for r in rows] == [(1, "done", 10)]


async def test_failed_batch_is_counted_and_the_writer_keeps_going(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'q.db'}")
    store.create_schema()
    writer = BatchWriter(store)
    writer.start()
    bad = fill(1)
    bad.price = None  # type: ignore[assignment]  # violates NOT NULL
    writer.append(bad)
    await writer.flush()
    assert writer.rows_failed == 1
    assert "IntegrityError" in (writer.last_error or "")
    writer.append(fill(2))
    await asyncio.wait_for(writer.flush(), 5)
    await writer.stop()
    with store.session() as session:
        assert [r.fill_id for r in session.exec(select(FillRow))] == [2]


def test_an_older_jobs_table_gains_the_new_columns(tmp_path: Path) -> None:
    """A database made before jobs had priorities and owners opens and keeps its rows."""
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as old:
        old.execute(
            "CREATE TABLE jobs (id INTEGER PRIMARY KEY, kind VARCHAR NOT NULL, "
            "title VARCHAR NOT NULL, state VARCHAR NOT NULL, params_json VARCHAR NOT NULL, "
            "done INTEGER NOT NULL, total INTEGER NOT NULL, result_json VARCHAR, "
            "error VARCHAR, created_at FLOAT NOT NULL, started_at FLOAT, finished_at FLOAT)"
        )
        old.execute(
            "INSERT INTO jobs VALUES (1, 'optimize', 'old', 'done', '{}', 9, 9, NULL, NULL, "
            "1.0, 2.0, 3.0)"
        )
    store = Store(f"sqlite:///{path}")
    store.create_schema()
    store.create_schema()  # idempotent
    with store.session() as session:
        row = session.exec(select(JobRow)).one()
    store.dispose()
    assert (row.title, row.priority, row.files_json, row.owner) == ("old", 1, "[]", None)
