import asyncio
import sqlite3
import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel, select

from core.store import BatchWriter, FillRow, JobRow, Store
from core.store.database import create_database_engine
from core.store.migrations import current_revision, head_revision

ROOT = Path(__file__).resolve().parents[2]


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


async def test_writer_batches_many_rows_into_few_transactions(store: Store) -> None:
    writer = BatchWriter(store, interval=0.05, batch_size=1000)
    writer.start()
    for i in range(2500):
        writer.append(fill(i))
    await writer.flush()
    with store.session() as session:
        assert len(session.exec(select(FillRow)).all()) == 2500
    assert writer.batches <= 5
    await writer.stop()


async def test_stop_drains_everything_queued(store: Store) -> None:
    writer = BatchWriter(store, interval=10.0)  # never flushes on its own in this test
    writer.start()
    for i in range(10):
        writer.append(fill(i))
    await writer.stop()
    with store.session() as session:
        assert [r.fill_id for r in session.exec(select(FillRow).order_by(FillRow.fill_id))] == list(
            range(10)
        )


async def test_upsert_keeps_newest_version_within_and_across_batches(store: Store) -> None:
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


async def test_failed_batch_is_counted_and_the_writer_keeps_going(store: Store) -> None:
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


def test_an_older_jobs_table_gains_the_new_columns(database_url: str) -> None:
    """A database made before jobs had priorities and owners (and before migrations)
    opens, keeps its rows and is then at the newest revision."""
    old = create_database_engine(database_url)
    with old.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TABLE jobs (id INTEGER PRIMARY KEY, kind VARCHAR NOT NULL, "
            "title VARCHAR NOT NULL, state VARCHAR NOT NULL, params_json VARCHAR NOT NULL, "
            "done INTEGER NOT NULL, total INTEGER NOT NULL, result_json VARCHAR, "
            "error VARCHAR, created_at FLOAT NOT NULL, started_at FLOAT, finished_at FLOAT)"
        )
        connection.exec_driver_sql(
            "INSERT INTO jobs VALUES (1, 'optimize', 'old', 'done', '{}', 9, 9, NULL, NULL, "
            "1.0, 2.0, 3.0)"
        )
    old.dispose()
    store = Store(database_url)
    store.create_schema()
    store.create_schema()  # idempotent
    with store.session() as session:
        row = session.exec(select(JobRow)).one()
    assert (row.title, row.priority, row.files_json, row.owner) == ("old", 1, "[]", None)
    assert current_revision(store.engine) == head_revision()
    store.dispose()


def test_the_migrations_build_exactly_the_models_schema(store: Store) -> None:
    """Alembic's autogenerate finds nothing to do after the migrations ran: tables,
    columns, types, defaults and indexes all match the SQLModel tables."""
    with store.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        assert compare_metadata(context, SQLModel.metadata) == []
    assert current_revision(store.engine) == head_revision()


def test_processes_starting_together_migrate_once(database_url: str) -> None:
    """Several processes opening a new database at once: one migrates, the others wait
    for it and find nothing to do (no duplicate-table or locked-database errors)."""
    starter = (
        "import sys; from core.store import Store; store = Store(sys.argv[1]); "
        "print('ready', flush=True); sys.stdin.readline(); store.create_schema()"
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", starter, database_url],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    for process in processes:  # all imported and connected-to-be: start them at once
        assert process.stdout is not None and process.stdout.readline() == "ready\n"
    for process in processes:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    failures = [process.communicate(timeout=60)[1] for process in processes]
    assert [process.returncode for process in processes] == [0] * 4, failures
    store = Store(database_url)
    assert current_revision(store.engine) == head_revision()
    store.dispose()
