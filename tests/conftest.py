"""Shared fixtures. Every test gets its own data directory and database."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.config import Settings
from tests.postgres import PostgresServer, postgres_server


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every QD_ setting and XDG directory at the test's own folder."""
    data = tmp_path / "data"
    monkeypatch.setenv("QD_DATA_DIR", str(data))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.delenv("QD_CONFIG_FILE", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return data


@pytest.fixture
def settings(isolated_environment: Path) -> Settings:
    """Fast settings for tests: a quick simulator and no demo job unless asked. The loss
    limits are off: at this speed simulated days pass in seconds, and the default daily
    loss limit would trip at random (tests of the limits set their own)."""
    return Settings(sim_tick_rate=2000.0, sim_bar_seconds=5, demo_job=False, health_interval=0.2,
                    risk_daily_loss_limit=math.inf, risk_max_drawdown=1.0)  # fmt: skip


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """No test may be skipped: a missing server or tool is a failure, not a skip."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and reporter.stats.get("skipped"):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    skipped = terminalreporter.stats.get("skipped")
    if skipped:
        terminalreporter.write_line(
            f"FAILED: {len(skipped)} test(s) skipped; skips are not allowed here",
            red=True,
        )


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One real PostgreSQL server for the whole run, started on first use."""
    with postgres_server() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each backend the store supports: a SQLite file in the
    test's folder, and a fresh database on the run's PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'quarterdeck.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.new_database()


@pytest.fixture(scope="session")
def dask_scheduler() -> Iterator[str]:
    """A real two-worker Dask cluster (worker processes, one thread each) for the whole
    run; its scheduler as Quarterdeck names it, ``dask://127.0.0.1:PORT``."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:  # fmt: skip
        yield "dask://" + cluster.scheduler_address.removeprefix("tcp://")


@pytest.fixture
def strategy_folder(tmp_path: Path) -> Iterator[Path]:
    """A private (0700) strategies folder the registry and the Deck take user strategies
    from; the registry holds the built-ins only again afterwards."""
    from core.research import strategy_sources
    from core.research.strategies import BUILTINS, REGISTRY, load_user_strategies

    path = tmp_path / "strategies"
    path.mkdir(mode=0o700)
    strategy_sources.use(path, entry_points=False)
    yield path
    strategy_sources.use(None, entry_points=False)
    load_user_strategies()
    assert REGISTRY == BUILTINS
