"""An ASGI application served by uvicorn on the running loop, from a socket bound first.

``listen()`` binds the port itself, so port 0 and a taken port are known (``OSError``)
before the Deck starts, as ``serve`` reports them, and answers from then on. uvicorn
installs no signal handlers off the main thread, and the Deck's loop runs in a thread
of its own, so ``serve`` keeps its own SIGTERM handling. Used by the API's port and by
the plain-HTTP redirect beside it.
"""

from __future__ import annotations

import asyncio
import socket

import uvicorn


def bind(host: str, port: int, backlog: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (``OSError`` if it cannot be had)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP: asyncio sets TCP_NODELAY only on sockets that say they are TCP;
    # without it a keep-alive answer can wait ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(backlog)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


class Listening:
    """uvicorn serving ``config``'s application on ``host:port`` once ``listen()`` runs."""

    def __init__(self, config: uvicorn.Config, *, host: str, port: int, name: str) -> None:
        if not config.loaded:
            config.load()
        self.host = host
        self.port = port
        self.name = name
        self.server = uvicorn.Server(config)
        self._task: asyncio.Task[None] | None = None

    @property
    def connections(self) -> int:
        """Connections open now."""
        return len(self.server.server_state.connections)

    async def listen(self, backlog: int = 2048) -> None:
        """Bind the port (``OSError`` if taken) and begin answering."""
        sock = bind(self.host, self.port, backlog)
        self.port = sock.getsockname()[1]
        self._task = asyncio.create_task(self.server.serve(sockets=[sock]), name=self.name)
        while not self.server.started and not self._task.done():
            await asyncio.sleep(0.005)
        if self._task.done():
            self._task.result()  # raise what stopped it

    async def stop(self) -> None:
        """Close the port, let open requests finish (the config's graceful timeout)."""
        if self._task is None:
            return
        self.server.should_exit = True
        task, self._task = self._task, None
        await task
