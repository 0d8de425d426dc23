"""The PDF report, read back as a person would: every page rendered to PNG with
``pdftoppm`` (it must exist and carry ink) and its text extracted with ``pdftotext``
(the figures must be the backtest's own, rounded as the console rounds them)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from console import formatting as fmt
from console.commands.optimize import overfitting_report
from core.exports import figures
from core.exports.report import (
    DISCLAIMER,
    OptimizationReport,
    build_report,
    monthly_returns,
    render_report_async,
    score_grid,
)
from core.research.backtest import BacktestConfig
from core.research.optimizer import Objective, Range, optimize
from core.research.runner import run_backtest
from core.research.strategies import get_strategy
from core.research.walkforward import walk_forward
from tests.core.data import bars_from, random_bars, sp500, sp500_frame

#: Share of the page body (header and footer cut off) darker than light grey: an empty
#: body has none; the sparsest real page (a heading and "no trades") has about 0.002, a
#: page with a chart 0.05 or more.
MIN_INK = 0.001
CHART_INK = 0.05


def poppler(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        pytest.fail(f"{tool} is missing: install Debian's poppler-utils (scripts/system-deps.sh)")
    return found


def render_pages(pdf: Path, folder: Path) -> list[np.ndarray]:
    """Every page as a greyscale array, via ``pdftoppm -r 50 -png``."""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [poppler("pdftoppm"), "-r", "50", "-png", str(pdf), str(folder / "page")],
        check=True,
        timeout=60,
    )
    pages = sorted(folder.glob("page-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    return [np.asarray(Image.open(p).convert("L")) for p in pages]


def body_ink(page: np.ndarray) -> float:
    """Share of dark pixels between the running header and the footer."""
    height = page.shape[0]
    body = page[int(height * 0.08) : int(height * 0.92)]
    return float((body < 200).mean())


def pdf_text(pdf: Path, first: int | None = None, last: int | None = None) -> str:
    """The text of the document (or of pages first..last) in reading order, table rows
    kept on one line (``-layout``), whitespace collapsed."""
    pages = [*(["-f", str(first)] if first else []), *(["-l", str(last)] if last else [])]
    command = [poppler("pdftotext"), "-layout", *pages, str(pdf), "-"]
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=60)
    return " ".join(done.stdout.split())


def page_count(pdf: Path) -> int:
    done = subprocess.run(
        [poppler("pdftotext"), str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout.count("\f")


def assert_every_page_inked(pages: list[np.ndarray]) -> None:
    for number, page in enumerate(pages, start=1):
        assert page.shape[0] > page.shape[1] > 300, f"page {number} is {page.shape}"
        assert body_ink(page) > MIN_INK, f"page {number} is blank ({body_ink(page):.4f} ink)"


def day(ts: float) -> str:
    return pd.Timestamp(ts, unit="s").strftime("%Y-%m-%d")


@pytest.fixture(scope="module")
def backtest_pdf(tmp_path_factory: pytest.TempPathFactory):
    bars = sp500()
    strategy = get_strategy("sma_cross")
    result = run_backtest(
        strategy, bars, {"fast": 10, "slow": 75}, BacktestConfig(commission=0.001)
    )
    path = tmp_path_factory.mktemp("report") / "sma.pdf"
    assert build_report(path, strategy, bars, result, data_name="sp500.csv") == path
    return path, bars, result


@pytest.fixture(scope="module")
def optimization_pdf(tmp_path_factory: pytest.TempPathFactory):
    # two years: under 512 bars PBO splits into 8 partitions (70 splits, not 12,870)
    bars = bars_from(sp500_frame().loc["2017":"2018"])
    strategy = get_strategy("sma_cross")
    space = {"fast": Range(5, 20, 5), "slow": Range(30, 90, 20)}
    config = BacktestConfig(commission=0.0005)
    found = optimize(strategy, bars, space, config=config)
    wf = walk_forward(strategy, bars, space, windows=3, config=config)
    stats = overfitting_report(strategy, bars, found, config, seed=0)
    assert found.best is not None
    result = run_backtest(strategy, bars, found.best.params, config)
    report = OptimizationReport(found, space, 1, wf, stats)
    path = tmp_path_factory.mktemp("report") / "search.pdf"
    build_report(path, strategy, bars, result, data_name="sp500.csv", optimization=report)
    return path, found, wf, stats


def test_backtest_report_has_five_inked_pages(backtest_pdf, tmp_path: Path) -> None:
    path, _, result = backtest_pdf
    assert len(result.trades) < 60  # one page of trades
    pages = render_pages(path, tmp_path / "png")
    # title, performance, monthly returns, trades, risk disclosure
    assert len(pages) == page_count(path) == 5
    assert_every_page_inked(pages)
    assert body_ink(pages[1]) > CHART_INK  # equity and drawdown charts


def test_backtest_report_text_names_the_run_and_shows_its_metrics(backtest_pdf) -> None:
    path, bars, result = backtest_pdf
    text = pdf_text(path)
    for expected in (
        "Backtest report",
        "SMA crossover (sma_cross)",
        f"built-in, version {get_strategy('sma_cross').version}",  # the code that ran
        "sp500.csv",
        "fast 10 10",
        "slow 75 30",
        "0.1% of notional per fill",
        f"{day(bars['ts'][0])} to {day(bars['ts'][-1])}",
        "5,031 (daily)",
        "Monthly returns",
        "Trades",
        "Risk disclosure",
        DISCLAIMER,
    ):
        assert expected in text, expected
    m = result.metrics
    shown = {
        "Total return": fmt.percent(m["total_return"]),
        "CAGR": fmt.percent(m["cagr"]),
        "Max drawdown": fmt.percent(m["max_drawdown"]),
        "Sharpe ratio": f"{m['sharpe']:.3f}",
        "Win rate": fmt.percent(m["win_rate"]),
        "Closed trades": f"{int(m['trades']):,}",
        "Final equity": fmt.money(m["equity_final"]),
    }
    performance = pdf_text(path, 2, 2)
    for label, value in shown.items():
        assert f"{label} {value}" in performance, (label, value)


def test_trade_list_shows_each_trade_with_its_dates_and_pnl(backtest_pdf) -> None:
    path, _, result = backtest_pdf
    trades = pdf_text(path, 4, 4)
    first, last = result.trades[0], result.trades[len(result.trades) - 1]
    assert f"1 long {day(first.entry_time)} {day(first.exit_time)} {fmt.quantity(first.size)}" in (
        trades
    )
    assert fmt.signed_money(first.pnl).split(" ", 1)[1] in trades  # the console's, less its arrow
    assert day(last.entry_time) in trades
    assert f"{len(result.trades)} trades." in trades


def test_monthly_returns_equal_pandas_month_end_resampling(backtest_pdf) -> None:
    _, bars, result = backtest_pdf
    table = monthly_returns(bars["ts"], result.equity, result.config.cash)
    index = pd.to_datetime(bars["ts"], unit="s")
    equity = pd.Series(result.equity, index=index)
    cash = pd.Series([result.config.cash], index=[index[0] - pd.offsets.MonthEnd(1)])
    month_end = pd.concat([cash, equity.resample("ME").last()]).pct_change().iloc[1:]
    year_end = pd.concat([cash, equity.resample("YE").last()]).pct_change().iloc[1:]
    assert table.years == tuple(range(1999, 2019))
    ours = table.months.ravel()
    theirs = np.full(ours.size, np.nan)
    theirs[[(t.year - 1999) * 12 + t.month - 1 for t in month_end.index]] = month_end.to_numpy()
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)
    np.testing.assert_allclose(table.annual, year_end.to_numpy(), rtol=0, atol=1e-12)
    # compounding the months gives the total return
    total = np.prod(1 + table.months[np.isfinite(table.months)]) - 1
    assert total == pytest.approx(result.metrics["total_return"], rel=1e-10)


def test_monthly_returns_page_prints_every_year(backtest_pdf) -> None:
    path, bars, result = backtest_pdf
    table = monthly_returns(bars["ts"], result.equity, result.config.cash)
    text = pdf_text(path, 3, 3)
    assert "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec Year" in text
    for year, months, annual in zip(table.years, table.months, table.annual, strict=True):
        row = " ".join(fmt.percent(v) for v in (*months, annual))
        assert f"{year} {row}" in text, year


def test_monthly_returns_by_hand() -> None:
    day_seconds = 86_400
    jan = np.datetime64("2024-01-30", "s").astype(np.int64)
    ts = np.array([jan, jan + day_seconds, jan + 2 * day_seconds, jan + 40 * day_seconds])
    # Jan 30, Jan 31, Feb 1, Mar 10; cash 100
    equity = np.array([101.0, 110.0, 99.0, 121.0])
    table = monthly_returns(ts.astype(np.float64), equity, 100.0)
    assert table.years == (2024,)
    assert table.months[0, :3] == pytest.approx([0.10, 0.99 / 1.1 - 1, 121 / 99 - 1])
    assert np.isnan(table.months[0, 3:]).all()
    assert table.annual[0] == pytest.approx(0.21)


def test_optimization_report_adds_heatmap_walk_forward_and_overfitting(
    optimization_pdf, tmp_path: Path
) -> None:
    path, found, wf, stats = optimization_pdf
    pages = render_pages(path, tmp_path / "png")
    assert_every_page_inked(pages)
    # title, performance, monthly, optimization, validation, trades (one or more), disclosure
    count = len(pages)
    assert count == page_count(path) >= 7
    firsts = [
        "QUARTERDECK Optimization report",
        "Performance",
        "Monthly returns",
        "Optimization",
        "Walk-forward validation",
        *["Trades"] * (count - 6),
        "Risk disclosure",
    ]
    for number, heading in enumerate(firsts, start=1):
        body = pdf_text(path, number, number).split("sp500.csv", 1)[1]  # after the header
        assert body.lstrip().startswith(heading) or (heading == "Trades" and "Side Entry" in body)
    assert body_ink(pages[1]) > CHART_INK  # equity and drawdown
    assert body_ink(pages[3]) > 0.1  # a filled colour map
    text = pdf_text(path)
    best = found.best
    for expected in (
        "Optimization report",
        "Parameter heatmap: sharpe by fast and slow",
        f"fast {best.params['fast']} 10 5 to 20 step 5",
        "Best parameter sets",
        "Walk-forward validation",
        "Rolling walk-forward over 3 windows",
        f"Degradation (mean in sample minus mean out of sample) {wf.degradation:.3f}",
        f"Probability of backtest overfitting (PBO) {stats['pbo']:.3f}",
        f"Deflated Sharpe ratio {stats['deflated_sharpe']:.3f}",
        f"{len(found.evaluations)} parameter sets",
    ):
        assert expected in text, expected
    for w in wf.windows:
        assert f"{day(w.out_of_sample[0])} to {day(w.out_of_sample[1])}" in text
    assert f"sharpe {best.metrics['sharpe']:.3f}" in text


def test_score_grid_keeps_the_best_over_other_parameters() -> None:
    strategy = get_strategy("macd_signal")
    bars = random_bars(600, seed=3)
    space = {"fast": Range(8, 12, 4), "slow": Range(20, 30, 10), "signal": Range(5, 9, 4)}
    found = optimize(strategy, bars, space)
    xs, ys, grid = score_grid(found.evaluations, "slow", "fast", "sharpe", maximise=True)
    assert (xs, ys) == ([20, 30], [8, 12])
    for r, fast in enumerate(ys):
        for c, slow in enumerate(xs):
            scores = [
                e.metrics["sharpe"]
                for e in found.evaluations
                if e.params["fast"] == fast and e.params["slow"] == slow
            ]
            assert grid[r, c] == max(scores)
    _, _, lowest = score_grid(found.evaluations, "slow", "fast", "sharpe", maximise=False)
    assert (lowest <= grid).all()


def test_a_long_trade_list_spans_pages_with_its_header_on_each(tmp_path: Path) -> None:
    bars = random_bars(2_500, seed=11)
    strategy = get_strategy("sma_cross")
    result = run_backtest(strategy, bars, {"fast": 2, "slow": 4})
    count = len(result.trades)
    assert count > 300
    path = build_report(tmp_path / "many.pdf", strategy, bars, result, data_name="walk.csv")
    pages = page_count(path)
    assert pages >= 8
    for number in range(4, pages):  # the trade pages, before the disclosure
        text = pdf_text(path, number, number)
        assert "Side Entry Exit Size Entry price Exit price PnL Return Bars" in text, number
    assert f" {count:,} " in pdf_text(path, pages - 1, pages - 1)

    shortened = build_report(
        tmp_path / "few.pdf", strategy, bars, result, data_name="walk.csv", max_trades=25
    )
    assert page_count(shortened) == 5
    assert f"The first 25 of {count:,} trades" in pdf_text(shortened, 4, 4)


def test_no_trades_and_hourly_bars(tmp_path: Path) -> None:
    bars = random_bars(300, seed=5)
    hourly = {**bars, "ts": bars["ts"] / 24 + 1_700_000_000}
    strategy = get_strategy("sma_cross")
    quiet = run_backtest(strategy, hourly, {"fast": 100, "slow": 400 - 1})
    assert len(quiet.trades) == 0
    path = build_report(tmp_path / "quiet.pdf", strategy, hourly, quiet, data_name="hours.csv")
    assert_every_page_inked(render_pages(path, tmp_path / "png"))
    text = pdf_text(path)
    assert "The strategy made no trades on this data." in text
    assert "300 (1 hour)" in text and "2023-11-14 22:13 to 2023-11-27 09:13" in text


def test_same_inputs_give_the_same_bytes(backtest_pdf, tmp_path, monkeypatch) -> None:
    _, bars, result = backtest_pdf
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    strategy = get_strategy("sma_cross")
    one = build_report(tmp_path / "one.pdf", strategy, bars, result, data_name="sp500.csv")
    two = build_report(tmp_path / "two.pdf", strategy, bars, result, data_name="sp500.csv")
    assert one.read_bytes() == two.read_bytes()
    assert "Generated 2023-11-14 22:13 UTC" in pdf_text(one, 1, 1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.pdf", "two.pdf"]  # no temp files


def test_a_failed_render_leaves_no_file(backtest_pdf, tmp_path: Path) -> None:
    _, bars, result = backtest_pdf
    with pytest.raises(ValueError, match="equity"):
        build_report(
            tmp_path / "bad.pdf",
            get_strategy("sma_cross"),
            {**bars, "ts": bars["ts"][:-1]},
            result,
            data_name="x",
        )
    with pytest.raises(OSError):
        build_report(
            tmp_path / "nowhere" / "r.pdf", get_strategy("sma_cross"), bars, result, data_name="x"
        )
    assert list(tmp_path.iterdir()) == []


async def test_render_report_async_keeps_the_event_loop_running(
    backtest_pdf, tmp_path, monkeypatch
) -> None:
    _, bars, result = backtest_pdf
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    beats = 0

    async def heartbeat() -> None:
        nonlocal beats
        while True:
            await asyncio.sleep(0.005)
            beats += 1

    ticker = asyncio.create_task(heartbeat())
    strategy = get_strategy("sma_cross")
    # two at once, as two jobs would: each gets its own whole file
    paths = await asyncio.gather(
        *(
            render_report_async(
                tmp_path / f"{name}.pdf", strategy, bars, result, data_name="sp500.csv"
            )
            for name in ("one", "two")
        )
    )
    ticker.cancel()
    assert paths[0].stat().st_size > 10_000
    assert paths[0].read_bytes() == paths[1].read_bytes()
    # The loop kept running while the reports rendered: a render on the loop would have
    # blocked the heartbeat until it was cancelled, leaving no beats at all.
    assert beats >= 3, beats


@pytest.mark.parametrize("value", [1234.5, 2.675, -2.675, 0.004, -0.004, -1234.565, 1e6, 0.0])
def test_report_figures_round_as_the_console_does(value: float) -> None:
    assert figures.money(value) == fmt.money(value)
    assert figures.percent(value / 100) == fmt.percent(value / 100)
    assert figures.price(value) == fmt.price(value)
    assert figures.quantity(value) == fmt.quantity(value)
    arrowless = fmt.signed_money(value).split(" ", 1)[1]
    assert figures.signed_money(value) == arrowless


def test_settings_and_metrics_formatting() -> None:
    assert figures.short_percent(0.001) == "0.1%"
    assert figures.short_percent(0.0) == "0%"
    assert figures.short_percent(1.0) == "100%"
    assert figures.short_percent(0.00025) == "0.025%"
    assert figures.metric("trades", 1234.0) == "1,234"
    assert figures.metric("sharpe", float("nan")) == "n/a"
    assert figures.metric("sharpe", None) == "n/a"
    assert figures.parameter(20.0) == "20" and figures.parameter(2.5) == "2.5"
    assert Objective("max_drawdown").maximise is False  # the heatmap's colours flip for these
