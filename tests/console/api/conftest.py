"""A real ``serve``-like API: a Deck, the API server on 127.0.0.1, and httpx clients that
call it as a given role."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import httpx
import pytest
from fastapi import Request

from checks import ReadinessService
from console.api.context import ApiContext
from console.api.problems import Problem
from console.api.server import ApiServer
from core.access import Principal, Role
from core.config import Settings
from core.deck import Deck


class TokenPerRole:
    """Stands in for the token service until it lands: ``Bearer <role>`` is that role.
    Only this fixture uses it; tests go through ``Api.client(role)``, which will mint
    real tokens instead."""

    async def principal(self, request: Request) -> Principal:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or token not in set(Role):
            raise Problem(401, "a bearer token is needed", headers={"www-authenticate": "Bearer"})
        client = request.client.host if request.client else "local"
        return Principal(f"{token}-user", Role(token), source=f"api {client}")


@dataclass
class Api:
    deck: Deck
    readiness: ReadinessService
    server: ApiServer

    @property
    def url(self) -> str:
        return f"{self.server.scheme}://127.0.0.1:{self.server.port}"

    def client(self, role: Role | None = None) -> httpx.AsyncClient:
        """A client calling as ``role`` (None: no credentials)."""
        headers = {"authorization": f"Bearer {role.value}"} if role is not None else {}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=30)


@pytest.fixture
def api_settings(settings: Settings) -> Settings:
    """The API's settings for a test; override to change them."""
    return settings


@pytest.fixture
async def api(api_settings: Settings) -> AsyncIterator[Api]:
    deck = Deck(api_settings)
    readiness = ReadinessService(deck)
    deck.add_service(readiness)
    context = ApiContext(deck, readiness, authenticator=TokenPerRole())
    server = ApiServer(context, host="127.0.0.1", port=0)
    await server.listen()
    deck.add_service(server)
    await deck.start()
    try:
        yield Api(deck, readiness, server)
    finally:
        await deck.stop()


ServeUnstarted = Callable[..., Awaitable[ApiServer]]


@pytest.fixture
async def serve_unstarted(settings: Settings) -> AsyncIterator[ServeUnstarted]:
    """``await serve_unstarted(settings=..., read_timeout=..., tls=...)``: an API server
    (no authenticator) for a Deck that is not started (``/health`` says "starting"), to
    test the edges and guards with settings and bounds of the test's own; stopped when
    the test ends."""
    servers: list[ApiServer] = []

    async def start(settings: Settings = settings, **options: object) -> ApiServer:
        server = ApiServer(ApiContext(Deck(settings)), host="127.0.0.1", port=0,
                           **options)  # type: ignore[arg-type]  # fmt: skip
        await server.listen()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()
