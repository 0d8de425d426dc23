"""A real ``serve``-like API: a Deck, the API server on 127.0.0.1, and httpx clients that
call it as a given role, with real tokens: a user of each role holds an API key in the
test's users file, traded for an access token at ``POST /api/v1/auth/token`` once the
server runs (so each test's audit trail begins with those four ``api.token`` entries)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest

from checks import ReadinessService
from console.api.authenticator import ApiAuthenticator, open_authenticator
from console.api.context import ApiContext
from console.api.server import ApiServer
from console.lockout import Lockout
from console.ssh.users import add_api_key
from core.access import Role
from core.config import Settings
from core.deck import Deck


def role_user(role: Role) -> str:
    """The user a test calls as for ``role`` (the name its audit entries carry)."""
    return f"{role.value}-user"


def role_keys(settings: Settings) -> dict[Role, str]:
    """A user of each role, with a new API key each, in the users file of ``settings``."""
    return {role: add_api_key(settings.users_file, role_user(role), role)[2] for role in Role}


@dataclass
class Api:
    deck: Deck
    readiness: ReadinessService
    server: ApiServer
    keys: dict[Role, str]  # each role's API key
    tokens: dict[Role, str]  # each role's access token

    @property
    def url(self) -> str:
        return f"{self.server.scheme}://127.0.0.1:{self.server.port}"

    @property
    def authenticator(self) -> ApiAuthenticator:
        authenticator = self.server.context.authenticator
        assert isinstance(authenticator, ApiAuthenticator)
        return authenticator

    def client(self, role: Role | None = None) -> httpx.AsyncClient:
        """A client calling as ``role`` (None: no credentials)."""
        headers = {"authorization": f"Bearer {self.tokens[role]}"} if role is not None else {}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=30)


async def mint(url: str, keys: dict[Role, str]) -> dict[Role, str]:
    """An access token for each role's user, from the token route. Each is asked for from
    an address of its own (127.0.0.10 on), so that the tests' rate-limit windows and
    lockout counts at 127.0.0.1 start empty, whatever limits a test sets."""
    tokens = {}
    for number, (role, key) in enumerate(keys.items(), start=10):
        transport = httpx.AsyncHTTPTransport(local_address=f"127.0.0.{number}")
        async with httpx.AsyncClient(base_url=url, timeout=30, transport=transport) as client:
            answer = await client.post("/api/v1/auth/token", headers={"x-api-key": key})
        assert answer.status_code == 200, answer.text
        tokens[role] = answer.json()["access_token"]
    return tokens


@asynccontextmanager
async def serving(
    settings: Settings, keys: dict[Role, str], lockout: Lockout | None = None
) -> AsyncIterator[Api]:
    """A Deck serving the API as ``listen_http`` wires it, until the block ends."""
    deck = Deck(settings)
    readiness = ReadinessService(deck)
    deck.add_service(readiness)
    authenticator = await open_authenticator(deck, lockout or Lockout())
    context = ApiContext(deck, readiness, authenticator=authenticator)
    server = ApiServer(context, host="127.0.0.1", port=0)
    await server.listen()
    deck.add_service(server)
    await deck.start()
    try:
        url = f"{server.scheme}://127.0.0.1:{server.port}"
        yield Api(deck, readiness, server, keys, await mint(url, keys))
    finally:
        await deck.stop()


@pytest.fixture
def api_settings(settings: Settings) -> Settings:
    """The API's settings for a test; override to change them."""
    return settings


@pytest.fixture
async def api(api_settings: Settings) -> AsyncIterator[Api]:
    async with serving(api_settings, role_keys(api_settings)) as served:
        yield served


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
