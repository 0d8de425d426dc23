"""The API's frame: monitoring routes, problem documents, the caller seam."""

from __future__ import annotations

from core.access import Role
from tests.console.api.conftest import Api


async def test_unknown_path_is_a_problem_document(api: Api) -> None:
    async with api.client() as client:
        answer = await client.get("/api/v1/nothing-here")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["status"] == 404
    assert answer.headers["x-request-id"]


async def test_health_answers_ok_once_running(api: Api) -> None:
    async with api.client(Role.VIEWER) as client:
        answer = await client.get("/health")
    assert answer.status_code == 200
    assert answer.json()["status"] == "ok"
    assert answer.headers["x-content-type-options"] == "nosniff"
