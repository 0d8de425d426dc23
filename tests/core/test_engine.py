"""The live engine against the backtest kernel, and its journaling."""

import numpy as np
import pytest
from sqlmodel import select

from core.bus import Bus
from core.events import Bar, Fill, PortfolioSnapshot, Tick
from core.market.history import simulated_bars
from core.research.backtest import BacktestConfig, run_kernel
from core.research.strategies import get_strategy
from core.store import BatchWriter, FillRow, Store
from core.trading.engine import LiveEngine


def replay(engine: LiveEngine, symbol: str, bars: dict[str, np.ndarray]) -> None:
    """Drive the engine the way the simulator feed does: each bar's opening tick,
    then the bar itself once it closed. The book is then marked at the last close
    (directly: a tick would act as the open of a bar the backtest does not have)."""
    for i in range(len(bars["close"])):
        row = {k: float(v[i]) for k, v in bars.items()}
        engine.handle(Tick(symbol, row["ts"], row["open"], 1.0))
        engine.handle(
            Bar(
                symbol, row["ts"], row["open"], row["high"], row["low"], row["close"], row["volume"]
            )
        )
    engine.portfolio.mark(symbol, float(bars["close"][-1]), float(bars["ts"][-1]))


@pytest.mark.parametrize(
    ("fast", "slow", "commission"), [(5, 20, 0.0), (10, 30, 0.001), (3, 50, 0.0005)]
)
def test_replaying_history_through_the_engine_gives_the_backtest(
    fast: int, slow: int, commission: float
) -> None:
    bars = simulated_bars("BTCUSD", 17, 3000, 3600, 60)
    bus = Bus()
    fills = bus.subscribe(Fill)
    strategy = get_strategy("sma_cross")
    engine = LiveEngine(
        bus,
        None,
        strategy,
        {"fast": fast, "slow": slow},
        ["BTCUSD"],
        100_000.0,
        0.9,
        commission,
        "t",
    )
    replay(engine, "BTCUSD", bars)

    signals = strategy.signals(bars, {"fast": fast, "slow": slow})
    config = BacktestConfig(cash=100_000.0, size=0.9, commission=commission)
    equity, _, _, _, trades = run_kernel(bars, signals, config)
    published = fills.drain()
    buys = [f for f in published if f.side == "buy"]
    assert len(buys) == trades > 5
    assert engine.portfolio.equity == pytest.approx(equity[-1], rel=1e-9)
    # every fill happened at a bar's open, as in the backtest
    opens = set(bars["open"].tolist())
    assert all(f.price in opens for f in published)


def test_each_symbol_trades_its_own_share_of_the_cash() -> None:
    bus = Bus()
    engine = LiveEngine(
        bus,
        None,
        get_strategy("sma_cross"),
        {"fast": 5, "slow": 20},
        ["A", "B"],
        100_000.0,
        1.0,
        0.0,
        "t",
    )
    bars = simulated_bars("A", 5, 400, 3600, 60)
    replay(engine, "A", bars)
    assert engine.books["B"].cash == 50_000.0
    book = engine.books["A"]
    signals = get_strategy("sma_cross").signals(bars, {"fast": 5, "slow": 20})
    equity, *_ = run_kernel(bars, signals, BacktestConfig(cash=50_000.0))
    assert book.cash + book.units * bars["close"][-1] == pytest.approx(equity[-1], rel=1e-9)


async def test_fills_are_journaled_and_snapshots_published(tmp_path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'q.db'}")
    store.create_schema()
    writer = BatchWriter(store)
    writer.start()
    bus = Bus()
    snapshots = bus.subscribe(PortfolioSnapshot, latest_only=True)
    engine = LiveEngine(
        bus,
        writer,
        get_strategy("sma_cross"),
        {"fast": 5, "slow": 20},
        ["BTCUSD"],
        100_000.0,
        0.9,
        0.001,
        "run-1",
    )
    engine.start()
    bars = simulated_bars("BTCUSD", 17, 600, 3600, 60)
    for i in range(len(bars["close"])):
        bus.publish(Tick("BTCUSD", bars["ts"][i], bars["open"][i], 1.0))
        bus.publish(
            Bar(
                "BTCUSD",
                bars["ts"][i],
                bars["open"][i],
                bars["high"][i],
                bars["low"][i],
                bars["close"][i],
                bars["volume"][i],
            )
        )
    await snapshots.wait()
    while engine.events < 2 * len(bars["close"]):
        await snapshots.wait()
        snapshots.drain()
    await engine.stop()
    await writer.stop()
    with store.session() as session:
        rows = session.exec(select(FillRow).order_by(FillRow.fill_id)).all()
    assert len(rows) == engine.portfolio.fills > 0
    assert {r.run_id for r in rows} == {"run-1"}
    cash = 100_000.0 - sum(
        (1 if r.side == "buy" else -1) * r.quantity * r.price + r.commission for r in rows
    )
    assert engine.portfolio.cash == pytest.approx(cash)


@pytest.mark.parametrize(
    "strategy_id", ["ema_cross", "rsi_reversion", "macd_signal", "bollinger_breakout", "engulfing"]
)
def test_replay_matches_the_backtest_for_recursive_and_exit_aware_rules(strategy_id: str) -> None:
    bars = simulated_bars("ETHUSD", 23, 2500, 3600, 60)
    bus = Bus()
    fills = bus.subscribe(Fill)
    strategy = get_strategy(strategy_id)
    params = strategy.defaults()
    engine = LiveEngine(bus, None, strategy, params, ["ETHUSD"], 100_000.0, 1.0, 0.001, "t")
    replay(engine, "ETHUSD", bars)
    signals = strategy.signals(bars, params)
    equity, _, _, _, trades = run_kernel(bars, signals, BacktestConfig(commission=0.001))
    buys = [f for f in fills.drain() if f.side == "buy"]
    assert len(buys) == trades > 3
    assert engine.portfolio.equity == pytest.approx(equity[-1], rel=1e-9)
