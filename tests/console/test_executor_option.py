"""`--executor dask://HOST:PORT` on optimize, batch and `jobs work`: the same answers
as the local run, from a real Dask cluster; a bad or unreachable one is named."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from backtesting.test import GOOG
from distributed import Client

from console.cli import EXIT_STORE_UNAVAILABLE, EXIT_USAGE, main

QUARTERDECK = str(Path(sys.executable).with_name("quarterdeck"))


@pytest.fixture(scope="module")
def goog_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "goog.csv"
    GOOG.rename_axis("Date").to_csv(path)
    return path


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    assert main(list(args)) == 0
    return json.loads(capsys.readouterr().out)


def test_optimize_on_the_cluster_prints_the_local_answer(
    goog_csv: Path, dask_scheduler: str, capsys: pytest.CaptureFixture[str]
) -> None:
    search = ["optimize", "sma_cross", "--data", str(goog_csv), "--grid", "fast=5:30",
              "--grid", "slow=20:120:5", "--json"]  # fmt: skip
    local = run_json(capsys, *search)
    remote = run_json(capsys, *search, "--executor", dask_scheduler)
    assert remote["best"] == local["best"] and remote["results"] == local["results"]


def test_batch_on_the_cluster_prints_the_local_rows(
    goog_csv: Path, dask_scheduler: str, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    batch = ["batch", "sma_cross", "rsi_reversion", "macd_signal", "--data", str(goog_csv),
             "--trials", "25", "--json"]  # fmt: skip
    local = run_json(capsys, *batch)
    monkeypatch.setenv("QD_EXECUTOR", dask_scheduler)  # the setting, not the flag
    assert run_json(capsys, *batch)["rows"] == local["rows"]


def tasks_executed(scheduler: str) -> int:
    """Tasks the cluster's workers have run so far."""
    with Client(scheduler.replace("dask://", "tcp://"), set_as_default=False) as client:
        counts = client.run(lambda dask_worker: dask_worker.state.executed_count)
    return sum(counts.values())


def quarterdeck(data_dir: Path, *args: str) -> str:
    """The command as its own process on the store in ``data_dir``; its output."""
    done = subprocess.run([QUARTERDECK, *args], env={**os.environ, "QD_DATA_DIR": str(data_dir)},
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_jobs_work_on_the_cluster_finishes_the_queued_optimization(
    dask_scheduler: str, tmp_path: Path
) -> None:
    grid = {"fast": [5, 30, 1], "slow": [20, 120, 5]}
    request = json.dumps({"strategy": "sma_cross", "dataset": "sim:SPY", "bars": 3000,
                          "seed": 3, "grid": grid})  # fmt: skip
    results = {}
    before = tasks_executed(dask_scheduler)
    for where, executor in (("remote", dask_scheduler), ("local", "local")):
        store = tmp_path / where
        job = quarterdeck(store, "jobs", "submit", "optimize", request).strip()
        quarterdeck(store, "jobs", "work", "--until-idle", "--executor", executor)
        results[where] = json.loads(quarterdeck(store, "jobs", "show", job, "--json"))
    assert results["remote"]["state"] == "done", results["remote"]
    assert tasks_executed(dask_scheduler) > before  # the sweep did run on the workers
    for field in ("best_params", "best_metrics", "evaluations"):
        assert results["remote"]["result"][field] == results["local"]["result"][field]


def test_a_bad_executor_is_a_usage_error_and_a_dead_one_is_named(
    goog_csv: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["optimize", "sma_cross", "--data", str(goog_csv), "--grid", "fast=5:9",
                 "--executor", "dask://nowhere"]) == EXIT_USAGE  # fmt: skip
    assert "'dask://nowhere' is not an executor" in capsys.readouterr().err
    monkeypatch.setattr("core.research.dask_executor.CONNECT_TIMEOUT", 0.5)
    code = main(["optimize", "sma_cross", "--data", str(goog_csv), "--grid", "fast=5:9",
                 "--executor", "dask://127.0.0.1:1"])  # fmt: skip
    assert code == EXIT_STORE_UNAVAILABLE
    assert "cannot reach the Dask scheduler at dask://127.0.0.1:1" in capsys.readouterr().err
