"""Typed in-process publish/subscribe on asyncio.

Publishing never waits. Each subscription has its own bounded buffer; when a
subscriber falls behind, its oldest events are dropped and counted, so a slow
view cannot hold back the engine. A ``latest_only`` subscription keeps just
the newest event of each type, which is what a pane showing "current state"
wants (coalescing).

Topics are event classes: subscribing to a class also delivers its subclasses.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import AsyncIterator
from typing import Any


class Subscription:
    """One subscriber's view of the bus: an async iterator of events."""

    def __init__(self, bus: Bus, topics: tuple[type, ...], maxsize: int, latest_only: bool) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self._bus = bus
        self.topics = topics
        self.maxsize = maxsize
        self.latest_only = latest_only
        self.dropped = 0
        self._buffer: collections.deque[Any] = collections.deque()
        self._latest: dict[type, Any] = {}
        self._ready = asyncio.Event()
        self.closed = False

    def _offer(self, event: Any) -> None:
        if self.latest_only:
            if type(event) in self._latest:
                self.dropped += 1
            self._latest[type(event)] = event
        else:
            if len(self._buffer) >= self.maxsize:
                self._buffer.popleft()
                self.dropped += 1
            self._buffer.append(event)
        self._ready.set()

    def pending(self) -> int:
        return len(self._latest) if self.latest_only else len(self._buffer)

    def drain(self) -> list[Any]:
        """Everything buffered now, oldest first, without waiting."""
        if self.latest_only:
            events = list(self._latest.values())
            self._latest.clear()
        else:
            events = list(self._buffer)
            self._buffer.clear()
        self._ready.clear()
        return events

    async def get(self) -> Any:
        """The next event; waits while there is none."""
        while True:
            if self.closed:
                raise StopAsyncIteration
            if self.latest_only and self._latest:
                key = next(iter(self._latest))
                event = self._latest.pop(key)
            elif not self.latest_only and self._buffer:
                event = self._buffer.popleft()
            else:
                self._ready.clear()
                await self._ready.wait()
                continue
            if not self.pending():
                self._ready.clear()
            return event

    async def wait(self) -> None:
        """Return once at least one event is buffered (or the subscription closed)."""
        if not self.pending() and not self.closed:
            await self._ready.wait()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._bus._remove(self)
            self._ready.set()

    def __aiter__(self) -> AsyncIterator[Any]:
        return self

    async def __anext__(self) -> Any:
        return await self.get()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class Bus:
    """The process-wide event bus. Create one per Deck."""

    def __init__(self) -> None:
        self._subscriptions: list[Subscription] = []
        self._routes: dict[type, tuple[Subscription, ...]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self.published = 0

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Bind the loop that ``publish_threadsafe`` hands events to."""
        self._loop = loop

    def subscribe(
        self, *topics: type, maxsize: int = 10_000, latest_only: bool = False
    ) -> Subscription:
        if not topics:
            raise ValueError("subscribe needs at least one topic")
        subscription = Subscription(self, topics, maxsize, latest_only)
        self._subscriptions.append(subscription)
        self._routes.clear()
        return subscription

    def publish(self, event: Any) -> None:
        """Deliver ``event`` to every matching subscription. Never blocks."""
        self.published += 1
        route = self._routes.get(type(event))
        if route is None:
            route = self._route_for(type(event))
        for subscription in route:
            subscription._offer(event)

    def publish_threadsafe(self, event: Any) -> None:
        """Publish from a worker thread; the event is delivered on the bus's loop."""
        if self._loop is None:
            raise RuntimeError("Bus.attach(loop) must be called before publishing from threads")
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.publish, event)

    def subscriber_count(self) -> int:
        return len(self._subscriptions)

    def _route_for(self, event_type: type) -> tuple[Subscription, ...]:
        ancestry = event_type.__mro__
        route = tuple(s for s in self._subscriptions if any(t in ancestry for t in s.topics))
        self._routes[event_type] = route
        return route

    def _remove(self, subscription: Subscription) -> None:
        if subscription in self._subscriptions:
            self._subscriptions.remove(subscription)
            self._routes.clear()
