"""One definition of every figure, and the figures add up: total PnL is realized plus
unrealized (at the market prices met) less fees (commissions and slippage); it equals
equity less the starting cash; and the strategies' figures sum to the account's, to the
cent, through netting, slippage, orders no strategy placed and the kill switch."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.bus import Bus
from core.events import PortfolioSnapshot, Side, Tick
from core.research.strategies import get_strategy
from core.trading.engine import LiveEngine, StrategySpec
from core.trading.fill_model import FillModel
from core.trading.orders import OrderRequest

CENT = 0.005
SPECS = [
    StrategySpec(get_strategy("sma_cross"), {"fast": 2, "slow": 5}, ("SPY", "QQQ"), 60_000.0),
    StrategySpec(get_strategy("ema_cross"), {"fast": 2, "slow": 5}, ("SPY",), 40_000.0),
]
NAMES = ["sma_cross", "ema_cross", "desk"]  # "desk": orders no live strategy placed


def engine() -> LiveEngine:
    model = FillModel(commission=0.001, fixed_fee=0.5, slippage_bps=7.0)
    return LiveEngine(Bus(), SPECS, run_id="figures", fill_model=model)


def check(snapshot: PortfolioSnapshot) -> None:
    assert snapshot.fees == pytest.approx(snapshot.commissions + snapshot.slippage)
    assert abs(snapshot.total_pnl - (snapshot.equity - snapshot.starting_equity)) < CENT
    parts = snapshot.strategies
    assert abs(sum(p.total_pnl for p in parts) - snapshot.total_pnl) < CENT
    assert abs(sum(p.fees for p in parts) - snapshot.fees) < CENT


trade = st.tuples(
    st.sampled_from(NAMES),
    st.sampled_from(["SPY", "QQQ"]),
    st.sampled_from([Side.BUY, Side.SELL]),
    st.integers(1, 50),
    st.floats(-2.0, 2.0, allow_nan=False),
)
trades = st.lists(trade, min_size=1, max_size=40)


@settings(max_examples=150, deadline=None)
@given(trades, st.booleans())
def test_the_figures_add_up_whatever_is_traded(history: list, kill: bool) -> None:
    e = engine()
    prices = {"SPY": 100.0, "QQQ": 50.0}
    ts = 0.0
    for name, symbol, side, quantity, move in history:
        ts += 1.0
        prices[symbol] = max(1.0, prices[symbol] + move)
        tick = Tick(symbol, ts, prices[symbol], 1.0)
        e.handle(tick)
        e.execution.execute_now(OrderRequest(name, symbol, side, float(quantity)), tick)
        check(e.snapshot())
    if kill:
        asyncio.run(e.kill("olga", "figures"))
        for symbol in prices:
            ts += 1.0
            e.handle(Tick(symbol, ts, prices[symbol] + 1.0, 1.0))
        snapshot = e.snapshot()
        check(snapshot)
        assert all(not p.quantity for p in snapshot.positions)
        for ledger in snapshot.strategies:  # every strategy's own ledger is flat too
            assert all(not p.quantity for p in ledger.positions), ledger.name


def test_fees_count_slippage_and_realized_is_before_costs() -> None:
    e = engine()
    e.handle(Tick("SPY", 1.0, 100.0, 1.0))
    e.execution.execute_now(OrderRequest("sma_cross", "SPY", Side.BUY, 10.0),
                            Tick("SPY", 1.0, 100.0, 1.0))  # fmt: skip
    e.handle(Tick("SPY", 2.0, 110.0, 1.0))
    e.execution.execute_now(OrderRequest("sma_cross", "SPY", Side.SELL, 10.0),
                            Tick("SPY", 2.0, 110.0, 1.0))  # fmt: skip
    s = e.snapshot()
    assert s.realized_pnl == pytest.approx(100.0)  # 10 x (110 - 100), before any cost
    slippage = 10 * 100.0 * 7e-4 + 10 * 110.0 * 7e-4
    assert s.slippage == pytest.approx(slippage)
    assert s.commissions == pytest.approx(0.001 * 10 * (100.07 + 109.923) + 2 * 0.5)
    assert s.total_pnl == pytest.approx(100.0 - s.commissions - slippage)
    assert s.equity - s.starting_equity == pytest.approx(s.total_pnl)
