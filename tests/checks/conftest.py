"""Fixtures for the readiness tests: real SQLite files, probe contexts, scratch registries."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text

from checks import (
    Checklist,
    ProbeContext,
    ProbeParams,
    ProbeRegistry,
    ProbeResult,
)
from checks.probes import Scope
from core.config import Settings
from core.events import Verdict
from core.store import Store

from .support import SleepParams, Tracker


def sqlite_engine(path: Path, journal_mode: str) -> Engine:
    """A SQLite file at ``path`` with one table, in the given journal mode."""
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        mode = connection.exec_driver_sql(f"PRAGMA journal_mode={journal_mode}").scalar_one()
        assert str(mode).lower() == journal_mode.lower()
        connection.execute(text("CREATE TABLE IF NOT EXISTS t (x INTEGER)"))
    return engine


@pytest.fixture
def wal_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = sqlite_engine(tmp_path / "wal.db", "WAL")
    yield engine
    engine.dispose()


@pytest.fixture
def rollback_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = sqlite_engine(tmp_path / "rollback.db", "DELETE")
    yield engine
    engine.dispose()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A Quarterdeck store (SQLite, its schema made) in the test's folder."""
    store = Store(f"sqlite:///{tmp_path / 'quarterdeck.db'}")
    store.create_schema()
    yield store
    store.dispose()


@pytest.fixture
def ctx(settings: Settings, wal_engine: Engine) -> ProbeContext:
    """A healthy Quarterdeck, probed as itself: WAL database, paper engine."""
    return ProbeContext(settings=settings, database_engine=wal_engine, engine_mode="paper",
                        scope=Scope.QUARTERDECK)  # fmt: skip


@pytest.fixture
def tracker() -> Tracker:
    return Tracker()


@pytest.fixture
def registry(tracker: Tracker) -> ProbeRegistry:
    """A scratch registry of test probes, so nothing leaks into the built-in one."""
    registry = ProbeRegistry()

    @registry.register("test.pass", scopes=(Scope.TARGET,))
    async def passing(ctx: ProbeContext, params: ProbeParams) -> ProbeResult:
        tracker.calls += 1
        return ProbeResult(Verdict.PASS, "fine", {"calls": tracker.calls})

    @registry.register("test.fail", scopes=(Scope.TARGET,))
    async def failing(ctx: ProbeContext, params: ProbeParams) -> ProbeResult:
        return ProbeResult(Verdict.FAIL, "not fine", {"measured": 1})

    @registry.register("test.boom", scopes=(Scope.TARGET,))
    async def boom(ctx: ProbeContext, params: ProbeParams) -> ProbeResult:
        raise RuntimeError("kaboom: disk on fire")

    @registry.register("test.sleep", scopes=(Scope.TARGET,), params=SleepParams)
    async def sleep(ctx: ProbeContext, params: SleepParams) -> ProbeResult:
        tracker.active += 1
        tracker.max_active = max(tracker.max_active, tracker.active)
        try:
            await asyncio.sleep(params.seconds)
        finally:
            tracker.active -= 1
        return ProbeResult(Verdict.PASS, f"slept {params.seconds}s")

    @registry.register("test.own_timeout", scopes=(Scope.TARGET,))
    async def own_timeout(ctx: ProbeContext, params: ProbeParams) -> ProbeResult:
        raise TimeoutError("socket read timed out")

    @registry.register("test.not_a_result", scopes=(Scope.TARGET,))
    async def not_a_result(ctx: ProbeContext, params: ProbeParams) -> Any:
        return "all good"

    @registry.register("test.pending", scopes=(Scope.TARGET,))
    async def pending(ctx: ProbeContext, params: ProbeParams) -> ProbeResult:
        return ProbeResult(Verdict.PENDING, "still thinking")

    return registry


@pytest.fixture
def make_checklist(registry: ProbeRegistry) -> Callable[..., Checklist]:
    def make(*items: dict[str, Any]) -> Checklist:
        data = {"id": "testing", "title": "Test list", "description": "d", "items": items}
        return Checklist.model_validate(data, context={"registry": registry})

    return make
