"""The monitoring server's answers to browsers and floods: headers, rate limits, TLS."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry, generate_latest

from core.health.http import HttpServer, Response, server_tls
from core.health.metrics import HttpCollector
from core.health.ratelimit import RateLimiter
from core.logs import LogTail
from tests.checks.services.pki import Authority


async def ok() -> Response:
    return Response(200, b'{"ok": true}')


def server(**options: object) -> HttpServer:
    return HttpServer({"/health": ok, "/metrics": ok}, host="127.0.0.1", port=0,
                      read_timeout=2.0, **options)  # type: ignore[arg-type]  # fmt: skip


@pytest.fixture
async def plain() -> AsyncIterator[HttpServer]:
    http = server(limiter=RateLimiter(rate=1.0, burst=3))
    await http.listen()
    yield http
    await http.stop()


async def test_every_answer_carries_date_and_the_security_headers(plain: HttpServer) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{plain.port}") as client:
        for path in ("/health", "/nowhere"):
            headers = (await client.get(path)).headers
            assert email.utils.parsedate_to_datetime(headers["date"]).tzinfo is not None
            assert headers["cache-control"] == "no-store"
            assert headers["x-content-type-options"] == "nosniff"
            assert headers["x-frame-options"] == "DENY"
            assert "default-src 'none'" in headers["content-security-policy"]
            assert "strict-transport-security" not in headers  # meaningless over plain HTTP
            assert "server" not in headers


async def test_costly_routes_are_rate_limited_per_client_and_health_is_not(
    plain: HttpServer,
) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{plain.port}") as client:
        codes = [(await client.get("/metrics")).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        refused = await client.get("/nowhere")
        assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
        assert {(await client.get("/health")).status_code for _ in range(20)} == {200}
    assert plain.answers == {("/metrics", 200): 3, ("/metrics", 429): 1, ("other", 429): 1,
                             ("/health", 200): 20}  # fmt: skip


async def test_answers_are_exported_by_route_and_status(plain: HttpServer) -> None:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(HttpCollector(plain))
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{plain.port}") as client:
        await client.get("/health")
        await client.get("/nowhere")
    text = generate_latest(registry).decode()
    assert 'quarterdeck_http_requests_total{code="200",path="/health"} 1.0' in text
    assert 'quarterdeck_http_requests_total{code="404",path="other"} 1.0' in text


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated:DeprecationWarning")
async def test_tls_serves_https_with_hsts_and_no_tls_below_1_2(tmp_path: Path) -> None:
    authority = Authority.create()
    ca_file = authority.write(tmp_path / "ca.pem")
    cert_file, key_file = authority.issue(tmp_path, "monitor")
    http = server(tls=server_tls(cert_file, key_file))
    await http.listen()
    try:
        assert http.scheme == "https"
        trust = ssl.create_default_context(cafile=str(ca_file))
        async with httpx.AsyncClient(verify=trust) as client:
            response = await client.get(f"https://127.0.0.1:{http.port}/health")
        assert response.status_code == 200
        assert response.headers["strict-transport-security"].startswith("max-age=")
        old = ssl.create_default_context(cafile=str(ca_file))
        old.minimum_version = old.maximum_version = ssl.TLSVersion.TLSv1_1
        async with httpx.AsyncClient(verify=old) as client:
            with pytest.raises(httpx.ConnectError):
                await client.get(f"https://127.0.0.1:{http.port}/health")
    finally:
        await http.stop()


def test_unreadable_or_mismatched_tls_files_name_the_setting(tmp_path: Path) -> None:
    authority = Authority.create()
    cert_file, _ = authority.issue(tmp_path, "one")
    _, other_key = authority.issue(tmp_path, "two")
    with pytest.raises(ValueError, match=r"http_tls_key_file: .*missing\.pem is not"):
        server_tls(cert_file, tmp_path / "missing.pem")
    with pytest.raises(ValueError, match=r"http_tls_cert_file .* with http_tls_key_file"):
        server_tls(cert_file, other_key)


async def test_each_answer_names_its_request_and_the_log_carries_the_same_id() -> None:
    async def broken() -> Response:
        raise RuntimeError("renderer exploded")

    tail = LogTail()
    logging.getLogger("core.health.http").addHandler(tail)
    http = HttpServer({"/health": ok, "/broken": broken}, host="127.0.0.1", port=0)
    await http.listen()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{http.port}") as client:
            ids = {(await client.get("/health")).headers["x-request-id"] for _ in range(3)}
            failed = await client.get("/broken")
    finally:
        await http.stop()
        logging.getLogger("core.health.http").removeHandler(tail)
    assert len(ids) == 3 and all(len(i) == 16 for i in ids)  # one per request
    assert failed.status_code == 500
    (entry,) = [e for e in tail.entries() if e.message == "http /broken failed"]
    assert dict(entry.fields)["request_id"] == failed.headers["x-request-id"]


async def raw_exchange(port: int, data: bytes, local: str = "127.0.0.1") -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(local, 0))
    writer.write(data)
    await writer.drain()
    async with asyncio.timeout(10):
        answer = await reader.read()
    writer.close()
    return answer


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        (b"Content-Length: 5\r\nContent-Length: 0\r\n", b"400"),
        (b"Content-Length: 0\r\nContent-Length: 5\r\n", b"400"),
        (b"Content-Length: 0\r\ncontent-length: 0\r\n", b"200"),  # the same length twice
        (b"Host: a.example\r\nHost: b.example\r\n", b"400"),
    ],
    ids=["5-then-0", "0-then-5", "same-twice", "two-hosts"],
)
async def test_conflicting_length_or_host_headers_are_refused(
    plain: HttpServer, headers: bytes, status: bytes
) -> None:
    request = b"GET /health HTTP/1.1\r\n" + headers + b"Connection: close\r\n\r\n"
    answer = await raw_exchange(plain.port, request + b"hello")
    assert answer.startswith(b"HTTP/1.1 " + status), answer[:120]
    if status == b"400":
        assert b"conflicting" in answer


async def test_one_address_holding_many_slow_connections_does_not_turn_others_away() -> None:
    http = HttpServer({"/health": ok}, host="127.0.0.1", port=0, read_timeout=60.0)
    await http.listen()
    hog: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    try:
        for _ in range(http.max_connections + 6):  # more than the server holds at all
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", http.port, local_addr=("127.0.0.2", 0)
            )
            hog.append((reader, writer))  # and it sends nothing, for as long as it may
        reads = [asyncio.ensure_future(reader.read()) for reader, _ in hog]
        turned_away = len(hog) - http.max_per_client
        async with asyncio.timeout(30):
            while sum(task.done() for task in reads) < turned_away:
                await asyncio.sleep(0.05)
        answers = [task.result() for task in reads if task.done()]
        assert all(a.startswith(b"HTTP/1.1 429 Too Many Requests") for a in answers)
        assert b"too many connections from this address" in answers[0]
        assert http.connections == http.max_per_client  # the rest are held for nothing
        for local in ("127.0.0.1", "127.0.0.3"):  # everyone else is served
            request = b"GET /health HTTP/1.1\r\nConnection: close\r\n\r\n"
            answer = await raw_exchange(http.port, request, local)
            assert answer.startswith(b"HTTP/1.1 200 OK"), answer[:80]
        for task in reads:
            task.cancel()
    finally:
        for _, writer in hog:
            writer.close()
        await http.stop()
