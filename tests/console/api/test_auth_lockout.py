"""Five failed authentications from a client in five minutes lock it out for five
minutes, over the API and SSH alike: one ``Lockout`` serves both in one process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncssh
import httpx
import pytest

from checks import ReadinessService
from console.api.server import ApiServer
from console.commands.serve import listen_http, listen_ssh
from console.ssh.server import SSHService
from console.ssh.users import add_api_key, add_user, read_key_file
from core.access import Role
from core.audit import read_entries
from core.config import Settings
from core.deck import Deck
from tests.console.api.conftest import Api, role_user
from tests.console.ssh.keys import make_key
from tests.console.ssh.served import Served, connect

ME = "/api/v1/auth/me"
WRONG = {"authorization": "Bearer not.a.token"}


@pytest.fixture
def api_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"api_rate_auth": "1000/minute"})


async def test_the_fifth_failure_locks_the_client_with_retry_after_and_audit(api: Api) -> None:
    async with api.client() as client:
        for _ in range(5):
            assert (await client.get(ME, headers=WRONG)).status_code == 401
        locked = await client.get(ME, headers={"x-api-key": api.keys[Role.ADMIN]})
        token = await client.post("/api/v1/auth/token", headers={"x-api-key": api.keys[Role.ADMIN]})
    assert locked.status_code == 429 and token.status_code == 429  # even the right key
    assert 0 < int(locked.headers["retry-after"]) <= 300
    assert "too many failed authentications" in locked.json()["detail"]
    actions = [entry.action for entry in read_entries(api.deck.store, "api.")][len(Role) :]
    assert actions == ["api.auth_failed"] * 5 + ["api.lockout"]


async def test_a_lock_stops_logins_not_the_sessions_already_open(api: Api) -> None:
    async with api.client() as client:
        opened = await client.post("/api/v1/auth/token",
                                   headers={"x-api-key": api.keys[Role.OPERATOR]})  # fmt: skip
        for _ in range(5):
            assert (await client.get(ME, headers=WRONG)).status_code == 401
        login = await client.get(ME, headers={"x-api-key": api.keys[Role.OPERATOR]})
        session = await client.get(
            ME, headers={"authorization": f"Bearer {opened.json()['access_token']}"}
        )
        refreshed = await client.post(
            "/api/v1/auth/refresh", json={"refresh_token": opened.json()["refresh_token"]}
        )
        forged = await client.get(ME, headers=WRONG)  # a session credential still judged
    assert login.status_code == 429  # a login: refused unjudged, right key or wrong
    assert session.status_code == 200 and session.json()["user"] == role_user(Role.OPERATOR)
    assert refreshed.status_code == 200 and refreshed.json()["access_token"]
    assert forged.status_code == 401


async def test_a_token_route_failure_counts_like_any_other(api: Api) -> None:
    async with api.client() as client:
        for _ in range(5):
            answer = await client.post(
                "/api/v1/auth/token", json={"username": "x", "password": "y"}
            )
            assert answer.status_code == 401
        assert (await client.post("/api/v1/auth/token")).status_code == 429


@dataclass
class Both:
    deck: Deck
    ssh: SSHService
    http: ApiServer
    served: Served
    api_key: str


@pytest.fixture
async def both(api_settings: Settings, tmp_path: Path) -> AsyncIterator[Both]:
    """``serve`` with SSH and HTTP in one process, wired by the same functions."""
    key = make_key(tmp_path / "keys", "alice")
    add_user(api_settings.users_file, "alice", Role.OPERATOR, read_key_file(Path(f"{key}.pub")))
    api_key = add_api_key(api_settings.users_file, "alice", Role.OPERATOR)[2]
    deck = Deck(api_settings)
    readiness = ReadinessService(deck)
    deck.add_service(readiness)
    ssh = await listen_ssh(deck, readiness, "127.0.0.1", 0)
    http = await listen_http(deck, readiness, ssh, 0)
    await deck.start()
    try:
        yield Both(deck, ssh, http, Served(deck, ssh, {"alice": key}), api_key)
    finally:
        await deck.stop()


async def test_ssh_and_the_api_share_one_lockout(both: Both, tmp_path: Path) -> None:
    assert both.ssh.lockout is both.http.context.authenticator.lockout  # type: ignore[union-attr]
    mallory = make_key(tmp_path / "keys", "mallory")
    for _ in range(3):  # three refused SSH logins from 127.0.0.1 ...
        with pytest.raises(asyncssh.PermissionDenied):
            await connect(both.served, "alice", mallory)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{both.http.port}") as client:
        for _ in range(2):  # ... and two refused API calls make five
            assert (await client.get(ME, headers=WRONG)).status_code == 401
        refused = await client.get(ME, headers={"x-api-key": both.api_key})
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    with pytest.raises(asyncssh.PermissionDenied):  # the right key, locked out over SSH too
        await connect(both.served, "alice")
    actions = [entry.action for entry in read_entries(both.deck.store)]
    assert actions.count("ssh.auth_failed") == 3 and actions.count("api.auth_failed") == 2
    assert "api.lockout" in actions
