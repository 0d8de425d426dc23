"""The bus on the Deck's loop, read by a console on another loop and thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from core.bus import Bus
from core.deck_loop import DeckLoop


@dataclass(frozen=True)
class Price:
    value: int


@dataclass(frozen=True)
class Other:
    value: int


@pytest.fixture
def deck_loop() -> Iterator[DeckLoop]:
    running = DeckLoop(name="test-bus").start()
    yield running
    running.close()


def attached_bus(deck_loop: DeckLoop) -> Bus:
    bus = Bus()
    bus.attach(deck_loop.loop)
    return bus


async def publish_on(deck_loop: DeckLoop, bus: Bus, *events: object) -> None:
    async def publish() -> None:
        for event in events:
            bus.publish(event)

    await asyncio.wrap_future(deck_loop.submit(publish()))


async def test_events_from_the_decks_thread_wake_a_subscriber_on_this_loop(
    deck_loop: DeckLoop,
) -> None:
    bus = attached_bus(deck_loop)
    subscription = bus.subscribe(Price)
    await publish_on(deck_loop, bus, *(Price(i) for i in range(500)), Other(0))
    received = [await asyncio.wait_for(subscription.get(), 5) for _ in range(500)]
    assert received == [Price(i) for i in range(500)]
    assert subscription.pending() == 0


async def test_a_burst_wakes_this_loop_far_less_than_once_per_event(deck_loop: DeckLoop) -> None:
    bus = attached_bus(deck_loop)
    subscriptions = [bus.subscribe(Price) for _ in range(20)]
    wake_ups = 0
    loop = asyncio.get_running_loop()
    original = loop.call_soon_threadsafe

    def counted(*args: object, **kwargs: object) -> asyncio.Handle:
        nonlocal wake_ups
        wake_ups += 1
        return original(*args, **kwargs)  # type: ignore[arg-type]

    loop.call_soon_threadsafe = counted  # type: ignore[method-assign]
    try:
        await publish_on(deck_loop, bus, *(Price(i) for i in range(100)))
        await asyncio.sleep(0.05)
    finally:
        del loop.call_soon_threadsafe
    # 2,000 deliveries (100 events x 20 subscriptions): one wake-up takes all that has
    # arrived, so there are a few (the threads interleave), never one per event
    assert wake_ups < 100
    assert all(s.pending() == 100 for s in subscriptions)


async def test_latest_only_keeps_the_newest_across_threads(deck_loop: DeckLoop) -> None:
    bus = attached_bus(deck_loop)
    subscription = bus.subscribe(Price, Other, latest_only=True)
    await publish_on(deck_loop, bus, Price(1), Other(1), Price(2))
    await asyncio.sleep(0.05)
    assert sorted(subscription.drain(), key=repr) == [Other(1), Price(2)]


async def test_publishing_from_this_loop_is_delivered_on_the_decks_loop(
    deck_loop: DeckLoop,
) -> None:
    bus = attached_bus(deck_loop)
    delivered_on: list[int] = []

    async def watch() -> None:
        with bus.subscribe(Price) as subscription:
            await subscription.get()
            delivered_on.append(threading.get_ident())

    watching = deck_loop.submit(watch())
    await asyncio.sleep(0.05)
    bus.publish(Price(7))  # from the console's loop
    await asyncio.wait_for(asyncio.wrap_future(watching), 5)
    assert delivered_on and delivered_on[0] != threading.get_ident()
    assert bus.published == 1


async def test_a_late_subscriber_on_this_loop_replays_what_the_deck_kept(
    deck_loop: DeckLoop,
) -> None:
    bus = attached_bus(deck_loop)
    bus.keep(Price, 3)
    await publish_on(deck_loop, bus, *(Price(i) for i in range(5)))
    subscription = bus.subscribe(Price, replay=True)
    assert subscription.drain() == [Price(2), Price(3), Price(4)]


async def test_a_closed_subscription_gets_nothing_more_from_the_deck(deck_loop: DeckLoop) -> None:
    bus = attached_bus(deck_loop)
    subscription = bus.subscribe(Price)
    subscription.close()
    await publish_on(deck_loop, bus, Price(1))
    await asyncio.sleep(0.05)
    assert subscription.pending() == 0
    assert bus.subscriber_count() == 0
