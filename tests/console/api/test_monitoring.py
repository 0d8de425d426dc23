"""The monitoring routes (/health, /health/detailed, /metrics) on a real started Deck
(SQLite, simulator), served by the API server over real HTTP."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from console.api.context import ApiContext
from console.api.server import ApiServer
from core.access import Principal, Role
from core.config import Settings
from core.deck import Deck
from tests.console.api.conftest import Api

ADMIN = Principal("ada", Role.ADMIN, source="test")


@dataclass
class Running:
    deck: Deck
    http: ApiServer
    client: httpx.AsyncClient


@pytest.fixture
async def running(api: Api) -> AsyncIterator[Running]:
    async with api.client() as client:  # the monitoring routes ask for no credentials
        yield Running(api.deck, api.server, client)


async def until(condition, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return found


async def test_health_is_json_liveness_with_the_run_id(running: Running) -> None:
    response = await running.client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["run_id"] == running.deck.run_id
    assert body["uptime_s"] >= 0


class NoStore:
    """Stands in for the store: any use of it raises."""

    def __getattr__(self, name: str) -> None:
        raise RuntimeError(f"the store was used: .{name}")


async def test_health_answers_without_the_database(running: Running) -> None:
    store, running.deck.store = running.deck.store, NoStore()  # type: ignore[assignment]
    try:
        assert (await running.client.get("/health")).json()["status"] == "ok"
        detailed = await running.client.get("/health/detailed")
    finally:
        running.deck.store = store
    assert detailed.status_code == 503
    assert detailed.json()["components"]["store"] == {
        "status": "down", "last_error": "RuntimeError: the store was used: .engine"}  # fmt: skip


async def test_detailed_lists_each_component_with_its_status(running: Running) -> None:
    await until(lambda: running.deck.health.latest is not None and running.deck.engine.events)
    response = await running.client.get("/health/detailed")
    assert response.status_code == 200
    body = response.json()
    components = body["components"]
    assert set(components) == {"store", "feeds", "engine", "jobs", "alerts", "probes"}
    alerts = components["alerts"]  # the simulator calls out to nobody: no breakers
    assert (alerts["status"], alerts["breakers"], alerts["last_error"]) == ("ok", {}, None)
    for component in components.values():
        assert component["status"] in ("ok", "degraded", "down")
    assert components["store"]["status"] == "ok"
    assert components["engine"]["risk_state"] == "active"
    feed = running.deck.feed.status().name
    assert components["feeds"]["feeds"][feed]["ticks"] > 0


async def test_metrics_read_the_engine_and_follow_the_kill_switch(running: Running) -> None:
    deck = running.deck
    await until(lambda: deck.engine.portfolio.fills > 0)
    found = samples((await running.client.get("/metrics")).text)
    fills = found["quarterdeck_fills_total", ()]
    assert 0 < fills <= deck.engine.portfolio.fills
    assert found["quarterdeck_orders_total", ()] >= fills
    assert found["quarterdeck_risk_state", (("state", "active"),)] == 1
    assert found["quarterdeck_risk_state", (("state", "halted"),)] == 0
    assert found["quarterdeck_equity", ()] > 0
    assert found["quarterdeck_jobs", (("state", "queued"),)] == 0
    assert found["quarterdeck_event_loop_lag_seconds", ()] >= 0
    feed = deck.feed.status().name
    assert found["quarterdeck_feed_ticks_total", (("feed", feed),)] > 0
    assert found["quarterdeck_feed_dropped_total", (("feed", feed),)] == 0
    assert ("quarterdeck_feed_last_tick_age_seconds", (("feed", feed),)) in found

    await deck.kill(ADMIN, "metrics test")
    after = samples((await running.client.get("/metrics")).text)
    assert after["quarterdeck_risk_state", (("state", "halted"),)] == 1
    assert after["quarterdeck_risk_state", (("state", "active"),)] == 0
    engine = (await running.client.get("/health/detailed")).json()["components"]["engine"]
    assert engine["risk_state"] == "halted" and engine["status"] == "degraded"


async def test_metrics_fills_equal_the_engines_count_once_it_is_quiet(running: Running) -> None:
    deck = running.deck
    await until(lambda: deck.engine.portfolio.fills > 0)
    await deck.feed.stop()  # nothing trades any more: the two counts must agree exactly
    found = samples((await running.client.get("/metrics")).text)
    assert found["quarterdeck_fills_total", ()] == deck.engine.portfolio.fills
    assert found["quarterdeck_order_rejects_total", ()] == deck.engine.rejects


async def test_unknown_paths_404_other_methods_405_and_head_answers(running: Running) -> None:
    missing = await running.client.get("/nope")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    posted = await running.client.post("/health")
    assert posted.status_code == 405
    assert posted.headers["allow"] == "GET"
    assert posted.json()["status"] == 405
    head = await running.client.head("/health")
    get = await running.client.get("/health")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"] == "application/json"
    assert head.headers["x-request-id"] != get.headers["x-request-id"]
    assert (await running.client.head("/nope")).status_code == 404


async def test_metrics_count_answers_by_route_and_status(running: Running) -> None:
    for path in ("/health", "/health", "/nowhere", "/health/detailed"):
        await running.client.get(path)
    await running.client.head("/health")
    found = samples((await running.client.get("/metrics")).text)
    assert found["quarterdeck_http_requests_total", (("code", "200"), ("path", "/health"))] == 3
    assert found["quarterdeck_http_requests_total", (("code", "404"), ("path", "other"))] == 1
    detailed = (("code", "200"), ("path", "/health/detailed"))
    assert found["quarterdeck_http_requests_total", detailed] == 1
    assert found["quarterdeck_http_connections", ()] >= 1  # this client's


async def serve(deck: Deck) -> ApiServer:
    http = ApiServer(ApiContext(deck), host="127.0.0.1", port=0)
    await http.listen()
    return http


async def test_stopping_the_deck_closes_the_port(settings: Settings) -> None:
    deck = Deck(settings)
    http = await serve(deck)
    deck.add_service(http)
    await deck.start()
    idle_reader, idle_writer = await asyncio.open_connection("127.0.0.1", http.port)
    await deck.stop()
    async with asyncio.timeout(5):
        assert await idle_reader.read() == b""  # an open connection is ended too
    idle_writer.close()
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", http.port)


async def test_a_websocket_feeds_reconnects_reach_metrics_and_details(settings: Settings) -> None:
    """A real websockets server hangs up on the first connection: the feed reconnects,
    and /metrics and /health/detailed count it."""
    from tests.core.feeds import samples as frames
    from tests.core.feeds.server import ScriptedServer

    def script(connection: int) -> list[str]:
        # Each connection's ticks after the last one's, however soon the feed reconnects
        # (its backoff may be a few milliseconds): the quality filter drops ticks that go
        # back in time, and the test would then wait for ticks that never count.
        start = time.time() + connection
        return [frames.generic_tick(start + i / 100, 100.0 + i) for i in range(3)]

    server = await ScriptedServer(script, close_after={0}).start()
    live = settings.model_copy(update={"feed": "websocket", "feed_symbols": ["SPY"],
                                       "feed_sources": [f"generic={server.url}"]})  # fmt: skip
    deck = Deck(live)
    http = await serve(deck)
    deck.add_service(http)
    try:
        await deck.start()
        await until(lambda: deck.feed.reconnects == 1 and deck.feed.ticks >= 6)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{http.port}") as client:
            metrics = samples((await client.get("/metrics")).text)
            details = (await client.get("/health/detailed")).json()
    finally:
        await deck.stop()
        await server.stop()
    name = deck.feed.status().name
    assert metrics["quarterdeck_feed_reconnects_total", (("feed", name),)] == 1
    assert details["components"]["feeds"]["feeds"][name]["reconnects"] == 1


async def test_metrics_speak_openmetrics_to_a_scraper_that_asks(api: Api) -> None:
    async with api.client() as client:
        text = await client.get("/metrics")
        open_metrics = await client.get(
            "/metrics", headers={"accept": "application/openmetrics-text; version=1.0.0"}
        )
    assert text.headers["content-type"].startswith("text/plain; version=")
    assert "quarterdeck_fills_total" in text.text
    assert open_metrics.headers["content-type"].startswith("application/openmetrics-text")
    assert open_metrics.text.rstrip().endswith("# EOF")
