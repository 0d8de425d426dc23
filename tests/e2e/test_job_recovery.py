"""`quarterdeck jobs work` killed with SIGKILL mid-optimization and started again: the
job resumes from its last checkpoint and ends with the best result of an
uninterrupted run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError, ProgrammingError

from core.jobs import OptimizeRequest
from core.jobs.datasets import dataset_bars
from core.research.backtest import BacktestConfig
from core.research.optimizer import Range, optimize
from core.research.strategies import get_strategy
from core.store import create_database_engine

QUARTERDECK = str(Path(sys.executable).with_name("quarterdeck"))
REQUEST = OptimizeRequest(
    "rsi_reversion", "sim:SPY", grid={"window": (5, 40, 1), "lower": (15, 40, 1),
    "upper": (60, 85, 5)}, bars=8_000, seed=5,
)  # fmt: skip


def checkpoints(database: Engine) -> int:
    try:
        with database.connect() as connection:
            return connection.exec_driver_sql("SELECT count(*) FROM job_checkpoints").scalar_one()
    except (OperationalError, ProgrammingError):  # not created yet (SQLite, PostgreSQL)
        return 0


def job(database: Engine) -> dict:
    with database.connect() as connection:
        return dict(connection.exec_driver_sql("SELECT * FROM jobs WHERE id = 1").mappings().one())


def run(args: list[str], environment: dict[str, str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run([QUARTERDECK, *args], env=environment, capture_output=True, text=True,
                          timeout=300, **kw)  # fmt: skip


def test_a_killed_worker_resumes_the_optimization_from_its_checkpoint(
    tmp_path: Path, database_url: str
) -> None:
    """On SQLite and on PostgreSQL: the same store code, the same recovery."""
    environment = {**os.environ, "QD_DATA_DIR": str(tmp_path), "QD_JOB_CONCURRENCY": "1",
                   "QD_DATABASE_URL": database_url}  # fmt: skip
    database = create_database_engine(database_url)
    submitted = run(["jobs", "submit", "optimize", json.dumps(REQUEST.as_params())], environment)
    assert submitted.returncode == 0, submitted.stderr
    assert submitted.stdout.strip() == "1"

    worker = subprocess.Popen([QUARTERDECK, "jobs", "work", "--until-idle"], env=environment,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    deadline = time.monotonic() + 120
    while checkpoints(database) < 2 and worker.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    worker.kill()  # SIGKILL: no chance to release the job
    worker.wait()
    saved = checkpoints(database)
    interrupted = job(database)
    assert worker.returncode == -9 and saved >= 2
    assert interrupted["state"] == "running" and interrupted["done"] < interrupted["total"]

    resumed = run(["jobs", "work", "--until-idle"], environment)
    assert resumed.returncode == 0, resumed.stderr
    finished = job(database)
    result = json.loads(finished["result_json"])
    assert finished["state"] == "done"
    assert finished["note"].startswith("resumed after a restart from ")
    assert result["resumed_evaluations"] >= 2 * 1_024  # the saved segments were not redone

    strategy = get_strategy(REQUEST.strategy)
    bars = dataset_bars(REQUEST.dataset, REQUEST.seed, REQUEST.bars)
    space = {name: Range(*bounds) for name, bounds in REQUEST.grid.items()}
    uninterrupted = optimize(strategy, bars, space,
                             config=BacktestConfig(commission=REQUEST.commission))  # fmt: skip
    assert uninterrupted.best is not None
    assert result["best_params"] == uninterrupted.best.params
    assert result["best_metrics"] == uninterrupted.best.metrics
    assert result["evaluations"] == len(uninterrupted.evaluations)

    shown = run(["jobs", "show", "1", "--json"], environment)
    assert json.loads(shown.stdout)["checkpoints"] >= saved
    database.dispose()
