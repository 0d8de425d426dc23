"""Replay a bar history through the live engine and paper broker, as fast as possible.

Each bar reaches the engine as the feeds deliver it: a tick at its open (where
orders from the previous close fill), then the closed bar (where the strategy
decides). With the same settings the trades equal the backtest's.

With a journal the replay is crash-safe: every ``commit_every`` market events
the engine's journal entries and a cursor (the last event handled) are
committed in one transaction. Run again after a crash, it recovers the state
the journal implies, warms the indicators on the bars before the cursor
without trading, and carries on from the event after it, to the same end as a
run that was never interrupted.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.bus import Bus
from core.events import Bar, Fill, PortfolioSnapshot, Tick
from core.market.history import Bars
from core.research.runner import Trade
from core.research.strategies import Direction, Params, Strategy
from core.trading.engine import LiveEngine, StrategySpec
from core.trading.fill_model import FillModel
from core.trading.journal import Cursor, Journal, recover


@dataclass(frozen=True)
class ReplayResult:
    fills: list[Fill]
    trades: list[Trade]
    portfolio: PortfolioSnapshot
    resumed_from: Cursor | None = None


def replay_history(
    strategy: Strategy,
    bars: Bars,
    params: Params | None = None,
    *,
    symbol: str = "DATA",
    cash: float = 100_000.0,
    size: float = 1.0,
    fill_model: FillModel | None = None,
    whole_units: bool = True,
    direction: Direction | None = None,
    journal: Journal | None = None,
    commit_every: int = 200,
) -> ReplayResult:
    bus = Bus()
    fills = bus.subscribe(Fill)
    spec = StrategySpec(strategy, params or {}, (symbol,), cash, size, whole_units, direction)
    engine = LiveEngine(bus, [spec], run_id="replay", fill_model=fill_model, journal=journal)
    earlier: list[Fill] = []
    cursor = None
    if journal is not None:
        recovered = recover(journal.read(), cash)
        engine.restore(recovered)
        earlier, cursor = recovered.fills, recovered.cursors.get(symbol)
    handled = 0
    columns = [bars[k].tolist() for k in ("ts", "open", "high", "low", "close", "volume")]
    for ts, o, h, lo, c, v in zip(*columns, strict=True):
        bar = Bar(symbol, ts, o, h, lo, c, v)
        if cursor is not None and ts < cursor.ts:
            engine.warm(bar)
            continue
        for event, name in ((Tick(symbol, ts, o, 0.0), "tick"), (bar, "bar")):
            if name == "tick" and cursor is not None and ts == cursor.ts:
                # Handled before the crash; its bar is handled (again) next, which
                # rebuilds the signal a "bar" cursor took but had no reason to journal.
                continue
            engine.handle(event)
            handled += 1
            if journal is not None and handled % commit_every == 0:
                journal.record(Cursor(symbol, ts, name))
                journal.commit()
    if journal is not None and len(bars["ts"]):
        journal.record(Cursor(symbol, float(bars["ts"][-1]), "bar"))
        journal.commit()
    if len(bars["close"]):
        engine.portfolio.mark(symbol, float(bars["close"][-1]), float(bars["ts"][-1]))
    engine.publish()
    done = earlier + fills.drain()
    return ReplayResult(done, trades_from_fills(done, bars), engine.portfolio.snapshot(), cursor)


def trades_from_fills(fills: list[Fill], bars: Bars) -> list[Trade]:
    """Round trips of one symbol's fills (each entry closed in full by a later fill),
    in the backtest's ``Trade`` shape; an open trade is marked at the last close."""
    ts = bars["ts"]
    index = {float(t): i for i, t in enumerate(ts.tolist())}
    last_close, last = float(bars["close"][-1]), len(ts) - 1
    trades: list[Trade] = []
    entry: Fill | None = None
    for fill in fills:
        if entry is None:
            entry = fill
            continue
        units = entry.side.sign * entry.quantity
        pnl = units * (fill.price - entry.price) - entry.commission - fill.commission
        trades.append(
            _trade(entry, units, pnl, fill.ts, fill.price, index[fill.ts] - index[entry.ts])
        )
        entry = None
    if entry is not None:
        units = entry.side.sign * entry.quantity
        pnl = units * (last_close - entry.price) - entry.commission
        trades.append(_trade(entry, units, pnl, None, None, last - index[entry.ts]))
    return trades


def _trade(entry: Fill, units: float, pnl: float, exit_ts, exit_price, held: int) -> Trade:
    return Trade(
        entry_time=entry.ts, exit_time=exit_ts, entry_price=entry.price, exit_price=exit_price,
        size=units, pnl=pnl, return_pct=pnl / abs(units * entry.price), bars_held=held,
    )  # fmt: skip
