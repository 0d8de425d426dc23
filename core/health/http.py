"""A small, strict HTTP/1.1 server on the event loop, for read-only monitoring routes.

It serves GET and HEAD on a fixed set of paths and nothing else: no request
bodies, no chunked encoding, no query-driven behaviour. It exists so that
``/health`` answers from the process's own loop (a probe then sees the loop
that matters) without bringing an ASGI server into the runtime.

Hostile clients are bounded: the request head must arrive whole within
``read_timeout`` seconds and ``max_head`` bytes, or the connection is
answered (400/431 where there is still something to say) and closed. A
keep-alive connection that stays quiet for ``read_timeout`` is closed too, as
is one that does not read its answers within that time; beyond
``max_connections`` open at once, a new one is answered 503 and closed. One
client address holds at most ``max_per_client`` of them: one more from it is
answered 429 and closed at once, and counts toward nothing, so one address
holding slow connections cannot turn everyone else away.
Routes other than the ``open_paths`` (``/health``, which a load balancer polls
and which costs nothing) are rate limited per client address: 429 with
``Retry-After``.

Every answer carries ``Date`` and the security headers a browser would need to
keep the JSON inert (no sniffing, no framing, no scripts, no caching), and
``Strict-Transport-Security`` when served over TLS.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import email.utils
import logging
import math
import ssl
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path

from core.health.ratelimit import RateLimiter
from core.logs import correlated

log = logging.getLogger(__name__)
READ_TIMEOUT = 5.0  # seconds a client has to send a whole request head
MAX_HEAD = 8192  # bytes of request line and headers
MAX_HEADERS = 64
MAX_CONNECTIONS = 64  # open at once; more are answered 503 and closed
#: Open at once from one client address; more are answered 429 and closed. Half of
#: ``MAX_CONNECTIONS``: a load check at concurrency 20 (the readiness catalog's) passes,
#: and one address can never hold every slot.
MAX_PER_CLIENT = 32
RATE_PER_SECOND = 10.0  # per client address, on the routes that are not open_paths
RATE_BURST = 20
OPEN_PATHS = frozenset({"/health"})
# Headers a request may repeat only with the same value (RFC 9112, 6.3 and 3.2).
SINGLE_HEADERS = frozenset({"content-length", "host"})
SECURITY_HEADERS = (
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
    ("Referrer-Policy", "no-referrer"),
)
HSTS = ("Strict-Transport-Security", "max-age=63072000")


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()


Handler = Callable[[], Awaitable[Response]]


class BadRequest(Exception):
    """The request cannot be served; ``status`` says why to the client."""

    def __init__(self, status: HTTPStatus, why: str) -> None:
        super().__init__(why)
        self.status = status


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    keep_alive: bool


class HttpServer:
    """Binds with ``listen()``; a Deck service (``start``/``stop``) besides."""

    def __init__(
        self,
        routes: Mapping[str, Handler],
        *,
        host: str,
        port: int,
        read_timeout: float = READ_TIMEOUT,
        max_head: int = MAX_HEAD,
        max_connections: int = MAX_CONNECTIONS,
        max_per_client: int = MAX_PER_CLIENT,
        tls: ssl.SSLContext | None = None,
        limiter: RateLimiter | None = None,
        open_paths: frozenset[str] = OPEN_PATHS,
    ) -> None:
        self.routes = dict(routes)
        self.host = host
        self.port = port
        self.read_timeout = read_timeout
        self.max_head = max_head
        self.max_connections = max_connections
        self.max_per_client = max_per_client
        self.tls = tls
        self.limiter = limiter or RateLimiter(RATE_PER_SECOND, RATE_BURST)
        self.open_paths = open_paths
        #: Answers sent, by route (unknown paths as "other") and status, for /metrics.
        self.answers: collections.Counter[tuple[str, int]] = collections.Counter()
        self._headers = SECURITY_HEADERS + ((HSTS,) if tls is not None else ())
        self._server: asyncio.Server | None = None
        # Open connections' writers, with the tasks serving them.
        self._connections: dict[asyncio.Task[None], asyncio.StreamWriter] = {}
        # Connections being served (not turned away), by client address.
        self._served: collections.Counter[str] = collections.Counter()

    @property
    def scheme(self) -> str:
        return "https" if self.tls is not None else "http"

    @property
    def connections(self) -> int:
        """Connections open now."""
        return len(self._connections)

    async def listen(self) -> None:
        """Bind the port (``OSError`` if taken) and begin answering."""
        self._server = await asyncio.start_server(
            self._connection, self.host, self.port, limit=self.max_head, ssl=self.tls,
            ssl_handshake_timeout=self.read_timeout if self.tls is not None else None,
        )  # fmt: skip
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("%s listening on %s:%d", self.scheme, self.host, self.port)

    async def start(self) -> None:
        """Nothing to do: the routes answer from ``listen()`` on (liveness while starting)."""

    async def stop(self) -> None:
        """Close the port and every open connection.

        Connections are aborted rather than their tasks cancelled: their reads then end
        as a client hang-up would, and asyncio (3.11) does not log the cancellation."""
        if self._server is not None:
            self._server.close()
            self._server = None
        tasks = list(self._connections)
        for writer in self._connections.values():
            writer.transport.abort()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        peer = writer.get_extra_info("peername")
        client = str(peer[0]) if isinstance(peer, tuple) else "local"
        self._connections[task] = writer
        served = False
        try:
            if self._served[client] >= self.max_per_client:  # answered now, held for nothing
                await self._write(writer, Response(
                    429, b'{"error": "too many connections from this address"}',
                    headers=(("Retry-After", str(math.ceil(self.read_timeout))),),
                ))  # fmt: skip
                return
            if self._served.total() >= self.max_connections:
                # its request is read (bounded as any) so that closing does not reset it
                with contextlib.suppress(TimeoutError, asyncio.LimitOverrunError,
                                         asyncio.IncompleteReadError):  # fmt: skip
                    async with asyncio.timeout(self.read_timeout):
                        await reader.readuntil(b"\r\n\r\n")
                await self._write(writer, Response(503, b'{"error": "too many connections"}'))
                return
            self._served[client] += 1
            served = True
            while answer := await self._exchange(reader, client):
                response, keep_alive, head_only = answer
                await self._write(writer, response, keep_alive, head_only=head_only)
                if not keep_alive:
                    break
        except TimeoutError:
            writer.transport.abort()  # a client that does not read its answers
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away
        finally:
            self._connections.pop(task, None)
            if served:
                self._served[client] -= 1
                if not self._served[client]:
                    del self._served[client]
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _exchange(
        self, reader: asyncio.StreamReader, client: str
    ) -> tuple[Response, bool, bool] | None:
        """Read one request and route it: the response, whether to keep the connection,
        whether to send the head only. None when there is nothing to answer."""
        try:
            async with asyncio.timeout(self.read_timeout):
                head = await reader.readuntil(b"\r\n\r\n")
        except TimeoutError:
            return None  # quiet or slow: nothing worth answering
        except asyncio.LimitOverrunError:
            return Response(431, b'{"error": "request head too large"}'), False, False
        except asyncio.IncompleteReadError as exc:
            if exc.partial.strip():
                return Response(400, b'{"error": "incomplete request"}'), False, False
            return None
        try:
            request = parse_head(head)
        except BadRequest as exc:
            return Response(exc.status, f'{{"error": "{exc}"}}'.encode()), False, False
        response = await self._route(request, client)
        return response, request.keep_alive, request.method == "HEAD"

    async def _write(
        self, writer: asyncio.StreamWriter, response: Response, keep_alive: bool = False,
        *, head_only: bool = False,
    ) -> None:  # fmt: skip
        reason = HTTPStatus(response.status).phrase
        headers = (
            ("Date", email.utils.formatdate(usegmt=True)),
            ("Content-Type", response.content_type),
            ("Content-Length", str(len(response.body))),
            ("Connection", "keep-alive" if keep_alive else "close"),
            *self._headers,
            *response.headers,
        )
        lines = "".join(f"{name}: {value}\r\n" for name, value in headers)
        head = f"HTTP/1.1 {response.status} {reason}\r\n{lines}\r\n".encode("ascii")
        writer.write(head if head_only else head + response.body)
        async with asyncio.timeout(self.read_timeout):
            await writer.drain()

    async def _route(self, request: Request, client: str) -> Response:
        """The answer, with the request's correlation id: on every record logged while
        answering it, and in the ``X-Request-ID`` header to match a client's report
        with the log."""
        handler = self.routes.get(request.path)
        request_id = uuid.uuid4().hex[:16]
        with correlated(request_id=request_id):
            response = await self._answer(request, handler, client)
        self.answers[request.path if handler is not None else "other", response.status] += 1
        return dataclasses.replace(response, headers=(*response.headers,
                                                      ("X-Request-ID", request_id)))  # fmt: skip

    async def _answer(self, request: Request, handler: Handler | None, client: str) -> Response:
        if request.path not in self.open_paths and (wait := self.limiter.acquire(client)):
            return Response(429, b'{"error": "too many requests"}',
                            headers=(("Retry-After", str(math.ceil(wait))),))  # fmt: skip
        if handler is None:
            return Response(404, b'{"error": "not found"}')
        if request.method not in ("GET", "HEAD"):
            return Response(405, b'{"error": "method not allowed; use GET"}',
                            headers=(("Allow", "GET, HEAD"),))  # fmt: skip
        try:
            return await handler()
        except Exception:
            log.exception("http %s failed", request.path)
            return Response(500, b'{"error": "internal error"}')


def parse_head(head: bytes) -> Request:
    """The request line and the headers that matter; ``BadRequest`` for anything else."""
    try:
        text = head.decode("ascii")
    except UnicodeDecodeError:
        raise BadRequest(HTTPStatus.BAD_REQUEST, "request head is not ASCII") from None
    line, *header_lines = text[:-4].split("\r\n")
    parts = line.split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        raise BadRequest(HTTPStatus.BAD_REQUEST, "malformed request line")
    method, target, version = parts
    if not method.isalpha() or not method.isupper() or not target.startswith("/"):
        raise BadRequest(HTTPStatus.BAD_REQUEST, "malformed request line")
    if version not in ("HTTP/1.0", "HTTP/1.1"):
        raise BadRequest(HTTPStatus.HTTP_VERSION_NOT_SUPPORTED, "HTTP/1.0 or 1.1 only")
    if len(header_lines) > MAX_HEADERS:
        raise BadRequest(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "too many headers")
    headers: dict[str, str] = {}
    for header in header_lines:
        name, colon, value = header.partition(":")
        if not colon or not name or name != name.strip():
            raise BadRequest(HTTPStatus.BAD_REQUEST, "malformed header")
        key, value = name.lower(), value.strip()
        if key in SINGLE_HEADERS and headers.setdefault(key, value) != value:
            # Two lengths: a proxy in front may frame the request by the other one.
            raise BadRequest(HTTPStatus.BAD_REQUEST, f"conflicting {name} headers")
        headers[key] = value
    if headers.get("content-length", "0") != "0" or "transfer-encoding" in headers:
        raise BadRequest(HTTPStatus.BAD_REQUEST, "request bodies are not accepted")
    connection = headers.get("connection", "").lower()
    keep_alive = connection != "close" if version == "HTTP/1.1" else connection == "keep-alive"
    return Request(method, target.split("?", 1)[0], keep_alive)


def server_tls(cert_file: Path, key_file: Path) -> ssl.SSLContext:
    """A server context for the certificate chain and key (TLS 1.2 at least).

    ``ValueError`` names the setting and file when either cannot be read or the
    two do not belong together."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    for setting, path in (("http_tls_cert_file", cert_file), ("http_tls_key_file", key_file)):
        if not path.is_file():
            raise ValueError(f"{setting}: {path} is not a readable file")
    try:
        context.load_cert_chain(cert_file, key_file)
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(
            f"http_tls_cert_file {cert_file} with http_tls_key_file {key_file}: "
            f"{getattr(exc, 'reason', None) or exc}"
        ) from None
    return context
