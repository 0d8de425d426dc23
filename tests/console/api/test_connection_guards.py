"""The API server against hostile or broken clients, over real sockets: malformed and
oversized requests, slow and silent clients, clients that do not read, floods of
connections; the headers every answer carries; TLS; request ids in answers and logs."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import ssl
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from console.api.server import ApiServer, server_tls
from core.logs import LogTail
from tests.checks.services.pki import Authority
from tests.console.api.conftest import ServeUnstarted


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


async def raw(port: int, data: bytes, local: str = "127.0.0.1") -> bytes:
    """Write ``data`` on a new connection and read until the server closes it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(local, 0))
    writer.write(data)
    await writer.drain()
    async with asyncio.timeout(10):
        answer = await reader.read()
    writer.close()
    return answer


async def health(server: ApiServer) -> int:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
        return (await client.get("/health")).status_code


def head_of(answer: bytes) -> dict[str, str]:
    lines = answer.split(b"\r\n\r\n", 1)[0].decode().split("\r\n")[1:]
    return {name.lower(): value.strip() for name, _, value in (x.partition(":") for x in lines)}


GET = b"GET /health HTTP/1.1\r\nHost: x\r\n"


@pytest.mark.parametrize(
    ("request_bytes", "status", "says"),
    [
        (b"GARBAGE\r\n\r\n", b"400", b"illegal request line"),
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", b"400", b"illegal"),  # TLS
        (b"GET /health HTTP/2.0\r\nHost: x\r\n\r\n", b"505", b"HTTP/1.0 and HTTP/1.1 only"),
        (GET + b"broken header\r\n\r\n", b"400", b"Invalid HTTP request"),
        (b"GET /health HTTP/1.1\r\n\r\n", b"400", b"Missing mandatory Host"),
        (GET + b"X: " + b"a" * 9000 + b"\r\n\r\n", b"431", b"larger than 8,192 bytes"),
        (GET + b"X: " + b"a" * 9000, b"431", b"Receive buffer too long"),  # and still coming
        (GET + b"Content-Length: 5\r\nContent-Length: 0\r\n\r\nhello", b"400", b"conflicting"),
        (GET + b"Content-Length: 0\r\nContent-Length: 5\r\n\r\nhello", b"400", b"conflicting"),
        (GET + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", b"400",
         b"both Content-Length and Transfer-Encoding"),
        (GET + b"Host: y\r\n\r\n", b"400", b"multiple Host"),
        (GET + b"Content-Length: 0\r\ncontent-length: 0\r\nConnection: close\r\n\r\n", b"200",
         b'"status": "starting"'),  # the same length twice is one length
    ],
    ids=["garbage", "tls-to-plain", "http2", "broken-header", "no-host", "huge-head",
         "huge-head-incomplete", "lengths-5-0", "lengths-0-5", "length-and-chunked",
         "two-hosts", "same-length-twice"],
)  # fmt: skip
async def test_bad_requests_are_refused_as_problems_and_the_server_stays_up(
    serve_unstarted: ServeUnstarted, request_bytes: bytes, status: bytes, says: bytes
) -> None:
    server = await serve_unstarted()
    answer = await raw(server.port, request_bytes)
    assert answer.startswith(b"HTTP/1.1 " + status), answer[:120]
    assert says in answer, answer
    headers = head_of(answer)
    assert headers["x-content-type-options"] == "nosniff"
    if status != b"200":
        assert headers["content-type"] == "application/problem+json"
        assert headers["connection"] == "close"
    assert await health(server) == 200


async def test_a_client_that_sends_nothing_or_half_a_head_is_disconnected(
    serve_unstarted: ServeUnstarted,
) -> None:
    server = await serve_unstarted(read_timeout=0.5)
    silent = await asyncio.open_connection("127.0.0.1", server.port)
    slow = await asyncio.open_connection("127.0.0.1", server.port)
    slow[1].write(b"GET /hea")  # and then nothing more
    await slow[1].drain()
    async with asyncio.timeout(5):  # the read timeout is 0.5 s
        assert await silent[0].read() == b""
        assert await slow[0].read() == b""
    for _, writer in (silent, slow):
        writer.close()
    await until(lambda: server.connections == 0)
    assert await health(server) == 200


async def test_a_keep_alive_connection_falls_silent_and_is_closed(
    serve_unstarted: ServeUnstarted,
) -> None:
    server = await serve_unstarted(read_timeout=0.5)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(GET + b"\r\n")
    async with asyncio.timeout(5):
        assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 200")
        await reader.read()  # the body, then the close
    assert server.connections == 0
    writer.close()


async def test_a_client_that_does_not_read_its_answers_is_disconnected(
    serve_unstarted: ServeUnstarted,
) -> None:
    server = await serve_unstarted(read_timeout=0.5)
    _, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write((GET + b"\r\n") * 20_000)  # megabytes of answers, never read
    await until(lambda: server.connections == 1)
    await until(lambda: server.connections == 0, timeout=30)
    writer.close()
    assert await health(server) == 200


async def test_connections_beyond_the_limit_are_answered_503(
    serve_unstarted: ServeUnstarted,
) -> None:
    server = await serve_unstarted(max_connections=2)
    idle = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(2)]
    await until(lambda: server.connections == 2)
    answer = await raw(server.port, GET + b"\r\n")
    assert answer.startswith(b"HTTP/1.1 503 Service Unavailable"), answer[:80]
    headers = head_of(answer)
    assert headers["content-type"] == "application/problem+json"
    assert headers["x-request-id"] and headers["x-frame-options"] == "DENY"
    assert b"too many connections" in answer
    for _, writer in idle:
        writer.close()
    await until(lambda: server.connections == 0)
    assert await health(server) == 200
    assert server.answers[("other", 503)] == 1


async def test_keep_alive_serves_many_requests_on_one_connection(
    serve_unstarted: ServeUnstarted,
) -> None:
    server = await serve_unstarted()
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    for _ in range(3):
        writer.write(GET + b"\r\n")
        await writer.drain()
        async with asyncio.timeout(5):
            head = await reader.readuntil(b"\r\n\r\n")
        length = int(head_of(head)["content-length"])
        assert b"200 OK" in head and b'"status": ' in await reader.readexactly(length)
    assert server.connections == 1
    writer.close()


async def test_one_address_holding_many_slow_connections_does_not_turn_others_away(
    serve_unstarted: ServeUnstarted,
) -> None:
    server = await serve_unstarted(read_timeout=60.0, max_connections=16, max_per_client=8)
    hog: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    try:
        for _ in range(20):  # more than the server holds at all
            hog.append(await asyncio.open_connection("127.0.0.1", server.port,
                                                     local_addr=("127.0.0.2", 0)))  # fmt: skip
            # and it sends nothing, for as long as it may
        reads = [asyncio.ensure_future(reader.read()) for reader, _ in hog]
        async with asyncio.timeout(30):  # answered at once, not after the read timeout
            while sum(task.done() for task in reads) < 20 - 8:
                await asyncio.sleep(0.05)
        answers = [task.result() for task in reads if task.done()]
        assert all(a.startswith(b"HTTP/1.1 429 Too Many Requests") for a in answers)
        assert b"too many connections from this address" in answers[0]
        headers = head_of(answers[0])
        assert headers["retry-after"] == "60" and headers["x-content-type-options"] == "nosniff"
        assert server.connections == 8  # the rest are held for nothing
        for local in ("127.0.0.1", "127.0.0.3"):  # everyone else is served
            answer = await raw(server.port, GET + b"Connection: close\r\n\r\n", local)
            assert answer.startswith(b"HTTP/1.1 200 OK"), answer[:80]
        for task in reads:
            task.cancel()
    finally:
        for _, writer in hog:
            writer.close()


async def test_every_answer_carries_date_and_the_security_headers(
    serve_unstarted: ServeUnstarted,
) -> None:
    server = await serve_unstarted()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
        answers = [
            await client.get(path) for path in ("/health", "/nowhere", "/api/v1/openapi.json")
        ]
        answers.append(await client.post("/health"))
        docs = await client.get("/api/v1/docs")
    for answer in [*answers, docs]:
        headers = answer.headers
        assert email.utils.parsedate_to_datetime(headers["date"]).tzinfo is not None
        assert headers["cache-control"] == "no-store"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert len(headers["x-request-id"]) == 16
        assert "strict-transport-security" not in headers  # meaningless over plain HTTP
        assert "server" not in headers
    assert all(a.headers["content-security-policy"] == "default-src 'none'; frame-ancestors "
               "'none'" for a in answers)  # fmt: skip
    assert "https://cdn.jsdelivr.net" in docs.headers["content-security-policy"]  # Swagger UI


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated:DeprecationWarning")
async def test_tls_serves_https_with_hsts_and_no_tls_below_1_2(
    serve_unstarted: ServeUnstarted, tmp_path: Path
) -> None:
    authority = Authority.create()
    ca_file = authority.write(tmp_path / "ca.pem")
    cert_file, key_file = authority.issue(tmp_path, "monitor")
    server = await serve_unstarted(tls=server_tls(cert_file, key_file))
    assert server.scheme == "https"
    trust = ssl.create_default_context(cafile=str(ca_file))
    async with httpx.AsyncClient(verify=trust) as client:
        for path in ("/health", "/nowhere"):
            response = await client.get(f"https://127.0.0.1:{server.port}{path}")
            hsts = response.headers["strict-transport-security"]
            assert hsts == "max-age=63072000; includeSubDomains"
    old = ssl.create_default_context(cafile=str(ca_file))
    old.minimum_version = old.maximum_version = ssl.TLSVersion.TLSv1_1
    async with httpx.AsyncClient(verify=old) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"https://127.0.0.1:{server.port}/health")


def test_unreadable_or_mismatched_tls_files_name_the_setting(tmp_path: Path) -> None:
    authority = Authority.create()
    cert_file, _ = authority.issue(tmp_path, "one")
    _, other_key = authority.issue(tmp_path, "two")
    with pytest.raises(ValueError, match=r"http_tls_key_file: .*missing\.pem is not"):
        server_tls(cert_file, tmp_path / "missing.pem")
    with pytest.raises(ValueError, match=r"http_tls_cert_file .* with http_tls_key_file"):
        server_tls(cert_file, other_key)


async def test_each_answer_names_its_request_and_a_failure_is_logged_once_with_it(
    serve_unstarted: ServeUnstarted, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="console.api.access")  # as serve's log level does
    server = await serve_unstarted()

    @server.app.get("/api/v1/broken")
    async def broken() -> None:
        logging.getLogger("tests.api").warning("about to fail")
        raise RuntimeError("renderer exploded at /secret/path")

    tail = LogTail()
    root = logging.getLogger()
    root.addHandler(tail)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
            ids = {(await client.get("/health")).headers["x-request-id"] for _ in range(3)}
            failed = await client.get("/api/v1/broken")
            after = await client.get("/health")  # the same connection, still served
    finally:
        root.removeHandler(tail)
    assert len(ids) == 3 and all(len(i) == 16 for i in ids)  # one per request
    assert failed.status_code == 500 and after.status_code == 200
    request_id = failed.headers["x-request-id"]
    body = failed.json()
    assert body["request_id"] == request_id and request_id in body["detail"]
    assert "exploded" not in failed.text and "Traceback" not in failed.text
    entries = [e for e in tail.entries() if e.logger.startswith(("console", "tests", "uvicorn"))
               and e.logger != "console.api.access"]  # fmt: skip
    (warning, error) = entries  # the route's own record and the failure, nothing from uvicorn
    assert warning.message == "about to fail"
    assert error.message == "GET /api/v1/broken failed"
    assert error.exception == "RuntimeError: renderer exploded at /secret/path"
    for entry in (warning, error):
        assert dict(entry.fields)["request_id"] == request_id
    # One access record per request, to the file only (not the console's Logs screen),
    # and none for the health polls.
    assert not [e for e in tail.entries() if e.logger == "console.api.access"]
    access = [r.__dict__ for r in caplog.records if r.name == "console.api.access"]
    assert [(a["path"], a["status"]) for a in access] == [("/api/v1/broken", 500)]
    assert access[0]["request_id"] == request_id
