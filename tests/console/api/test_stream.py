"""``WS /api/v1/stream`` with real websockets clients: authentication at the handshake,
topics, a real fill from the simulator, drop-oldest for a slow client, and garbage."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from console.api.server import MAX_WS_MESSAGE
from console.api.stream import MAX_ERRORS, MAX_MESSAGE
from core.access import Role
from core.events import AlertRaised, Severity
from tests.console.api.conftest import Api


def token(api: Api, role: Role) -> str:
    """The bearer token ``api.client(role)`` calls with."""
    return api.client(role).headers["authorization"].removeprefix("Bearer ")


@asynccontextmanager
async def stream(
    api: Api, role: Role | None = Role.VIEWER, *, query_token: bool = False,
    header: str | None = None, **options: Any,
) -> AsyncIterator[ClientConnection]:  # fmt: skip
    url = f"ws://127.0.0.1:{api.server.port}/api/v1/stream"
    headers = {}
    if header is not None:
        headers["authorization"] = header
    elif role is not None and query_token:
        url += f"?token={token(api, role)}"
    elif role is not None:
        headers["authorization"] = f"Bearer {token(api, role)}"
    async with connect(url, additional_headers=headers, **options) as socket:
        yield socket


async def receive(socket: ClientConnection) -> dict[str, Any]:
    async with asyncio.timeout(60):
        message = json.loads(await socket.recv())
    assert isinstance(message, dict)
    return message


async def subscribe(socket: ClientConnection, *topics: str) -> dict[str, Any]:
    welcome = await receive(socket)
    assert welcome["type"] == "welcome"
    await socket.send(json.dumps({"subscribe": list(topics)}))
    answer = await receive(socket)
    assert answer == {"type": "subscribed", "topics": sorted(topics)}
    return welcome


@pytest.mark.parametrize("header", ["Bearer not-a-token", None])
async def test_a_bad_or_missing_token_is_closed_with_policy_violation(
    api: Api, header: str | None
) -> None:
    async with stream(api, None, header=header) as socket:
        with pytest.raises(ConnectionClosed) as closed:
            await socket.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


async def test_a_token_in_the_query_authenticates_a_browser(api: Api) -> None:
    async with stream(api, Role.OPERATOR, query_token=True) as socket:
        welcome = await receive(socket)
    assert welcome["type"] == "welcome" and welcome["role"] == "operator"
    assert "fills" in welcome["topics"] and "readiness" in welcome["topics"]


async def test_a_fill_from_the_simulator_arrives_on_the_fills_topic(api: Api) -> None:
    async with stream(api) as socket:
        await subscribe(socket, "fills", "portfolio")
        seen: dict[str, dict[str, Any]] = {}
        while len(seen) < 2:
            message = await receive(socket)
            assert message["type"] == "event"
            seen[message["topic"]] = message
    fill = seen["fills"]
    assert fill["event"] == "Fill" and fill["data"]["strategy"] == "sma_cross"
    assert fill["data"]["side"] in ("buy", "sell") and fill["data"]["quantity"] > 0
    assert seen["portfolio"]["event"] == "PortfolioSnapshot"
    assert seen["portfolio"]["data"]["name"] == "account"


async def test_a_slow_client_loses_its_oldest_events_and_is_told(api: Api) -> None:
    api.server.context.stream_queue = 4
    published = 300
    bulk = "x" * 100_000  # enough events of this size fill every buffer on the way
    # (sent uncompressed: deflated, the repeated text would fill nothing)
    async with stream(api, max_queue=1, max_size=None, compression=None) as socket:
        await subscribe(socket, "alerts")
        for n in range(published):  # the client reads nothing meanwhile
            api.deck.bus.publish(AlertRaised("drill", Severity.INFO, str(n), bulk, float(n)))
            await asyncio.sleep(0)
        dropped, received = 0, []
        while not received or received[-1] != published - 1:
            message = await receive(socket)
            if message["type"] == "dropped":
                dropped += message["count"]
            elif message["data"]["rule"] == "drill":
                received.append(int(message["data"]["subject"]))
    assert dropped > 0
    assert received == sorted(received)  # oldest first, none twice
    assert len(received) < published


async def test_garbage_is_answered_and_the_stream_goes_on(api: Api) -> None:
    async with stream(api) as socket:
        await receive(socket)  # welcome
        for garbage, says in (
            ("not json", "not JSON"),
            ('{"subscribe": ["fills", "gossip"]}', "unknown topic(s) gossip"),
            ('{"subscribe": "fills"}', "a list of topic names"),
            ('{"hello": 1}', "unknown field(s) hello"),
            ("[1, 2]", "send an object"),
            ("{" + " " * MAX_MESSAGE + "}", f"at most {MAX_MESSAGE} bytes"),
            (b"\x00\x01", "not binary"),
        ):
            await socket.send(garbage)
            answer = await receive(socket)
            assert answer["type"] == "error" and says in answer["error"], garbage
        await socket.send(json.dumps({"subscribe": ["risk"]}))
        assert await receive(socket) == {"type": "subscribed", "topics": ["risk"]}
        await socket.send(json.dumps({"unsubscribe": ["risk"]}))
        answer = await receive(socket)
        while answer["type"] == "event":  # a risk snapshot sent before the change
            answer = await receive(socket)
        assert answer == {"type": "subscribed", "topics": []}
    async with api.client() as client:
        assert (await client.get("/health")).json()["status"] == "ok"


async def test_a_client_that_keeps_sending_garbage_is_closed_with_a_reason(api: Api) -> None:
    async with stream(api) as socket:
        await receive(socket)  # welcome
        for _ in range(MAX_ERRORS + 1):
            await socket.send("garbage")
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                assert (await receive(socket))["type"] == "error"
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    assert "bad messages" in closed.value.rcvd.reason
    async with api.client() as client:
        assert (await client.get("/health")).json()["status"] == "ok"


async def test_a_huge_message_closes_the_stream_with_message_too_big(api: Api) -> None:
    async with stream(api) as socket:
        await receive(socket)  # welcome
        await socket.send(json.dumps({"subscribe": ["x" * (MAX_WS_MESSAGE + 1)]}))
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await receive(socket)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    async with api.client() as client:
        assert (await client.get("/health")).json()["status"] == "ok"


async def test_a_streaming_client_is_listed_among_the_sessions_while_connected(api: Api) -> None:
    async with stream(api, Role.OPERATOR) as socket:
        await receive(socket)
        connected = api.deck.sessions.sessions
    assert [(s.user, s.role) for s in connected] == [("operator-user", "operator")]
    assert connected[0].source == "api 127.0.0.1"
    async with asyncio.timeout(10):
        while api.deck.sessions.sessions:
            await asyncio.sleep(0.02)
