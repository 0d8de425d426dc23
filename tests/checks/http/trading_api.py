"""A small "trading API" for the HTTP probe tests, with switchable misconfigurations.

One ASGI app serves every configuration side by side: ``/{instance}/{config}/...``
reaches a fresh copy of the API built from ``CONFIGS[config]``, created on
first use, with its own rate-limit bucket and login-failure counts. A test
takes a new instance id, so no test sees another's state and one uvicorn
server serves a whole test module. Its routes have the shape of Quarterdeck's
own API (``/api/v1/...``), where the probes' default paths point.

The good configuration is what the probes should PASS: strict security
headers, an origin allow-list, a token-bucket rate limit that answers 429
with Retry-After and RateLimit headers, API-key and JWT authentication with
10-minute tokens, login lockout after 5 failures, no debug output,
Prometheus metrics. Every other configuration changes one thing.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

VALID_API_KEY = "qd-test-key-3f9a6c1e"
JWT_SECRET = b"fixture-only-secret-not-for-production"
USERS = {"trader": "correct horse battery staple"}
ALLOWED_ORIGINS = frozenset({"https://desk.example"})

GOOD_CSP = "default-src 'none'; frame-ancestors 'none'; form-action 'none'; base-uri 'none'"
GOOD_HEADERS: Mapping[str, str] = {
    "content-security-policy": GOOD_CSP,
    "strict-transport-security": "max-age=31536000; includeSubDomains",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-resource-policy": "same-origin",
    "cache-control": "no-store, max-age=0",
    "pragma": "no-cache",
    "x-xss-protection": "0",
}
GOOD_COOKIE = "qd_session=s3ss10n; Path=/; Secure; HttpOnly; SameSite=Strict"


@dataclass(frozen=True)
class Config:
    security_headers: Mapping[str, str] = field(default_factory=lambda: dict(GOOD_HEADERS))
    session_cookie: str = GOOD_COOKIE
    extra_headers: Mapping[str, str] = field(default_factory=dict)
    # allowlist | wildcard | wildcard_credentials | reflect | reflect_credentials | null
    cors: str = "allowlist"
    rate_limit: str = "headers"  # headers | bare (429 without headers) | off
    rate_capacity: int = 20  # token bucket: burst size, refilled at this many per second
    auth_bypass: bool = False
    jwt_lifetime_s: int = 600
    lockout_after: int | None = 5  # None: never locks
    # user: the lock refuses that user name's logins; address: every login of the locked
    # client (its API key on any route too), as a lockout by client address does
    lockout_scope: str = "user"
    debug: bool = False
    metrics: str = "ok"  # ok | missing | garbage
    health_delay_s: float = 0.0
    health_status: int = 200


GOOD = Config()


def _headers(**changes: str | None) -> dict[str, str]:
    headers = dict(GOOD_HEADERS)
    for name, value in changes.items():
        key = name.replace("_", "-")
        if value is None:
            headers.pop(key, None)
        else:
            headers[key] = value
    return headers


WEAK_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval' https:; "
    "frame-ancestors 'none'"
)

CONFIGS: dict[str, Config] = {
    "good": GOOD,
    # CORS
    "cors_wildcard": replace(GOOD, cors="wildcard"),
    "cors_wildcard_credentials": replace(GOOD, cors="wildcard_credentials"),
    "cors_reflect": replace(GOOD, cors="reflect"),
    "cors_reflect_credentials": replace(GOOD, cors="reflect_credentials"),
    "cors_null": replace(GOOD, cors="null"),
    # security headers
    "headers_missing": replace(GOOD, security_headers={}),
    "weak_csp": replace(GOOD, security_headers=_headers(content_security_policy=WEAK_CSP)),
    "short_hsts": replace(
        GOOD, security_headers=_headers(strict_transport_security="max-age=86400")
    ),
    "insecure_cookie": replace(GOOD, session_cookie="qd_session=s3ss10n; Path=/"),
    "server_leak": replace(
        GOOD, extra_headers={"server": "uvicorn/0.54.0", "x-powered-by": "Starlette/1.10.0"}
    ),
    # rate limiting
    "no_rate_limit": replace(GOOD, rate_limit="off"),
    "rate_limit_bare": replace(GOOD, rate_limit="bare"),
    # authentication
    "auth_bypass": replace(GOOD, auth_bypass=True),
    "long_jwt": replace(GOOD, jwt_lifetime_s=86_400),
    "no_lockout": replace(GOOD, lockout_after=None),
    "lock_by_address": replace(GOOD, lockout_scope="address"),
    # errors and debug
    "debug_traces": replace(GOOD, debug=True),
    # metrics
    "metrics_missing": replace(GOOD, metrics="missing"),
    "metrics_garbage": replace(GOOD, metrics="garbage"),
    # health and latency
    "slow": replace(GOOD, health_delay_s=0.12),
    "unhealthy": replace(GOOD, health_status=503),
}


# --- JWT (HS256), written out: the fixture is the server, the probe only reads claims ---


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_jwt(subject: str, lifetime_s: int, now: float | None = None) -> str:
    now = time.time() if now is None else now
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = {"sub": subject, "iat": int(now), "exp": int(now) + lifetime_s}
    payload = _b64url(json.dumps(claims).encode())
    signing_input = f"{header}.{payload}".encode()
    signature = _b64url(hmac.new(JWT_SECRET, signing_input, hashlib.sha256).digest())
    return f"{header}.{payload}.{signature}"


def verify_jwt(token: str) -> bool:
    try:
        header_b64, payload_b64, signature_b64 = token.split(".")
        header = json.loads(_b64url_decode(header_b64))
        claims = json.loads(_b64url_decode(payload_b64))
        signature = _b64url_decode(signature_b64)
    except ValueError:
        return False
    if header.get("alg") != "HS256":
        return False
    expected = hmac.new(JWT_SECRET, f"{header_b64}.{payload_b64}".encode(), hashlib.sha256)
    if not hmac.compare_digest(signature, expected.digest()):
        return False
    return isinstance(claims.get("exp"), int) and claims["exp"] > time.time()


# --- One instance of the API --------------------------------------------------------


class TokenBucket:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.tokens = float(capacity)
        self.updated = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.capacity)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


def cors_headers(config: Config, origin: str) -> dict[str, str]:
    allowlisted = {
        "access-control-allow-origin": origin,
        "access-control-allow-credentials": "true",
    }
    match config.cors:
        case "wildcard":
            return {"access-control-allow-origin": "*"}
        case "wildcard_credentials":
            return {"access-control-allow-origin": "*", "access-control-allow-credentials": "true"}
        case "reflect":
            return {"access-control-allow-origin": origin, "vary": "Origin"}
        case "reflect_credentials":
            return {**allowlisted, "vary": "Origin"}
        case "null" if origin == "null":
            return {
                "access-control-allow-origin": "null",
                "access-control-allow-credentials": "true",
            }
    if origin in ALLOWED_ORIGINS:
        return {**allowlisted, "vary": "Origin"}
    return {}


class TradingAPI:
    """One configuration's API, mounted under ``prefix``; a pure ASGI app."""

    def __init__(self, config: Config, prefix: str) -> None:
        self.config = config
        self.prefix = prefix
        self.bucket = TokenBucket(config.rate_capacity)
        self.login_failures: dict[str, int] = {}
        self.metrics = CollectorRegistry()
        self.jobs = Counter("qd_jobs", "Jobs accepted", registry=self.metrics)
        self.requests = Counter(
            "qd_http_requests", "HTTP requests", ["route"], registry=self.metrics
        )
        Gauge("qd_engine_up", "1 while the engine runs", registry=self.metrics).set(1)
        self.app = Starlette(
            debug=config.debug,
            routes=[
                Route("/", self.root),
                Route("/health", self.health),
                Route("/api/v1/risk", self.risk),
                Route("/api/v1/portfolio", self.portfolio),
                Route("/api/v1/jobs", self.submit_job, methods=["POST"]),
                Route("/api/v1/auth/token", self.login, methods=["POST"]),
                Route("/metrics", self.metrics_route),
            ],
            exception_handlers={404: self.not_found},
        )

    # --- middleware: headers, CORS, rate limit --------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = scope["path"][len(self.prefix) :] or "/"
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        origin = headers.get("origin")
        method = scope["method"]
        added = {**self.config.security_headers, **self.config.extra_headers}
        if origin is not None and route.startswith("/api/"):
            added.update(cors_headers(self.config, origin))
            if method == "OPTIONS":
                await Response(status_code=204, headers=added)(scope, receive, send)
                return
        if route == "/api/v1/risk" and self.config.rate_limit != "off":
            allowed = self.bucket.take()
            limit = {
                "ratelimit-policy": f"{self.config.rate_capacity};w=1",
                "ratelimit": f"limit={self.config.rate_capacity}, "
                f"remaining={int(self.bucket.tokens)}, reset=1",
            }
            if self.config.rate_limit == "headers":
                added.update(limit)
            if not allowed:
                if self.config.rate_limit == "headers":
                    added["retry-after"] = "1"
                body = {"detail": "too many requests"}
                await JSONResponse(body, status_code=429, headers=added)(scope, receive, send)
                return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = [(k, v) for k, v in message["headers"] if k.decode().lower() not in added]
                raw += [(k.encode(), v.encode()) for k, v in added.items()]
                message = {**message, "headers": raw}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    # --- routes -------------------------------------------------------------------------

    async def root(self, request: Request) -> Response:
        response = JSONResponse({"service": "quarterdeck test trading API"})
        response.headers.append("set-cookie", self.config.session_cookie)
        return response

    async def health(self, request: Request) -> Response:
        if self.config.health_delay_s:
            await asyncio.sleep(self.config.health_delay_s)
        ok = self.config.health_status == 200
        body = {"status": "ok" if ok else "degraded"}
        return JSONResponse(body, status_code=self.config.health_status)

    async def risk(self, request: Request) -> Response:
        self.requests.labels(route="/api/v1/risk").inc()
        return JSONResponse({"state": "active", "halted": False})

    def authenticated(self, request: Request) -> bool:
        if self.config.auth_bypass:
            return True
        if hmac.compare_digest(request.headers.get("x-api-key", ""), VALID_API_KEY):
            return True
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and verify_jwt(token)

    def refusal(self, request: Request) -> Response | None:
        if self.client_locked():
            return self.locked()
        if self.authenticated(request):
            return None
        return JSONResponse(
            {"detail": "authentication required"},
            status_code=401,
            headers={"www-authenticate": 'Bearer realm="trading"'},
        )

    async def portfolio(self, request: Request) -> Response:
        return self.refusal(request) or JSONResponse({"cash": 100_000.0, "positions": []})

    async def submit_job(self, request: Request) -> Response:
        refused = self.refusal(request)
        if refused is not None:
            return refused
        raw = await request.body()
        try:
            job: Any = json.loads(raw)
        except json.JSONDecodeError:
            if self.config.debug:
                raise  # the debug configuration lets it reach Starlette's debug page
            return JSONResponse({"detail": "the body is not valid JSON"}, status_code=400)
        self.jobs.inc()
        return JSONResponse({"accepted": job}, status_code=202)

    async def login(self, request: Request) -> Response:
        lifetime = self.config.jwt_lifetime_s
        key = request.headers.get("x-api-key")
        if self.client_locked():
            return self.locked()
        if key is not None:
            if not hmac.compare_digest(key, VALID_API_KEY):
                return JSONResponse({"detail": "invalid API key"}, status_code=401)
            token = issue_jwt("api-key", lifetime)
            return JSONResponse(
                {"access_token": token, "token_type": "bearer", "expires_in": lifetime}
            )
        try:
            credentials = json.loads(await request.body())
            username = str(credentials["username"])
            password = str(credentials["password"])
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"detail": "username and password required"}, status_code=400)
        failures = self.login_failures.get(username, 0)
        limit = self.config.lockout_after
        if limit is not None and failures >= limit:
            return self.locked()
        if USERS.get(username) != password:
            self.login_failures[username] = failures + 1
            return JSONResponse({"detail": "invalid credentials"}, status_code=401)
        self.login_failures.pop(username, None)
        token = issue_jwt(username, lifetime)
        return JSONResponse({"access_token": token, "token_type": "bearer", "expires_in": lifetime})

    def client_locked(self) -> bool:
        """Whether a lockout by client address is in force (the tests' one client)."""
        limit = self.config.lockout_after
        return (
            self.config.lockout_scope == "address"
            and limit is not None
            and any(failures >= limit for failures in self.login_failures.values())
        )

    def locked(self) -> Response:
        body = {"detail": "too many failed logins"}
        return JSONResponse(body, status_code=429, headers={"retry-after": "300"})

    async def metrics_route(self, request: Request) -> Response:
        match self.config.metrics:
            case "missing":
                raise HTTPException(404)
            case "garbage":
                return PlainTextResponse("<html><body>metrics moved {{ see wiki }}</body></html>")
        return Response(generate_latest(self.metrics), media_type=CONTENT_TYPE_LATEST)

    async def not_found(self, request: Request, exc: Exception) -> Response:
        body: dict[str, object] = {"detail": "Not Found"}
        if self.config.debug:  # like a framework's debug 404 page: flag and route list
            body["debug"] = True
            body["routes"] = [getattr(route, "path", "?") for route in self.app.routes]
        return JSONResponse(body, status_code=404)


class TradingAPIServer:
    """The ASGI app uvicorn serves: ``/{instance}/{config}/...`` -> that instance's API."""

    def __init__(self) -> None:
        self.instances: dict[tuple[str, str], TradingAPI] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        parts = scope["path"].split("/", 3)
        if len(parts) < 3 or parts[2] not in CONFIGS:
            await PlainTextResponse("unknown configuration", status_code=404)(scope, receive, send)
            return
        key = (parts[1], parts[2])
        prefix = f"/{parts[1]}/{parts[2]}"
        api = self.instances.get(key)
        if api is None:
            api = self.instances[key] = TradingAPI(CONFIGS[key[1]], prefix)
        await api({**scope, "root_path": scope.get("root_path", "") + prefix}, receive, send)


class RedirectServer:
    """A plain-HTTP front: ``/{mode}/...`` answers as a port-80 listener configured that way.

    good: 301 to https on the same host; offhost: 301 to https on another host;
    to_http: 302 to another http URL; none: serves the page over HTTP (200).
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        host = dict(scope["headers"]).get(b"host", b"127.0.0.1").decode().split(":")[0]
        mode, _, rest = scope["path"].lstrip("/").partition("/")
        response: Response
        match mode:
            case "good":
                response = Response(status_code=301, headers={"location": f"https://{host}/{rest}"})
            case "offhost":
                location = f"https://www.other.example/{rest}"
                response = Response(status_code=301, headers={"location": location})
            case "to_http":
                response = Response(status_code=302, headers={"location": f"http://{host}/login"})
            case _:
                response = PlainTextResponse("welcome, over plain http")
        await response(scope, receive, send)
