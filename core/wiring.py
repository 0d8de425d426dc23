"""How the settings become the Deck's running parts: the feed, the live strategies
and the risk limits. Settings are validated already; this only assembles."""

from __future__ import annotations

from core.bus import Bus
from core.config import Settings
from core.health.breaker import BreakerRegistry
from core.market import SimulatorFeed
from core.market.feeds import (
    Adapter,
    BinanceAdapter,
    CoinbaseAdapter,
    FileReplayFeed,
    GenericJsonAdapter,
    QualitySettings,
    Source,
    WebSocketFeed,
)
from core.market.simulator import profile_for
from core.research.strategies import Direction, get_strategy
from core.trading.engine import StrategySpec
from core.trading.instruments import Instrument
from core.trading.risk import RiskLimits

Feed = SimulatorFeed | FileReplayFeed | WebSocketFeed
DEFAULT_DAILY_LOSS = 0.02  # of the starting cash, when no daily loss limit is configured


def make_feed(bus: Bus, s: Settings, breakers: BreakerRegistry | None = None) -> Feed:
    if s.feed == "replay":
        assert s.replay_file is not None  # the settings validate it
        return FileReplayFeed(bus, s.replay_file, s.replay_symbol, speed=s.replay_speed or None)
    if s.feed == "websocket":
        sources = [Source(url, _adapter(venue)) for venue, url in s.sources]
        return WebSocketFeed(
            bus,
            s.sources[0][0],
            s.feed_symbols,
            sources,
            latency_threshold=s.feed_latency_threshold,
            quality=QualitySettings(stale_after=s.feed_stale_after),
            bar_seconds=s.feed_bar_seconds,
            breakers=breakers,
        )
    return SimulatorFeed(
        bus, s.sim_symbols, s.sim_seed, s.sim_tick_rate, s.sim_tick_seconds, s.sim_bar_seconds
    )


def _adapter(venue: str) -> Adapter:
    """Trades only, from every venue: the feed builds the bars (``feed_bar_seconds``)."""
    if venue == "binance":
        return BinanceAdapter(streams=("trade",))
    if venue == "coinbase":
        return CoinbaseAdapter(channels=("matches",))
    return GenericJsonAdapter()


def instruments(s: Settings, feed_symbols: list[str]) -> dict[str, Instrument]:
    """The traded symbols' rules. The simulator's prices move in its profiles' ticks; a
    replayed file's or a venue's tick is not known here (0: any price)."""
    if s.feed != "simulator":
        return {symbol: Instrument(symbol) for symbol in feed_symbols}
    return {symbol: Instrument(symbol, tick_size=profile_for(symbol).tick_size)
            for symbol in feed_symbols}  # fmt: skip


def live_specs(s: Settings, feed_symbols: list[str]) -> list[StrategySpec]:
    """The configured strategies, on the feed's spelling of their symbols. Without any
    configured, the SMA crossover of ``strategy_fast``/``strategy_slow`` on every symbol.
    Cash not given is shared equally among the strategies that do not name theirs."""
    spelled = dict(zip(s.symbols, feed_symbols, strict=True))
    if not s.strategies:
        params = {"fast": s.strategy_fast, "slow": s.strategy_slow}
        sma = get_strategy("sma_cross")
        return [
            StrategySpec(sma, params, tuple(feed_symbols), s.starting_cash, s.position_fraction)
        ]
    named = sum(live.cash for live in s.strategies if live.cash is not None)
    unnamed = sum(1 for live in s.strategies if live.cash is None)
    share = max(s.starting_cash - named, 0.0) / unnamed if unnamed else 0.0
    return [
        StrategySpec(
            get_strategy(live.id),
            dict(live.params),
            tuple(spelled[symbol] for symbol in live.symbols or s.symbols),
            live.cash if live.cash is not None else share,
            live.fraction if live.fraction is not None else s.position_fraction,
            direction=Direction(live.direction) if live.direction else None,
        )
        for live in s.strategies
    ]


def daily_loss_limit(s: Settings) -> float:
    """The configured daily loss limit, or by default 2% of the starting cash."""
    if s.risk_daily_loss_limit is not None:
        return s.risk_daily_loss_limit
    return DEFAULT_DAILY_LOSS * s.starting_cash


def live_strategy_ids(s: Settings) -> set[str]:
    """The ids of the strategies the settings run live."""
    return {live.id for live in s.strategies} or {"sma_cross"}


def risk_limits(s: Settings) -> RiskLimits:
    return RiskLimits(
        max_order_notional=s.risk_max_order_notional,
        max_position_notional=s.risk_max_position_notional,
        max_open_orders=s.risk_max_open_orders,
        max_orders_per_second=s.risk_max_orders_per_second,
        daily_loss_limit=daily_loss_limit(s),
        max_drawdown=s.risk_max_drawdown,
    )
