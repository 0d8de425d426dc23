"""``QD_HTTP_REDIRECT_PORT``: plain HTTP answered with a 308 to the same URL on https."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from console.api.redirect import HttpsRedirect
from core.config import Settings


@pytest.fixture
async def redirect() -> AsyncIterator[HttpsRedirect]:
    server = HttpsRedirect(host="127.0.0.1", port=0, https_port=8443)
    await server.listen()
    try:
        yield server
    finally:
        await server.stop()


async def test_every_request_is_sent_to_the_same_url_on_https(redirect: HttpsRedirect) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{redirect.port}") as client:
        read = await client.get("/api/v1/portfolio?limit=5")
        write = await client.post("/api/v1/auth/token", headers={"x-api-key": "qd_x_y"})
        named = await client.get("/health", headers={"host": "desk.example"})
    assert read.status_code == 308
    assert read.headers["location"] == "https://127.0.0.1:8443/api/v1/portfolio?limit=5"
    assert write.status_code == 308  # 308 keeps the method: the client re-sends it over TLS
    assert write.headers["location"] == "https://127.0.0.1:8443/api/v1/auth/token"
    assert named.headers["location"] == "https://desk.example:8443/health"  # the host asked for


async def test_the_default_https_port_is_left_out_of_the_location() -> None:
    server = HttpsRedirect(host="127.0.0.1", port=0, https_port=443)
    await server.listen()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
            answer = await client.get("/health", headers={"host": "desk.example:80"})
    finally:
        await server.stop()
    assert answer.headers["location"] == "https://desk.example/health"


async def test_a_malformed_host_falls_back_to_the_address_asked(redirect: HttpsRedirect) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{redirect.port}") as client:
        answer = await client.get("/health", headers={"host": "evil.example/x"})
    assert answer.headers["location"] == "https://127.0.0.1:8443/health"


async def test_a_taken_port_is_an_os_error(redirect: HttpsRedirect) -> None:
    second = HttpsRedirect(host="127.0.0.1", port=redirect.port, https_port=8443)
    with pytest.raises(OSError):
        await second.listen()


def test_the_redirect_port_needs_tls(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"http_redirect_port .* needs http_tls_cert_file"):
        Settings(**{**settings.model_dump(), "http_redirect_port": 8080})
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    tls = {"http_tls_cert_file": cert, "http_tls_key_file": key, "http_redirect_port": 8080}
    assert Settings(**{**settings.model_dump(), **tls}).http_redirect_port == 8080
