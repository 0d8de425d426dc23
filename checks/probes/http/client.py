"""The HTTP client every HTTP probe shares, and the evidence it records.

A probe opens a ``ProbeClient`` on the target, sends requests through it and
gets back ``httpx.Response`` objects; each exchange is recorded (method, URL,
status, headers, timing) with credentials masked, so the result's evidence
shows what was sent and received. A transport failure (connection refused,
no answer in time, TLS verification failed) raises ``Unreachable``, which
``run_http_probe`` turns into a FAIL: a target that does not answer is a
finding about the system, not a broken probe.

Conventions the probes rely on:

- the API key goes in the ``X-API-Key`` header (``API_KEY_HEADER``), unless
  it is a JWT, which goes in ``Authorization: Bearer`` like every token;
- redirects are never followed (the redirect probe inspects them);
- every request has a timeout (``DEFAULT_TIMEOUT_S``) on top of the runner's
  per-probe deadline.
"""

from __future__ import annotations

import asyncio
import functools
import math
import ssl
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from types import TracebackType
from typing import Any

import httpx

from checks.probes.base import NO_TARGET, ProbeResult, Target
from core.events import Verdict
from core.health.breaker import BreakerRegistry, CircuitOpen

API_KEY_HEADER = "X-API-Key"
USER_AGENT = "quarterdeck-readiness-probe/1"
DEFAULT_TIMEOUT_S = 5.0
#: A 429 is answered again at most this many times, waiting at most this long each time.
THROTTLE_RETRIES = 3
THROTTLE_WAIT_S = 2.0
#: Request headers whose values never go into evidence.
SECRET_REQUEST_HEADERS = frozenset({"authorization", "x-api-key", "cookie", "proxy-authorization"})
#: Longest body excerpt kept in evidence.
BODY_EXCERPT_CHARS = 300


class Unreachable(Exception):
    """The target did not answer a request: refused, timed out, reset, or failed TLS."""

    def __init__(self, method: str, url: str, error: httpx.TransportError) -> None:
        self.method = method
        self.url = url
        self.error = error
        super().__init__(self.reason)

    @property
    def kind(self) -> str:
        if isinstance(self.error, httpx.TimeoutException):
            return "no answer in time"
        if isinstance(self.error, httpx.ConnectError):
            return "cannot connect"
        return "transport error"

    @property
    def reason(self) -> str:
        detail = str(self.error) or type(self.error).__name__
        return f"{self.kind} to {self.method} {self.url}: {detail}"


def join_url(base_url: str, path: str) -> str:
    """``base_url`` (which may carry a path prefix) followed by ``path``; absolute URLs pass."""
    if path.startswith(("http://", "https://")):
        return path
    return base_url.rstrip("/") + "/" + path.lstrip("/")


def is_jwt(token: str) -> bool:
    """Whether ``token`` is a compact JWT: three base64url parts, the first a JSON header
    naming its ``alg``. (PyJWT is imported here, not above: it loads cryptography's x509.)"""
    import jwt

    if token.count(".") != 2:
        return False
    try:
        return "alg" in jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        return False


def credential_headers(api_key: str) -> dict[str, str]:
    """How the API key is presented: a JWT as a bearer token, anything else as X-API-Key."""
    if is_jwt(api_key):
        return {"Authorization": f"Bearer {api_key}"}
    return {API_KEY_HEADER: api_key}


def missing_setting(target: Target, *, api_key: bool = False) -> ProbeResult | None:
    """An ERROR result naming the first target setting the probe needs and lacks, else None."""
    if not target.base_url.strip():
        return ProbeResult(Verdict.ERROR, NO_TARGET, {"setting": "base_url"})
    if not target.base_url.startswith(("http://", "https://")):
        reason = f"target.base_url {target.base_url!r} is not an http:// or https:// URL"
        return ProbeResult(Verdict.ERROR, reason, {"setting": "base_url"})
    if api_key and not target.api_key:
        return ProbeResult(Verdict.ERROR, "target.api_key is not set", {"setting": "api_key"})
    if target.ca_file is not None and not target.ca_file.is_file():
        reason = f"target.ca_file {target.ca_file} does not exist"
        return ProbeResult(Verdict.ERROR, reason, {"setting": "ca_file"})
    return None


def mask_request_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Request headers fit for evidence: secrets replaced, the auth scheme kept."""
    masked: dict[str, str] = {}
    for name, value in headers.items():
        if name.lower() in SECRET_REQUEST_HEADERS:
            scheme = value.split(" ", 1)[0] if " " in value else ""
            masked[name] = f"{scheme} <redacted>".strip()
        else:
            masked[name] = value
    return masked


def mask_set_cookie(value: str) -> str:
    """``name=secret; Secure; HttpOnly`` -> ``name=<redacted>; Secure; HttpOnly``."""
    pair, _, attributes = value.partition(";")
    name = pair.split("=", 1)[0].strip()
    return f"{name}=<redacted>" + (f";{attributes}" if attributes else "")


def response_headers(
    response: httpx.Response, names: Iterable[str] | None = None
) -> dict[str, str | list[str]]:
    """The response's headers (or the named ones) for evidence; repeated headers become lists
    and cookie values are masked."""
    wanted = {name.lower() for name in names} if names is not None else None
    collected: dict[str, str | list[str]] = {}
    for name, value in response.headers.multi_items():
        key = name.lower()
        if wanted is not None and key not in wanted:
            continue
        if key == "set-cookie":
            value = mask_set_cookie(value)
        previous = collected.get(key)
        if previous is None:
            collected[key] = value
        elif isinstance(previous, list):
            previous.append(value)
        else:
            collected[key] = [previous, value]
    return collected


def body_excerpt(response: httpx.Response, limit: int = BODY_EXCERPT_CHARS) -> str:
    text = response.text
    return text if len(text) <= limit else text[:limit] + "…"


@functools.lru_cache(maxsize=8)
def _ssl_context(ca_file: str | None, mtime_ns: int) -> ssl.SSLContext:
    """A verifying TLS context: the default CAs, or only ``ca_file``. Loading CAs costs tens
    of milliseconds, so contexts are shared (keyed by file and modification time)."""
    if ca_file is None:
        return httpx.create_ssl_context()
    return ssl.create_default_context(cafile=ca_file)


def target_ssl_context(target: Target) -> ssl.SSLContext:
    """The TLS context a probe of ``target`` uses: its CA file's, else the system's."""
    if target.ca_file is None:
        return _ssl_context(None, 0)
    return _ssl_context(str(target.ca_file), target.ca_file.stat().st_mtime_ns)


class ProbeClient:
    """An ``httpx.AsyncClient`` on one target that records every exchange it makes.

    Use as ``async with ProbeClient(target) as http``. ``send`` returns the
    response (its ``elapsed_ms`` attribute holds the round trip) or raises
    ``Unreachable``. ``record=False`` skips the evidence entry, for probes that
    send hundreds of requests and summarise them instead.
    """

    def __init__(
        self,
        target: Target,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        max_connections: int = 20,
        breakers: BreakerRegistry | None = None,
        honour_throttling: bool = True,
    ) -> None:
        self.target = target
        # A 429 is the target pacing the probe host, which many probes share: the request
        # is sent again after its Retry-After. Off for probes that measure throttling (the
        # rate limit, the lockout, the load test), which must see it.
        self.honour_throttling = honour_throttling
        # None for probes that measure failures themselves (load, rate limits): a
        # breaker tripping mid-probe would change what they measure.
        self.breakers = breakers
        self.timeout = timeout
        self.max_connections = max_connections
        self.exchanges: list[dict[str, object]] = []
        self._client: httpx.AsyncClient | None = None

    async def __aenter__(self) -> ProbeClient:
        self._client = httpx.AsyncClient(
            verify=target_ssl_context(self.target),
            timeout=httpx.Timeout(self.timeout),
            follow_redirects=False,
            limits=httpx.Limits(
                max_connections=self.max_connections,
                max_keepalive_connections=self.max_connections,
            ),
            headers={"User-Agent": USER_AGENT},
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def url(self, path: str) -> str:
        return join_url(self.target.base_url, path)

    def api_key_headers(self) -> dict[str, str]:
        """The target's API key as a request header, or nothing when none is configured."""
        return credential_headers(self.target.api_key) if self.target.api_key else {}

    async def send(self, method: str, path: str, **options: Any) -> httpx.Response:
        """Send one request to ``path`` (relative to the base URL, or absolute); a 429
        asking for a wait of at most ``THROTTLE_WAIT_S`` (pacing, not a lockout) is sent
        again after it, up to ``THROTTLE_RETRIES`` times, unless the client measures
        throttling."""
        response = await self._send_once(method, path, **options)
        for _ in range(THROTTLE_RETRIES if self.honour_throttling else 0):
            wait = retry_after(response) if response.status_code == 429 else None
            if wait is None or wait > THROTTLE_WAIT_S:  # a lockout, not pacing: say so
                break
            await asyncio.sleep(wait)
            response = await self._send_once(method, path, **options)
        return response

    async def _send_once(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        content: bytes | str | None = None,
        json: Any = None,
        record: bool = True,
        evidence_headers: Iterable[str] | None = None,
        label: str | None = None,
    ) -> httpx.Response:
        assert self._client is not None, "use ProbeClient as an async context manager"
        url = self.url(path)
        request_headers = dict(headers or {})
        breaker = None
        if self.breakers is not None:
            breaker = self.breakers.get(f"probe {httpx.URL(url).netloc.decode()}")
            if not breaker.allow():
                raise CircuitOpen(breaker.name, breaker.retry_in())
        started = time.perf_counter()
        try:
            response = await self._client.request(
                method, url, headers=request_headers, content=content, json=json
            )
        except httpx.TransportError as exc:
            if breaker is not None:
                breaker.failed(f"{type(exc).__name__}: {exc}")
            if record:
                self.exchanges.append(
                    {
                        **({"label": label} if label else {}),
                        "method": method,
                        "url": url,
                        "request_headers": mask_request_headers(request_headers),
                        "error": f"{type(exc).__name__}: {exc}",
                    }
                )
            raise Unreachable(method, url, exc) from exc
        if breaker is not None:
            breaker.succeeded()  # any answer, even an error status: the host is there
        elapsed_ms = (time.perf_counter() - started) * 1000.0
        response.extensions["elapsed_ms"] = elapsed_ms
        if record:
            entry: dict[str, object] = {}
            if label:
                entry["label"] = label
            entry.update(
                {
                    "method": method,
                    "url": url,
                    "request_headers": mask_request_headers(request_headers),
                    "status": response.status_code,
                    "response_headers": response_headers(response, evidence_headers),
                    "elapsed_ms": round(elapsed_ms, 2),
                }
            )
            self.exchanges.append(entry)
        return response

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.send("GET", path, **kwargs)


def retry_after(response: httpx.Response) -> float:
    """Seconds a 429 asks the client to wait (``Retry-After`` in seconds; a second when it
    does not say, and as long as a lockout when it gives a date)."""
    try:
        return max(float(response.headers.get("retry-after", "1")), 0.05)
    except ValueError:  # an HTTP date: a wait measured in minutes, not pacing
        return math.inf


def elapsed_ms(response: httpx.Response) -> float:
    """The round trip ``ProbeClient.send`` measured for ``response``."""
    return float(response.extensions.get("elapsed_ms", response.elapsed.total_seconds() * 1000))


ProbeBody = Callable[[ProbeClient], Awaitable[ProbeResult]]


async def run_http_probe(
    target: Target,
    body: ProbeBody,
    *,
    needs_base_url: bool = True,
    needs_api_key: bool = False,
    max_connections: int = 20,
    breakers: BreakerRegistry | None = None,
    honour_throttling: bool = True,
) -> ProbeResult:
    """Check the target's settings, open a client and run ``body``.

    A missing setting gives ERROR naming it (``needs_base_url=False`` is for
    a probe given an absolute URL of its own); ``Unreachable`` gives FAIL with
    the exchanges recorded so far as evidence.
    """
    if needs_base_url:
        missing = missing_setting(target, api_key=needs_api_key)
        if missing is not None:
            return missing
    async with ProbeClient(target, max_connections=max_connections, breakers=breakers,
                           honour_throttling=honour_throttling) as http:  # fmt: skip
        try:
            return await body(http)
        except (Unreachable, CircuitOpen) as exc:
            return _unreachable(exc, http)
        except ExceptionGroup as group:  # from concurrent requests in a TaskGroup
            matched, rest = group.split((Unreachable, CircuitOpen))
            if matched is None or rest is not None:
                raise
            return _unreachable(_first_leaf(matched), http)


def _first_leaf(
    group: BaseExceptionGroup[Unreachable | CircuitOpen],
) -> Unreachable | CircuitOpen:
    """The first request that found the target unreachable; only if none did, the
    first one refused by the breaker (which concurrent requests trip mid-probe)."""
    unreachable, refused = group.split(Unreachable)
    chosen = unreachable if unreachable is not None else refused
    assert chosen is not None
    first = chosen.exceptions[0]
    return _first_leaf(first) if isinstance(first, BaseExceptionGroup) else first


def _unreachable(exc: Unreachable | CircuitOpen, http: ProbeClient) -> ProbeResult:
    if isinstance(exc, CircuitOpen):  # not asked this time: no verdict on the target
        evidence = {"breaker": exc.name, "retry_in_s": round(exc.retry_in, 1),
                    "exchanges": http.exchanges}  # fmt: skip
        return ProbeResult(Verdict.ERROR, str(exc), evidence)
    evidence: dict[str, object] = {
        "url": exc.url,
        "error": f"{type(exc.error).__name__}: {exc.error}",
        "exchanges": http.exchanges,
    }
    return ProbeResult(Verdict.FAIL, exc.reason, evidence)
