"""`quarterdeck export pine` as a real process: the script on stdout or in a file, the
same flags as `quarterdeck backtest`, and exit code 2 naming the bad field."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from console.cli import build_parser
from core.config import Settings
from core.exports.pine import export_pine
from core.jobs.records import insert_job
from core.research.backtest import BacktestConfig
from core.research.strategies import get_strategy
from core.store import JobRow, Store

ROOT = Path(__file__).resolve().parents[2]


def quarterdeck(*args: str) -> subprocess.CompletedProcess[str]:
    """The command line of this source tree (``python -m console.cli`` from its root)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "console.cli", *args],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120,
    )  # fmt: skip


def test_export_pine_prints_the_script_for_the_given_params_and_flags() -> None:
    result = quarterdeck(
        "export", "pine", "sma_cross", "--param", "fast=5", "--param", "slow=40",
        "--cash", "20000", "--commission", "0.001", "--direction", "both",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    config = BacktestConfig(cash=20_000, commission=0.001, direction="both")
    expected = export_pine(get_strategy("sma_cross"), {"fast": 5, "slow": 40}, config)
    assert result.stdout == expected
    assert result.stderr == ""


def test_export_pine_writes_the_file_given_with_o(tmp_path: Path) -> None:
    target = tmp_path / "rsi.pine"
    result = quarterdeck("export", "pine", "rsi_reversion", "-o", str(target))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert target.read_text(encoding="utf-8") == export_pine(get_strategy("rsi_reversion"))


def test_settings_pine_cannot_express_are_warned_about_on_stderr() -> None:
    result = quarterdeck("export", "pine", "sma_cross", "--slippage-bps", "5")
    assert result.returncode == 0
    assert "warning: slippage_bps=5" in result.stderr
    assert "// - slippage_bps=5" in result.stdout


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["nope"], "unknown strategy 'nope'"),
        (["sma_cross", "--param", "fast=500"], "fast: 500 is outside [2, 200]"),
        (["sma_cross", "--param", "speed=3"], "no parameter 'speed'"),
        (["sma_cross", "--param", "fast"], "--param 'fast': expected NAME=VALUE"),
        (["sma_cross", "--size", "2"], "argument --size: expected a number in (0, 1]"),
    ],
)
def test_bad_input_exits_2_naming_the_field(args: list[str], named: str) -> None:
    result = quarterdeck("export", "pine", *args)
    assert result.returncode == 2
    assert named in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_an_unwritable_output_file_exits_2_naming_it(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "x.pine"
    result = quarterdeck("export", "pine", "sma_cross", "-o", str(target))
    assert result.returncode == 2
    assert str(target) in result.stderr


def test_export_takes_the_backtest_flags() -> None:
    def flags(*command: str) -> set[str]:
        parser = build_parser()
        sub = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
        for word in command:
            sub = sub[word]
            if word != command[-1]:
                sub = sub._subparsers._group_actions[0].choices
        return {s for a in sub._actions for s in a.option_strings}

    assert flags("backtest") - {"--data", "--json"} <= flags("export", "pine")
    assert {"-o", "--output", "--param"} <= flags("export", "pine")


def test_export_pine_best_of_takes_a_finished_optimizations_best_params(
    settings: Settings,
) -> None:
    store = Store(settings.resolved_database_url)
    store.create_schema()
    grid = {"fast": [5, 20, 5], "slow": [30, 60, 10]}
    job = insert_job(store, JobRow(
        kind="optimize", title="sma_cross sim:SPY", state="done", created_at=0.0,
        params_json=json.dumps({"strategy": "sma_cross", "dataset": "sim:SPY", "grid": grid}),
        result_json=json.dumps({"best_params": {"fast": 15.0, "slow": 50.0}}),
    ))  # fmt: skip
    request = json.dumps({"strategy": "sma_cross", "dataset": "sim:SPY"})
    running = insert_job(
        store,
        JobRow(kind="optimize", title="t", state="running", created_at=0.0, params_json=request),
    )
    store.dispose()
    result = quarterdeck("export", "pine", "sma_cross", "--best-of", str(job))
    assert result.returncode == 0, result.stderr
    assert result.stdout == export_pine(get_strategy("sma_cross"), {"fast": 15, "slow": 50})
    refused = {
        "rsi_reversion": f"job {job} optimized sma_cross, not rsi_reversion",
        "sma_cross --param fast=5": "--best-of and --param: give one or the other",
    }
    for args, error in refused.items():
        strategy, *rest = args.split()
        result = quarterdeck("export", "pine", strategy, "--best-of", str(job), *rest)
        assert (result.returncode, error in result.stderr) == (2, True), result.stderr
    result = quarterdeck("export", "pine", "sma_cross", "--best-of", str(running))
    assert f"job {running} has not finished (it is running)" in result.stderr
