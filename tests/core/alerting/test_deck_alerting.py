"""A running Deck: its health snapshots carry disk and open files, a rule that fires
reaches the webhook and the bus, /metrics exports the alerting figures, and a live
feed's dead source trips its breaker."""

from __future__ import annotations

import asyncio
import random
import socket

from prometheus_client.parser import text_string_to_metric_families

from core.bus import Bus
from core.config import Settings
from core.deck import Deck
from core.events import AlertRaised, BreakerState, HealthSnapshot
from core.health.breaker import BreakerRegistry
from core.health.metrics import deck_registry
from core.health.sources import Sources
from core.market.feeds import GenericJsonAdapter, Source, WebSocketFeed
from core.market.feeds.backoff import Backoff
from tests.core.alerting.webhook_server import webhook_server


async def eventually(condition, timeout: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def samples(deck: Deck) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    from prometheus_client import generate_latest

    text = generate_latest(deck_registry(Sources(deck))).decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}  # fmt: skip


async def test_a_firing_rule_reaches_the_webhook_the_bus_and_the_metrics(
    settings: Settings,
) -> None:
    async with webhook_server() as hook:
        configured = settings.model_copy(update={"alert_webhook_url": hook.url,
                                                 "alert_memory_percent": 0.01})  # fmt: skip
        deck = Deck(configured)
        alerts = deck.bus.subscribe(AlertRaised)
        health = deck.bus.subscribe(HealthSnapshot, latest_only=True)
        await deck.start()
        try:
            await eventually(lambda: hook.posts)
            snapshot = await health.get()
            figures = samples(deck)
        finally:
            await deck.stop()
    assert hook.posts[0]["text"].startswith("[WARNING] Quarterdeck paper: memory ")
    assert [a.rule for a in alerts.drain()][:1] == ["memory"]
    assert snapshot.disk_free > 0 and 0 < snapshot.disk_percent <= 100
    assert 0 < snapshot.open_files <= snapshot.open_files_limit
    assert figures["quarterdeck_alerts_raised_total", (("rule", "memory"),)] >= 1
    assert figures["quarterdeck_alert_webhook_posts_total", (("outcome", "delivered"),)] >= 1
    assert figures["quarterdeck_open_files", ()] > 0
    assert figures["quarterdeck_circuit_breaker_state", (("name", "alert webhook"),)] == 0


async def test_a_dead_feed_source_trips_its_breaker() -> None:
    url = f"ws://127.0.0.1:{free_port()}/stream"
    breakers = BreakerRegistry(failures_to_open=2, cooldown=60)
    feed = WebSocketFeed(Bus(), "venue", ["BTCUSD"], [Source(url, GenericJsonAdapter())],
                         backoff=Backoff(base=0.01, cap=0.01, rng=random.Random(1)),
                         breakers=breakers)  # fmt: skip
    feed.start()
    try:
        await eventually(lambda: breakers.get(f"feed {url}").rejected >= 3)
    finally:
        await feed.stop()
    (status,) = breakers.statuses()
    assert status.state is BreakerState.OPEN and status.failures == 2  # no third connect
    assert status.last_error and feed.connects == 0
