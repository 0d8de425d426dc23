"""`quarterdeck strategies` and `quarterdeck backtest` as real processes: the JSON
shapes other tools rely on, the figures, and exit code 2 on bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from backtesting import Backtest
from backtesting.test import GOOG

from tests.core.test_parity_backtesting_py import LongOnlySmaCross

# backtesting.py (the reference) warns that the last trade stays open, as configured.
pytestmark = [
    pytest.mark.filterwarnings("ignore:Some trades remain open"),
    pytest.mark.filterwarnings("ignore:DatetimeIndex.dayofweek is deprecated"),
]

QUARTERDECK = str(Path(sys.executable).with_name("quarterdeck"))


def quarterdeck(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [QUARTERDECK, *args], capture_output=True, text=True, env=os.environ, timeout=120
    )


@pytest.fixture(scope="module")
def goog_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "goog.csv"
    GOOG.rename_axis("Date").to_csv(path)
    return path


def test_strategies_json_lists_every_strategy_with_its_parameters() -> None:
    result = quarterdeck("strategies", "--json")
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    sma = next(s for s in listed if s["id"] == "sma_cross")
    assert set(sma) == {"id", "name", "family", "direction", "description", "params", "source",
                        "version"}  # fmt: skip
    assert sma["params"][0] == {
        "name": "fast", "type": "int", "default": 10, "min": 2, "max": 200, "step": 1,
    }  # fmt: skip


def test_backtest_json_matches_backtesting_py(goog_csv: Path) -> None:
    result = quarterdeck(
        "backtest", "sma_cross", "--data", str(goog_csv), "--param", "fast=10",
        "--param", "slow=30", "--cash", "10000", "--commission", "0.002", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert {"metrics", "trades", "equity_final"} <= set(document)
    reference = Backtest(GOOG, LongOnlySmaCross, cash=10_000, commission=0.002).run()
    assert document["equity_final"] == pytest.approx(reference["Equity Final [$]"], rel=1e-9)
    closed = [t for t in document["trades"] if t["exit_time"] is not None]
    assert len(closed) == len(reference["_trades"])
    first = closed[0]
    assert {"entry_time", "exit_time", "entry_price", "exit_price", "size", "pnl"} <= set(first)
    assert (
        first["entry_time"]
        == reference["_trades"]["EntryTime"].iloc[0].tz_localize("UTC").isoformat()
    )


def test_backtest_prints_a_readable_report(goog_csv: Path) -> None:
    result = quarterdeck("backtest", "sma_cross", "--data", str(goog_csv))
    assert result.returncode == 0, result.stderr
    assert "sharpe" in result.stdout and "equity_final" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["backtest", "no_such", "--data", "x.csv"], "unknown strategy 'no_such'"),
        (["backtest", "sma_cross", "--data", "{data}", "--param", "fast=40", "--param", "slow=30"],
         "fast < slow"),
        (["backtest", "sma_cross", "--data", "{data}", "--param", "speed"], "NAME=VALUE"),
        (["backtest", "sma_cross", "--data", "{data}", "--size", "2"],
         "argument --size: expected a number in (0, 1]"),
        (["backtest", "sma_cross", "--data", "/no/such/file.csv"], "file.csv"),
    ],
)  # fmt: skip
def test_bad_input_exits_2_with_a_clear_message(
    goog_csv: Path, args: list[str], message: str
) -> None:
    result = quarterdeck(*(a.replace("{data}", str(goog_csv)) for a in args))
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_optimize_json_has_best_results_and_evaluations(goog_csv: Path) -> None:
    result = quarterdeck(
        "optimize", "sma_cross", "--data", str(goog_csv), "--grid", "fast=5:15:5",
        "--grid", "slow=20:40:10", "--objective", "total_return", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert {"best", "results", "evaluations", "seconds"} <= set(document)
    assert document["evaluations"] == len(document["results"]) == 9
    best_return = max(r["metrics"]["total_return"] for r in document["results"])
    assert document["best"]["metrics"]["total_return"] == best_return
    reference = Backtest(GOOG, LongOnlySmaCross, cash=100_000).run(**document["best"]["params"])
    assert document["best"]["metrics"]["equity_final"] == pytest.approx(
        reference["Equity Final [$]"], rel=1e-9
    )


def test_optimize_walk_forward_and_overfitting_fields(goog_csv: Path) -> None:
    result = quarterdeck(
        "optimize", "sma_cross", "--data", str(goog_csv), "--grid", "fast=5:20:5",
        "--grid", "slow=25:60:5", "--walk-forward", "rolling", "--windows", "3",
        "--overfitting", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    walk = document["walk_forward"]
    assert walk["mode"] == "rolling" and len(walk["windows"]) == 3
    assert walk["degradation"] == pytest.approx(walk["mean_in_sample"] - walk["mean_out_of_sample"])
    assert 0.0 <= document["overfitting"]["pbo"] <= 1.0
    assert 0.0 <= document["overfitting"]["deflated_sharpe"] <= 1.0


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ("fast=5", "NAME=START:STOP[:STEP]"),
        ("fast=9:5", "below start"),
        ("speed=1:2", "no parameter 'speed'"),
    ],
)
def test_optimize_bad_grid_exits_2(goog_csv: Path, grid: str, message: str) -> None:
    result = quarterdeck("optimize", "sma_cross", "--data", str(goog_csv), "--grid", grid)
    assert result.returncode == 2
    assert message in result.stderr


def test_batch_json_has_one_row_per_strategy_and_file(goog_csv: Path, tmp_path: Path) -> None:
    half = tmp_path / "goog_first_half.csv"
    GOOG.iloc[: len(GOOG) // 2].rename_axis("Date").to_csv(half)
    done = quarterdeck("batch", "sma_cross", "rsi_reversion", "--data", str(goog_csv),
                       "--data", str(half), "--trials", "3", "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    pairs = [(r["strategy"], Path(r["dataset"]).name) for r in document["rows"]]
    assert pairs == [
        ("sma_cross", "goog.csv"), ("sma_cross", "goog_first_half.csv"),
        ("rsi_reversion", "goog.csv"), ("rsi_reversion", "goog_first_half.csv"),
    ]  # fmt: skip
    for row in document["rows"]:
        assert row["evaluations"] == 3
        assert set(row["metrics"]) >= {"sharpe", "total_return", "trades", "equity_final"}


def test_batch_all_strategies_and_bad_input(goog_csv: Path, tmp_path: Path) -> None:
    done = quarterdeck("batch", "all", "--data", str(goog_csv))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("68 runs in ")
    bad = quarterdeck("batch", "sma_cross", "nope", "--data", str(goog_csv))
    assert bad.returncode == 2 and "unknown strategy 'nope'" in bad.stderr
    missing = quarterdeck("batch", "sma_cross", "--data", str(tmp_path / "none.csv"))
    assert missing.returncode == 2 and "none.csv" in missing.stderr


def test_replay_json_trades_equal_the_backtest_json_trades(goog_csv: Path) -> None:
    flags = ["--data", str(goog_csv), "--commission", "0.002", "--json"]
    replayed = quarterdeck("replay", "supertrend", *flags)
    backtested = quarterdeck("backtest", "supertrend", *flags)
    assert replayed.returncode == 0 and backtested.returncode == 0, replayed.stderr
    ours, theirs = json.loads(replayed.stdout), json.loads(backtested.stdout)
    assert ours["trades"] == theirs["trades"] and len(ours["trades"]) > 10
    assert ours["equity_final"] == pytest.approx(theirs["equity_final"], rel=1e-12)
    assert len(ours["fills"]) == 2 * len(ours["trades"]) - (ours["trades"][-1]["exit_time"] is None)
    assert set(ours["portfolio"]) >= {"cash", "equity", "realized_pnl", "positions"}
    bad = quarterdeck("replay", "supertrend", "--data", str(goog_csv), "--param", "window=0")
    assert bad.returncode == 2 and "window" in bad.stderr


def squeeze_csv(folder: Path, factor: float) -> Path:
    """A steady fall, then (with ``factor`` > 1) the price multiplies overnight at bar 110:
    a short breakout's one trade wins, or with a big enough squeeze wipes the account out."""
    import numpy as np
    import pandas as pd

    n = 120
    close = 100.0 * np.exp(-0.03 * np.arange(n))
    close[110:] *= factor
    open_ = np.r_[close[0], close[:-1]]
    open_[110] = close[110]
    path = folder / f"squeeze{factor:g}.csv"
    pd.DataFrame({
        "Date": pd.date_range("2024-01-01", periods=n, freq="D"), "Open": open_,
        "High": np.maximum(open_, close) * 1.005, "Low": np.minimum(open_, close) * 0.995,
        "Close": close,
    }).to_csv(path, index=False)  # fmt: skip
    return path


def test_a_parquet_datetime_column_backtests_like_the_csv(goog_csv: Path, tmp_path: Path) -> None:
    import pandas as pd

    frame = pd.read_csv(goog_csv, parse_dates=["Date"])
    frame["Date"] = frame["Date"].dt.tz_localize("UTC").dt.tz_convert("America/New_York")
    frame.to_parquet(tmp_path / "goog.parquet")
    runs = [
        quarterdeck("backtest", "sma_cross", "--data", str(path), "--json")
        for path in (goog_csv, tmp_path / "goog.parquet")
    ]
    assert all(r.returncode == 0 for r in runs), runs[1].stderr
    from_csv, from_parquet = (json.loads(r.stdout) for r in runs)
    assert from_parquet["metrics"] == from_csv["metrics"]
    assert from_parquet["trades"] == from_csv["trades"]


def test_an_unreadable_time_exits_2_naming_file_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "prices.csv"
    path.write_text("timestamp,open,high,low,close\n1704153600,1,1,1,1\n1704240000000,1,1,1,1\n")
    result = quarterdeck("backtest", "sma_cross", "--data", str(path))
    assert result.returncode == 2
    assert result.stderr.strip().endswith(
        "prices.csv:3 [timestamp]: epoch in milliseconds where the first row is in seconds: "
        "1704240000000"
    )
    assert "Traceback" not in result.stderr


def test_a_wiped_out_short_stops_and_says_bankrupt_in_text_and_json(tmp_path: Path) -> None:
    data = str(squeeze_csv(tmp_path, 40.0))
    args = ("backtest", "donchian_breakout", "--data", data, "--direction", "short")
    text = quarterdeck(*args)
    assert text.returncode == 0, text.stderr
    assert "bankrupt at bar 110 (2024-04-20T00:00:00+00:00): equity reached zero" in text.stdout
    document = json.loads(quarterdeck(*args, "--json").stdout)
    assert document["bankrupt"] is True
    assert (document["bankrupt_bar"], document["bankrupt_time"]) == (
        110, "2024-04-20T00:00:00+00:00"
    )  # fmt: skip
    metrics = document["metrics"]
    assert metrics["equity_final"] == 0.0
    assert metrics["total_return"] == metrics["cagr"] == -1.0
    assert max(metrics["sharpe"], metrics["sortino"], metrics["calmar"]) <= 0.0


def test_a_lossless_profit_factor_is_infinity_in_text_and_null_with_a_note_in_json(
    tmp_path: Path,
) -> None:
    data = str(squeeze_csv(tmp_path, 1.0))
    args = ("backtest", "donchian_breakout", "--data", data, "--direction", "short",
            "--close-at-end")  # fmt: skip
    text = quarterdeck(*args)
    assert "profit_factor                ∞  (no losing trades)" in text.stdout
    document = json.loads(quarterdeck(*args, "--json").stdout)
    assert document["metrics"]["profit_factor"] is None
    assert document["metrics"]["profit_factor_note"] == "infinite: no losing trades"
    assert document["bankrupt"] is False
