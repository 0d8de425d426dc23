"""engine.feeds against a real Quarterdeck whose simulator feed is live, then stopped."""

from __future__ import annotations

import asyncio

from checks.probes.engine_feeds import FeedsParams, feeds
from core.events import Verdict
from tests.console.api.conftest import Api

from .target_api import aimed_at


async def test_a_live_feed_passes_and_a_stale_one_fails(api: Api) -> None:
    async with asyncio.timeout(30):
        while True:  # the first ticks
            result = await feeds(aimed_at(api), FeedsParams(max_tick_age_s=5))
            if result.verdict is Verdict.PASS:
                break
            await asyncio.sleep(0.2)
    assert result.reason.startswith("1 feed(s) live, the stalest tick ")
    assert (await feeds(aimed_at(api), FeedsParams())).verdict is Verdict.PASS
    strict = await feeds(aimed_at(api), FeedsParams(max_tick_age_s=1e-6))
    assert strict.verdict is Verdict.FAIL
    assert "(max 1e-06 s)" in strict.reason


async def test_a_stopped_feed_fails_naming_it(api: Api) -> None:
    await api.deck.feed.stop()
    result = await feeds(aimed_at(api), FeedsParams())
    assert result.verdict is Verdict.FAIL
    assert result.reason.startswith(f"{api.deck.feed.name} is stopped")
