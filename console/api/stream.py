"""``WS /api/v1/stream``: the Deck's events, live, by topic.

A client proves who it is as for any call (a bearer token in the handshake's
``Authorization`` header, or ``?token=`` where a browser cannot set headers); a bad one
is closed with 1008 (policy violation) before any data. It then sends JSON messages:
``{"subscribe": ["fills", "orders"]}``, ``{"unsubscribe": [...]}``; each is answered
``{"type": "subscribed", "topics": [...]}`` with every topic it follows now, and events
arrive as ``{"type": "event", "topic": "fills", "event": "Fill", "data": {...}}``
(``core.jsontext``: no NaN, no infinities).

The engine never waits for a client. Event topics reach each client through a bounded
bus subscription of its own (``ApiContext.stream_queue`` events): one that falls behind
loses its oldest events, and is told ``{"type": "dropped", "count": N}`` before the
ones it still gets. The state topics (the account's and the risk governor's snapshots)
keep only their newest, which is all a view of the current state needs.

A message that is not understood (not JSON, an unknown topic, a binary or oversized
frame) is answered ``{"type": "error", "error": ...}`` and the stream goes on; after
``MAX_ERRORS`` of them the socket is closed with 1008 and a reason. A message over
64 KiB closes it at once (1009: ``server.MAX_WS_MESSAGE``).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from console.api.caller import principal_of
from console.api.context import ApiContext
from console.api.problems import Problem
from core import jsontext
from core.bus import Bus, Subscription
from core.events import AlertRaised, CheckUpdate, Fill, JobUpdate, PortfolioSnapshot, RiskSnapshot
from core.trading.orders import OrderEvent
from core.trading.risk import RiskEvent

log = logging.getLogger(__name__)
router = APIRouter(tags=["stream"])
#: Each topic's event types: first those queued (every one counts), then the state
#: snapshots, of which only the newest matters.
TOPICS: Mapping[str, tuple[tuple[type, ...], tuple[type, ...]]] = {
    "fills": ((Fill,), ()),
    "orders": ((OrderEvent,), ()),
    "portfolio": ((), (PortfolioSnapshot,)),
    "risk": ((RiskEvent,), (RiskSnapshot,)),
    "jobs": ((JobUpdate,), ()),
    "alerts": ((AlertRaised,), ()),
    "readiness": ((CheckUpdate,), ()),
}
TOPIC_OF = {kind: name for name, (events, states) in TOPICS.items() for kind in events + states}
MAX_MESSAGE = 4096  # bytes of a client's message
MAX_ERRORS = 10  # bad messages from one client before it is closed
POLICY_VIOLATION = 1008


def event_message(event: Any) -> str:
    """One event as the stream sends it."""
    data = dataclasses.asdict(event) if dataclasses.is_dataclass(event) else {}
    topic = next(TOPIC_OF[kind] for kind in type(event).__mro__ if kind in TOPIC_OF)
    return jsontext.dumps({"type": "event", "topic": topic,
                           "event": type(event).__name__, "data": data},
                          default=str)  # fmt: skip


class Follower:
    """One client's subscriptions: its queued events (bounded, oldest dropped and
    counted) and the newest of its state snapshots."""

    def __init__(self, bus: Bus, queue: int) -> None:
        self.bus = bus
        self.queue = queue
        self.topics: frozenset[str] = frozenset()
        self.events: Subscription | None = None
        self.states: Subscription | None = None
        self.reported = 0  # the events subscription's drops already told
        self.changed = asyncio.Event()

    def follow(self, topics: frozenset[str]) -> None:
        """Follow ``topics`` from now on (events queued for the old set are let go)."""
        self.close()
        self.topics, self.reported = topics, 0
        events = tuple(t for name in sorted(topics) for t in TOPICS[name][0])
        states = tuple(t for name in sorted(topics) for t in TOPICS[name][1])
        self.events = self.bus.subscribe(*events, maxsize=self.queue) if events else None
        self.states = self.bus.subscribe(*states, latest_only=True) if states else None
        self.changed.set()

    def close(self) -> None:
        for subscription in (self.events, self.states):
            if subscription is not None:
                subscription.close()
        self.events = self.states = None

    async def next_messages(self) -> list[str]:
        """Wait for something to send: the drop notice first, then events, oldest first."""
        while True:
            subscriptions = [s for s in (self.events, self.states) if s is not None]
            if any(s.pending() for s in subscriptions):
                break
            self.changed.clear()
            waits = [asyncio.ensure_future(s.wait()) for s in subscriptions]
            waits.append(asyncio.ensure_future(self.changed.wait()))
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for wait in waits:
                    wait.cancel()
        messages = []
        if self.events is not None:
            dropped = self.events.dropped - self.reported
            if dropped:
                self.reported = self.events.dropped
                messages.append(jsontext.dumps({"type": "dropped", "count": dropped}))
        for subscription in (self.events, self.states):
            if subscription is not None:
                messages.extend(event_message(event) for event in subscription.drain())
        return messages


def parse(text: str) -> dict[str, frozenset[str]]:
    """A client's message as ``{"subscribe"|"unsubscribe": topics}``; ``ValueError``
    says what is wrong with it."""
    if len(text.encode()) > MAX_MESSAGE:
        raise ValueError(f"a message is at most {MAX_MESSAGE} bytes")
    try:
        message = json.loads(text)
    except ValueError:
        raise ValueError('not JSON: send {"subscribe": ["fills", ...]}') from None
    if not isinstance(message, dict) or not message:
        raise ValueError('send an object: {"subscribe": [...]} or {"unsubscribe": [...]}')
    unknown_keys = sorted(set(message) - {"subscribe", "unsubscribe"})
    if unknown_keys:
        raise ValueError(f"unknown field(s) {', '.join(map(str, unknown_keys))}: "
                         "use subscribe or unsubscribe")  # fmt: skip
    parsed = {}
    for key, topics in message.items():
        if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
            raise ValueError(f"{key}: a list of topic names")
        unknown = sorted(set(topics) - set(TOPICS))
        if unknown:
            raise ValueError(f"{key}: unknown topic(s) {', '.join(unknown)} "
                             f"(known: {', '.join(TOPICS)})")  # fmt: skip
        parsed[key] = frozenset(topics)
    return parsed


@router.websocket("/stream")
async def stream(websocket: WebSocket) -> None:
    context: ApiContext = websocket.app.state.context
    await websocket.accept()
    try:
        caller = await principal_of(websocket)
    except Problem as problem:
        await websocket.close(POLICY_VIOLATION, problem.detail[:120])
        return
    follower = Follower(context.deck.bus, context.stream_queue)
    sender = asyncio.create_task(_send(websocket, follower), name="stream-send")
    # A streaming client is connected as a console session is: every header lists them.
    session = context.deck.sessions.open(caller, caller.source)
    try:
        await websocket.send_text(jsontext.dumps({
            "type": "welcome", "user": caller.name, "role": caller.role.value,
            "topics": list(TOPICS),
        }))  # fmt: skip
        await _receive(websocket, follower)
    except WebSocketDisconnect:
        pass
    finally:
        context.deck.sessions.close(session)
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
            await sender
        follower.close()


async def _receive(websocket: WebSocket, follower: Follower) -> None:
    errors = 0
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        try:
            text = message.get("text")
            if text is None:
                raise ValueError("send text frames of JSON, not binary ones")
            request = parse(text)
        except ValueError as exc:
            errors += 1
            if errors > MAX_ERRORS:
                await websocket.close(POLICY_VIOLATION, f"more than {MAX_ERRORS} bad messages")
                return
            await websocket.send_text(jsontext.dumps({"type": "error", "error": str(exc)}))
            continue
        topics = (follower.topics | request.get("subscribe", frozenset())) - request.get(
            "unsubscribe", frozenset()
        )
        follower.follow(topics)
        await websocket.send_text(jsontext.dumps({"type": "subscribed",
                                                  "topics": sorted(topics)}))  # fmt: skip


async def _send(websocket: WebSocket, follower: Follower) -> None:
    """Send what the follower has, as fast as the client takes it (never faster: the
    bounded subscriptions absorb the difference)."""
    while websocket.application_state is WebSocketState.CONNECTED:
        for text in await follower.next_messages():
            await websocket.send_text(text)
