"""API keys for tokens, tokens on every call, refresh, revocation: against a real Deck
serving the API, real users file and store, tokens forged with PyJWT itself."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import update

from console.api.jwt_key import load_or_create_jwt_key
from console.cli import main
from console.ssh.users import add_api_key, load_users
from core.access import Role
from core.audit import read_entries
from core.config import Settings
from core.store import ApiRefreshTokenRow
from tests.console.api.conftest import Api, role_keys, role_user, serving

TOKEN = "/api/v1/auth/token"
REFRESH = "/api/v1/auth/refresh"
REVOKE = "/api/v1/auth/revoke"
ME = "/api/v1/auth/me"


@pytest.fixture
def api_settings(settings: Settings) -> Settings:
    """Room for many token calls (the auth rate limit is not what is tested here) and a
    token lifetime other than the default, to see the setting honoured."""
    return settings.model_copy(update={"api_rate_auth": "1000/minute", "api_token_seconds": 300})


async def exchange(api: Api, key: str) -> httpx.Response:
    async with api.client() as client:
        return await client.post(TOKEN, headers={"x-api-key": key})


async def call(api: Api, headers: dict[str, str], path: str = ME) -> httpx.Response:
    async with api.client() as client:
        return await client.get(path, headers=headers)


async def post(api: Api, path: str, body: dict[str, Any]) -> httpx.Response:
    async with api.client() as client:
        return await client.post(path, json=body)


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def secret(settings: Settings) -> bytes:
    return load_or_create_jwt_key(settings.jwt_key_file)[0]


def actions(api: Api) -> list[str]:
    """The API's audit entries after the fixture's own token exchanges."""
    return [entry.action for entry in read_entries(api.deck.store, "api.")][len(Role) :]


async def test_a_key_buys_a_short_lived_token_with_every_claim(
    api: Api, api_settings: Settings
) -> None:
    answer = await exchange(api, api.keys[Role.OPERATOR])
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 300
    assert body["refresh_token"].startswith("qdr_")
    claims = jwt.decode(body["access_token"], secret(api_settings), algorithms=["HS256"],
                        audience="quarterdeck-api", issuer="quarterdeck")  # fmt: skip
    assert claims["sub"] == "operator-user" and claims["role"] == "operator"
    assert claims["exp"] - claims["iat"] == 300
    assert abs(claims["iat"] - time.time()) < 60 and claims["jti"]
    assert answer.headers["cache-control"] == "no-store"
    entry = read_entries(api.deck.store, "api.token")[-1]
    assert entry.actor == "operator-user" and entry.detail["source"] == "api 127.0.0.1"
    assert entry.detail["role"] == "operator"
    again = jwt.decode((await exchange(api, api.keys[Role.OPERATOR])).json()["access_token"],
                       options={"verify_signature": False})  # fmt: skip
    assert again["jti"] != claims["jti"]


async def test_a_token_or_the_key_itself_names_the_caller_for_every_route(api: Api) -> None:
    async with api.client(Role.RELEASE_MANAGER) as client:
        answer = await client.get(ME)
    assert answer.json() == {"user": "release_manager-user", "role": "release_manager"}
    by_key = await call(api, {"x-api-key": api.keys[Role.VIEWER]})
    assert by_key.json() == {"user": "viewer-user", "role": "viewer"}


async def test_no_credentials_is_401_with_a_challenge_and_not_counted(api: Api) -> None:
    for _ in range(6):
        answer = await call(api, {})
        assert answer.status_code == 401
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert answer.headers["content-type"] == "application/problem+json"
    assert "X-API-Key" in answer.json()["detail"]
    assert actions(api) == []  # nothing offered, nothing guessed
    assert (await call(api, {"x-api-key": api.keys[Role.VIEWER]})).status_code == 200


def forge(api: Api, settings: Settings, **changes: Any) -> str:
    """A token like a real one, with ``changes`` (None removes a claim), signed with the
    server's own secret unless ``_secret`` says otherwise."""
    now = int(time.time())
    user = load_users(settings.users_file).get(role_user(Role.ADMIN))
    assert user is not None
    claims: dict[str, Any] = {
        "iss": "quarterdeck", "aud": "quarterdeck-api", "sub": user.name, "role": "admin",
        "iat": now, "exp": now + 300, "jti": "forged", "key": user.api_keys[0].id, "fam": "f",
    }  # fmt: skip
    key = changes.pop("_secret", None) or secret(settings)
    algorithm = changes.pop("_alg", "HS256")
    claims.update(changes)
    claims = {name: value for name, value in claims.items() if value is not None}
    return jwt.encode(claims, key, algorithm=algorithm)


REFUSED = {
    "expired": ({"iat": int(time.time()) - 1000, "exp": int(time.time()) - 10}, "expired"),
    "wrong issuer": ({"iss": "someone-else"}, "issuer"),
    "wrong audience": ({"aud": "another-api"}, "audience"),
    "bad signature": ({"_secret": b"x" * 64}, "signature"),
    "no jti": ({"jti": None}, "jti"),
    "unknown user": ({"sub": "nobody"}, "no longer exists"),
    "unknown key": ({"key": "0123456789ab"}, "revoked"),
    "another role": ({"role": "viewer"}, "role has changed"),
}


@pytest.mark.parametrize("case", REFUSED)
async def test_a_forged_or_stale_token_is_401_and_audited(
    api: Api, api_settings: Settings, case: str
) -> None:
    changes, reason = REFUSED[case]
    assert (await call(api, bearer(forge(api, api_settings)))).status_code == 200  # the control
    answer = await call(api, bearer(forge(api, api_settings, **changes)))
    assert answer.status_code == 401
    assert reason in answer.json()["detail"].lower()
    assert answer.headers["www-authenticate"].startswith("Bearer")
    (entry,) = read_entries(api.deck.store, "api.auth_failed")
    assert reason in entry.detail["reason"].lower() and entry.subject == "127.0.0.1"


async def test_unsigned_and_malformed_tokens_and_wrong_keys_are_401(api: Api) -> None:
    unsigned = jwt.encode({"sub": "admin-user", "role": "admin"}, None, algorithm="none")
    key = api.keys[Role.OPERATOR]
    wrong_secret = key[:-1] + ("B" if key[-1] != "B" else "C")
    for headers in (bearer(unsigned), bearer("not.a-valid.jwt%"),
                    {"x-api-key": "qdk_0123456789ab_" + "A" * 43},
                    {"x-api-key": wrong_secret}):  # fmt: skip
        assert (await call(api, headers)).status_code == 401
    assert actions(api) == ["api.auth_failed"] * 4
    # the wrong secret for a real key id is counted against its holder
    assert read_entries(api.deck.store, "api.auth_failed")[-1].actor == "operator-user"


async def test_revoking_the_key_or_removing_the_user_stops_their_tokens(api: Api) -> None:
    tokens = (await exchange(api, api.keys[Role.OPERATOR])).json()
    viewer = (await exchange(api, api.keys[Role.VIEWER])).json()
    assert (await call(api, bearer(tokens["access_token"]))).status_code == 200

    assert main(["users", "revoke-key", "operator-user"]) == 0
    answer = await call(api, bearer(tokens["access_token"]))
    assert answer.status_code == 401 and "revoked" in answer.json()["detail"]
    assert (await post(api, REFRESH, {"refresh_token": tokens["refresh_token"]})).status_code \
        == 401  # fmt: skip
    assert (await exchange(api, api.keys[Role.OPERATOR])).status_code == 401

    assert main(["users", "remove", "viewer-user"]) == 0
    assert (await call(api, bearer(viewer["access_token"]))).status_code == 401
    assert (await call(api, {"x-api-key": api.keys[Role.VIEWER]})).status_code == 401


async def test_refresh_rotates_and_a_reused_token_revokes_its_family(api: Api) -> None:
    first = (await exchange(api, api.keys[Role.ADMIN])).json()
    other = (await exchange(api, api.keys[Role.ADMIN])).json()  # another family
    second = await post(api, REFRESH, {"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert rotated["access_token"] != first["access_token"]
    assert (await call(api, bearer(rotated["access_token"]))).status_code == 200

    reused = await post(api, REFRESH, {"refresh_token": first["refresh_token"]})
    assert reused.status_code == 401 and "used already" in reused.json()["detail"]
    for token in (first["access_token"], rotated["access_token"]):  # the whole family
        assert (await call(api, bearer(token))).status_code == 401
    assert (await post(api, REFRESH, {"refresh_token": rotated["refresh_token"]})).status_code \
        == 401  # fmt: skip
    assert (await call(api, bearer(other["access_token"]))).status_code == 200
    assert "api.refresh" in actions(api) and "api.refresh_reuse" in actions(api)


async def test_concurrent_refreshes_with_one_token_give_one_success(api: Api) -> None:
    first = (await exchange(api, api.keys[Role.ADMIN])).json()
    body = {"refresh_token": first["refresh_token"]}
    answers = await asyncio.gather(*(post(api, REFRESH, body) for _ in range(4)))
    assert sorted(answer.status_code for answer in answers) == [200, 401, 401, 401]


async def test_an_expired_or_unknown_refresh_token_is_refused(api: Api) -> None:
    first = (await exchange(api, api.keys[Role.ADMIN])).json()
    with api.deck.store.session() as session, session.begin():
        session.execute(update(ApiRefreshTokenRow).values(expires_at=time.time() - 1))
    answer = await post(api, REFRESH, {"refresh_token": first["refresh_token"]})
    assert answer.status_code == 401 and "expired" in answer.json()["detail"]
    unknown = "qdr_" + "0" * 24 + "_" + "A" * 43
    assert (await post(api, REFRESH, {"refresh_token": unknown})).status_code == 401
    missing = await post(api, REFRESH, {"token": "x"})
    assert missing.status_code == 422 and missing.json()["detail"].startswith("body.refresh_token")


async def test_revoke_an_access_token_alone_or_a_refresh_tokens_family(api: Api) -> None:
    first = (await exchange(api, api.keys[Role.OPERATOR])).json()
    second = (await exchange(api, api.keys[Role.OPERATOR])).json()
    answer = await post(api, REVOKE, {"token": first["access_token"]})
    assert answer.json() == {"revoked": "access_token"}
    assert (await call(api, bearer(first["access_token"]))).status_code == 401
    assert (await post(api, REFRESH, {"refresh_token": first["refresh_token"]})).status_code \
        == 200  # fmt: skip

    answer = await post(api, REVOKE, {"token": second["refresh_token"]})
    assert answer.json() == {"revoked": "refresh_token"}
    assert (await call(api, bearer(second["access_token"]))).status_code == 401
    assert (await post(api, REFRESH, {"refresh_token": second["refresh_token"]})).status_code \
        == 401  # fmt: skip
    assert (await post(api, REVOKE, {"token": "qdr_nonsense"})).status_code == 401
    assert actions(api).count("api.revoke") == 2


async def test_a_missing_key_on_the_token_route_is_a_counted_failure(api: Api) -> None:
    answer = await exchange(api, "")
    assert answer.status_code == 401 and "X-API-Key" in answer.json()["detail"]
    assert actions(api) == ["api.auth_failed"]


async def test_revocations_and_refresh_tokens_outlive_a_restart(settings: Settings) -> None:
    settings = settings.model_copy(update={"api_rate_auth": "1000/minute"})
    keys = role_keys(settings)
    async with serving(settings, keys) as api:
        revoked = (await exchange(api, keys[Role.ADMIN])).json()
        kept = (await exchange(api, keys[Role.ADMIN])).json()
        assert (await post(api, REVOKE, {"token": revoked["refresh_token"]})).status_code == 200
        rotated = (await post(api, REFRESH, {"refresh_token": kept["refresh_token"]})).json()
    async with serving(settings, keys) as api:  # a new Deck on the same database and key
        assert (await call(api, bearer(revoked["access_token"]))).status_code == 401
        assert (await call(api, bearer(rotated["access_token"]))).status_code == 200
        reused = await post(api, REFRESH, {"refresh_token": kept["refresh_token"]})
        assert reused.status_code == 401 and "used already" in reused.json()["detail"]
        assert (await post(api, REFRESH, {"refresh_token": rotated["refresh_token"]})).status_code \
            == 401  # fmt: skip


async def test_a_key_added_while_serving_works_at_once(api: Api, api_settings: Settings) -> None:
    text = add_api_key(api_settings.users_file, "late", Role.VIEWER)[2]
    assert (await call(api, {"x-api-key": text})).json() == {"user": "late", "role": "viewer"}
