"""A console with everything that moves held still, for snapshot tests.

The Deck is built but not started (no simulator, no jobs, no probes), the
clock is pinned to ``FROZEN_TS``, and ``publish_scenario`` puts one fixed
set of events on the bus so every pane has something real to draw.
"""

from __future__ import annotations

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
    HealthSnapshot,
    JobPriority,
    JobState,
    JobUpdate,
    LimitUsage,
    PortfolioSnapshot,
    PositionView,
    RiskSnapshot,
    RiskState,
)
from core.preferences import Preferences
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
    readiness = ReadinessService(deck)
    deck.add_service(readiness)
    return QuarterdeckApp(
        deck, readiness, user=Principal(user, role), clock=lambda: FROZEN_TS, start_deck=False
    )


def publish_scenario(deck: Deck) -> None:
    """One account, two positions, three jobs, a feed and an alert, all at ``FROZEN_TS``."""
    ts = FROZEN_TS
    positions = (
        PositionView("BTCUSD", 1.5, 64_000.0, 65_250.5, 1_875.75, 420.0),
        PositionView("SPY", -200.0, 512.25, 515.0, -550.0, -35.5),
    )
    deck.bus.publish(
        PortfolioSnapshot(
            ts, cash=905_212.4, equity=1_001_710.25, starting_equity=1_000_000.0,
            realized_pnl=384.5, unrealized_pnl=1_325.75, commissions=112.3,
            peak_equity=1_002_400.0, fills=42, positions=positions,
        )
    )  # fmt: skip
    deck.bus.publish(
        RiskSnapshot(
            ts, RiskState.ACTIVE,
            (
                LimitUsage("order_notional", 48_000.0, 100_000.0),
                LimitUsage("position_notional", 97_875.75, 120_000.0, "BTCUSD"),
                LimitUsage("daily_loss", 0.0, 25_000.0),
                LimitUsage("drawdown", 0.00069, 0.05),
            ),
        )
    )  # fmt: skip
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
