"""Replaying a history through the live engine and paper broker gives the backtest's trades."""

from __future__ import annotations

import pytest
from backtesting.test import GOOG

from core.research.backtest import BacktestConfig
from core.research.runner import run_backtest
from core.research.strategies import Direction, get_strategy
from core.trading.fill_model import FillModel
from core.trading.replay import replay_history
from tests.core.data import bars_from

BARS = bars_from(GOOG)
CASES = [
    # one of each family and shape: windowed and recursive, long-only and both sides,
    # exit codes, time exits
    "sma_cross", "ema_cross", "rsi_reversion", "donchian_breakout", "supertrend",
    "bollinger_breakout", "obv_cross", "engulfing", "nr7", "ichimoku",
]  # fmt: skip


@pytest.mark.parametrize("units", ["whole", "fractional"])
@pytest.mark.parametrize("strategy_id", CASES)
def test_replay_equals_the_backtest_trade_for_trade(strategy_id: str, units: str) -> None:
    strategy = get_strategy(strategy_id)
    costs = {"commission": 0.001, "fixed_fee": 1.0, "slippage_bps": 5.0}
    backtest = run_backtest(
        strategy, BARS, config=BacktestConfig(cash=50_000, size=0.8, units=units, **costs)
    )
    replay = replay_history(
        strategy, BARS, cash=50_000, size=0.8, fill_model=FillModel(**costs),
        whole_units=units == "whole",
    )  # fmt: skip
    assert len(replay.trades) == len(backtest.trades) > 3
    for ours, theirs in zip(replay.trades, backtest.trades, strict=True):
        assert ours.entry_time == theirs.entry_time and ours.exit_time == theirs.exit_time
        assert ours.size == theirs.size and ours.bars_held == theirs.bars_held
        assert ours.entry_price == pytest.approx(theirs.entry_price, rel=1e-12)
        assert ours.pnl == pytest.approx(theirs.pnl, rel=1e-9, abs=1e-9)
    assert replay.portfolio.equity == pytest.approx(backtest.metrics["equity_final"], rel=1e-9)


@pytest.mark.parametrize("direction", list(Direction))
@pytest.mark.parametrize("strategy_id", ["sma_cross", "rsi_reversion", "donchian_breakout"])
def test_replay_trades_the_chosen_sides_as_the_backtest_does(
    strategy_id: str, direction: Direction
) -> None:
    strategy = get_strategy(strategy_id)
    backtest = run_backtest(strategy, BARS, config=BacktestConfig(direction=direction))
    replay = replay_history(strategy, BARS, direction=direction)
    assert [(t.entry_time, t.size, t.exit_time) for t in replay.trades] == [
        (t.entry_time, t.size, t.exit_time) for t in backtest.trades
    ]
    expected = {Direction.LONG: {"long"}, Direction.SHORT: {"short"}}
    sides = {"long" if t.size > 0 else "short" for t in replay.trades}
    assert sides == expected.get(direction, {"long", "short"})


@pytest.mark.parametrize("stop_after", [1, 37, 38, 500, 1203, len(BARS["ts"]) - 1])
def test_a_journaled_replay_resumes_to_the_same_end(tmp_path, stop_after: int) -> None:
    """Stop after some bars (the journal holds what was committed), run again over the
    whole file from the same journal: the result equals one uninterrupted run."""
    from core.store import Store
    from core.trading.journal import Journal

    store = Store(f"sqlite:///{tmp_path / 'journal.db'}")
    store.create_schema()
    strategy = get_strategy("supertrend")
    settings = {"fill_model": FillModel(commission=0.001), "cash": 50_000}
    whole = replay_history(strategy, BARS, **settings)
    part = {k: v[:stop_after] for k, v in BARS.items()}
    replay_history(strategy, part, journal=Journal(store, "r"), commit_every=7, **settings)
    resumed = replay_history(strategy, BARS, journal=Journal(store, "r"), commit_every=7,
                             **settings)  # fmt: skip
    assert (
        resumed.resumed_from is not None and resumed.resumed_from.ts == BARS["ts"][stop_after - 1]
    )
    assert [(f.fill_id, f.order_id, f.price, f.quantity) for f in resumed.fills] == [
        (f.fill_id, f.order_id, f.price, f.quantity) for f in whole.fills
    ]
    assert resumed.trades == whole.trades
    assert resumed.portfolio.equity == whole.portfolio.equity
    assert resumed.portfolio.cash == whole.portfolio.cash
