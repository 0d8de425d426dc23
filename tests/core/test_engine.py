"""The live engine against the backtest kernel, with several strategies, risk and journaling."""

import numpy as np
import pytest
from sqlmodel import select

from core.bus import Bus
from core.events import Bar, Fill, RiskSnapshot, Tick
from core.market.history import simulated_bars
from core.research.backtest import BacktestConfig, run_kernel
from core.research.strategies import get_strategy
from core.store import BatchWriter, FillRow, JournalRow, Store
from core.trading.engine import LiveEngine, StrategySpec
from core.trading.fill_model import FillModel
from core.trading.journal import Journal
from core.trading.orders import OrderEvent
from core.trading.risk import RiskLimits


def spec(strategy_id: str, params: dict, symbols: tuple[str, ...], cash: float,
         fraction: float = 1.0) -> StrategySpec:  # fmt: skip
    return StrategySpec(get_strategy(strategy_id), params, symbols, cash, fraction)


def feed(engine: LiveEngine, symbol: str, bars: dict[str, np.ndarray]) -> None:
    """Drive the engine the way the feeds do: each bar's opening tick, then the bar
    itself once it closed. The book is then marked at the last close (directly: a
    tick would act as the open of a bar the backtest does not have)."""
    for i in range(len(bars["close"])):
        row = {k: float(v[i]) for k, v in bars.items()}
        engine.handle(Tick(symbol, row["ts"], row["open"], 1.0))
        engine.handle(Bar(symbol, row["ts"], row["open"], row["high"], row["low"], row["close"],
                          row["volume"]))  # fmt: skip
    engine.portfolio.mark(symbol, float(bars["close"][-1]), float(bars["ts"][-1]))


def as_bar_events(symbol: str, bars: dict[str, np.ndarray]) -> list:
    events = []
    for i in range(len(bars["close"])):
        o, h, lo, c, v = (float(bars[k][i]) for k in ("open", "high", "low", "close", "volume"))
        ts = float(bars["ts"][i])
        events += [Tick(symbol, ts, o, 1.0), Bar(symbol, ts, o, h, lo, c, v)]
    return events


@pytest.mark.parametrize(
    ("fast", "slow", "commission"), [(5, 20, 0.0), (10, 30, 0.001), (3, 50, 0.0005)]
)
def test_replaying_history_through_the_engine_gives_the_backtest(
    fast: int, slow: int, commission: float
) -> None:
    bars = simulated_bars("BTCUSD", 17, 3000, 3600, 60)
    bus = Bus()
    fills = bus.subscribe(Fill)
    params = {"fast": fast, "slow": slow}
    engine = LiveEngine(bus, [spec("sma_cross", params, ("BTCUSD",), 100_000.0, 0.9)],
                        run_id="t", fill_model=FillModel(commission))  # fmt: skip
    feed(engine, "BTCUSD", bars)
    engine.publish()
    signals = get_strategy("sma_cross").signals(bars, params)
    config = BacktestConfig(cash=100_000.0, size=0.9, commission=commission)
    equity, _, _, _, trades = run_kernel(bars, signals, config)
    published = fills.drain()
    buys = [f for f in published if f.side == "buy"]
    assert len(buys) == trades > 5
    assert engine.portfolio.equity == pytest.approx(equity[-1], rel=1e-9)
    opens = set(bars["open"].tolist())  # every fill happened at a bar's open
    assert all(f.price in opens for f in published)


@pytest.mark.parametrize(
    "strategy_id", ["ema_cross", "rsi_reversion", "macd_signal", "bollinger_breakout", "engulfing"]
)
def test_replay_matches_the_backtest_for_recursive_and_exit_aware_rules(strategy_id: str) -> None:
    bars = simulated_bars("ETHUSD", 23, 2500, 3600, 60)
    bus = Bus()
    fills = bus.subscribe(Fill)
    strategy = get_strategy(strategy_id)
    engine = LiveEngine(bus, [spec(strategy_id, {}, ("ETHUSD",), 100_000.0)], run_id="t",
                        fill_model=FillModel(0.001))  # fmt: skip
    feed(engine, "ETHUSD", bars)
    engine.publish()
    signals = strategy.signals(bars, strategy.defaults())
    equity, _, _, _, trades = run_kernel(bars, signals, BacktestConfig(commission=0.001))
    buys = [f for f in fills.drain() if f.side == "buy"]
    assert len(buys) == trades > 3
    assert engine.portfolio.equity == pytest.approx(equity[-1], rel=1e-9)


def test_several_strategies_share_the_account_each_as_its_own_backtest() -> None:
    """Two strategies, one of them on two symbols, interleaved bar by bar: every book
    ends where a backtest of it alone ends, and the account is their sum."""
    a = simulated_bars("A", 5, 800, 3600, 60)
    b = simulated_bars("B", 6, 800, 3600, 60)
    engine = LiveEngine(
        Bus(),
        [spec("sma_cross", {"fast": 5, "slow": 20}, ("A", "B"), 60_000.0),
         spec("rsi_reversion", {}, ("B",), 40_000.0)],
        run_id="t", fill_model=FillModel(0.001),
    )  # fmt: skip
    for event_a, event_b in zip(as_bar_events("A", a), as_bar_events("B", b), strict=True):
        engine.handle(event_a)
        engine.handle(event_b)
    expected_total = 0.0
    for strategy_id, symbol, bars, cash in [
        ("sma_cross", "A", a, 30_000.0), ("sma_cross", "B", b, 30_000.0),
        ("rsi_reversion", "B", b, 40_000.0),
    ]:  # fmt: skip
        strategy = get_strategy(strategy_id)
        params = engine.books[strategy_id, symbol].params
        signals = strategy.signals(bars, params)
        equity, *_ = run_kernel(bars, signals, BacktestConfig(cash=cash, commission=0.001))
        book = engine.books[strategy_id, symbol]
        assert book.cash + book.units * bars["close"][-1] == pytest.approx(equity[-1], rel=1e-9)
        expected_total += equity[-1]
    for symbol, bars in (("A", a), ("B", b)):
        engine.portfolio.mark(symbol, float(bars["close"][-1]), 0.0)
        engine.ledgers["sma_cross"].mark(symbol, float(bars["close"][-1]), 0.0)
    assert engine.portfolio.equity == pytest.approx(expected_total, rel=1e-9)
    sma_books = engine.books["sma_cross", "A"], engine.books["sma_cross", "B"]
    sma_equity = sum(
        bk.cash + bk.units * bars["close"][-1] for bk, bars in zip(sma_books, (a, b), strict=True)
    )
    assert engine.ledgers["sma_cross"].equity == pytest.approx(sma_equity, rel=1e-9)
    snapshot = engine.snapshot()
    assert snapshot.name == "account"
    by_name = {ledger.name: ledger for ledger in snapshot.strategies}
    assert set(by_name) == {"sma_cross", "rsi_reversion"}
    assert by_name["sma_cross"].equity == pytest.approx(sma_equity, rel=1e-9)
    assert by_name["sma_cross"].fills + by_name["rsi_reversion"].fills == snapshot.fills
    assert by_name["rsi_reversion"].starting_equity == 40_000.0


def test_risk_limits_reject_the_engines_orders_and_say_why() -> None:
    bars = simulated_bars("A", 5, 600, 3600, 60)
    bus = Bus()
    orders = bus.subscribe(OrderEvent)
    risk_snapshots = bus.subscribe(RiskSnapshot)
    limits = RiskLimits(max_position_notional=50_000.0)
    engine = LiveEngine(bus, [spec("sma_cross", {"fast": 5, "slow": 20}, ("A",), 100_000.0)],
                        run_id="t", risk_limits=limits)  # fmt: skip
    feed(engine, "A", bars)
    engine.publish()
    rejected = [e for e in orders.drain() if e.kind == "rejected"]
    assert rejected and all("over the 50000.00 limit for A" in e.reason for e in rejected)
    assert engine.portfolio.fills == 0
    risk = {u.name: u for u in risk_snapshots.drain()[-1].limits}
    assert risk["position notional"].limit == 50_000.0
    assert risk["position notional"].used == 0.0  # nothing got through
    assert risk["order notional"].used == 0.0


def test_the_risk_snapshot_shows_the_largest_position_against_its_limit() -> None:
    bars = simulated_bars("A", 5, 600, 3600, 60)
    bus = Bus()
    risk_snapshots = bus.subscribe(RiskSnapshot)
    limits = RiskLimits(max_position_notional=500_000.0)
    engine = LiveEngine(bus, [spec("sma_cross", {"fast": 5, "slow": 20}, ("A",), 100_000.0)],
                        run_id="t", risk_limits=limits)  # fmt: skip
    for event in as_bar_events("A", bars):  # up to the first entry's fill
        engine.handle(event)
        if engine.portfolio.fills:
            break
    engine.publish()
    position = engine.portfolio.positions["A"]
    risk = {u.name: u for u in risk_snapshots.drain()[-1].limits}
    assert position.quantity != 0
    assert risk["position notional"].used == pytest.approx(
        abs(position.quantity) * position.last_price
    )
    assert risk["position notional"].detail == "A"
    assert 0 < risk["position notional"].fraction < 1
    assert risk["order notional"].used > 0


async def test_fills_are_journaled_before_they_are_published(tmp_path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'q.db'}")
    store.create_schema()
    writer = BatchWriter(store)
    writer.start()
    bus = Bus()
    fills = bus.subscribe(Fill)
    engine = LiveEngine(
        bus, [spec("sma_cross", {"fast": 5, "slow": 20}, ("BTCUSD",), 100_000.0, 0.9)],
        run_id="run-1", fill_model=FillModel(0.001), writer=writer,
        journal=Journal(store, "run-1"),
    )  # fmt: skip
    engine.start()
    bars = simulated_bars("BTCUSD", 17, 600, 3600, 60)
    for event in as_bar_events("BTCUSD", bars):
        bus.publish(event)
    journaled_before_seen = []
    while (
        engine.events < 2 * len(bars["close"])
        or len(journaled_before_seen) < engine.portfolio.fills
    ):
        await fills.wait()
        for fill in fills.drain():  # every fill we see is already in the journal
            with store.session() as session:
                rows = session.exec(select(JournalRow).where(JournalRow.kind == "fill")).all()
            marker = f'"fill_id":{fill.fill_id},'
            journaled_before_seen.append(any(marker in r.payload_json for r in rows))
    await engine.stop()
    await writer.stop()
    assert journaled_before_seen and all(journaled_before_seen)
    with store.session() as session:
        rows = session.exec(select(FillRow).order_by(FillRow.fill_id)).all()
    assert len(rows) == engine.portfolio.fills > 0
    assert {r.run_id for r in rows} == {"run-1"}
    cash = 100_000.0 - sum(
        (1 if r.side == "buy" else -1) * r.quantity * r.price + r.commission for r in rows
    )
    assert engine.portfolio.cash == pytest.approx(cash)
