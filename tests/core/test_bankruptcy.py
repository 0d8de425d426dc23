"""A wiped-out account stops: its position is liquidated at the close where equity reached
zero, equity stays 0, no ratio is positive, and a search ranks it last. Pinned against
backtesting.py, which stops a run the same way, on real daily data (GOOG)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from backtesting import Backtest
from backtesting import Strategy as ReferenceStrategy
from backtesting.test import GOOG

from core.research.backtest import BacktestConfig, bankrupt_bar, run_kernel
from core.research.metrics import METRIC_NAMES, as_dict, metrics_kernel
from core.research.optimizer import Objective
from core.research.runner import SECONDS_PER_YEAR
from core.research.signals import HOLD, SHORT
from tests.core.data import bars_from

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::FutureWarning"),
    pytest.mark.filterwarnings("ignore::RuntimeWarning"),  # its statistics of a zero equity
]


class ShortAndHold(ReferenceStrategy):
    """Sell short with all the equity on the first call, then hold."""

    def init(self) -> None:
        pass

    def next(self) -> None:
        if not self.position and not self.closed_trades:
            self.sell()


def short_and_hold(n: int) -> np.ndarray:
    """Our signals for the same rule: short at bar 1's close (backtesting.py first calls
    ``next`` at bar 1), filled at bar 2's open."""
    signals = np.full(n, HOLD, dtype=np.int8)
    signals[1] = SHORT
    return signals


def run(commission: float, frame: pd.DataFrame = GOOG) -> tuple[dict, np.ndarray, tuple]:
    bars = bars_from(frame)
    equity, index, price, numbers, count = run_kernel(
        bars, short_and_hold(frame.shape[0]), BacktestConfig(cash=10_000, commission=commission)
    )
    ts = bars["ts"]
    metrics = as_dict(
        metrics_kernel(
            equity, 10_000.0, float(ts[-1] - ts[0]) / SECONDS_PER_YEAR, 252.0,
            index, price, numbers, count,
        )
    )  # fmt: skip
    return metrics, equity, (index[:count], price[:count], numbers[:count])


@pytest.mark.parametrize("commission", [0.0, 0.002])
def test_a_short_wiped_out_by_a_rally_stops_where_backtesting_py_stops(commission: float) -> None:
    reference = Backtest(GOOG, ShortAndHold, cash=10_000, commission=commission).run()
    theirs = reference["_trades"].iloc[0]
    metrics, equity, (index, price, numbers) = run(commission)

    np.testing.assert_allclose(equity, reference["_equity_curve"]["Equity"].to_numpy(), rtol=1e-9)
    wiped = bankrupt_bar(equity)
    assert wiped == int(theirs["ExitBar"]) < GOOG.shape[0] - 1  # stopped well before the end
    assert index.tolist() == [[int(theirs["EntryBar"]), wiped]]
    assert numbers[0, 0] == theirs["Size"] < 0
    assert price[0, 1] == pytest.approx(theirs["ExitPrice"], rel=1e-12)
    assert price[0, 1] == GOOG["Close"].iloc[wiped]  # liquidated at that bar's close
    assert numbers[0, 1] == pytest.approx(theirs["PnL"], rel=1e-9)
    assert metrics["equity_final"] == reference["Equity Final [$]"] == 0.0


def test_the_bankrupt_bar_is_the_first_close_where_the_short_costs_all_the_cash() -> None:
    """An independent computation: cash plus the short's mark at each close."""
    close, open_ = GOOG["Close"].to_numpy(), GOOG["Open"].to_numpy()
    units = -(10_000 // open_[2])
    marked = 10_000 - units * open_[2] + units * close
    marked[:2] = 10_000
    _, equity, _ = run(0.0)
    assert bankrupt_bar(equity) == int(np.flatnonzero(marked <= 0)[0])
    np.testing.assert_allclose(equity[: bankrupt_bar(equity)], marked[: bankrupt_bar(equity)])
    assert not equity[bankrupt_bar(equity) :].any()


def test_no_ratio_of_a_wiped_out_run_is_positive_and_it_ranks_last() -> None:
    metrics, _, _ = run(0.002)
    assert metrics["total_return"] == -1.0
    assert metrics["cagr"] == -1.0
    assert metrics["max_drawdown"] == 1.0
    for ratio in ("sharpe", "sortino", "calmar", "sqn"):
        assert metrics[ratio] <= 0.0, ratio
    assert all(np.isfinite(metrics[name]) for name in METRIC_NAMES)
    healthy = dict.fromkeys(METRIC_NAMES, -5.0) | {"equity_final": 1.0, "trades": 0.0}
    for metric in METRIC_NAMES:  # whichever objective, even one the wipe-out looks good on
        objective = Objective(metric)
        assert objective.score(metrics) < objective.score(healthy), metric


def squeezed_bars(n: int = 120, at: int = 110) -> dict[str, np.ndarray]:
    """A steady fall, then the price multiplies by 40 overnight at bar ``at``."""
    close = 100.0 * np.exp(-0.03 * np.arange(n))
    close[at:] *= 40.0
    open_ = np.r_[close[0], close[:-1]]
    open_[at] = close[at]
    return {
        "ts": 1_704_067_200.0 + 86_400.0 * np.arange(n),  # daily from 2024-01-01
        "open": open_, "high": np.maximum(open_, close) * 1.005,
        "low": np.minimum(open_, close) * 0.995, "close": close, "volume": np.zeros(n),
    }  # fmt: skip


def test_the_pdf_report_says_bankrupt_and_leaves_the_months_after_blank(tmp_path) -> None:
    from core.exports.report import build_report, monthly_returns
    from core.research.runner import run_backtest
    from core.research.strategies import get_strategy
    from tests.core.test_report import pdf_text

    bars = squeezed_bars(n=160)  # the squeeze in April; May and June come after
    strategy = get_strategy("donchian_breakout")
    result = run_backtest(strategy, bars, None, BacktestConfig(direction="short"))
    assert result.bankruptcy == "bankrupt at bar 110 (2024-04-20T00:00:00+00:00)"
    months = monthly_returns(bars["ts"], result.equity, 100_000.0)
    assert months.months[0, 3] == -1.0  # April
    assert np.isnan(months.months[0, 4:6]).all()  # nothing is a return on 0
    path = build_report(tmp_path / "wiped.pdf", strategy, bars, result, data_name="squeeze.csv")
    text = pdf_text(path)
    assert "Outcome Bankrupt at bar 110 (2024-04-20T00:00:00+00:00)" in text
    assert "Bankrupt at bar 110 (2024-04-20T00:00:00+00:00): equity reached zero; the" in text
