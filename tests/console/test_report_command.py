"""`quarterdeck export report`: the PDF it writes, its flags (the backtest's and the
optimizer's), and exit code 2 with a message naming the file or field on bad input."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest
from backtesting.test import GOOG

from console import formatting as fmt
from console.cli import build_parser
from console.commands.errors import UsageError
from core.config import load_settings
from core.market.loader import load_bars
from core.research.backtest import BacktestConfig
from core.research.runner import run_backtest
from core.research.strategies import get_strategy
from tests.core.test_report import assert_every_page_inked, pdf_text, render_pages

QUARTERDECK = str(Path(sys.executable).with_name("quarterdeck"))
ROOT = Path(__file__).resolve().parents[2]


def quarterdeck(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed command, importing this source tree's packages."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return subprocess.run(
        [QUARTERDECK, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": path},
    )


def export_report(*args: str) -> int:
    """The command in this process (faster than a new one for the error cases)."""
    parsed: argparse.Namespace = build_parser().parse_args(["export", "report", *args])
    parsed.settings = load_settings()  # as main() gives it
    return int(parsed.handler(parsed))


@pytest.fixture(scope="module")
def goog_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "goog.csv"
    GOOG.rename_axis("Date").to_csv(path)
    return path


def test_backtest_report_as_a_real_process(goog_csv: Path, tmp_path: Path) -> None:
    output = tmp_path / "sma.pdf"
    done = quarterdeck(
        "export",
        "report",
        "sma_cross",
        "--data",
        str(goog_csv),
        "--param",
        "fast=10",
        "--param",
        "slow=30",
        "--commission",
        "0.002",
        "--cash",
        "10000",
        "-o",
        str(output),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"wrote {output}"
    pages = render_pages(output, tmp_path / "png")
    assert len(pages) >= 5
    assert_every_page_inked(pages)
    # the figures are those of the same backtest run here
    strategy = get_strategy("sma_cross")
    config = BacktestConfig(cash=10_000, commission=0.002)
    result = run_backtest(strategy, load_bars(goog_csv), {"fast": 10, "slow": 30}, config)
    text = pdf_text(output)
    for expected in (
        "SMA crossover (sma_cross)",
        "goog.csv",
        "fast 10 10",
        "slow 30 30",
        "Starting cash 10,000.00",
        "0.2% of notional per fill",
        f"Total return {fmt.percent(result.metrics['total_return'])}",
        f"Final equity {fmt.money(result.metrics['equity_final'])}",
        f"{len(result.trades)} trades.",
        "Monthly returns",
        "Risk disclosure",
        "Past simulated results do not guarantee future returns.",
    ):
        assert expected in text, expected


def test_bad_input_exits_2_naming_the_file(tmp_path: Path) -> None:
    done = quarterdeck(
        "export",
        "report",
        "sma_cross",
        "--data",
        str(tmp_path / "none.csv"),
        "-o",
        str(tmp_path / "r.pdf"),
    )
    assert done.returncode == 2
    assert "none.csv" in done.stderr and "quarterdeck export" in done.stderr
    assert not (tmp_path / "r.pdf").exists()


@pytest.fixture(scope="module")
def goog_short_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """500 bars: PBO then uses 8 partitions (70 splits, not 12,870), which keeps it fast."""
    path = tmp_path_factory.mktemp("data") / "goog_short.csv"
    GOOG.iloc[:500].rename_axis("Date").to_csv(path)
    return path


def test_optimization_report_with_grid_and_backtest_flags(
    goog_short_csv: Path, tmp_path: Path
) -> None:
    output = tmp_path / "search.pdf"
    code = export_report(
        "ema_cross",
        "--data",
        str(goog_short_csv),
        "--grid",
        "fast=5:15:5",
        "--grid",
        "slow=20:40:10",
        "--windows",
        "3",
        "--direction",
        "both",
        "--objective",
        "total_return",
        "-o",
        str(output),
    )
    assert code == 0
    pages = render_pages(output, tmp_path / "png")
    assert len(pages) >= 7
    assert_every_page_inked(pages)
    text = pdf_text(output)
    for expected in (
        "Optimization report",
        "EMA crossover (ema_cross)",
        "both (set for this run)",
        "5 to 15 step 5",
        "20 to 40 step 10",
        "Parameter heatmap: total_return by fast and slow",
        "Best parameter sets",
        "Grid search of 9 parameter sets",
        "Rolling walk-forward over 3 windows",
        "Probability of backtest overfitting (PBO)",
        "Deflated Sharpe ratio",
    ):
        assert expected in text, expected


def test_param_holds_a_parameter_the_grid_leaves_out(goog_short_csv: Path, tmp_path: Path) -> None:
    output = tmp_path / "held.pdf"
    code = export_report(
        "ema_cross",
        "--data",
        str(goog_short_csv),
        "--grid",
        "fast=4:12:4",
        "--param",
        "slow=40",
        "--walk-forward",
        "none",
        "-o",
        str(output),
    )
    assert code == 0
    text = pdf_text(output)
    assert "slow 40 30 held at 40" in text
    assert "Parameter heatmap: sharpe by fast" in text
    assert "Walk-forward validation was not run for this report." in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "{tmp}/none.csv"], "none.csv: no such file"),
        (["--data", "{bad}"], "bad.csv:3 [close]"),
        (["--data", "{data}", "--param", "fast=ten"], "fast: 'ten' is not a int"),
        (["--data", "{data}", "--param", "fast"], "--param 'fast': expected NAME=VALUE"),
        (["--data", "{data}", "--param", "fast=1"], "fast: 1 is outside"),
        (["--data", "{data}", "-o", "{tmp}/missing/r.pdf"], "no such directory"),
        (["--data", "{data}", "-o", "{tmp}"], "is a directory"),
        (["--data", "{data}", "--grid", "fats=1:5"], "no parameter 'fats'"),
        (["--data", "{data}", "--grid", "fast=5"], "expected NAME=START:STOP[:STEP]"),
        (["--data", "{data}", "--grid", "fast=5:9", "--param", "fast=5"], "give one or the other"),
        (["--data", "{data}", "--grid", "fast=5:9", "--objective", "luck"], "unknown metric"),
        (["--data", "{data}", "--grid", "fast=5:9", "--windows", "9999"], "too few"),
        (["--data", "{data}", "--grid", "fast=5:9", "--min-trades", "9999"], "--min-trades"),
    ],
)
def test_bad_input_is_a_usage_error_naming_the_field(
    goog_csv: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "Date,Open,High,Low,Close,Volume\n2020-01-01,1,2,0.5,1.5,10\n2020-01-02,1,2,0.5,abc,10\n"
    )
    filled = [
        a.replace("{tmp}", str(tmp_path))
        .replace("{bad}", str(bad))
        .replace("{data}", str(goog_csv))
        for a in args
    ]
    if "-o" not in filled:
        filled += ["-o", str(tmp_path / "r.pdf")]
    with pytest.raises(UsageError, match=message.replace("[", r"\[").replace("(", r"\(")):
        export_report("sma_cross", *filled)
    assert not (tmp_path / "r.pdf").exists()


def test_export_needs_a_subcommand() -> None:
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["export"])
    assert exit_.value.code == 2
