"""Rate limits by endpoint type (auth, writes, reads) per client address, with the
RateLimit headers, in memory and shared by two servers through a real redis-server."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from console.api.edges import storage_uri
from console.api.server import ApiServer
from core.access import Role
from core.config import Settings
from tests.checks.services.servers import executable, free_port, redis_config, stop, wait_for_ports
from tests.console.api.conftest import Api, ServeUnstarted

LIMITS = {"api_rate_reads": "4/minute", "api_rate_writes": "2/minute", "api_rate_auth": "3/minute"}


@pytest.fixture
def api_settings(settings: Settings) -> Settings:
    return settings.model_copy(update=LIMITS)


async def raw_get(port: int, path: str, local: str) -> bytes:
    """One GET from another client address (the monitoring routes need no credentials)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(local, 0))
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    async with asyncio.timeout(10):
        answer = await reader.read()
    writer.close()
    return answer


async def test_reads_are_limited_with_ratelimit_headers_and_health_never(api: Api) -> None:
    async with api.client(Role.VIEWER) as client:
        answers = [await client.get("/metrics") for _ in range(4)]
        for remaining, answer in zip((3, 2, 1, 0), answers, strict=True):
            assert answer.status_code == 200
            headers = answer.headers
            assert headers["ratelimit-limit"] == "4"
            assert headers["ratelimit-remaining"] == str(remaining)
            assert 0 <= int(headers["ratelimit-reset"]) <= 60
            assert headers["ratelimit-policy"] == "4;w=60"
        refused = await client.get("/api/v1/openapi.json")  # any read counts toward it
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["detail"] == "too many reads requests: at most 4 per 60 seconds"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert refused.headers["ratelimit-remaining"] == "0"
        assert refused.headers["x-request-id"] and refused.headers["x-frame-options"] == "DENY"
        assert {(await client.get("/health")).status_code for _ in range(10)} == {200}
        assert "ratelimit-limit" not in (await client.get("/health")).headers

        writes = [(await client.post("/metrics")).status_code for _ in range(3)]
        assert writes == [405, 405, 429]  # writes have their own, smaller window
        auth = [(await client.post("/api/v1/auth/token")).status_code for _ in range(4)]
        assert auth[3] == 429 and 429 not in auth[:3]  # and so does authentication

    # Another address has windows of its own.
    other = await raw_get(api.server.port, "/metrics", "127.0.0.2")
    assert other.startswith(b"HTTP/1.1 200"), other[:80]
    assert b"ratelimit-remaining: 3\r\n" in other


@pytest.mark.parametrize("field", sorted(LIMITS))
def test_a_rate_that_is_not_one_is_refused_naming_the_setting(field: str) -> None:
    with pytest.raises(ValidationError, match=rf"{field}\n.*'often' is not a rate such as"):
        Settings.model_validate({field: "often"})


class Redis:
    """A real redis-server on a free port; ``stop()`` ends it mid-test."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir()
        self.port = free_port()
        config = directory / "redis.conf"
        config.write_text(redis_config(directory, self.port, {"save": '""', "appendonly": "no"}))
        command = [executable("redis-server"), str(config)]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        wait_for_ports(self.process, [self.port], directory / "redis.log")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        stop(self.process)  # type: ignore[arg-type]


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[Redis]:
    server = Redis(tmp_path / "redis")
    try:
        yield server
    finally:
        server.stop()


async def test_two_servers_share_their_limits_in_redis_and_refuse_without_it(
    serve_unstarted: ServeUnstarted, settings: Settings, redis: Redis
) -> None:
    shared = settings.model_copy(update={**LIMITS, "redis_url": redis.url})
    one: ApiServer = await serve_unstarted(shared)
    two: ApiServer = await serve_unstarted(shared)
    remaining = []
    for server in (one, two, one, two):
        answer = await raw_get(server.port, "/metrics", "127.0.0.1")
        assert answer.startswith(b"HTTP/1.1 200"), answer[:80]
        remaining.append(answer.split(b"ratelimit-remaining: ")[1].split(b"\r\n")[0])
    assert remaining == [b"3", b"2", b"1", b"0"]  # one window, counted by both
    for server in (one, two):
        assert (await raw_get(server.port, "/metrics", "127.0.0.1")).startswith(b"HTTP/1.1 429")
        assert (await raw_get(server.port, "/metrics", "127.0.0.3")).startswith(b"HTTP/1.1 200")

    redis.stop()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{one.port}") as client:
        refused = await client.get("/metrics")
        assert refused.status_code == 503  # fails closed: no limits is not an option
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["retry-after"] == "5"
        assert "rate limiting is unavailable" in refused.json()["detail"]
        assert (await client.get("/health")).status_code == 200  # never limited, still up


@pytest.mark.parametrize(
    ("redis_url", "uri"),
    [("redis://h:6379/0", "async+redis://h:6379/0"),
     ("rediss://h:6380", "async+rediss://h:6380"),
     ("unix:///run/redis.sock", "async+redis+unix:///run/redis.sock")],
)  # fmt: skip
def test_the_redis_url_setting_names_the_limiters_storage(redis_url: str, uri: str) -> None:
    assert storage_uri(redis_url) == uri
