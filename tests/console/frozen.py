"""A console with everything that moves held still, for snapshot tests.

The Deck is built but not started (no simulator, no jobs, no probes), the
clock is pinned to ``FROZEN_TS``, and ``publish_scenario`` puts one fixed
set of events on the bus so every pane has something real to draw.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

from checks import ReadinessService
from console.app import QuarterdeckApp
from core.access import Principal, Role
from core.config import Settings
from core.deck import Deck
from core.events import (
    AlertKind,
    FeedAlert,
    FeedState,
    FeedStatus,
    Fill,
    HealthSnapshot,
    JobPriority,
    JobState,
    JobUpdate,
    LimitUsage,
    PortfolioSnapshot,
    PositionView,
    RiskSnapshot,
    RiskState,
    Side,
)
from core.preferences import Preferences
from core.trading.orders import OrderEvent, OrderRequest, OrderStatus, OrderType
from core.trading.risk import RiskEvent
from themes import DEFAULT_THEME

FROZEN_TS = 1_795_435_200.0  # 2026-11-23 12:00:00 UTC
SIZES = {"wide": (120, 40), "small": (80, 24)}
SNAPSHOT_THEMES = (DEFAULT_THEME, "quarterdeck-high-contrast")


def frozen_app(
    data_dir: Path, *, theme: str = DEFAULT_THEME, role: Role = Role.ADMIN, user: str = "alice"
) -> QuarterdeckApp:
    settings = Settings(
        data_dir=data_dir,
        keymap_file=data_dir / "keymap.toml",
        demo_job=False,
        sim_symbols=["BTCUSD", "ETHUSD", "SPY", "EURUSD"],
    )
    Preferences(settings.preferences_dir).set(user, "theme", theme)
    deck = Deck(settings)
    deck.run_id = "frozen"
    # A built-in's version is the hash of its module: pinned, so editing it moves no pixel.
    for at, spec in enumerate(deck.engine.specs):
        pinned = replace(spec, strategy=replace(spec.strategy, version="0123456789ab"))
        deck.engine.specs[at] = deck.engine.specs_by_id[spec.strategy.id] = pinned
    readiness = ReadinessService(deck)
    deck.add_service(readiness)
    return QuarterdeckApp(
        deck, readiness, user=Principal(user, role), clock=lambda: FROZEN_TS, start_deck=False
    )


def publish_scenario(deck: Deck) -> None:
    """One account with two hours of equity behind it and two positions, its orders and
    fills, three jobs, a feed, a feed alert and a risk breach, all up to ``FROZEN_TS``."""
    ts = FROZEN_TS
    positions = (
        PositionView("BTCUSD", 1.5, 64_000.0, 65_250.5, 1_875.75, 420.0),
        PositionView("SPY", -200.0, 512.25, 515.0, -550.0, -35.5),
    )
    final = PortfolioSnapshot(
        ts, cash=905_212.4, equity=1_001_710.25, starting_equity=1_000_000.0,
        realized_pnl=384.5, unrealized_pnl=1_325.75, commissions=112.3,
        peak_equity=1_002_400.0, fills=42, positions=positions, day_start_equity=1_000_500.0,
    )  # fmt: skip
    ledger = replace(final, name="sma_cross", positions=(), day_start_equity=None)
    final = replace(final, strategies=(ledger,))
    for minute in range(EQUITY_MINUTES, 0, -1):  # a fixed curve: a rise, a dip, a recovery
        equity = 1_000_000.0 + 1_700.0 * math.sin(minute / 19.0) ** 2 + 4.0 * (120 - minute)
        deck.bus.publish(replace(final, ts=ts - 60.0 * minute, equity=round(equity, 2)))
    deck.bus.publish(final)
    deck.bus.publish(
        RiskSnapshot(
            ts, RiskState.ACTIVE,
            (
                LimitUsage("order notional", 48_000.0, 100_000.0, "largest today"),
                LimitUsage("position notional", 97_875.75, 120_000.0, "BTCUSD"),
                LimitUsage("open orders", 1, 1_000),
                LimitUsage("daily loss", 0.0, 25_000.0),
                LimitUsage("drawdown", 0.00069, 0.05),
            ),
        )
    )  # fmt: skip
    for event in trading_events(ts):
        deck.bus.publish(event)
    jobs = (
        JobUpdate(1, "optimize", "optimize sma_cross on sim:SPY", JobState.RUNNING,
                  6_144, 16_384, 2_480.0, 4.1, priority=JobPriority.HIGH),
        JobUpdate(2, "backtest", "backtest rsi_reversion on sim:BTCUSD", JobState.DONE,
                  1, 1, 0.0, None, summary="return +3.21% · sharpe 1.42 · 18 trades"),
        JobUpdate(3, "walk_forward", "walk-forward ema_cross on sim:ETHUSD", JobState.QUEUED,
                  0, 6, 0.0, None),
    )  # fmt: skip
    for job in jobs:
        deck.bus.publish(job)
    feed = FeedStatus("simulator", FeedState.LIVE, 120_000, 400.0, 0.01, dropped=3)
    alert = FeedAlert("simulator", AlertKind.SPIKE, "BTCUSD +9.8% in one tick", ts, "BTCUSD")
    deck.bus.publish(
        HealthSnapshot(ts, 12.5, 187_000_000, 1.4, 0.8, 3.2, feeds=(feed,), alerts=(alert,))
    )


EQUITY_MINUTES = 120


def trading_events(ts: float) -> list[object]:
    """Two fills, a resting limit order, a rejected order and a cancelled one, and a
    kill-switch drill with its reset."""
    buy = OrderRequest("sma_cross", "BTCUSD", Side.BUY, 1.5)
    sell = OrderRequest("sma_cross", "SPY", Side.SELL, 200.0)
    limit = OrderRequest("sma_cross", "ETHUSD", Side.BUY, 4.0, OrderType.LIMIT, 3_050.0)
    big = OrderRequest("sma_cross", "EURUSD", Side.BUY, 2_000_000.0)
    stale = OrderRequest("sma_cross", "SPY", Side.BUY, 50.0, OrderType.LIMIT, 505.0)
    return [
        OrderEvent("accepted", 7, buy, ts - 3_600, OrderStatus.ACCEPTED, 0.0),
        OrderEvent("filled", 7, buy, ts - 3_600, OrderStatus.FILLED, 1.5),
        Fill(11, 7, "sma_cross", "BTCUSD", Side.BUY, 1.5, 64_000.0, 96.0, ts - 3_600),
        OrderEvent("accepted", 8, sell, ts - 1_800, OrderStatus.ACCEPTED, 0.0),
        OrderEvent("filled", 8, sell, ts - 1_800, OrderStatus.FILLED, 200.0),
        Fill(12, 8, "sma_cross", "SPY", Side.SELL, 200.0, 512.25, 16.3, ts - 1_800),
        OrderEvent("accepted", 9, stale, ts - 900, OrderStatus.ACCEPTED, 0.0),
        OrderEvent("cancelled", 9, stale, ts - 600, OrderStatus.CANCELLED, 0.0,
                   "cancelled by bob: stale"),
        OrderEvent("rejected", 10, big, ts - 300, OrderStatus.REJECTED, 0.0,
                   "risk: order notional 2,160,000.00 exceeds 100,000.00"),
        OrderEvent("accepted", 11, limit, ts - 120, OrderStatus.ACCEPTED, 0.0),
        RiskEvent(ts - 2_400, "kill", RiskState.ACTIVE, RiskState.HALTED, "alice", "drill",
                  at=FROZEN_TS),
        RiskEvent(ts - 2_300, "reset", RiskState.HALTED, RiskState.ACTIVE, "alice", "drill over",
                  at=FROZEN_TS),
    ]  # fmt: skip
