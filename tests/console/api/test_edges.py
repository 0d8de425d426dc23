"""What every API answer passes through, against a real server: problem documents,
the body bound, CORS, and the security headers as our own readiness probe scores them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from pydantic import BaseModel
from sqlalchemy import create_engine

from checks import REGISTRY, ProbeContext
from checks.probes import Target
from console.api.server import ApiServer, server_tls
from core.access import Role
from core.config import Settings
from core.events import Verdict
from tests.checks.services.pki import Authority
from tests.console.api.conftest import Api, ServeUnstarted

PROBLEM = "application/problem+json"


class Order(BaseModel):
    symbol: str
    quantity: int


@pytest.fixture
def api_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"api_max_body_bytes": 1024})


@pytest.fixture
def echo(api: Api) -> Api:
    """The API with two routes of the test's own: one that reads and validates a JSON
    body, one that fails."""

    @api.server.app.post("/api/v1/test/orders")
    async def accept(order: Order) -> dict[str, object]:
        return {"symbol": order.symbol, "quantity": order.quantity}

    @api.server.app.get("/api/v1/test/broken")
    async def broken() -> None:
        raise KeyError("/var/lib/quarterdeck/secret.db")

    return api


def is_problem(answer: httpx.Response, status: int) -> dict[str, object]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    body: dict[str, object] = answer.json()
    assert body["status"] == status and body["type"] == "about:blank"
    assert isinstance(body["title"], str) and isinstance(body["detail"], str)
    return body


async def test_routing_errors_are_problem_documents(echo: Api) -> None:
    async with echo.client(Role.VIEWER) as client:
        is_problem(await client.get("/api/v1/nothing-here"), 404)
        refused = await client.get("/api/v1/test/orders")
        assert is_problem(refused, 405)["title"] == "Method Not Allowed"
        assert refused.headers["allow"] == "POST"


async def test_invalid_bodies_are_422_naming_each_field(echo: Api) -> None:
    async with echo.client(Role.OPERATOR) as client:
        good = await client.post("/api/v1/test/orders", json={"symbol": "SPY", "quantity": 3})
        assert good.json() == {"symbol": "SPY", "quantity": 3}
        body = is_problem(
            await client.post("/api/v1/test/orders", json={"symbol": "SPY", "quantity": "x"}),
            422,
        )
        assert body["errors"] == [
            {"field": "body.quantity",
             "message": "Input should be a valid integer, unable to parse string as an integer"}
        ]  # fmt: skip
        assert str(body["detail"]).startswith("body.quantity: ")
        missing = is_problem(await client.post("/api/v1/test/orders", json={}), 422)
        assert {e["field"] for e in missing["errors"]} == {"body.symbol", "body.quantity"}  # type: ignore[attr-defined,index]
        broken_json = await client.post(
            "/api/v1/test/orders",
            content=b'{"symbol": ',
            headers={"content-type": "application/json"},
        )
        assert "body" in str(is_problem(broken_json, 422)["detail"])


async def test_a_failing_route_is_a_500_problem_with_no_trace(echo: Api) -> None:
    async with echo.client(Role.VIEWER) as client:
        failed = await client.get("/api/v1/test/broken")
        body = is_problem(failed, 500)
        request_id = failed.headers["x-request-id"]
        assert body["request_id"] == request_id and request_id in str(body["detail"])
        for leak in ("secret.db", "KeyError", "Traceback", "File "):
            assert leak not in failed.text
        assert (await client.get("/health")).status_code == 200  # the server stays up


async def test_a_body_over_the_bound_is_413_declared_or_chunked(echo: Api) -> None:
    order = b'{"symbol": "SPY", "quantity": 1, "note": "' + b"x" * 2000 + b'"}'

    async def chunked() -> AsyncIterator[bytes]:  # no Content-Length: read until it passes
        for start in range(0, len(order), 256):
            yield order[start : start + 256]

    async with echo.client(Role.OPERATOR) as client:
        declared = await client.post(
            "/api/v1/test/orders", content=order, headers={"content-type": "application/json"}
        )
        assert is_problem(declared, 413)["detail"] == "the request body is larger than 1,024 bytes"
        streamed = await client.post(
            "/api/v1/test/orders", content=chunked(), headers={"content-type": "application/json"}
        )
        assert streamed.request.headers["transfer-encoding"] == "chunked"
        assert is_problem(streamed, 413)["detail"] == "the request body is larger than 1,024 bytes"
        small = await client.post("/api/v1/test/orders", json={"symbol": "SPY", "quantity": 1})
        assert small.status_code == 200  # the rest of the big bodies was read and dropped


async def test_no_cors_by_default(api: Api) -> None:
    async with api.client(Role.VIEWER) as client:
        for origin in ("https://ops.example", "null", api.url):
            answer = await client.get("/health", headers={"origin": origin})
            assert answer.status_code == 200
            assert "access-control-allow-origin" not in answer.headers
        preflight = await client.options("/api/v1/openapi.json", headers={
            "origin": "https://ops.example", "access-control-request-method": "GET"})  # fmt: skip
        assert "access-control-allow-origin" not in preflight.headers
        assert preflight.status_code == 405


async def test_cors_allows_only_the_configured_origins(
    serve_unstarted: ServeUnstarted, settings: Settings
) -> None:
    configured = Settings.model_validate(
        {**settings.model_dump(), "api_cors_origins": "https://ops.example, https://desk.example"}
    )
    server = await serve_unstarted(configured)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
        allowed = await client.get("/health", headers={"origin": "https://desk.example"})
        assert allowed.headers["access-control-allow-origin"] == "https://desk.example"
        assert "x-request-id" in allowed.headers["access-control-expose-headers"].lower()
        assert "access-control-allow-credentials" not in allowed.headers
        other = await client.get("/health", headers={"origin": "https://evil.example"})
        assert other.status_code == 200 and "access-control-allow-origin" not in other.headers

        preflight = await client.options("/api/v1/jobs", headers={
            "origin": "https://ops.example", "access-control-request-method": "POST",
            "access-control-request-headers": "authorization, content-type"})  # fmt: skip
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://ops.example"
        assert "POST" in preflight.headers["access-control-allow-methods"]
        assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
        assert preflight.headers["x-content-type-options"] == "nosniff"

        refused = await client.options("/api/v1/jobs", headers={
            "origin": "https://evil.example", "access-control-request-method": "POST"})  # fmt: skip
        assert refused.status_code == 400
        assert "access-control-allow-origin" not in refused.headers
        method = await client.options("/api/v1/jobs", headers={
            "origin": "https://ops.example", "access-control-request-method": "PUT"})  # fmt: skip
        assert method.status_code == 400


async def test_our_own_security_headers_probe_passes_against_the_api_over_tls(
    serve_unstarted: ServeUnstarted, settings: Settings, tmp_path: Path
) -> None:
    authority = Authority.create()
    ca_file = authority.write(tmp_path / "ca.pem")
    cert_file, key_file = authority.issue(tmp_path, "api")
    server: ApiServer = await serve_unstarted(tls=server_tls(cert_file, key_file))
    spec = REGISTRY.get("http.security_headers")
    context = ProbeContext(
        settings=settings, database_engine=create_engine("sqlite://"), engine_mode="paper",
        target=Target(base_url=f"https://127.0.0.1:{server.port}", ca_file=ca_file),
    )  # fmt: skip
    for path in ("/", "/health", "/api/v1/openapi.json"):  # the catalog's item asks for "/"
        result = await spec.function(context, spec.params.model_validate({"path": path}))
        assert result.verdict is Verdict.PASS, (path, result.reason)
        assert result.evidence["grade"] == "A+", (path, result.reason)
        assert result.evidence["version_leaks"] == []
