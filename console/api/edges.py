"""What every answer of the API passes through, outermost first: a request id and the
security headers, the body-size bound, and the rate limits by endpoint type.

Written as plain ASGI middleware (not ``BaseHTTPMiddleware``): each is one function
call per request, which keeps ``/health`` within its latency budget, and none of them
buffers a body.
"""

from __future__ import annotations

import collections
import logging
import math
import re
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from console.api.problems import ProblemResponse, problem
from core.config import Settings
from core.logs import ACCESS_LOGGER, correlated

log = logging.getLogger(__name__)
#: One record per HTTP request answered (method, path, status, duration, request id):
#: the line an operator, or the readiness item ``monitoring.structured_logging``,
#: follows a request by. A logger of its own, so it can be quietened alone.
access_log = logging.getLogger(ACCESS_LOGGER)
#: Polled by machines (a balancer's liveness check, Prometheus's scrape) many times a
#: second: an access record each would cost the loop more than the answer does.
UNLOGGED_PATHS = frozenset({"/health", "/metrics"})
#: A caller's own ``X-Request-ID`` is kept when it looks like an id (a UUID, a
#: proxy's hex id...); anything else is replaced, never logged.
CALLER_REQUEST_ID = re.compile(rb"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
#: On every answer (unless the answer sets its own): keep the JSON inert in a browser
#: (no sniffing, framing, referrers or caching, not loadable by other origins).
SECURITY_HEADERS = (
    (b"cache-control", b"no-store"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-resource-policy", b"same-origin"),
)
CSP = b"default-src 'none'; frame-ancestors 'none'"
#: The interactive documentation pages load FastAPI's Swagger UI and ReDoc bundles.
DOCS_CSP = (
    b"default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    b"style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    b"font-src https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com "
    b"https://cdn.redoc.ly; worker-src blob:; connect-src 'self'; frame-ancestors 'none'"
)
DOCS_PATHS = frozenset({"/api/v1/docs", "/api/v1/redoc"})
HSTS = (b"strict-transport-security", b"max-age=63072000; includeSubDomains")
UNLIMITED_PATHS = frozenset({"/health"})  # a load balancer's poll costs nothing
HTTP_VERSIONS = frozenset({"1.0", "1.1"})
MAX_HEAD = 8192  # bytes of request line and headers
FRAMING = {b"content-length": 1, b"transfer-encoding": 2}
#: Seconds the shared rate-limit store has to answer before a request is refused (503).
REDIS_TIMEOUT = 2.0


class Edges:
    """Request id (the caller's ``X-Request-ID`` if it looks like one, else a new one;
    sent back, and bound to every record logged while answering), the security headers,
    HEAD answered as GET without its body, a failure answered as a 500 problem (logged
    once, with its trace and request id), one access record per HTTP request, and the
    count of answers by route and status for ``/metrics``."""

    def __init__(self, app: ASGIApp, answers: collections.Counter[tuple[str, int]]) -> None:
        self.app = app
        self.answers = answers  # by route template (unknown paths as "other") and status

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = caller_request_id(scope) or uuid.uuid4().hex[:16]
        csp = DOCS_CSP if scope["path"] in DOCS_PATHS else CSP
        hsts = scope.get("scheme") in ("https", "wss")
        # uvicorn sends no body for a HEAD, whatever the application sends: the routes
        # need only answer GET (FastAPI's routes do not answer HEAD themselves).
        inner = {**scope, "method": "GET"} if scope.get("method") == "HEAD" else scope
        started = False
        status = 0
        began = time.perf_counter()

        async def send_with_headers(message: Message) -> None:
            nonlocal started, status
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                headers = secured(message.get("headers", ()), csp, hsts)
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
                route = inner.get("route")
                self.answers[getattr(route, "path", "other"), message["status"]] += 1
            await send(message)

        with correlated(request_id=request_id):
            try:
                if refusal := refused(scope):
                    await refusal(scope, receive, send_with_headers)
                else:
                    await self.app(inner, receive, send_with_headers)
            except Exception:
                # Logged here, once: Starlette's error middleware would log it again and
                # re-raise it to uvicorn, which logs it a third time and drops the connection.
                log.exception("%s %s failed", scope.get("method", "WEBSOCKET"), scope["path"])
                if scope["type"] == "http" and not started:
                    detail = f"the request failed; quote its id {request_id} to the operators"
                    failed = problem(500, detail, request_id=request_id)
                    await failed(scope, receive, send_with_headers)
            if scope["type"] == "http" and scope["path"] not in UNLOGGED_PATHS:
                log_access(scope, status, time.perf_counter() - began)


def caller_request_id(scope: Scope) -> str | None:
    """The caller's ``X-Request-ID``, if it looks like an id."""
    for name, value in scope["headers"]:
        if name == b"x-request-id" and CALLER_REQUEST_ID.fullmatch(value):
            return value.decode("ascii")
    return None


def log_access(scope: Scope, status: int, seconds: float) -> None:
    """The request's access record: its path without the query string (which may carry
    a token), never its headers. Status 0: the caller left before an answer began."""
    method = scope.get("method", "")
    access_log.info("%s %s %d", method, scope["path"], status, extra={
        "method": method, "path": scope["path"], "status": status,
        "duration_ms": round(seconds * 1000, 2), "client": client_address(scope),
    })  # fmt: skip


def refused(scope: Scope) -> ProblemResponse | None:
    """The refusal of a request h11 let through: another HTTP version (it reads any
    HTTP/x.y); a head over ``MAX_HEAD`` (h11 bounds only a head still incomplete, so a
    larger one arriving in one segment passes it); both a length and a transfer coding
    (RFC 9112 6.3: a proxy in front may frame the body by the other one)."""
    close = {"connection": "close"}
    if scope.get("http_version", "1.1") not in HTTP_VERSIONS:
        return problem(505, "this server speaks HTTP/1.0 and HTTP/1.1 only", headers=close)
    size = len(scope.get("raw_path", b"")) + len(scope.get("query_string", b""))
    framing = 0
    for name, value in scope["headers"]:
        size += len(name) + len(value) + 4
        framing |= FRAMING.get(name, 0)
    if size > MAX_HEAD:
        return problem(431, f"the request head is larger than {MAX_HEAD:,} bytes", headers=close)
    if framing == 3:
        return problem(400, "a request may not have both Content-Length and "
                       "Transfer-Encoding", headers=close)  # fmt: skip
    return None


def secured(
    headers: Iterable[tuple[bytes, bytes]], csp: bytes, hsts: bool
) -> list[tuple[bytes, bytes]]:
    """``headers`` with the security headers it does not set itself (and without a
    request id of its own: the edge sets that)."""
    answer = [(name, value) for name, value in headers if name != b"x-request-id"]
    present = {name for name, _ in answer}
    answer += [header for header in SECURITY_HEADERS if header[0] not in present]
    if b"content-security-policy" not in present:
        answer.append((b"content-security-policy", csp))
    if hsts and HSTS[0] not in present:
        answer.append(HSTS)
    return answer


class BodyLimit:
    """Refuse a request body over ``max_bytes`` with 413: at once when its
    ``Content-Length`` says so, else as soon as the bytes read pass the bound.

    The connection stays open: uvicorn reads and discards the rest of the body, within
    the connection guard's read timeout (``guard``), so a client that sends the whole
    body before reading (most do) gets the 413 rather than a reset connection."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(TooLarge(self.max_bytes), scope, receive, send)
            return
        seen = 0

        async def bounded() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise TooLarge(self.max_bytes)
            return message

        try:
            await self.app(scope, bounded, send)
        except TooLarge as exc:  # read outside FastAPI's handlers
            await self._refuse(exc, scope, receive, send)

    @staticmethod
    async def _refuse(exc: TooLarge, scope: Scope, receive: Receive, send: Send) -> None:
        await problem(413, exc.detail, headers=exc.headers)(scope, receive, send)


class TooLarge(HTTPException):
    """A body passed the bound. An ``HTTPException``: FastAPI reads a route's body inside
    its own error handling, which would make any other exception a 400 "error parsing
    the body"; this one it answers as the 413 it is."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"the request body is larger than {max_bytes:,} bytes")


class RateLimits:
    """Per client address, a moving window for each endpoint type: ``auth``
    (``/api/v1/auth``), ``writes`` (any method but GET, HEAD and OPTIONS) and ``reads``.
    Answers carry ``RateLimit-Limit``, ``-Remaining`` and ``-Reset``; a refusal is 429
    with ``Retry-After``. With ``redis_url`` set the windows are shared by every process;
    if Redis cannot be reached the limiter fails closed (503), as the readiness item
    ``rate_limiting.shared_store`` asks."""

    def __init__(self, app: ASGIApp, settings: Settings, *, clock: Callable[[], float] = time.time):
        self.app = app
        self.items: dict[str, RateLimitItem] = {
            "auth": parse(settings.api_rate_auth),
            "writes": parse(settings.api_rate_writes),
            "reads": parse(settings.api_rate_reads),
        }
        self.storage: Storage = MemoryStorage()
        if settings.redis_url:
            self.storage = RedisStorage(
                storage_uri(settings.redis_url), implementation="redispy", wrap_exceptions=True,
                socket_connect_timeout=REDIS_TIMEOUT, socket_timeout=REDIS_TIMEOUT,
            )  # fmt: skip
        self.limiter = MovingWindowRateLimiter(self.storage)
        self._clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNLIMITED_PATHS:
            await self.app(scope, receive, send)
            return
        kind = endpoint_type(scope["method"], scope["path"])
        item = self.items[kind]
        client = client_address(scope)
        try:
            allowed = await self.limiter.hit(item, kind, client)
            stats = await self.limiter.get_window_stats(item, kind, client)
        except StorageError as exc:  # the shared store is down: refuse rather than run unlimited
            log.error("rate limiter store unavailable (%s): refusing %s", exc.storage_error,
                      scope["path"])  # fmt: skip
            await problem(503, "rate limiting is unavailable; try again shortly",
                          headers={"retry-after": "5"})(scope, receive, send)  # fmt: skip
            return
        reset = max(0, math.ceil(stats.reset_time - self._clock()))
        limit_headers = {"ratelimit-limit": str(item.amount),
                         "ratelimit-remaining": str(stats.remaining),
                         "ratelimit-reset": str(reset),
                         "ratelimit-policy": f"{item.amount};w={item.get_expiry()}"}  # fmt: skip
        if not allowed:
            detail = f"too many {kind} requests: at most {item.amount} per {_window(item)}"
            retry = {**limit_headers, "retry-after": str(max(1, reset))}
            response = problem(429, detail, headers=retry)
            await response(scope, receive, send)
            return
        raw = [(name.encode(), value.encode()) for name, value in limit_headers.items()]

        async def send_with_limits(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), *raw]}
            await send(message)

        await self.app(scope, receive, send_with_limits)


def endpoint_type(method: str, path: str) -> str:
    if path.startswith("/api/v1/auth"):
        return "auth"
    return "reads" if method in ("GET", "HEAD", "OPTIONS") else "writes"


def storage_uri(redis_url: str) -> str:
    """``limits``' name for the ``redis_url`` setting (``async+redis://``,
    ``async+redis+unix://`` for a socket)."""
    return "async+" + ("redis+" if redis_url.startswith("unix://") else "") + redis_url


def _window(item: RateLimitItem) -> str:
    seconds = item.get_expiry()
    return "second" if seconds == 1 else f"{seconds} seconds"


def client_address(scope: dict[str, Any]) -> str:
    """The peer's address, as the rate limits and the lockout key it."""
    return scope["client"][0] if scope.get("client") else "local"
