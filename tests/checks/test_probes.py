"""Each built-in probe passes on a good setup and fails on a bad one."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import psutil
import pytest
from sqlalchemy import Engine, create_engine

from checks import REGISTRY, ProbeContext, ProbeParams
from checks.probes import Scope, database, engine, host
from checks.probes.host import DiskParams, MemoryParams, headroom_verdict
from core.config import Settings
from core.events import Verdict
from core.store import create_database_engine
from tests.postgres import PostgresServer


def with_engine(ctx: ProbeContext, database_engine: Any) -> ProbeContext:
    return ProbeContext(ctx.settings, database_engine, ctx.engine_mode, scope=Scope.QUARTERDECK)


def test_builtin_probes_are_registered_with_their_params() -> None:
    assert REGISTRY.get("host.disk").params is DiskParams
    assert REGISTRY.get("host.memory").params is MemoryParams
    assert REGISTRY.get("engine.paper_mode").params is ProbeParams
    assert REGISTRY.get("database.reachable").description.startswith("The database answers")


@pytest.mark.parametrize(
    ("percent", "threshold", "expected"),
    [
        (50.0, 10.0, Verdict.PASS),
        (20.0, 10.0, Verdict.PASS),
        (19.9, 10.0, Verdict.WARN),
        (10.0, 10.0, Verdict.WARN),
        (9.9, 10.0, Verdict.FAIL),
        (0.0, 0.0, Verdict.PASS),
    ],
)
def test_headroom_verdict_thresholds_match_rule(
    percent: float, threshold: float, expected: Verdict
) -> None:
    assert headroom_verdict(percent, threshold) is expected


async def test_disk_with_zero_threshold_passes(ctx: ProbeContext) -> None:
    result = await host.disk(ctx, DiskParams(min_free_percent=0))
    assert result.verdict is Verdict.PASS
    assert 0 <= result.evidence["free_percent"] <= 100
    assert result.evidence["min_free_percent"] == 0
    assert result.evidence["free_bytes"] <= result.evidence["total_bytes"]


async def test_disk_threshold_above_100_percent_fails(ctx: ProbeContext) -> None:
    result = await host.disk(ctx, DiskParams(min_free_percent=101))
    assert result.verdict is Verdict.FAIL
    assert "under the 101% minimum" in result.reason


async def test_disk_free_under_twice_threshold_warns(
    ctx: ProbeContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    usage = shutil._ntuple_diskusage(total=1000, used=850, free=150)  # type: ignore[attr-defined]
    monkeypatch.setattr(host.shutil, "disk_usage", lambda path: usage)
    result = await host.disk(ctx, DiskParams(min_free_percent=10))
    assert result.verdict is Verdict.WARN
    assert result.evidence["free_percent"] == 15.0
    assert "twice" in result.reason


async def test_disk_missing_data_dir_measures_nearest_existing_parent(
    tmp_path: Path, wal_engine: Engine
) -> None:
    data_dir = tmp_path / "not" / "yet" / "created"
    settings = Settings(data_dir=data_dir)
    ctx = ProbeContext(settings, wal_engine, "paper", scope=Scope.QUARTERDECK)
    result = await host.disk(ctx, DiskParams(min_free_percent=0))
    assert result.verdict is Verdict.PASS
    assert result.evidence["path"] == str(data_dir)
    assert result.evidence["measured_path"] == str(tmp_path)


async def test_memory_with_zero_threshold_passes(ctx: ProbeContext) -> None:
    result = await host.memory(ctx, MemoryParams(min_available_percent=0))
    assert result.verdict is Verdict.PASS
    assert result.evidence["total_bytes"] == psutil.virtual_memory().total
    assert 0 < result.evidence["available_percent"] <= 100


async def test_memory_threshold_above_100_percent_fails(ctx: ProbeContext) -> None:
    result = await host.memory(ctx, MemoryParams(min_available_percent=101))
    assert result.verdict is Verdict.FAIL
    assert "memory available" in result.reason


async def test_database_reachable_on_sqlite_file_passes_with_latency(ctx: ProbeContext) -> None:
    result = await database.reachable(ctx, database.ReachableParams())
    assert result.verdict is Verdict.PASS
    assert result.evidence["latency_ms"] >= 0
    assert result.evidence["dialect"] == "sqlite"
    assert str(result.evidence["url"]).endswith("wal.db")


async def test_database_reachable_unopenable_file_fails(ctx: ProbeContext, tmp_path: Path) -> None:
    broken = create_engine(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'x.db'}")
    result = await database.reachable(with_engine(ctx, broken), database.ReachableParams())
    assert result.verdict is Verdict.FAIL
    assert "unable to open database file" in result.reason
    assert "latency_ms" not in result.evidence


async def test_database_reachable_slower_than_limit_warns(ctx: ProbeContext) -> None:
    result = await database.reachable(ctx, database.ReachableParams(max_latency_ms=1e-9))
    assert result.verdict is Verdict.WARN
    assert "over" in result.reason


async def test_database_reachable_on_postgresql_passes_and_masks_the_password(
    ctx: ProbeContext, postgres: PostgresServer
) -> None:
    url = postgres.new_database().replace("quarterdeck@", "quarterdeck:hunter2@")
    engine = create_database_engine(url)  # the server trusts local users: any password does
    try:
        result = await database.reachable(with_engine(ctx, engine), database.ReachableParams())
    finally:
        engine.dispose()
    assert result.verdict is Verdict.PASS, result.reason
    assert result.evidence["dialect"] == "postgresql"
    assert "hunter2" not in str(result.evidence["url"]) and "***" in str(result.evidence["url"])


async def test_sqlite_wal_on_wal_database_passes(ctx: ProbeContext) -> None:
    result = await database.sqlite_wal(ctx, ProbeParams())
    assert result.verdict is Verdict.PASS
    assert result.evidence["journal_mode"] == "wal"


async def test_sqlite_wal_on_rollback_journal_database_fails(
    ctx: ProbeContext, rollback_engine: Engine
) -> None:
    result = await database.sqlite_wal(with_engine(ctx, rollback_engine), ProbeParams())
    assert result.verdict is Verdict.FAIL
    assert result.evidence["journal_mode"] == "delete"
    assert "'delete'" in result.reason


async def test_sqlite_wal_on_in_memory_database_fails(ctx: ProbeContext) -> None:
    memory = create_engine("sqlite://")
    result = await database.sqlite_wal(with_engine(ctx, memory), ProbeParams())
    assert result.verdict is Verdict.FAIL
    assert result.evidence["journal_mode"] == "memory"


async def test_sqlite_wal_on_postgresql_judges_its_durability_settings(
    ctx: ProbeContext, postgres: PostgresServer
) -> None:
    # The test server trades durability for speed (fsync and full_page_writes off).
    engine = create_database_engine(postgres.new_database())
    try:
        result = await database.sqlite_wal(with_engine(ctx, engine), ProbeParams())
    finally:
        engine.dispose()
    assert result.verdict is Verdict.FAIL
    assert result.reason == "fsync is 'off', full_page_writes is 'off', not 'on'"
    assert result.evidence["settings"] == {
        "fsync": "off", "synchronous_commit": "on", "full_page_writes": "off"}  # fmt: skip


async def test_paper_mode_when_paper_passes(ctx: ProbeContext) -> None:
    result = await engine.paper_mode(ctx, ProbeParams())
    assert result.verdict is Verdict.PASS
    assert result.evidence == {"engine_mode": "paper", "environment": ctx.settings.environment}


async def test_paper_mode_when_live_fails(ctx: ProbeContext) -> None:
    live = ProbeContext(ctx.settings, ctx.database_engine, "live", scope=Scope.QUARTERDECK)
    result = await engine.paper_mode(live, ProbeParams())
    assert result.verdict is Verdict.FAIL
    assert "'live'" in result.reason
    assert result.evidence["engine_mode"] == "live"
