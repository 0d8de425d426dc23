"""The API served by uvicorn on the Deck's loop, as one of the Deck's services.

``listen()`` binds the port (``console.api.listening``) and starts answering at once:
``/health`` says "starting" until the Deck runs. TLS is the context ``server_tls``
makes (TLS 1.2 at least).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from pathlib import Path

import uvicorn

from console.api.app import create_app
from console.api.context import ApiContext
from console.api.edges import MAX_HEAD, Edges
from console.api.guard import ConnectionGuard, guarded_protocol, unavailable
from console.api.listening import Listening
from core.health.metrics import HttpCollector

log = logging.getLogger(__name__)
READ_TIMEOUT = 5.0  # seconds a client has to send a whole request head
MAX_CONNECTIONS = 128  # open at once; a request on one more is answered 503
#: Open at once from one client address; more are answered 429 and closed. Half of
#: ``MAX_CONNECTIONS``: one address can never hold every slot.
MAX_PER_CLIENT = 64
STOP_TIMEOUT = 5.0  # seconds open requests and streams get to finish on stop
#: Bytes of one WebSocket message from a client: past it the stream is closed (1009).
#: The stream's own messages are far smaller (``console.api.stream.MAX_MESSAGE``).
MAX_WS_MESSAGE = 65_536


class ApiServer:
    def __init__(
        self, context: ApiContext, *, host: str, port: int, tls: ssl.SSLContext | None = None,
        read_timeout: float = READ_TIMEOUT, max_connections: int = MAX_CONNECTIONS,
        max_per_client: int = MAX_PER_CLIENT,
    ) -> None:  # fmt: skip
        self.context = context
        self.host = host
        self.port = port
        self.tls = tls
        self.app = create_app(context)
        guard = ConnectionGuard(
            read_timeout=read_timeout, max_connections=max_connections,
            max_per_client=max_per_client, tls=tls is not None,
            unavailable=Edges(unavailable, context.answers),
        )  # fmt: skip
        config = uvicorn.Config(
            self.app, lifespan="off", log_config=None, access_log=False, server_header=False,
            proxy_headers=False, timeout_keep_alive=max(1, round(read_timeout)),
            h11_max_incomplete_event_size=MAX_HEAD, timeout_graceful_shutdown=STOP_TIMEOUT,
            ws="websockets-sansio", ws_max_size=MAX_WS_MESSAGE, http=guarded_protocol(guard),
        )  # fmt: skip
        config.load()
        config.ssl = tls  # ours, rather than one uvicorn builds from file names
        self._listening = Listening(config, host=host, port=port, name="api")
        context.endpoints.registry.register(HttpCollector(self))  # its answers, on /metrics

    @property
    def scheme(self) -> str:
        return "https" if self.tls is not None else "http"

    @property
    def announcement(self) -> str:
        """Where it listens, as ``serve`` prints it."""
        return f"{self.scheme.upper()} on {self.host}:{self.port}"

    @property
    def answers(self) -> dict[tuple[str, int], int]:
        """Answers sent, by route template and status (for ``/metrics``)."""
        return self.context.answers

    @property
    def connections(self) -> int:
        """Connections open now."""
        return self._listening.connections

    async def listen(self) -> None:
        """Bind the port (``OSError`` if taken) and begin answering."""
        # FastAPI builds its OpenAPI document at the first request for it: ~0.3 s of
        # Python that would stall the Deck's loop then. Built here, off the loop, once.
        await asyncio.to_thread(self.app.openapi)
        await self._listening.listen()
        self.port = self._listening.port
        log.info("%s listening on %s:%d", self.scheme, self.host, self.port)

    async def start(self) -> None:
        """Nothing to do: the routes answer from ``listen()`` on (liveness while starting)."""

    async def stop(self) -> None:
        """Close the port, let open requests finish (``STOP_TIMEOUT``), close the rest."""
        await self._listening.stop()


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
