"""Redis probe: the server demands a password, persists its data and bounds its memory."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field

from checks.probes.base import ProbeContext, ProbeParams, ProbeResult, Scope
from checks.probes.registry import probe

if TYPE_CHECKING:
    import redis.asyncio as aioredis
from core.events import Verdict


class RedisConfigParams(ProbeParams):
    connect_timeout: float = Field(default=3.0, gt=0)
    #: What Redis may do at maxmemory. By default only policies that never evict a key
    #: without a TTL: job state and locks have none, and an evicted rate-limit counter
    #: lets its client through (a limiter that fails open). A pure cache may allow
    #: allkeys-lru.
    maxmemory_policies: list[str] = Field(
        default_factory=lambda: ["noeviction", "volatile-lru", "volatile-lfu", "volatile-ttl"],
        min_length=1,
    )


def without_credentials(url: str) -> str:
    """``url`` with its user and password removed: what an anonymous client would use."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def masked(url: str) -> str:
    """``url`` with the password replaced by ``***``, fit for evidence."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    anonymous = urlsplit(without_credentials(url))
    return urlunsplit(anonymous._replace(netloc=f"{user}:***@{anonymous.netloc}"))


def _client(url: str, timeout: float, ca_file: str | None) -> aioredis.Redis:
    options: dict[str, object] = {
        "socket_connect_timeout": timeout,
        "socket_timeout": timeout,
        "retry_on_timeout": False,
        "decode_responses": True,
    }
    if url.startswith("rediss://") and ca_file:
        options["ssl_ca_certs"] = ca_file
    import redis.asyncio as aioredis  # here: the asyncio client costs the console's start

    return aioredis.Redis.from_url(url, **options)


async def _anonymous_ping(url: str, timeout: float, ca_file: str | None) -> tuple[bool, str]:
    """(accepted, what the server said) for a ``PING`` sent without credentials."""
    from redis import exceptions as redis_errors

    client = _client(without_credentials(url), timeout, ca_file)
    try:
        answer = await client.ping()
    except redis_errors.AuthenticationError as exc:
        # redis-py turns the server's "-NOAUTH ..." reply into AuthenticationError.
        return False, f"NOAUTH {exc}"
    except redis_errors.ResponseError as exc:
        return False, str(exc)
    finally:
        await client.aclose()
    return True, f"PONG ({answer!r})"


async def _configuration(url: str, timeout: float, ca_file: str | None) -> dict[str, str]:
    client = _client(url, timeout, ca_file)
    try:
        values: dict[str, str] = {}
        for name in ("save", "appendonly", "maxmemory", "maxmemory-policy"):
            values.update(await client.config_get(name))
        info = await client.info("server")
        values["redis_version"] = str(info.get("redis_version", "?"))
        return values
    finally:
        await client.aclose()


@probe("redis.config", scopes=(Scope.TARGET,), params=RedisConfigParams, needs=("redis_url",))
async def config(ctx: ProbeContext, params: RedisConfigParams) -> ProbeResult:
    """Redis refuses unauthenticated clients, persists (RDB snapshots and AOF) and has
    a memory limit, with an eviction policy that keeps its state."""
    from redis import exceptions as redis_errors

    url = ctx.target.redis_url
    if not url:
        return ProbeResult(Verdict.ERROR, "target.redis_url is not set")
    ca_file = str(ctx.target.ca_file) if ctx.target.ca_file else None
    evidence: dict[str, object] = {"url": masked(url)}
    timeout = params.connect_timeout
    try:
        accepted, answer = await _anonymous_ping(url, timeout, ca_file)
        evidence["unauthenticated_ping"] = answer
        values = await _configuration(url, timeout, ca_file)
    except (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError) as exc:
        # redis-py's AuthenticationError is a ConnectionError too: a refused password
        # is as much a finding as a closed port.
        evidence["error"] = f"{type(exc).__name__}: {exc}"
        return ProbeResult(Verdict.FAIL, f"cannot use Redis at {masked(url)}: {exc}", evidence)
    except redis_errors.ResponseError as exc:  # CONFIG renamed or disabled
        evidence["error"] = f"{type(exc).__name__}: {exc}"
        return ProbeResult(Verdict.ERROR, f"cannot read the configuration: {exc}", evidence)
    evidence.update(values)

    failures: list[str] = []
    if accepted:
        failures.append("accepts commands without AUTH (no requirepass or ACL)")
    if not values.get("save", "").strip():
        failures.append("RDB snapshots are off (save is empty)")
    if values.get("appendonly", "no") != "yes":
        failures.append(f"AOF is off (appendonly {values.get('appendonly', '?')})")
    if int(values.get("maxmemory", "0") or 0) == 0:
        failures.append("maxmemory is not set (0: unbounded)")
    policy = values.get("maxmemory-policy", "?")
    if policy not in params.maxmemory_policies:
        failures.append(f"maxmemory-policy is {policy}, not one of "
                        f"{', '.join(params.maxmemory_policies)}")  # fmt: skip
    if failures:
        return ProbeResult(Verdict.FAIL, "; ".join(failures), evidence)
    megabytes = int(values["maxmemory"]) / 2**20
    reason = (
        f"NOAUTH without a password; save {values['save']!r}, appendonly yes; "
        f"maxmemory {megabytes:g} MiB ({values.get('maxmemory-policy', '?')})"
    )
    return ProbeResult(Verdict.PASS, reason, evidence)
