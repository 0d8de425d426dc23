"""Probes of the target's schema: its Alembic migrations (the database at the release's
head, every step reversible) and its indexes (large tables read through them, no slow
queries where PostgreSQL's pg_stat_statements can tell)."""

from __future__ import annotations

import ast
import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from alembic.script.revision import RevisionError
from pydantic import Field
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from checks.probes.base import ProbeContext, ProbeParams, ProbeResult, Scope
from checks.probes.database import not_applicable, read_database, safe_url, unreadable
from checks.probes.reach import OutOfReach, database_engine
from checks.probes.registry import probe
from core.events import Verdict

# --- database.migrations -------------------------------------------------------------


class MigrationsParams(ProbeParams):
    #: The target's Alembic configuration, relative to its project_dir.
    config: str = "alembic.ini"
    #: Where the target's env.py has Alembic record the database's revision.
    version_table: str = "alembic_version"


class BrokenTree(Exception):
    """The tree's Alembic configuration or scripts cannot be read; the message names the
    file."""


@dataclass(frozen=True, slots=True)
class Tree:
    """What the release's Alembic tree holds."""

    script: ScriptDirectory
    heads: tuple[str, ...]
    revisions: list[Script]  # newest first
    #: Revisions whose downgrade would not undo them: revision, file and why.
    irreversible: list[dict[str, str]]


def _anchored(config: Config, here: Path) -> None:
    """Make the configuration's relative paths relative to its own directory: Alembic
    takes them from the working directory, the project's root where its CLI runs, but
    this process runs elsewhere."""

    def absolute(path: str) -> str:
        # "package:dir" names a package's resource; anything else is a path
        return path if ":" in path or os.path.isabs(path) else str(here / path)

    def escaped(value: str) -> str:
        return value.replace("%", "%%")  # the ini's values are %-interpolated

    location = config.get_main_option("script_location")
    if location:
        config.set_main_option("script_location", escaped(absolute(location)))
    versions, prepend = config.get_version_locations_list(), config.get_prepend_sys_paths_list()
    config.set_main_option("path_separator", "os")
    for option, paths in (("version_locations", versions), ("prepend_sys_path", prepend)):
        if paths:
            config.set_main_option(option, escaped(os.pathsep.join(map(absolute, paths))))


def _load_tree(ini: Path) -> Tree:
    if not ini.is_file():
        raise BrokenTree(f"{ini} does not exist: no Alembic configuration in the target's tree "
                         "(set the item's config param if it is elsewhere)")  # fmt: skip
    saved = list(sys.path)  # prepend_sys_path would leave the target's tree on ours
    try:
        config = Config(str(ini))
        _anchored(config, ini.parent)
        script = ScriptDirectory.from_config(config)
        revisions = list(script.walk_revisions())
        heads = tuple(script.get_heads())
    except Exception as exc:  # a broken ini, a missing directory, a revision that won't load
        raise BrokenTree(f"{ini}: {type(exc).__name__}: {exc}") from None
    finally:
        sys.path[:] = saved
    irreversible = [{"revision": r.revision, "file": str(r.path), "why": why}
                    for r in revisions if (why := _irreversible(Path(r.path)))]  # fmt: skip
    return Tree(script, heads, revisions, irreversible)


def _irreversible(path: Path) -> str | None:
    """Why the revision module at ``path`` cannot be downgraded, or None if it can."""
    try:
        module = ast.parse(path.read_text(encoding="utf-8"), str(path))
    except (OSError, SyntaxError, UnicodeDecodeError) as exc:
        return f"its source cannot be read: {exc}"
    for node in module.body:
        if isinstance(node, ast.FunctionDef) and node.name == "downgrade":
            if all(_inert(statement) for statement in node.body):
                return "its downgrade() does nothing (only pass, a docstring or a raise)"
            return None
    return "it has no downgrade()"


def _inert(statement: ast.stmt) -> bool:
    """A statement that undoes nothing: ``pass``, a docstring or ``...``, or a raise (a
    downgrade that refuses, such as ``raise NotImplementedError``)."""
    constant = isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
    return constant or isinstance(statement, ast.Pass | ast.Raise)


def _current(connection: Connection, version_table: str) -> tuple[str, ...]:
    context = MigrationContext.configure(connection, opts={"version_table": version_table})
    return tuple(context.get_current_heads())


def _drift(tree: Tree, current: tuple[str, ...]) -> str:
    """How the database's revision(s) differ from the release's head(s)."""
    at = ", ".join(current) or "no revision (never migrated)"
    head = ", ".join(tree.heads) or "nothing"
    try:
        behind = len(list(tree.script.iterate_revisions(tree.heads, current or None)))
    except RevisionError:
        return (f"database at {at}, which is not behind the release's head {head}: a revision "
                "its tree does not have (a newer release's, or an unmerged branch's)")  # fmt: skip
    return f"database at {at}, the release's head is {head} ({behind} migrations behind)"


@probe("database.migrations", scopes=(Scope.TARGET_DATABASE,), params=MigrationsParams,
       needs=("database_url", "project_dir"))  # fmt: skip
async def migrations(ctx: ProbeContext, params: MigrationsParams) -> ProbeResult:
    """The database is at the release's Alembic head, the tree has a single head, and every
    migration has a working downgrade."""
    project_dir = ctx.target.project_dir
    if project_dir is None:
        raise OutOfReach("target.project_dir is not set: give the target's source tree, with "
                         "its alembic.ini, with QD_CHECK_PROJECT_DIR", "project_dir")  # fmt: skip
    ini = Path(project_dir) / params.config
    with database_engine(ctx) as engine:
        evidence: dict[str, object] = {"url": safe_url(engine), "dialect": engine.dialect.name,
                                       "config": str(ini)}  # fmt: skip
        try:
            tree = await asyncio.to_thread(_load_tree, ini)
        except BrokenTree as exc:
            return ProbeResult(Verdict.ERROR, str(exc), evidence)
        try:
            current = await read_database(engine, lambda c: _current(c, params.version_table))
        except SQLAlchemyError as exc:
            return unreadable(exc, evidence, "the database")
    evidence.update(script_location=tree.script.dir, heads=list(tree.heads),
                    current=list(current), migrations=len(tree.revisions),
                    irreversible=tree.irreversible)  # fmt: skip
    failures: list[str] = []
    if not tree.heads:
        failures.append(f"{tree.script.dir} holds no migrations")
    elif len(tree.heads) > 1:
        heads = ", ".join(tree.heads)
        failures.append(f"the release's tree has {len(tree.heads)} heads ({heads}): branches "
                        "not merged (alembic merge heads)")  # fmt: skip
    if set(current) != set(tree.heads):
        failures.append(_drift(tree, current))
    failures += [f"revision {bad['revision']} ({bad['file']}) has no working downgrade: "
                 f"{bad['why']}" for bad in tree.irreversible]  # fmt: skip
    if failures:
        return ProbeResult(Verdict.FAIL, "; ".join(failures), evidence)
    reason = (f"database at head {tree.heads[0]}; {len(tree.revisions)} migrations, each with "
              "a downgrade")  # fmt: skip
    return ProbeResult(Verdict.PASS, reason, evidence)


# --- database.indexes ----------------------------------------------------------------


class IndexesParams(ProbeParams):
    #: Tables with more live rows than this are judged; smaller ones scan cheaply.
    min_rows: int = Field(default=10_000, ge=0)
    #: How many of pg_stat_statements' slowest queries (by mean time) to record.
    top: int = Field(default=5, ge=1)
    #: A recorded query slower than this on average FAILs.
    max_mean_ms: float = Field(default=100.0, gt=0)


LARGE_TABLES = text(
    "SELECT t.schemaname || '.' || t.relname AS name, t.n_live_tup AS rows, t.seq_scan, "
    "COALESCE(t.idx_scan, 0) AS idx_scan, t.seq_tup_read, "
    "EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = t.relid) AS indexed "
    "FROM pg_stat_user_tables t WHERE t.n_live_tup > :min_rows ORDER BY t.n_live_tup DESC"
)
HAS_STATEMENTS = text("SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'")
SLOWEST = text(
    "SELECT query, calls, mean_exec_time::float AS mean_ms, total_exec_time::float AS total_ms "
    "FROM pg_stat_statements "
    "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
    "ORDER BY mean_exec_time DESC LIMIT :top"
)


def _postgres_usage(connection: Connection, params: IndexesParams) -> dict[str, object]:
    rows = connection.execute(LARGE_TABLES, {"min_rows": params.min_rows}).mappings()
    found: dict[str, object] = {"tables": [dict(row) for row in rows]}
    if connection.execute(HAS_STATEMENTS).first() is None:
        found["pg_stat_statements"] = "not installed"
        return found
    try:
        statements = connection.execute(SLOWEST, {"top": params.top}).mappings().all()
    except DBAPIError as exc:  # installed, but not in shared_preload_libraries
        found["pg_stat_statements"] = f"unreadable: {str(exc.orig).strip()}"
        return found
    found["pg_stat_statements"] = "installed"
    found["slowest_queries"] = [{**row, "mean_ms": round(row["mean_ms"], 2),
                                 "total_ms": round(row["total_ms"], 2)}
                                for row in statements]  # fmt: skip
    return found


def _judge_postgres(found: dict[str, object], params: IndexesParams,
                    evidence: dict[str, object]) -> ProbeResult:  # fmt: skip
    tables, slowest = found["tables"], found.get("slowest_queries", [])
    assert isinstance(tables, list) and isinstance(slowest, list)
    failures: list[str] = []
    for t in tables:
        scans = f"{t['seq_scan']} sequential scans against {t['idx_scan']} index scans"
        if not t["indexed"]:
            failures.append(f"{t['name']}: {t['rows']} rows and no index ({t['seq_scan']} "
                            "sequential scans)")  # fmt: skip
        elif t["seq_scan"] > t["idx_scan"] and t["seq_tup_read"] > params.min_rows:
            failures.append(f"{t['name']}: {t['rows']} rows, {scans} ({t['seq_tup_read']} "
                            "rows read sequentially)")  # fmt: skip
    failures += [f"query {q['query'][:120]!r} averages {q['mean_ms']:g} ms over {q['calls']} "
                 f"calls (max {params.max_mean_ms:g} ms)" for q in slowest
                 if q["mean_ms"] > params.max_mean_ms]  # fmt: skip
    if failures:
        return ProbeResult(Verdict.FAIL, "; ".join(failures), evidence)
    judged = f"{len(tables)} table(s) over {params.min_rows} rows judged: each indexed and read "
    judged += "mostly through its indexes"
    if found["pg_stat_statements"] == "installed":
        profiled = (f"none of the {len(slowest)} slowest queries averages over "
                    f"{params.max_mean_ms:g} ms")  # fmt: skip
    else:
        profiled = f"queries not profiled (pg_stat_statements {found['pg_stat_statements']})"
    return ProbeResult(Verdict.PASS, f"{judged}; {profiled}", evidence)


def _sqlite_tables(connection: Connection, min_rows: int) -> list[dict[str, object]]:
    """SQLite's tables over ``min_rows`` rows, each with its indexes beyond the primary
    key's (SQLite counts no scans, so indexes are all there is to judge)."""
    quote = connection.dialect.identifier_preparer.quote
    names = connection.exec_driver_sql(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name"
    ).scalars()
    tables: list[dict[str, object]] = []
    for name in list(names):
        # a name the database itself lists, quoted by the dialect
        count = f"SELECT count(*) FROM {quote(name)}"  # nosec B608
        rows = connection.exec_driver_sql(count).scalar_one()
        if rows > min_rows:
            listed = connection.exec_driver_sql(f"PRAGMA index_list({quote(name)})").mappings()
            indexes = [index["name"] for index in listed if index["origin"] != "pk"]
            tables.append({"name": name, "rows": rows, "indexes": indexes})
    return tables


NO_SCAN_STATISTICS = "SQLite keeps no scan statistics: which queries scan them is not known"


def _judge_sqlite(tables: list[dict[str, Any]], params: IndexesParams,
                  evidence: dict[str, object]) -> ProbeResult:  # fmt: skip
    evidence["tables"] = tables
    bare = [t for t in tables if not t["indexes"]]
    if bare:
        named = ", ".join(f"{t['name']} ({t['rows']} rows)" for t in bare)
        reason = f"no index beyond the primary key on {named}; {NO_SCAN_STATISTICS}"
        return ProbeResult(Verdict.WARN, reason, evidence)
    reason = (f"{len(tables)} table(s) over {params.min_rows} rows judged, each with an index "
              "beyond its primary key; SQLite keeps no scan statistics, so only the indexes "
              "were judged")  # fmt: skip
    return ProbeResult(Verdict.PASS, reason, evidence)


@probe("database.indexes", scopes=(Scope.TARGET_DATABASE, Scope.QUARTERDECK),
       params=IndexesParams, needs=("database_url",))  # fmt: skip
async def indexes(ctx: ProbeContext, params: IndexesParams) -> ProbeResult:
    """Large tables are indexed and read through their indexes, and the slowest queries
    (pg_stat_statements) are within their mean time."""
    with database_engine(ctx) as engine:
        dialect = engine.dialect.name
        evidence: dict[str, object] = {"url": safe_url(engine), "dialect": dialect,
                                       "min_rows": params.min_rows}  # fmt: skip
        if dialect not in ("postgresql", "sqlite"):
            return not_applicable(dialect, evidence, "; attest the item instead")
        try:
            if dialect == "sqlite":
                tables = await read_database(engine, lambda c: _sqlite_tables(c, params.min_rows))
                return _judge_sqlite(tables, params, evidence)
            found = await read_database(engine, lambda c: _postgres_usage(c, params))
        except SQLAlchemyError as exc:
            return unreadable(exc, evidence, "the database")
    evidence.update(found)
    return _judge_postgres(found, params, evidence)
