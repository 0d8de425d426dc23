"""Plain HTTP beside the API's HTTPS port, answering every request with a permanent
redirect (308, which keeps the method and body) to the same URL on https.

A client that starts on http:// must never send credentials before being moved to
TLS: nothing here reads a request body or routes anything. The redirect keeps the
host the client asked for (so the HTTPS answer's HSTS header is seen for that name)
and changes the scheme and the port to the API's. Served by uvicorn on the Deck's loop
with the API's connection guards (head size, head timeout, connections per client).
"""

from __future__ import annotations

import logging

import uvicorn
from starlette.datastructures import URL
from starlette.responses import RedirectResponse
from starlette.types import Receive, Scope, Send

from console.api.edges import MAX_HEAD
from console.api.guard import ConnectionGuard, guarded_protocol, unavailable
from console.api.listening import Listening
from console.api.server import MAX_CONNECTIONS, MAX_PER_CLIENT, READ_TIMEOUT

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
        app = HttpsRedirectApp(https_port)
        guard = ConnectionGuard(
            read_timeout=READ_TIMEOUT, max_connections=MAX_CONNECTIONS,
            max_per_client=MAX_PER_CLIENT, tls=False, unavailable=unavailable,
        )  # fmt: skip
        config = uvicorn.Config(
            app, lifespan="off", log_config=None, access_log=False, server_header=False,
            proxy_headers=False, ws="none", timeout_keep_alive=max(1, round(READ_TIMEOUT)),
            h11_max_incomplete_event_size=MAX_HEAD, http=guarded_protocol(guard),
        )  # fmt: skip
        self._listening = Listening(config, host=host, port=port, name="https-redirect")

    @property
    def host(self) -> str:
        return self._listening.host

    @property
    def port(self) -> int:
        return self._listening.port

    @property
    def announcement(self) -> str:
        """Where it listens, as ``serve`` prints it."""
        return f"HTTP on {self.host}:{self.port} redirects to HTTPS"

    async def listen(self) -> None:
        await self._listening.listen(backlog=512)
        log.info("http on %s:%d redirects to https", self.host, self.port)

    async def stop(self) -> None:
        await self._listening.stop()
