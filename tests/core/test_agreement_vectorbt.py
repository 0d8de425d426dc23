"""Quarterdeck against vectorbt's ``Portfolio.from_signals`` on the S&P 500 daily series.

vectorbt fills at the price of the bar its signal is on, so the same run is its
signals delayed one bar and priced at the open (our next-open fill); ``size=inf``
with ``size_granularity=1`` is our whole-unit sizing, without it our fractional
units; ``fees`` is our commission. Entries and exits come from indicators
computed in pandas, not from our kernels.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from core.research.backtest import BacktestConfig
from core.research.runner import run_backtest
from core.research.strategies import get_strategy
from tests.core import data
from tests.core.references import pd_ema, pd_rsi

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import vectorbt as vbt

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def crosses(a: pd.Series, b: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Strict crossings both ways (a < b then a > b), as our crossover kernel defines them."""
    up = (a > b) & (a.shift(1) < b.shift(1))
    down = (a < b) & (a.shift(1) > b.shift(1))
    return up, down


def sma_cross(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    return crosses(frame.Close.rolling(10).mean(), frame.Close.rolling(30).mean())


def ema_cross(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    close = frame.Close.to_numpy()
    return crosses(
        pd.Series(pd_ema(close, 10), frame.index), pd.Series(pd_ema(close, 30), frame.index)
    )


def rsi_reversion(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    rsi = pd.Series(pd_rsi(frame.Close.to_numpy(), 14), frame.index)
    entries = (rsi.shift(1) >= 30) & (rsi < 30)
    exits = (rsi.shift(1) <= 50) & (rsi > 50)
    return entries, exits & ~entries


def bollinger_reversion(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    close = frame.Close
    middle = close.rolling(20).mean()
    lower = middle - 2 * close.rolling(20).std(ddof=0)
    entries = (close.shift(1) >= lower.shift(1)) & (close < lower)
    exits = (close.shift(1) <= middle.shift(1)) & (close > middle)
    return entries, exits & ~entries


RULES = {
    "sma_cross": (sma_cross, {"fast": 10, "slow": 30}),
    "ema_cross": (ema_cross, {"fast": 10, "slow": 30}),
    "rsi_reversion": (rsi_reversion, {}),
    "bollinger_reversion": (bollinger_reversion, {}),
}


@pytest.mark.parametrize("units", ["whole", "fractional"])
@pytest.mark.parametrize("commission", [0.0, 0.001])
@pytest.mark.parametrize("strategy_id", sorted(RULES))
def test_agrees_with_vectorbt_from_signals(strategy_id: str, commission: float, units: str) -> None:
    frame = data.sp500_frame()
    rule, params = RULES[strategy_id]
    entries, exits = rule(frame)
    portfolio = vbt.Portfolio.from_signals(
        frame.Close,
        entries.shift(1, fill_value=False),
        exits.shift(1, fill_value=False),
        price=frame.Open,
        fees=commission,
        init_cash=100_000,
        size=np.inf,
        size_granularity=1 if units == "whole" else None,
    )
    result = run_backtest(
        get_strategy(strategy_id), data.bars_from(frame), params,
        BacktestConfig(cash=100_000, commission=commission, units=units),
    )  # fmt: skip
    theirs = portfolio.trades.records_readable
    assert len(result.trades) == len(theirs) > 10
    seconds = frame.index.to_numpy(dtype="datetime64[s]").astype(np.int64)
    index = {int(s): i for i, s in enumerate(seconds)}
    for ours, (_, row) in zip(result.trades, theirs.iterrows(), strict=True):
        assert index[int(ours.entry_time)] == frame.index.get_loc(row["Entry Timestamp"])
        if row["Status"] == "Closed":
            assert index[int(ours.exit_time)] == frame.index.get_loc(row["Exit Timestamp"])
        else:
            assert ours.exit_time is None
        assert ours.size == pytest.approx(row["Size"], rel=1e-12)
        assert ours.entry_price == pytest.approx(row["Avg Entry Price"], rel=1e-12)
        assert ours.pnl == pytest.approx(row["PnL"], rel=1e-9, abs=1e-6)
    np.testing.assert_allclose(result.equity, portfolio.value().to_numpy(), rtol=1e-9)
    assert result.metrics["equity_final"] == pytest.approx(portfolio.final_value(), rel=1e-9)
