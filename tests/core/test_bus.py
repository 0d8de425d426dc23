import asyncio
from dataclasses import dataclass

import pytest

from core.bus import Bus


@dataclass(frozen=True)
class Price:
    value: int


@dataclass(frozen=True)
class SpecialPrice(Price):
    pass


@dataclass(frozen=True)
class Other:
    value: int


async def test_subscriber_receives_only_its_topics_in_order() -> None:
    bus = Bus()
    subscription = bus.subscribe(Price)
    for i in range(3):
        bus.publish(Price(i))
        bus.publish(Other(i))
    assert [await subscription.get() for _ in range(3)] == [Price(0), Price(1), Price(2)]
    assert subscription.pending() == 0


async def test_subscribing_to_a_base_class_delivers_subclasses() -> None:
    bus = Bus()
    subscription = bus.subscribe(Price)
    bus.publish(SpecialPrice(1))
    assert subscription.drain() == [SpecialPrice(1)]


async def test_slow_subscriber_drops_oldest_and_never_blocks_publisher() -> None:
    bus = Bus()
    slow = bus.subscribe(Price, maxsize=3)
    fast = bus.subscribe(Price, maxsize=100)
    for i in range(10):
        bus.publish(Price(i))  # returns immediately however full `slow` is
    assert slow.drain() == [Price(7), Price(8), Price(9)]
    assert slow.dropped == 7
    assert len(fast.drain()) == 10


async def test_latest_only_keeps_newest_event_per_type() -> None:
    bus = Bus()
    latest = bus.subscribe(Price, Other, latest_only=True)
    for i in range(5):
        bus.publish(Price(i))
    bus.publish(Other(9))
    assert latest.drain() == [Price(4), Other(9)]
    assert latest.dropped == 4


async def test_waiting_subscriber_wakes_on_publish() -> None:
    bus = Bus()
    subscription = bus.subscribe(Price)
    waiter = asyncio.create_task(subscription.get())
    await asyncio.sleep(0)
    assert not waiter.done()
    bus.publish(Price(5))
    assert await asyncio.wait_for(waiter, 1) == Price(5)


async def test_closed_subscription_stops_iteration_and_receives_nothing() -> None:
    bus = Bus()
    subscription = bus.subscribe(Price)
    subscription.close()
    bus.publish(Price(1))
    assert bus.subscriber_count() == 0
    with pytest.raises(StopAsyncIteration):
        await subscription.get()


async def test_publish_threadsafe_delivers_on_the_loop() -> None:
    bus = Bus()
    bus.attach(asyncio.get_running_loop())
    subscription = bus.subscribe(Price)
    await asyncio.to_thread(bus.publish_threadsafe, Price(3))
    assert await asyncio.wait_for(subscription.get(), 1) == Price(3)


def test_publish_threadsafe_without_loop_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="attach"):
        Bus().publish_threadsafe(Price(1))


async def test_a_replaying_subscriber_starts_from_the_kept_events_oldest_first() -> None:
    bus = Bus()
    bus.keep(Price, 3)
    bus.keep(Other, 1)
    for value in range(5):
        bus.publish(Price(value) if value != 2 else SpecialPrice(value))
    bus.publish(Other(1))
    bus.publish(Other(2))
    late = bus.subscribe(Price, Other, latest_only=False, replay=True)
    assert late.drain() == [SpecialPrice(2), Price(3), Price(4), Other(2)]
    assert bus.subscribe(Price, latest_only=False).drain() == []  # no replay asked
    only_prices = bus.subscribe(Price, latest_only=False, replay=True)
    assert only_prices.drain() == [SpecialPrice(2), Price(3), Price(4)]
    bus.publish(Price(5))
    assert late.drain() == [Price(5)]


async def test_kept_by_key_holds_the_newest_event_of_each_of_the_newest_keys() -> None:
    bus = Bus()
    bus.keep(Price, 2, per=lambda p: None if p.value < 0 else p.value // 10)
    for value in (1, 5, -1, 12, 17, 23, -5):
        bus.publish(Price(value))
    replayed = bus.subscribe(Price, latest_only=False, replay=True).drain()
    assert replayed == [Price(17), Price(23)]  # minute 0 fell out; -1 and -5 not kept
    with pytest.raises(ValueError):
        bus.keep(Other, 0)
