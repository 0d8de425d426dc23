"""The control API of a real ``quarterdeck serve``, driven as its users would: keys made
with the real CLI, httpx and websockets clients over loopback, the audit trail read
back with ``quarterdeck audit``, and SIGTERM at the end."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from tests.bar_files import bars_csv
from tests.e2e.serving import Serve, serving

GRID = {"fast": [5, 15, 5], "slow": [20, 40, 10]}  # 3 x 3 combinations
#: The token routes are limited to 10 calls a minute by default; these tests make more.
SETTINGS = {"api_rate_auth": "100/minute"}


async def tokens(serve: Serve, key: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=serve.url) as client:
        answer = await client.post("/api/v1/auth/token", headers={"x-api-key": key})
    assert answer.status_code == 200, answer.text
    issued: dict[str, Any] = answer.json()
    return issued


def client(serve: Serve, access_token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=serve.url, timeout=60,
                             headers={"authorization": f"Bearer {access_token}"})  # fmt: skip


@asynccontextmanager
async def stream(serve: Serve, access_token: str, *topics: str) -> AsyncIterator[ClientConnection]:
    """A stream client following ``topics`` (subscribed, and acknowledged)."""
    headers = {"authorization": f"Bearer {access_token}"}
    async with connect(f"{serve.ws_url}/api/v1/stream", additional_headers=headers) as socket:
        assert (await message(socket))["type"] == "welcome"
        await socket.send(json.dumps({"subscribe": list(topics)}))
        assert await message(socket) == {"type": "subscribed", "topics": sorted(topics)}
        yield socket


async def message(socket: ClientConnection) -> dict[str, Any]:
    async with asyncio.timeout(120):
        received: dict[str, Any] = json.loads(await socket.recv())
    return received


async def event(
    socket: ClientConnection, wanted: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """The first event on the stream ``wanted`` accepts."""
    while True:
        received = await message(socket)
        if received["type"] == "event" and wanted(received):
            return received


async def test_an_operator_uploads_optimizes_follows_and_exports_over_the_api(
    tmp_path: Path,
) -> None:
    with serving(tmp_path, **SETTINGS) as serve:
        key = serve.add_user("ops", "operator")
        access = (await tokens(serve, key))["access_token"]
        async with client(serve, access) as api, stream(serve, access, "jobs") as socket:
            library = (await api.get("/api/v1/strategies")).json()
            sma = (await api.get("/api/v1/strategies/sma_cross")).json()
            files = {"file": ("spy.csv", bars_csv(500), "text/csv")}
            uploaded = await api.post("/api/v1/datasets", files=files, data={"symbol": "SPY"})
            assert uploaded.status_code == 201, uploaded.text
            dataset = uploaded.json()
            job = {"kind": "optimize", "strategy": "sma_cross", "dataset": dataset["id"],
                   "method": "grid", "grid": GRID, "min_trades": 0}  # fmt: skip
            submitted = await api.post("/api/v1/jobs", json=job)
            assert submitted.status_code == 202, submitted.text
            job_id = submitted.json()["id"]
            finished = ("done", "failed", "cancelled")
            done = await event(socket, lambda e: e["data"]["job_id"] == job_id
                               and e["data"]["state"] in finished)  # fmt: skip
            optimized = (await api.get(f"/api/v1/jobs/{job_id}")).json()

            pine = {"kind": "pine", "strategy": "sma_cross", "dataset": dataset["id"],
                    "params": optimized["result"]["best_params"]}  # fmt: skip
            export_id = (await api.post("/api/v1/jobs", json=pine)).json()["id"]
            await event(socket, lambda e: e["data"]["job_id"] == export_id
                        and e["data"]["state"] == "done")  # fmt: skip
            (listed,) = (await api.get(f"/api/v1/jobs/{export_id}/files")).json()
            download = await api.get(listed["url"])
        assert serve.stop() == 0, serve.stderr.read_text()

    assert "sma_cross" in {s["id"] for s in library["strategies"]}
    assert {p["name"] for p in sma["params"]} >= {"fast", "slow"}
    assert (dataset["rows"], dataset["symbol"], dataset["format"]) == (500, "SPY", "csv")
    assert done["event"] == "JobUpdate" and done["topic"] == "jobs"
    assert (done["data"]["state"], done["data"]["done"], done["data"]["total"]) == ("done", 9, 9)
    assert optimized["state"] == "done" and optimized["progress"] == 1.0
    assert optimized["params"]["dataset"] == f"catalog:{dataset['id']}"
    result = optimized["result"]
    assert result["evaluations"] == 9
    assert result["strategy_version"] == sma["version"]
    best = result["best_params"]
    assert best["fast"] in (5, 10, 15) and best["slow"] in (20, 30, 40)
    assert listed["name"].endswith(".pine") and listed["bytes"] == len(download.content)
    assert download.status_code == 200
    assert f"fast = input.int({best['fast']}" in download.text
    assert f"slow = input.int({best['slow']}" in download.text


async def test_kill_switch_refusal_audit_refresh_and_revoke_over_the_api(tmp_path: Path) -> None:
    with serving(tmp_path, **SETTINGS) as serve:
        key = serve.add_user("ops", "operator")
        operator = await tokens(serve, key)
        viewer = await tokens(serve, serve.add_user("watcher", "viewer"))
        async with client(serve, viewer["access_token"]) as api:
            refused = await api.post("/api/v1/risk/kill", json={"reason": "curious"})
        denied = serve.cli("audit", "list", "--action", "denied.", "--json")

        async with (client(serve, operator["access_token"]) as api,
                    stream(serve, operator["access_token"], "risk") as socket):  # fmt: skip
            before = (await api.get("/api/v1/risk")).json()
            killed = await api.post("/api/v1/risk/kill", json={"reason": "end-to-end drill"})
            seen = await event(socket, lambda e: e["event"] == "RiskEvent")
            after = (await api.get("/api/v1/risk")).json()

            once = {"refresh_token": operator["refresh_token"]}
            refreshed = await api.post("/api/v1/auth/refresh", json=once)
            fresh = {"authorization": f"Bearer {refreshed.json()['access_token']}"}
            me = await api.get("/api/v1/auth/me", headers=fresh)
            reused = await api.post("/api/v1/auth/refresh", json=once)
            family = await api.get("/api/v1/auth/me", headers=fresh)
            again = (await tokens(serve, key))["access_token"]
            revoked = await api.post("/api/v1/auth/revoke", json={"token": again})
            gone = await api.get("/api/v1/auth/me", headers={"authorization": f"Bearer {again}"})
        assert serve.stop() == 0, serve.stderr.read_text()

    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert (refused.json()["action"], refused.json()["capability"]) == ("risk.kill", "trade")
    assert denied.returncode == 0, denied.stderr
    assert [(e["actor"], e["action"]) for e in json.loads(denied.stdout)] == [
        ("watcher", "denied.risk.kill")
    ]

    assert (before["state"], before["halted"]) == ("active", False)
    assert killed.status_code == 200, killed.text
    assert seen["topic"] == "risk"
    assert (seen["data"]["kind"], seen["data"]["state"], seen["data"]["who"],
            seen["data"]["why"]) == ("kill", "halted", "ops", "end-to-end drill")  # fmt: skip
    assert after["halted"] is True and after["state"] == "halted"
    assert (after["halt"]["who"], after["halt"]["why"]) == ("ops", "end-to-end drill")
    assert after["stopped_strategies"] == killed.json()["stopped_strategies"] == ["sma_cross"]
    assert after["halt"] == killed.json()["halt"]

    assert refreshed.status_code == 200
    assert refreshed.json()["access_token"] != operator["access_token"]
    assert refreshed.json()["refresh_token"] != operator["refresh_token"]
    assert me.json() == {"user": "ops", "role": "operator"}
    assert reused.status_code == 401  # a refresh token used twice revokes its family...
    assert family.status_code == 401  # ...with the access tokens issued from it
    assert revoked.json() == {"revoked": "access_token"}
    assert gone.status_code == 401
