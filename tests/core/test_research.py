"""The research kernels against hand-checkable inputs and an independent reference."""

import math

import numpy as np
import pandas as pd
import pytest

from core.market.history import simulated_bars
from core.research.backtest import BacktestConfig, equity_metrics, run_kernel
from core.research.indicators import sma
from core.research.metrics import as_dict, metrics_kernel
from core.research.signals import FLAT, HOLD, LONG, SHORT, crossover_signals
from core.research.strategies import REGISTRY, ParameterError, get_strategy

H = HOLD


def test_sma_matches_the_textbook_definition() -> None:
    values = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    np.testing.assert_allclose(sma(values, 3), [np.nan, np.nan, 2, 3, 4, 5])


def test_sma_matches_pandas_rolling_mean_over_a_long_series() -> None:
    values = simulated_bars("BTCUSD", 3, 5000, 3600, 60)["close"]
    for window in (2, 17, 200):
        expected = pd.Series(values).rolling(window).mean().to_numpy()
        np.testing.assert_allclose(sma(values, window), expected, rtol=1e-12)


def test_sma_window_longer_than_series_is_all_nan() -> None:
    assert np.isnan(sma(np.ones(3), 5)).all()


def test_crossover_signals_mark_only_strict_crossings() -> None:
    fast = np.array([np.nan, 1.0, 3.0, 3.0, 1.0, 2.0, 3.0])
    slow = np.array([np.nan, 2.0, 2.0, 3.0, 2.0, 2.0, 2.0])
    # i=2 crosses up; i=3 touches; i=4 falls below from equal, i=6 rises from equal:
    # a cross needs strict inequality on both bars, so only i=2 counts.
    np.testing.assert_array_equal(crossover_signals(fast, slow), [H, H, LONG, H, H, H, H])
    np.testing.assert_array_equal(
        crossover_signals(np.array([3.0, 1.0]), np.full(2, 2.0)), [H, SHORT]
    )


def reference_backtest(open_, close, signals, cash, fraction, commission):
    """A plain-Python restatement of the documented conventions, written independently:
    a signal that differs from the position is one market order at the next open."""
    units, position, trades, order = 0, 0, 0, None
    curve = []
    for i in range(len(close)):
        if order is not None:
            if position:
                proceeds = units * open_[i]
                cash += proceeds - commission * proceeds
                units, position = 0, 0
            if order == 1:
                size = (cash * fraction) // (open_[i] * (1 + commission))
                if size > 0:
                    cost = size * open_[i]
                    cash -= cost + commission * cost
                    units, position, trades = size, 1, trades + 1
            order = None
        curve.append(cash + units * close[i])
        if signals[i] != HOLD:
            wanted = 1 if signals[i] == LONG else 0
            if wanted != position:
                order = wanted
    return np.array(curve), trades


def test_backtest_equity_on_a_hand_checked_example() -> None:
    open_ = np.array([10.0, 10.0, 11.0, 12.0, 13.0])
    close = np.array([10.0, 11.0, 12.0, 13.0, 12.0])
    signals = np.array([LONG, H, H, FLAT, H], dtype=np.int8)
    bars = {
        "open": open_,
        "high": np.maximum(open_, close),
        "low": np.minimum(open_, close),
        "close": close,
    }
    equity, *_, trades = run_kernel(bars, signals, BacktestConfig(cash=100.0))
    # bar0: LONG at the close -> bar1 opens at 10: buys 10 units, cash 0; closes at 11 -> 110
    # bar2 close 12 -> 120; bar3 close 13 -> 130 (FLAT signalled); bar4 sells at open 13 -> 130
    np.testing.assert_allclose(equity, [100, 110, 120, 130, 130])
    assert trades == 1


@pytest.mark.parametrize("commission", [0.0, 0.001])
@pytest.mark.parametrize(("fast", "slow"), [(5, 20), (10, 30), (20, 100)])
def test_backtest_kernel_matches_the_reference(commission: float, fast: int, slow: int) -> None:
    bars = simulated_bars("ETHUSD", 21, 4000, 3600, 60)
    strategy = get_strategy("sma_cross")
    signals = strategy.signals(bars, {"fast": fast, "slow": slow})
    config = BacktestConfig(cash=50_000.0, size=0.9, commission=commission)
    equity, *_, trades = run_kernel(bars, signals, config)
    ref_equity, ref_trades = reference_backtest(
        bars["open"], bars["close"], signals, 50_000.0, 0.9, commission
    )
    assert trades == ref_trades > 3
    np.testing.assert_allclose(equity, ref_equity, rtol=1e-12)


def test_equity_metrics_against_pandas() -> None:
    equity = np.array([100.0, 110.0, 99.0, 120.0, 90.0, 95.0])
    total_return, max_drawdown, sharpe = equity_metrics(equity, 100.0, 252.0)
    returns = pd.Series(np.concatenate(([100.0], equity))).pct_change().dropna()
    assert total_return == pytest.approx(-0.05)
    assert max_drawdown == pytest.approx(1 - 90 / 120)
    assert sharpe == pytest.approx(returns.mean() / returns.std() * math.sqrt(252))


def test_metrics_of_a_strategy_that_never_trades_are_flat() -> None:
    bars = simulated_bars("SPY", 1, 50, 3600, 60)
    signals = np.full(50, HOLD, dtype=np.int8)
    equity, index, price, numbers, count = run_kernel(bars, signals, BacktestConfig(cash=1000.0))
    values = as_dict(metrics_kernel(equity, 1000.0, 1.0, 252.0, index, price, numbers, count))
    assert values["equity_final"] == 1000
    assert all(values[name] == 0 for name in values if name != "equity_final")


def test_strategy_parameters_are_validated() -> None:
    strategy = get_strategy("sma_cross")
    assert strategy.resolve({"fast": "7"}) == {"fast": 7, "slow": 30}
    with pytest.raises(ParameterError, match="fast < slow"):
        strategy.resolve({"fast": 40, "slow": 30})
    with pytest.raises(ParameterError, match="outside"):
        strategy.resolve({"fast": 1})
    with pytest.raises(ParameterError, match="whole number"):
        strategy.resolve({"fast": 7.5})
    with pytest.raises(ParameterError, match="no parameter 'speed'"):
        strategy.resolve({"speed": 3})


def test_every_registered_strategy_is_complete() -> None:
    for strategy in REGISTRY.values():
        assert strategy.id.isidentifier() and strategy.id.islower()
        assert strategy.description and strategy.params
        assert strategy.lookback(strategy.defaults()) >= 1


def test_every_metric_matches_an_independent_pandas_computation() -> None:
    from core.market.history import periods_per_year
    from core.research.runner import run_backtest

    bars = simulated_bars("SPY", 5, 3000, 86_400, 60)
    result = run_backtest(
        get_strategy("sma_cross"), bars, {"fast": 5, "slow": 20},
        BacktestConfig(cash=10_000.0, commission=0.001),
    )  # fmt: skip
    m = result.metrics
    ppy = periods_per_year(bars["ts"])
    years = (bars["ts"][-1] - bars["ts"][0]) / (365.25 * 86_400)
    equity = pd.Series(result.equity)
    returns = pd.concat([pd.Series([10_000.0]), equity]).pct_change().dropna()
    closed = [t for t in result.trades if t.exit_time is not None]
    pnls = pd.Series([t.pnl for t in closed])
    rets = pd.Series([t.return_pct for t in closed])
    held = sum(t.bars_held for t in closed) + sum(
        t.bars_held + 1 for t in result.trades if t.exit_time is None
    )
    cagr = (equity.iloc[-1] / 10_000) ** (1 / years) - 1
    drawdown = (1 - equity / np.maximum.accumulate(np.r_[10_000.0, equity])[1:]).max()
    expected = {
        "total_return": equity.iloc[-1] / 10_000 - 1,
        "cagr": cagr,
        "volatility": returns.std() * math.sqrt(ppy),
        "sharpe": returns.mean() / returns.std() * math.sqrt(ppy),
        "sortino": returns.mean() / math.sqrt((returns.clip(upper=0) ** 2).mean()) * math.sqrt(ppy),
        "max_drawdown": drawdown,
        "calmar": cagr / drawdown,
        "win_rate": (pnls > 0).mean(),
        "profit_factor": pnls[pnls > 0].sum() / -pnls[pnls < 0].sum(),
        "trades": len(closed),
        "exposure": held / len(equity),
        "avg_trade": rets.mean(),
        "best_trade": rets.max(),
        "worst_trade": rets.min(),
        "sqn": math.sqrt(len(pnls)) * pnls.mean() / pnls.std(),
        "equity_final": equity.iloc[-1],
    }
    assert len(closed) > 20
    for name, value in expected.items():
        assert m[name] == pytest.approx(value, rel=1e-9), name
