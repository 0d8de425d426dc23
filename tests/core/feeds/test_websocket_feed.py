"""The websocket feed against a real websockets server replaying documented messages."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from core.bus import Bus, Subscription
from core.events import Bar, FeedState, Tick
from core.market.feeds import (
    AlertKind,
    Backoff,
    BinanceAdapter,
    CoinbaseAdapter,
    FeedAlert,
    GenericJsonAdapter,
    QualitySettings,
    Source,
    WebSocketFeed,
)
from tests.core.feeds import samples
from tests.core.feeds.server import ScriptedServer, free_port

TIMEOUT = 5.0
_times = itertools.count()


def fresh_ts() -> float:
    """Strictly increasing timestamps near now, shared by every server of a test."""
    return time.time() + next(_times) * 1e-6


@pytest.fixture
async def stoppers() -> AsyncIterator[list[Any]]:
    """Servers and feeds to stop at the end of the test, whatever happens."""
    things: list[Any] = []
    yield things
    for thing in reversed(things):
        await thing.stop()


async def serve(
    stoppers: list[Any], script: Callable[[int], list[str]], **kw: Any
) -> ScriptedServer:
    server = await ScriptedServer(script, **kw).start()
    stoppers.append(server)
    return server


def start_feed(
    stoppers: list[Any], bus: Bus, symbols: list[str], sources: list[Source], **kw: Any
) -> WebSocketFeed:
    options: dict[str, Any] = {
        "backoff": Backoff(base=0.01, cap=0.05, rng=random.Random(0)),
        "failover_after": 2,
        "probe_interval": 0.05,
        "open_timeout": 2.0,
    }
    options.update(kw)
    feed = WebSocketFeed(bus, "test", symbols, sources, **options)
    feed.start()
    stoppers.append(feed)
    return feed


async def take(subscription: Subscription, count: int) -> list[Any]:
    async with asyncio.timeout(TIMEOUT):
        return [await subscription.get() for _ in range(count)]


async def eventually(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(TIMEOUT):
        while not condition():
            await asyncio.sleep(0.01)


async def test_binance_feed_publishes_ticks_and_closed_bars_from_raw_and_combined_streams(
    stoppers: list[Any],
) -> None:
    server = await serve(
        stoppers,
        lambda _: [
            samples.BINANCE_SUBSCRIBE_REPLY,
            samples.binance_trade(1, 16541.23, 1672515782136),
            samples.combined("btcusdt@trade", samples.binance_trade(2, 16541.5, 1672515782200)),
            samples.BINANCE_KLINE_OPEN,
            samples.combined("btcusdt@kline_1m", samples.BINANCE_KLINE_CLOSED),
        ],
    )
    bus = Bus()
    events = bus.subscribe(Tick, Bar)
    feed = start_feed(stoppers, bus, ["btcusdt"], [Source(server.url, BinanceAdapter())])
    tick1, tick2, bar = await take(events, 3)
    assert tick1 == Tick("BTCUSDT", 1672515782.134, 16541.23, 0.0012)
    assert tick2 == Tick("BTCUSDT", 1672515782.198, 16541.5, 0.0012)
    assert bar == Bar("BTCUSDT", 1672515780.0, 16540.1, 16542.0, 16539.55, 16541.23, 12.4821)
    assert json.loads(server.received[0]) == {
        "method": "SUBSCRIBE",
        "params": ["btcusdt@trade", "btcusdt@kline_1m"],
        "id": 1,
    }
    assert (feed.ticks, feed.bars, feed.messages) == (2, 1, 5)


async def test_coinbase_feed_publishes_each_trade_once_and_skips_control_messages(
    stoppers: list[Any],
) -> None:
    server = await serve(
        stoppers,
        lambda _: [
            samples.COINBASE_SUBSCRIPTIONS,
            samples.COINBASE_LAST_MATCH,
            samples.COINBASE_MATCH,
            samples.COINBASE_TICKER,  # the same trade as the match
            samples.COINBASE_HEARTBEAT,
            samples.COINBASE_NEXT_TICKER,
        ],
    )
    bus = Bus()
    ticks = bus.subscribe(Tick)
    feed = start_feed(stoppers, bus, ["BTC-USD"], [Source(server.url, CoinbaseAdapter())])
    published = await take(ticks, 3)
    assert [(t.price, t.size) for t in published] == [
        (400.20, 0.52),
        (400.23, 5.23512),
        (400.25, 0.01),
    ]
    await eventually(lambda: feed.messages == 6)
    assert ticks.pending() == 0
    assert json.loads(server.received[0])["channels"] == ["ticker", "matches"]


async def test_generic_feed_publishes_ticks_and_bars(stoppers: list[Any]) -> None:
    server = await serve(
        stoppers, lambda _: ['{"type":"subscribed"}', samples.GENERIC_BAR, samples.GENERIC_TICK]
    )
    bus = Bus()
    events = bus.subscribe(Tick, Bar)
    start_feed(stoppers, bus, ["SPY"], [Source(server.url, GenericJsonAdapter())])
    bar, tick = await take(events, 2)
    assert bar == Bar("SPY", 1767225600.0, 587.0, 588.1, 586.4, 587.9, 125000.0)
    assert tick == Tick("SPY", 1767225600.5, 587.25, 100.0)
    assert json.loads(server.received[0]) == {"type": "subscribe", "symbols": ["SPY"]}


async def test_garbage_is_counted_and_dropped_while_the_feed_keeps_delivering(
    stoppers: list[Any],
) -> None:
    garbage = [
        "this is not json",
        '{"symbol":"SPY","ts":1767225601,"price":"abc","size":1}',
        '{"symbol":"SPY","price":587.3,"size":1}',
        "[1, 2, 3]",
        '{"symbol":"SPY","ts":1767225601,"price":587.3,"size":{"lots":1}}',
    ]
    server = await serve(
        stoppers,
        lambda _: [
            samples.generic_tick(1767225600, 587.25),
            *garbage,
            samples.generic_tick(1767225602, 587.3),
        ],
    )
    bus = Bus()
    ticks = bus.subscribe(Tick)
    alerts = bus.subscribe(FeedAlert)
    feed = start_feed(stoppers, bus, ["SPY"], [Source(server.url, GenericJsonAdapter())])
    first, last = await take(ticks, 2)
    assert (first.ts, last.ts) == (1767225600, 1767225602)
    counts = feed.counters()
    assert counts["unparseable"] == 5
    assert (counts["messages"], counts["connects"]) == (7, 1)
    unparseable = [a for a in alerts.drain() if a.kind is AlertKind.UNPARSEABLE]
    assert [a.message for a in unparseable][:2] == [
        "generic: not JSON: 'this is not json'",
        "generic tick: field \"price\": 'abc' is not a number",
    ]


@pytest.mark.parametrize("abort", [False, True], ids=["closed", "aborted"])
async def test_dropped_connection_reconnects_and_resubscribes(
    stoppers: list[Any], abort: bool
) -> None:
    def script(connection: int) -> list[str]:
        first = 1 + 2 * connection
        return [samples.binance_trade(i, 100.0 + i, 1672515782000 + i) for i in (first, first + 1)]

    server = await serve(stoppers, script, close_after={0}, abort=abort)
    bus = Bus()
    ticks = bus.subscribe(Tick)
    feed = start_feed(stoppers, bus, ["BTCUSDT"], [Source(server.url, BinanceAdapter())])
    published = await take(ticks, 4)
    assert [t.price for t in published] == [101.0, 102.0, 103.0, 104.0]
    subscribes = [json.loads(f) for f in server.received if '"SUBSCRIBE"' in f]
    assert len(subscribes) == 2 and subscribes[0] == subscribes[1]
    assert feed.connects == 2 and feed.reconnects == 1


async def test_primary_down_fails_over_to_the_secondary(stoppers: list[Any]) -> None:
    secondary = await serve(stoppers, lambda _: [samples.generic_tick(fresh_ts(), 50.0, 2.0)])
    primary_url = f"ws://127.0.0.1:{free_port()}"
    bus = Bus()
    ticks = bus.subscribe(Tick)
    alerts = bus.subscribe(FeedAlert)
    adapter = GenericJsonAdapter()
    feed = start_feed(
        stoppers, bus, ["SPY"], [Source(primary_url, adapter), Source(secondary.url, adapter)]
    )
    [tick] = await take(ticks, 1)
    assert tick.size == 2.0
    assert feed.source.url == secondary.url
    assert feed.failovers == 1
    [failover] = [a for a in alerts.drain() if a.kind is AlertKind.FAILOVER]
    assert failover.message == f"switched to {secondary.url}: 2 failed attempts on {primary_url}"


async def test_primary_back_feed_returns_to_the_primary(stoppers: list[Any]) -> None:
    secondary = await serve(stoppers, lambda _: [samples.generic_tick(fresh_ts(), 50.0, 2.0)])
    port = free_port()
    bus = Bus()
    ticks = bus.subscribe(Tick)
    alerts = bus.subscribe(FeedAlert)
    adapter = GenericJsonAdapter()
    primary_url = f"ws://127.0.0.1:{port}"
    feed = start_feed(
        stoppers, bus, ["SPY"], [Source(primary_url, adapter), Source(secondary.url, adapter)]
    )
    [from_secondary] = await take(ticks, 1)
    assert from_secondary.size == 2.0
    primary = await serve(
        stoppers, lambda _: [samples.generic_tick(fresh_ts(), 50.0, 1.0)], port=port
    )
    [from_primary] = await take(ticks, 1)
    assert from_primary.size == 1.0
    assert feed.source.url == primary.url
    assert feed.failovers == 2
    assert primary.connections == 2  # the probe, then the feed itself
    failovers = [a.message for a in alerts.drain() if a.kind is AlertKind.FAILOVER]
    assert failovers[-1] == f"switched to {primary.url}: the primary answers again"
    assert feed.state is FeedState.LIVE


async def test_backoff_sleeps_follow_full_jitter_with_the_injected_rng(
    stoppers: list[Any],
) -> None:
    delays: list[float] = []
    enough = asyncio.Event()

    async def record(delay: float) -> None:
        delays.append(delay)
        if len(delays) >= 5:
            enough.set()
        await asyncio.sleep(0)

    url = f"ws://127.0.0.1:{free_port()}"
    feed = start_feed(
        stoppers,
        Bus(),
        ["SPY"],
        [Source(url, GenericJsonAdapter())],
        backoff=Backoff(base=0.1, cap=0.5, rng=random.Random(11)),
        sleep=record,
    )
    async with asyncio.timeout(TIMEOUT):
        await enough.wait()
    await feed.stop()
    reference = random.Random(11)
    assert delays[:5] == [reference.uniform(0.0, c) for c in (0.1, 0.2, 0.4, 0.5, 0.5)]
    assert feed.connects == 0 and feed.failovers == 0


async def test_latency_above_threshold_raises_an_alarm_then_clears_it(
    stoppers: list[Any],
) -> None:
    def script(_: int) -> list[str]:
        now = time.time()
        late = [samples.generic_tick(now - 3.0 + i * 0.001, 100.0) for i in range(3)]
        return late + [samples.generic_tick(fresh_ts(), 100.0) for _ in range(2)]

    server = await serve(stoppers, script)
    bus = Bus()
    ticks = bus.subscribe(Tick)
    alerts = bus.subscribe(FeedAlert)
    feed = start_feed(
        stoppers, bus, ["SPY"], [Source(server.url, GenericJsonAdapter())], latency_threshold=1.5
    )
    await take(ticks, 5)
    latency = [a for a in alerts.drain() if a.kind is AlertKind.LATENCY]
    assert [a.active for a in latency] == [True, False]
    assert "above 1.5 s" in latency[0].message
    assert feed.latency.p99 is not None and feed.latency.p99 > 2.5
    assert feed.latency.last is not None and feed.latency.last < 1.0


async def test_venue_error_is_reported_as_an_alert(stoppers: list[Any]) -> None:
    server = await serve(stoppers, lambda _: [samples.COINBASE_ERROR])
    bus = Bus()
    alerts = bus.subscribe(FeedAlert)
    feed = start_feed(stoppers, bus, ["FOO-BAR"], [Source(server.url, CoinbaseAdapter())])
    [alert] = await take(alerts, 1)
    assert alert.kind is AlertKind.VENUE_ERROR
    assert "FOO-BAR is not a valid product" in alert.message
    assert feed.venue_errors == 1


async def test_unrequested_symbols_are_not_published(stoppers: list[Any]) -> None:
    server = await serve(
        stoppers,
        lambda _: [
            samples.generic_tick(1.0, 400.0, symbol="QQQ"),
            samples.generic_tick(2.0, 500.0),
        ],
    )
    bus = Bus()
    ticks = bus.subscribe(Tick)
    feed = start_feed(stoppers, bus, ["SPY"], [Source(server.url, GenericJsonAdapter())])
    [tick] = await take(ticks, 1)
    assert tick.symbol == "SPY"
    assert feed.unrequested == 1


async def test_silent_symbol_turns_the_feed_stale_with_an_alert(stoppers: list[Any]) -> None:
    server = await serve(stoppers, lambda _: [samples.generic_tick(fresh_ts(), 100.0)])
    bus = Bus()
    alerts = bus.subscribe(FeedAlert)
    feed = start_feed(
        stoppers,
        bus,
        ["SPY"],
        [Source(server.url, GenericJsonAdapter())],
        quality=QualitySettings(stale_after=0.2),
        stale_check_interval=0.02,
    )
    await eventually(lambda: feed.ticks == 1)
    assert feed.state is FeedState.LIVE
    [alert] = await take(alerts, 1)
    assert (alert.kind, alert.symbol, alert.active) == (AlertKind.STALE, "SPY", True)
    assert feed.state is FeedState.STALE


async def test_status_reports_state_and_counts_and_stop_stops(stoppers: list[Any]) -> None:
    server = await serve(stoppers, lambda _: [samples.generic_tick(fresh_ts(), 100.0)])
    feed = start_feed(stoppers, Bus(), ["SPY"], [Source(server.url, GenericJsonAdapter())])
    await eventually(lambda: feed.ticks == 1)
    status = feed.status()
    assert (status.name, status.state, status.ticks) == ("test", FeedState.LIVE, 1)
    assert status.last_tick_age is not None and status.last_tick_age >= 0
    assert status.source == server.url and status.dropped == 0
    assert status.latency_p50 is not None and status.latency_p99 is not None
    await feed.stop()
    assert feed.status().state is FeedState.STOPPED
    assert feed.counters()["ticks"] == 1


async def test_bars_are_built_from_ticks_for_trade_only_streams(stoppers: list[Any]) -> None:
    """Ticks at 0..13 s into 5 s bars: two closed bars, the third still open; a bar the
    venue sends is dropped and counted, and a spiky print is not in any bar."""
    base = 1_800_000_000.0  # a multiple of 5
    prices = [100, 101, 99, 100.5, 102, 103, 102.5, 104, 103.5, 103, 105, 104, 106, 107]
    script = [samples.generic_tick(base + i, p) for i, p in enumerate(prices)]
    script.insert(3, samples.GENERIC_BAR.replace("SPY", "ETF"))
    script.insert(7, samples.generic_tick(base + 5.5, -1.0))  # refused: non-positive
    server = await serve(stoppers, lambda _: script)
    bus = Bus()
    events = bus.subscribe(Tick, Bar)
    feed = start_feed(
        stoppers, bus, ["SPY", "ETF"], [Source(server.url, GenericJsonAdapter())],
        bar_seconds=5.0,
    )  # fmt: skip
    await eventually(lambda: feed.ticks == len(prices))
    bars = [e for e in events.drain() if isinstance(e, Bar)]
    assert bars == [
        Bar("SPY", base, 100, 102, 99, 102, 5.0),
        Bar("SPY", base + 5, 103, 104, 102.5, 103, 5.0),
    ]
    assert feed.counters()["venue_bars"] == 1 and feed.status().dropped == 1


@pytest.mark.parametrize(
    ("setting", "value"),
    [("failover_after", 0), ("probe_interval", 0.0), ("stale_check_interval", -1.0)],
)
def test_bad_setting_is_refused_naming_it(setting: str, value: float) -> None:
    source = Source("ws://127.0.0.1:1", GenericJsonAdapter())
    with pytest.raises(ValueError, match=setting):
        WebSocketFeed(Bus(), "test", ["SPY"], [source], **{setting: value})
