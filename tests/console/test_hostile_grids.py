"""Hostile grids: checked against each parameter's range and constraints, and against
``QD_SWEEP_MAX_COMBOS``, before anything is expanded or run, on the command line and at
job submission: exit 2 with one line naming the parameter and its range (or the limit)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from backtesting.test import GOOG

from console.cli import main

QUARTERDECK = str(Path(sys.executable).with_name("quarterdeck"))


@pytest.fixture(scope="module")
def goog_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "goog.csv"
    GOOG.rename_axis("Date").to_csv(path)
    return path


def optimize(capsys: pytest.CaptureFixture[str], data: Path, *args: str) -> tuple[int, str, str]:
    code = main(["optimize", "sma_cross", "--data", str(data), *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("grids", "message"),
    [
        (["fast=2:1e12"], "--grid: fast: the grid 2..1e+12 goes outside fast's range [2, 200]"),
        (["fast=300:400"], "--grid: fast: the grid 300..400 goes outside fast's range [2, 200]"),
        (["fast=0:5"], "the grid 0..5 goes outside fast's range [2, 200]"),
        (["fast=nan:5"], "--grid 'fast=nan:5': start must be a finite number, got nan"),
        (["fast=2:inf"], "--grid 'fast=2:inf': stop must be a finite number, got inf"),
        (["fast=2:5:-inf"], "step must be a finite number, got -inf"),
        (["fast=2:5:0"], "step must be positive"),
        (["fast=2.5:10"], "fast: takes whole numbers in [2, 200]"),
        (["fast=2:10:0.5"], "fast: takes whole numbers in [2, 200]"),
        (["fast=:5"], "--grid 'fast=:5'"),
        (["fast=50:60", "slow=10:20"], "no combination of the grid (fast 50..60, slow 10..20) "
                                       "satisfies fast < slow"),
    ],
)  # fmt: skip
def test_an_impossible_grid_is_exit_2_naming_the_parameter(
    goog_csv: Path, capsys: pytest.CaptureFixture[str], grids: list[str], message: str
) -> None:
    code, out, err = optimize(capsys, goog_csv, *[f"--grid={g}" for g in grids])
    assert (code, out) == (2, "")
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_a_grid_past_qd_sweep_max_combos_is_refused_before_it_is_listed(
    goog_csv: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QD_SWEEP_MAX_COMBOS", "100")
    code, _, err = optimize(capsys, goog_csv, "--grid", "fast=2:50", "--grid", "slow=10:20")
    assert code == 2
    assert "the grid has 539 combinations, more than QD_SWEEP_MAX_COMBOS (100)" in err
    # TPE lists nothing: its trials count, as does a walk-forward's every window
    code, _, err = optimize(capsys, goog_csv, "--grid", "fast=2:50", "--method", "tpe",
                            "--trials", "101")  # fmt: skip
    assert code == 2 and "the search has 101 combinations" in err
    code, _, err = optimize(capsys, goog_csv, "--grid", "fast=2:27", "--walk-forward",
                            "rolling", "--windows", "3")  # fmt: skip
    assert code == 2 and "the search, run 4 times, has 104 combinations" in err


def test_a_fine_float_grid_is_counted_not_listed(
    goog_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["optimize", "rsi_reversion", "--data", str(goog_csv),
                 "--grid", "lower=5:45:1e-9"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert "the grid has 40,000,000,001 combinations, more than QD_SWEEP_MAX_COMBOS" in err


def test_export_report_checks_its_grid_the_same_way(
    goog_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["export", "report", "sma_cross", "--data", str(goog_csv),
                 "-o", str(tmp_path / "r.pdf"), "--grid", "fast=300:400"])  # fmt: skip
    assert code == 2
    assert "goes outside fast's range [2, 200]" in capsys.readouterr().err
    assert not (tmp_path / "r.pdf").exists()


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        ({"grid": {"fast": [2, 1e12, 1]}}, "grid: fast: the grid 2..1e+12 goes outside"),
        ({"grid": {"fast": [2, 5, 1e-9]}}, "fast: takes whole numbers"),
        ({"grid": {"fast": "2:5"}}, "grid: fast: expected [START, STOP, STEP]"),
        ({"grid": [2, 5]}, "grid: expected {NAME: [START, STOP, STEP]}"),
        ({"seed": -1}, "optimize: seed: expected a whole number in [0, 4,294,967,295], got -1"),
        ({"seed": "7"}, "optimize: seed: expected a whole number"),
        ({"trials": 0}, "optimize: trials: expected a whole number in [1, "),
        ({"commission": 1e400}, "optimize: commission: expected a number in [0, 1), got inf"),
        ({"bars": 10**12}, "optimize: bars: expected a whole number in [100, 1,000,000]"),
    ],
)
def test_jobs_submit_refuses_a_bad_optimize_request(
    capsys: pytest.CaptureFixture[str], request_: dict[str, object], message: str
) -> None:
    fields = {"strategy": "sma_cross", "dataset": "sim:SPY", "grid": {"fast": [2, 10, 1]},
              **request_}  # fmt: skip
    assert main(["jobs", "submit", "optimize", json.dumps(fields)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and message in err and err.count("\n") == 1
    assert main(["jobs", "list"]) == 0 and capsys.readouterr().out == "no jobs\n"


def test_jobs_submit_refuses_a_search_past_the_limit_as_a_process(tmp_path: Path) -> None:
    fields = {"strategy": "rsi_reversion", "dataset": "sim:SPY",
              "grid": {"lower": [5, 45, 1e-6], "upper": [55, 95, 1e-6]}}  # fmt: skip
    env = {**os.environ, "QD_DATA_DIR": str(tmp_path)}
    done = subprocess.run([QUARTERDECK, "jobs", "submit", "optimize", json.dumps(fields)],
                          capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert done.returncode == 2 and done.stdout == "" and "Traceback" not in done.stderr
    assert "more than QD_SWEEP_MAX_COMBOS (1,000,000) allows" in done.stderr
    walk = {"strategy": "sma_cross", "dataset": "sim:SPY", "grid": {"fast": [2, 10, 1]},
            "windows": 0}  # fmt: skip
    refused = subprocess.run([QUARTERDECK, "jobs", "submit", "walk_forward", json.dumps(walk)],
                             capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert refused.returncode == 2
    assert "walk_forward: windows: expected a whole number in [1, " in refused.stderr
