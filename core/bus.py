"""Typed in-process publish/subscribe on asyncio.

Publishing never waits. Each subscription has its own bounded buffer; when a
subscriber falls behind, its oldest events are dropped and counted, so a slow
view cannot hold back the engine. A ``latest_only`` subscription keeps just
the newest event of each type, which is what a pane showing "current state"
wants (coalescing).

Topics are event classes: subscribing to a class also delivers its subclasses.

The bus can also remember the newest events of a topic (``keep``) for subscribers
that ask to start from them (``subscribe(..., replay=True)``): a console opened long
after the start (an SSH session) shows the fills, alerts and equity so far, not only
what happens after it opened.

The bus belongs to one event loop (the Deck's, ``attach``), and may be used from
others: a console drawing on a loop and thread of its own subscribes here. Events
are always delivered on the bus's loop (``publish`` from elsewhere is handed over),
and a subscription made on another loop is woken on its own loop: what reaches it
from the bus's thread waits in that loop's inbox, and one wake-up of that loop takes
all that has arrived, whatever the number of subscriptions there.
"""

from __future__ import annotations

import asyncio
import collections
import threading
from collections.abc import AsyncIterator, Callable, Hashable
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
        #: The loop this subscription is read on (None: made outside any loop).
        self._inbox: _Inbox | None = None

    def _offer(self, event: Any) -> None:
        if self._inbox is not None and asyncio._get_running_loop() is not self._inbox.loop:
            self._inbox.post(self, event)
        else:
            self._take(event)

    def _take(self, event: Any) -> None:
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


class _Inbox:
    """Events from the bus's thread for the subscriptions read on another loop. One
    wake-up (``call_soon_threadsafe`` writes to a pipe) delivers all that arrived before
    that loop got to it, rather than one per event and subscription."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._events: collections.deque[tuple[Subscription, Any]] = collections.deque()
        self._scheduled = False

    def post(self, subscription: Subscription, event: Any) -> None:
        self._events.append((subscription, event))
        if not self._scheduled:
            self._scheduled = True
            try:
                self.loop.call_soon_threadsafe(self._deliver)
            except RuntimeError:  # that loop is closed: nobody reads there any more
                self._events.clear()

    def _deliver(self) -> None:
        self._scheduled = False  # before draining: what arrives meanwhile is taken too, or
        events = self._events  # schedules the next delivery
        while events:
            subscription, event = events.popleft()
            if not subscription.closed:
                subscription._take(event)


class Kept:
    """The newest events of one topic, by key: each key keeps its newest event, and the
    newest ``newest`` keys are kept. With no ``per`` every event is its own key."""

    def __init__(self, topic: type, newest: int,
                 per: Callable[[Any], Hashable | None] | None) -> None:  # fmt: skip
        if newest < 1:
            raise ValueError("keep at least one event")
        self.topic = topic
        self.newest = newest
        self.per = per
        self.events: collections.OrderedDict[Hashable, tuple[int, Any]] = collections.OrderedDict()

    def add(self, seq: int, event: Any) -> None:
        key = seq if self.per is None else self.per(event)
        if key is None:
            return
        self.events[key] = (seq, event)
        self.events.move_to_end(key)
        while len(self.events) > self.newest:
            self.events.popitem(last=False)


class Bus:
    """The process-wide event bus. Create one per Deck."""

    def __init__(self) -> None:
        self._subscriptions: list[Subscription] = []
        self._routes: dict[type, tuple[Subscription, ...]] = {}
        self._kept: list[Kept] = []
        self._keep_routes: dict[type, tuple[Kept, ...]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._inboxes: dict[asyncio.AbstractEventLoop, _Inbox] = {}
        #: Subscribing may happen on another thread than publishing: the lists of
        #: subscriptions, the routes built from them and the kept events change under it.
        self._lock = threading.Lock()
        self.published = 0

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Bind the bus to its loop: events are delivered there, whoever publishes them."""
        self._loop = loop

    def keep(self, topic: type, newest: int,
             per: Callable[[Any], Hashable | None] | None = None) -> None:  # fmt: skip
        """Remember the newest ``newest`` events of ``topic`` (and its subclasses) for
        ``replay``. With ``per``, the newest event of each key it gives (None: not kept),
        for the newest ``newest`` keys: one equity point a minute, say."""
        with self._lock:
            self._kept.append(Kept(topic, newest, per))
            self._keep_routes.clear()

    def subscribe(
        self, *topics: type, maxsize: int = 10_000, latest_only: bool = False,
        replay: bool = False,
    ) -> Subscription:  # fmt: skip
        """A new subscription to ``topics``; with ``replay`` it starts with the kept
        events of those topics, oldest first."""
        if not topics:
            raise ValueError("subscribe needs at least one topic")
        subscription = Subscription(self, topics, maxsize, latest_only)
        here = asyncio._get_running_loop()
        with self._lock:
            if here is not None:  # read there, whichever loop publishes
                subscription._inbox = self._inboxes.setdefault(here, _Inbox(here))
            self._subscriptions.append(subscription)
            self._routes.clear()
            replayed = self._replay(topics) if replay else []
        for event in replayed:
            subscription._take(event)
        return subscription

    def publish(self, event: Any) -> None:
        """Deliver ``event`` to every matching subscription. Never blocks. Called off the
        bus's loop (while it runs), it hands the event to that loop."""
        loop = self._loop
        if loop is not None and asyncio._get_running_loop() is not loop and loop.is_running():
            loop.call_soon_threadsafe(self.publish, event)
            return
        self.published += 1
        kept = self._keep_routes.get(type(event))
        if kept is None:
            kept = self._keep_route_for(type(event))
        if kept:
            with self._lock:
                for keeper in kept:
                    keeper.add(self.published, event)
        route = self._routes.get(type(event))
        if route is None:
            route = self._route_for(type(event))
        for subscription in route:
            subscription._offer(event)

    def kept(self, *topics: type) -> list[Any]:
        """The kept events of ``topics``, oldest first (what ``replay`` starts from)."""
        with self._lock:
            return self._replay(topics)

    def _replay(self, topics: tuple[type, ...]) -> list[Any]:
        found = {seq: event for keeper in self._kept for seq, event in keeper.events.values()
                 if isinstance(event, topics)}  # fmt: skip
        return [found[seq] for seq in sorted(found)]

    def _keep_route_for(self, event_type: type) -> tuple[Kept, ...]:
        with self._lock:
            route = tuple(k for k in self._kept if issubclass(event_type, k.topic))
            self._keep_routes[event_type] = route
        return route

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
        with self._lock:
            route = tuple(s for s in self._subscriptions if any(t in ancestry for t in s.topics))
            self._routes[event_type] = route
        return route

    def _remove(self, subscription: Subscription) -> None:
        with self._lock:
            if subscription in self._subscriptions:
                self._subscriptions.remove(subscription)
                self._routes.clear()
