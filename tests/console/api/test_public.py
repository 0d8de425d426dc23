"""``/api/v1/public/performance``: the equity curve with returns and drawdown, for anyone,
when ``QD_API_PUBLIC`` is on; nothing else of the account."""

from __future__ import annotations

import asyncio

import pytest
from limits import parse

from console.api.routes.public import CACHE_SECONDS, PerformanceCache
from core.config import Settings
from core.events import PortfolioSnapshot
from tests.console.api.conftest import Api


@pytest.fixture
def api_settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """The public view on, unless a test passes False."""
    return settings.model_copy(update={"api_public": getattr(request, "param", True)})


@pytest.mark.parametrize("api_settings", [False], indirect=True)
async def test_the_public_view_is_off_unless_enabled(api: Api) -> None:
    async with api.client() as client:
        answer = await client.get("/api/v1/public/performance")
    assert answer.status_code == 404
    assert "QD_API_PUBLIC" in answer.json()["detail"]


async def test_anyone_reads_the_curve_and_nothing_of_the_account(api: Api) -> None:
    with api.deck.bus.subscribe(PortfolioSnapshot) as snapshots:
        async with asyncio.timeout(60):
            while (await snapshots.get()).ts <= 0:  # until the market has moved
                pass
    async with api.client() as client:  # no credentials
        answer = await client.get("/api/v1/public/performance")
    assert answer.status_code == 200
    reads = parse(api.deck.settings.api_rate_reads)
    assert answer.headers["ratelimit-limit"] == str(reads.amount)  # limited as reads are
    body = answer.json()
    assert set(body) == {"as_of", "total_return", "max_drawdown", "points"}
    assert body["points"]
    assert set(body["points"][0]) == {"ts", "equity", "return", "drawdown"}
    assert body["points"][0]["ts"] > 0  # from the first market event on
    assert body["as_of"] == body["points"][-1]["ts"]
    assert body["total_return"] == body["points"][-1]["return"]
    for word in ("cash", "position", "order", "strateg", "fill"):
        assert word not in answer.text


async def test_the_document_is_kept_for_a_few_seconds(api: Api) -> None:
    now = [1000.0]
    cache = PerformanceCache(clock=lambda: now[0])
    first = cache.get(api.deck)
    now[0] += CACHE_SECONDS / 2
    assert cache.get(api.deck) is first
    now[0] += CACHE_SECONDS
    assert cache.get(api.deck) is not first
