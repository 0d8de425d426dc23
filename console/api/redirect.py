"""Plain HTTP beside the API's HTTPS port, answering every request with a permanent
redirect (308, which keeps the method and body) to the same URL on https.

A client that starts on http:// must never send credentials before being moved to
TLS: nothing here reads a request body or routes anything. The redirect keeps the
host the client asked for (so the HTTPS answer's HSTS header is seen for that name)
and changes the scheme and the port to the API's. Served by uvicorn on the Deck's loop
with the API's connection guards (head size, head timeout, connections per client).
"""

from __future__ import annotations

import asyncio
import logging
import socket

import uvicorn
from starlette.datastructures import URL
from starlette.responses import RedirectResponse
from starlette.types import Receive, Scope, Send

from console.api.guard import ConnectionGuard, guarded_protocol
from console.api.server import MAX_CONNECTIONS, MAX_HEAD, MAX_PER_CLIENT, READ_TIMEOUT

log = logging.getLogger(__name__)
HTTPS_PORT = 443  # the port an https URL implies


def https_url(scope: Scope, https_port: int) -> str:
    """The request's URL with the https scheme and ``https_port`` (pure). Starlette
    takes the host from a valid ``Host`` header, else the address the request came to,
    so a malformed header cannot make a malformed ``Location``."""
    url = URL(scope=scope)
    return str(url.replace(scheme="https", port=None if https_port == HTTPS_PORT else https_port))


class HttpsRedirectApp:
    """Every HTTP request: 308 to its https URL."""

    def __init__(self, https_port: int) -> None:
        self.https_port = https_port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        response = RedirectResponse(https_url(scope, self.https_port), status_code=308)
        await response(scope, receive, send)


class HttpsRedirect:
    """The plain-HTTP listener: ``listen()`` binds (``OSError`` if taken), ``stop()``
    closes it."""

    def __init__(self, *, host: str, port: int, https_port: int) -> None:
        self.host = host
        self.port = port
        config = uvicorn.Config(
            HttpsRedirectApp(https_port), lifespan="off", log_config=None, access_log=False,
            server_header=False, proxy_headers=False, ws="none",
            timeout_keep_alive=max(1, round(READ_TIMEOUT)), limit_concurrency=MAX_CONNECTIONS,
            h11_max_incomplete_event_size=MAX_HEAD,
            http=guarded_protocol(ConnectionGuard(READ_TIMEOUT, MAX_PER_CLIENT)),
        )  # fmt: skip
        config.load()
        self._server = uvicorn.Server(config)
        self._task: asyncio.Task[None] | None = None

    async def listen(self) -> None:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
            sock.listen(512)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        self.port = sock.getsockname()[1]
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]), name="https-redirect")
        while not self._server.started and not self._task.done():
            await asyncio.sleep(0.005)
        if self._task.done():
            self._task.result()
        log.info("http on %s:%d redirects to https", self.host, self.port)

    async def stop(self) -> None:
        if self._task is None:
            return
        self._server.should_exit = True
        task, self._task = self._task, None
        await task
