"""``/api/v1/readiness``: the release's state as ``check status --json`` prints it, and runs
of the probes through the Deck's readiness service, with the caller's role."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.client import connect

from checks.ledger import sign_off
from checks.release import Release, default_release
from core.access import Principal, Role
from core.audit import read_entries
from core.config import Settings
from tests.console.api.conftest import Api

ITEM = "database.reachable"  # its target's database: this Quarterdeck's own, below


@pytest.fixture
def api_settings(settings: Settings) -> Settings:
    """The served Quarterdeck's database is the target's the checks examine."""
    return settings.model_copy(update={"check_database_url": settings.resolved_database_url})


async def finished_run(api: Api, run_id: int) -> dict[str, object]:
    """The run once the readiness service is idle (runs go one at a time)."""
    await api.readiness.wait_idle()
    async with api.client(Role.VIEWER) as client:
        answer = await client.get(f"/api/v1/readiness/runs/{run_id}")
    assert answer.status_code == 200
    body: dict[str, object] = answer.json()
    return body


async def test_readiness_lists_every_item_with_its_verdict_and_the_signoffs(api: Api) -> None:
    await api.readiness.wait_idle()
    checklist = api.readiness.checklist
    assert checklist is not None
    release = Release("production", default_release(api.deck.settings),
                      api.deck.settings.environment)  # fmt: skip
    signer = Principal("olive", Role.OPERATOR, source="test")
    await asyncio.to_thread(sign_off, api.deck.store, checklist, release, "Operations", signer,
                            "looked", api.deck.settings.signoff_roles)  # fmt: skip
    async with api.client(Role.VIEWER) as client:
        answer = await client.get("/api/v1/readiness")
    assert answer.status_code == 200
    body = answer.json()
    assert body["checklist"] == "production" and body["version"] == release.version
    assert [item["id"] for item in body["items"]] == [item.id for item in checklist.items]
    item = next(item for item in body["items"] if item["id"] == ITEM)
    assert item["verdict"] == "pass" and item["actor"] == "quarterdeck"  # the start-up run
    assert body["signoffs"] == [{"role": "Operations", "who": "olive", "note": "looked",
                                 "at": body["signoffs"][0]["at"]}]  # fmt: skip
    assert "Operations" not in body["missing_roles"]
    assert body["authorization"] is None and body["running"] is False


async def test_an_unknown_checklist_is_refused_naming_the_field(api: Api) -> None:
    async with api.client(Role.VIEWER) as client:
        answer = await client.get("/api/v1/readiness", params={"checklist": "nope"})
        run = await client.get("/api/v1/readiness/runs/999")
    assert answer.status_code == 422
    assert answer.json()["errors"] == [
        {"field": "query.checklist", "message": answer.json()["errors"][0]["message"]}
    ]
    assert "known: " in answer.json()["detail"] and "production" in answer.json()["detail"]
    assert run.status_code == 404


async def test_a_viewer_may_not_run_checks_and_the_refusal_is_audited(api: Api) -> None:
    async with api.client(Role.VIEWER) as client:
        answer = await client.post("/api/v1/readiness/runs", json={"checklist": "production"})
    assert answer.status_code == 403
    assert "may not run checks" in answer.json()["detail"]
    denied = await asyncio.to_thread(read_entries, api.deck.store, "denied.check.run")
    assert [entry.actor for entry in denied] == ["viewer-user"]


async def test_a_run_is_accepted_followed_by_its_id_and_streamed(api: Api) -> None:
    await api.readiness.wait_idle()
    token = api.client(Role.OPERATOR).headers["authorization"].removeprefix("Bearer ")
    url = f"ws://127.0.0.1:{api.server.port}/api/v1/stream?token={token}"
    async with connect(url) as socket, api.client(Role.OPERATOR) as client:
        await socket.recv()  # welcome
        await socket.send(json.dumps({"subscribe": ["readiness"]}))
        await socket.recv()  # subscribed
        answer = await client.post("/api/v1/readiness/runs",
                                   json={"checklist": "production", "only": [ITEM]})  # fmt: skip
        assert answer.status_code == 202
        accepted = answer.json()
        assert accepted["checklist"] == "production"
        assert accepted["requested_by"] == "operator-user"
        assert accepted["state"] in ("running", "done")
        async with asyncio.timeout(60):
            updates = [json.loads(await socket.recv())]
            while updates[-1]["data"]["verdict"] in ("pending", "running"):
                updates.append(json.loads(await socket.recv()))
    assert {u["data"]["item_id"] for u in updates} == {ITEM}
    assert updates[-1]["topic"] == "readiness" and updates[-1]["data"]["verdict"] == "pass"
    run = await finished_run(api, accepted["id"])
    assert run["state"] == "done" and run["verdicts"] == {"pass": 1}
    async with api.client(Role.VIEWER) as client:
        body = (await client.get("/api/v1/readiness")).json()
    item = next(item for item in body["items"] if item["id"] == ITEM)
    assert item["actor"] == "operator-user"


async def test_a_run_of_unknown_items_or_checklist_is_refused(api: Api) -> None:
    async with api.client(Role.OPERATOR) as client:
        items = await client.post("/api/v1/readiness/runs", json={"only": ["no.such"]})
        checklist = await client.post("/api/v1/readiness/runs", json={"checklist": "nope"})
        shape = await client.post("/api/v1/readiness/runs", json={"checklist": "../etc"})
    assert items.status_code == 422 and items.json()["errors"][0]["field"] == "body.only"
    assert "no.such" in items.json()["detail"]
    assert checklist.status_code == 422
    assert checklist.json()["errors"][0]["field"] == "body.checklist"
    assert shape.status_code == 422 and shape.json()["errors"][0]["field"] == "body.checklist"
