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
import time
import uuid
from collections.abc import Callable
from typing import Any

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from console.api.problems import problem
from core.config import Settings
from core.logs import correlated

log = logging.getLogger(__name__)
SECURITY_HEADERS = (
    ("cache-control", "no-store"),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
)
CSP = "default-src 'none'; frame-ancestors 'none'"
#: The interactive documentation pages load FastAPI's Swagger UI and ReDoc bundles.
DOCS_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com "
    "https://cdn.redoc.ly; worker-src blob:; connect-src 'self'; frame-ancestors 'none'"
)
DOCS_PATHS = frozenset({"/api/v1/docs", "/api/v1/redoc"})
HSTS = ("strict-transport-security", "max-age=63072000; includeSubDomains")
UNLIMITED_PATHS = frozenset({"/health"})  # a load balancer's poll costs nothing


class Edges:
    """Request id (``X-Request-ID``, and bound to every record logged while answering),
    the security headers, and the count of answers by route and status for ``/metrics``."""

    def __init__(self, app: ASGIApp, answers: collections.Counter[tuple[str, int]]) -> None:
        self.app = app
        self.answers = answers  # by route template (unknown paths as "other") and status

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex[:16]
        path = scope["path"]
        secure = scope.get("scheme") in ("https", "wss")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS:
                    headers.setdefault(name, value)
                headers.setdefault("content-security-policy",
                                   DOCS_CSP if path in DOCS_PATHS else CSP)  # fmt: skip
                if secure:
                    headers.setdefault(*HSTS)
                headers["x-request-id"] = request_id
                route = scope.get("route")
                self.answers[getattr(route, "path", "other"), message["status"]] += 1
            await send(message)

        with correlated(request_id=request_id):
            await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """Refuse a request body over ``max_bytes`` with 413: at once when its
    ``Content-Length`` says so, else as soon as the bytes read pass the bound."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        seen = 0

        async def bounded() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise TooLarge
            return message

        try:
            await self.app(scope, bounded, send)
        except TooLarge:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = f"the request body is larger than {self.max_bytes:,} bytes"
        await problem(413, detail, headers={"connection": "close"})(scope, receive, send)


class TooLarge(Exception):
    """A body passed the bound while being read."""


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
                f"async+{settings.redis_url}", implementation="redispy", wrap_exceptions=True
            )
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
        except Exception as exc:  # the shared store is down: refuse rather than run unlimited
            log.error("rate limiter store unavailable (%s): refusing %s", exc, scope["path"])
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

        async def send_with_limits(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in limit_headers.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_limits)


def endpoint_type(method: str, path: str) -> str:
    if path.startswith("/api/v1/auth"):
        return "auth"
    return "reads" if method in ("GET", "HEAD", "OPTIONS") else "writes"


def _window(item: RateLimitItem) -> str:
    seconds = item.get_expiry()
    return "second" if seconds == 1 else f"{seconds} seconds"


def client_address(scope: dict[str, Any]) -> str:
    """The peer's address, as the rate limits and the lockout key it."""
    return scope["client"][0] if scope.get("client") else "local"
