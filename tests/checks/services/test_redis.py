"""redis.config against real redis-server processes, one per configuration."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from checks.probes import REGISTRY
from checks.probes.redis_server import RedisConfigParams, config, masked, without_credentials
from core.events import Verdict

from .conftest import MakeContext
from .servers import REDIS_GOOD, free_port, redis_servers

PASSWORD = REDIS_GOOD["requirepass"]
CONFIGS = {
    "good": REDIS_GOOD,
    "no_password": {k: v for k, v in REDIS_GOOD.items() if k != "requirepass"},
    "no_persistence": {**REDIS_GOOD, "save": '""', "appendonly": "no"},
    "no_maxmemory": {**REDIS_GOOD, "maxmemory": "0"},
    "evicts_anything": {**REDIS_GOOD, "maxmemory-policy": "allkeys-random"},
}


@pytest.fixture(scope="module")
def redis_ports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, int]]:
    with redis_servers(tmp_path_factory.mktemp("redis"), CONFIGS) as ports:
        yield ports


def url(port: int, password: str | None = PASSWORD) -> str:
    return f"redis://:{password}@127.0.0.1:{port}/0" if password else f"redis://127.0.0.1:{port}/0"


def test_redis_probe_is_registered() -> None:
    assert REGISTRY.get("redis.config").params is RedisConfigParams


def test_urls_lose_or_mask_their_password() -> None:
    assert without_credentials("redis://user:pw@10.0.0.1:6380/2") == "redis://10.0.0.1:6380/2"
    assert masked("redis://user:pw@10.0.0.1:6380/2") == "redis://user:***@10.0.0.1:6380/2"
    assert masked("redis://:pw@[::1]:6379") == "redis://:***@[::1]:6379"
    assert masked("redis://127.0.0.1") == "redis://127.0.0.1"


async def test_good_configuration_passes(redis_ports: dict[str, int], make_ctx: MakeContext):
    result = await config(make_ctx(redis_url=url(redis_ports["good"])), RedisConfigParams())
    assert result.verdict is Verdict.PASS, result.reason
    evidence = result.evidence
    assert evidence["unauthenticated_ping"].startswith("NOAUTH")
    assert (evidence["save"], evidence["appendonly"], evidence["maxmemory"]) == (
        "900 1", "yes", str(64 * 2**20),
    )  # fmt: skip
    assert PASSWORD not in str(evidence) and PASSWORD not in result.reason
    assert "maxmemory 64 MiB" in result.reason


async def test_no_password_fails(redis_ports: dict[str, int], make_ctx: MakeContext) -> None:
    ctx = make_ctx(redis_url=url(redis_ports["no_password"], password=None))
    result = await config(ctx, RedisConfigParams())
    assert result.verdict is Verdict.FAIL
    assert result.reason == "accepts commands without AUTH (no requirepass or ACL)"
    assert result.evidence["unauthenticated_ping"].startswith("PONG")


async def test_persistence_off_fails(redis_ports: dict[str, int], make_ctx: MakeContext) -> None:
    ctx = make_ctx(redis_url=url(redis_ports["no_persistence"]))
    result = await config(ctx, RedisConfigParams())
    assert result.verdict is Verdict.FAIL
    assert result.reason == "RDB snapshots are off (save is empty); AOF is off (appendonly no)"


async def test_no_maxmemory_fails(redis_ports: dict[str, int], make_ctx: MakeContext) -> None:
    ctx = make_ctx(redis_url=url(redis_ports["no_maxmemory"]))
    result = await config(ctx, RedisConfigParams())
    assert result.verdict is Verdict.FAIL
    assert result.reason == "maxmemory is not set (0: unbounded)"


async def test_an_eviction_policy_that_drops_state_fails(
    redis_ports: dict[str, int], make_ctx: MakeContext
) -> None:
    ctx = make_ctx(redis_url=url(redis_ports["evicts_anything"]))
    result = await config(ctx, RedisConfigParams())
    assert result.verdict is Verdict.FAIL
    assert result.reason == (
        "maxmemory-policy is allkeys-random, not one of noeviction, volatile-lru, volatile-lfu, "
        "volatile-ttl"
    )
    cache = await config(ctx, RedisConfigParams(maxmemory_policies=["allkeys-random"]))
    assert cache.verdict is Verdict.PASS, cache.reason


async def test_wrong_password_fails(redis_ports: dict[str, int], make_ctx: MakeContext) -> None:
    ctx = make_ctx(redis_url=url(redis_ports["good"], password="not-it"))
    result = await config(ctx, RedisConfigParams())
    assert result.verdict is Verdict.FAIL
    assert result.reason.startswith("cannot use Redis at redis://:***@127.0.0.1:")
    assert "not-it" not in result.reason


async def test_unreachable_redis_fails(make_ctx: MakeContext) -> None:
    ctx = make_ctx(redis_url=url(free_port()))
    result = await config(ctx, RedisConfigParams(connect_timeout=1))
    assert result.verdict is Verdict.FAIL
    assert "cannot use Redis" in result.reason
    assert "error" in result.evidence


async def test_unset_redis_url_is_an_error(make_ctx: MakeContext) -> None:
    result = await config(make_ctx(), RedisConfigParams())
    assert result.verdict is Verdict.ERROR
    assert result.reason == "target.redis_url is not set"
