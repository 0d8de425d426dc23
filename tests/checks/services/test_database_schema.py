"""database.migrations against a real Alembic tree written here (and Quarterdeck's own),
and database.indexes against real PostgreSQL statistics and SQLite files."""

from __future__ import annotations

import sqlite3
import textwrap
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from checks.probes import Scope
from checks.probes.database_schema import IndexesParams, MigrationsParams, indexes, migrations
from checks.probes.reach import OutOfReach
from core.events import Verdict
from core.store.migrations import runner
from tests.postgres import PostgresServer, postgres_server

from .conftest import MakeContext

ENV_PY = """\
from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

engine = create_engine(context.config.get_main_option("sqlalchemy.url"), poolclass=NullPool)
with engine.connect() as connection:
    context.configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
"""

REVISION = '''\
"""{name}"""
import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade():
    {upgrade}


def downgrade():
{downgrade}
'''


def write_revision(project: Path, revision: str, down: str | None, upgrade: str,
                   downgrade: str) -> Path:  # fmt: skip
    path = project / "migrations" / "versions" / f"{revision}_{revision}.py"
    body = textwrap.indent(downgrade, "    ")
    path.write_text(REVISION.format(name=f"revision {revision}", revision=revision, down=down,
                                    upgrade=upgrade, downgrade=body))  # fmt: skip
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A target's tree: alembic.ini (its script_location relative, as `alembic init`
    writes it for the CLI run from the tree's root), env.py and two revisions."""
    root = tmp_path / "project"
    (root / "migrations" / "versions").mkdir(parents=True)
    (root / "alembic.ini").write_text(
        "[alembic]\nscript_location = migrations\nprepend_sys_path = .\npath_separator = os\n"
    )
    (root / "migrations" / "env.py").write_text(ENV_PY)
    write_revision(root, "0001", None,
                   'op.create_table("orders", sa.Column("id", sa.Integer, primary_key=True))',
                   'op.drop_table("orders")')  # fmt: skip
    write_revision(root, "0002", "0001", 'op.add_column("orders", sa.Column("price", sa.Float))',
                   'op.drop_column("orders", "price")')  # fmt: skip
    return root


def upgrade(project: Path, url: str, revision: str = "head") -> None:
    """What a deployment does: `alembic upgrade`, through Alembic's command API."""
    config = Config(project / "alembic.ini")
    config.set_main_option("script_location", str(project / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, revision)


def ctx_for(make_ctx: MakeContext, url: str | None, project: Path | None = None):
    return make_ctx(scope=Scope.TARGET_DATABASE, database_url=url, project_dir=project)


async def test_a_database_at_head_passes(make_ctx: MakeContext, project: Path, database_url: str):
    upgrade(project, database_url)
    result = await migrations(ctx_for(make_ctx, database_url, project), MigrationsParams())
    assert result.verdict is Verdict.PASS, result.reason
    assert result.reason == "database at head 0002; 2 migrations, each with a downgrade"
    assert result.evidence["current"] == ["0002"]


async def test_a_database_behind_fails(make_ctx: MakeContext, project: Path, database_url: str):
    ctx = ctx_for(make_ctx, database_url, project)
    never = await migrations(ctx, MigrationsParams())
    assert never.verdict is Verdict.FAIL
    assert never.reason == ("database at no revision (never migrated), the release's head is "
                            "0002 (2 migrations behind)")  # fmt: skip
    upgrade(project, database_url, "0001")
    behind = await migrations(ctx, MigrationsParams())
    assert behind.verdict is Verdict.FAIL
    assert behind.reason == "database at 0001, the release's head is 0002 (1 migrations behind)"


async def test_a_database_ahead_of_the_release_fails(
    make_ctx: MakeContext, project: Path, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'target.db'}"
    upgrade(project, url)
    (project / "migrations" / "versions" / "0002_0002.py").unlink()  # an older release's tree
    result = await migrations(ctx_for(make_ctx, url, project), MigrationsParams())
    assert result.verdict is Verdict.FAIL
    assert result.reason.startswith("database at 0002, which is not behind the release's head "
                                    "0001: a revision its tree does not have")  # fmt: skip


async def test_a_downgrade_that_does_nothing_fails(
    make_ctx: MakeContext, project: Path, database_url: str
) -> None:
    index = 'op.create_index("ix_price", "orders", ["price"])'
    path = write_revision(project, "0003", "0002", index, '"""Not reversible."""\npass')
    upgrade(project, database_url)
    result = await migrations(ctx_for(make_ctx, database_url, project), MigrationsParams())
    assert result.verdict is Verdict.FAIL
    assert result.reason == (f"revision 0003 ({path}) has no working downgrade: its downgrade() "
                             "does nothing (only pass, a docstring or a raise)")  # fmt: skip


async def test_unmerged_heads_fail(make_ctx: MakeContext, project: Path, tmp_path: Path):
    for branch in ("0003a", "0003b"):
        write_revision(project, branch, "0002", f'op.create_table("t{branch}", '
                       'sa.Column("id", sa.Integer, primary_key=True))',
                       f'op.drop_table("t{branch}")')  # fmt: skip
    url = f"sqlite:///{tmp_path / 'target.db'}"
    upgrade(project, url, "heads")
    result = await migrations(ctx_for(make_ctx, url, project), MigrationsParams())
    assert result.verdict is Verdict.FAIL
    assert result.reason == ("the release's tree has 2 heads (0003a, 0003b): branches not "
                             "merged (alembic merge heads)")  # fmt: skip


async def test_quarterdecks_own_migrations_pass_on_a_store_they_made(
    make_ctx: MakeContext, database_url: str, tmp_path: Path
) -> None:
    engine = create_engine(database_url, poolclass=NullPool)
    runner.upgrade(engine)
    engine.dispose()
    scripts = Path(runner.__file__).parent / "scripts"
    (tmp_path / "alembic.ini").write_text(f"[alembic]\nscript_location = {scripts}\n")
    result = await migrations(ctx_for(make_ctx, database_url, tmp_path), MigrationsParams())
    assert result.verdict is Verdict.PASS, result.reason
    assert result.reason.startswith(f"database at head {runner.head_revision()}; ")


async def test_what_is_missing_is_named(make_ctx: MakeContext, project: Path, tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'target.db'}"
    with pytest.raises(OutOfReach, match="QD_CHECK_PROJECT_DIR") as no_tree:
        await migrations(ctx_for(make_ctx, url), MigrationsParams())
    assert no_tree.value.setting == "project_dir"
    with pytest.raises(OutOfReach, match="QD_CHECK_DATABASE_URL"):
        await migrations(ctx_for(make_ctx, None, project), MigrationsParams())
    no_ini = await migrations(ctx_for(make_ctx, url, project), MigrationsParams(config="x.ini"))
    assert no_ini.verdict is Verdict.ERROR
    assert no_ini.reason.startswith(f"{project / 'x.ini'} does not exist")
    (project / "migrations").rename(project / "elsewhere")
    no_scripts = await migrations(ctx_for(make_ctx, url, project), MigrationsParams())
    assert no_scripts.verdict is Verdict.ERROR
    assert no_scripts.reason.startswith(f"{project / 'alembic.ini'}: CommandError: ")
    assert str(project / "migrations") in no_scripts.reason


# --- database.indexes ----------------------------------------------------------------


def run_sql(url: str, *statements: str) -> None:
    """``statements`` in one session, then its statistics flushed for other sessions to
    read (PostgreSQL 15+ flushes them at most once a second otherwise)."""
    with psycopg.connect(url, autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement)
        connection.execute("SELECT pg_stat_force_next_flush()")
        connection.execute("SELECT 1")


FILLS = (
    "CREATE TABLE fills (id serial PRIMARY KEY, account int, qty int)",
    "INSERT INTO fills (account, qty) SELECT g % 200, g FROM generate_series(1, 20000) g",
)
BY_ACCOUNT = "SELECT sum(qty) FROM fills WHERE account = 7"


async def test_a_large_table_read_by_sequential_scans_fails_until_indexed(
    make_ctx: MakeContext, postgres: PostgresServer
) -> None:
    url = postgres.new_database()
    ctx = ctx_for(make_ctx, url)
    run_sql(url, *FILLS)
    run_sql(url, "ANALYZE fills", *[BY_ACCOUNT] * 5)  # ANALYZE once the inserts are counted
    scanned = await indexes(ctx, IndexesParams())
    assert scanned.verdict is Verdict.FAIL, scanned.reason
    assert scanned.reason.startswith("public.fills: 20000 rows, ")
    assert scanned.reason.endswith(" sequential scans against 0 index scans (100000 rows read "
                                   "sequentially)")  # fmt: skip
    run_sql(url, "CREATE INDEX ix_fills_account ON fills (account)", "SET enable_seqscan = off",
            *[BY_ACCOUNT] * 20)  # fmt: skip
    indexed = await indexes(ctx, IndexesParams())
    assert indexed.verdict is Verdict.PASS, indexed.reason
    assert indexed.reason.startswith("1 table(s) over 10000 rows judged: each indexed and read "
                                     "mostly through its indexes; queries not profiled "
                                     "(pg_stat_statements not installed)")  # fmt: skip


async def test_a_large_table_without_any_index_fails(
    make_ctx: MakeContext, postgres: PostgresServer
) -> None:
    url = postgres.new_database()
    run_sql(url, "CREATE TABLE journal AS SELECT g AS id FROM generate_series(1, 20000) g",
            "SELECT count(*) FROM journal")  # fmt: skip
    result = await indexes(ctx_for(make_ctx, url), IndexesParams())
    assert result.verdict is Verdict.FAIL
    assert result.reason.startswith("public.journal: 20000 rows and no index (")


@pytest.fixture(scope="module")
def profiled() -> Iterator[PostgresServer]:
    """A server with pg_stat_statements loaded (it must be, at start)."""
    with postgres_server("shared_preload_libraries=pg_stat_statements") as server:
        yield server


async def test_slow_queries_fail_where_pg_stat_statements_tells(
    make_ctx: MakeContext, profiled: PostgresServer
) -> None:
    url = profiled.new_database()
    run_sql(url, "CREATE EXTENSION pg_stat_statements", "SELECT pg_sleep(0.15)",
            "SELECT pg_sleep(0.15)")  # fmt: skip
    ctx = ctx_for(make_ctx, url)
    slow = await indexes(ctx, IndexesParams(top=3))
    assert slow.verdict is Verdict.FAIL, slow.reason
    assert slow.reason.startswith("query 'SELECT pg_sleep($1)' averages 15")
    assert slow.reason.endswith(" ms over 2 calls (max 100 ms)")
    recorded = slow.evidence["slowest_queries"]
    assert isinstance(recorded, list) and 1 <= len(recorded) <= 3
    tolerant = await indexes(ctx, IndexesParams(max_mean_ms=1000))
    assert tolerant.verdict is Verdict.PASS, tolerant.reason
    assert tolerant.reason.endswith(" slowest queries averages over 1000 ms")


async def test_sqlite_warns_of_large_tables_without_an_index(
    make_ctx: MakeContext, tmp_path: Path
) -> None:
    path = tmp_path / "target.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE fills (id INTEGER PRIMARY KEY, account INT)")
        connection.executemany("INSERT INTO fills (account) VALUES (?)",
                               ((i % 200,) for i in range(20000)))  # fmt: skip
    ctx = ctx_for(make_ctx, f"sqlite:///{path}")
    bare = await indexes(ctx, IndexesParams())
    assert bare.verdict is Verdict.WARN
    assert bare.reason.startswith("no index beyond the primary key on fills (20000 rows); "
                                  "SQLite keeps no scan statistics")  # fmt: skip
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE INDEX ix_fills_account ON fills (account)")
    indexed = await indexes(ctx, IndexesParams())
    assert indexed.verdict is Verdict.PASS, indexed.reason
    assert indexed.reason.startswith("1 table(s) over 10000 rows judged, each with an index")


async def test_quarterdecks_own_store_is_judged(make_ctx: MakeContext) -> None:
    result = await indexes(make_ctx(), IndexesParams())
    assert result.verdict is Verdict.PASS, result.reason
    assert result.evidence["url"].endswith("wal.db")  # type: ignore[union-attr]
