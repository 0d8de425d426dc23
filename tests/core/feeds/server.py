"""A real websocket server on 127.0.0.1 that plays scripted messages to each connection."""

from __future__ import annotations

import socket
from collections.abc import Callable

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

Script = Callable[[int], list[str]]  # connection number (from 0) -> messages to send


def free_port() -> int:
    """A port nothing listens on (connecting to it is refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ScriptedServer:
    """Waits for a client's first frame (its subscription), then sends the script.

    With ``close_after`` the server hangs up once connection ``n`` has its
    script for every ``n`` in the set (cleanly, or with ``abort`` by dropping
    the TCP connection without a closing handshake); otherwise it keeps the
    connection open and records whatever else the client sends.
    """

    def __init__(
        self,
        script: Script,
        close_after: set[int] | None = None,
        abort: bool = False,
        port: int = 0,
    ) -> None:
        self.script = script
        self.close_after = close_after or set()
        self.abort = abort
        self.port = port
        self.received: list[str] = []
        self.connections = 0
        self._server: Server | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    async def start(self) -> ScriptedServer:
        self._server = await serve(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _handle(self, ws: ServerConnection) -> None:
        number = self.connections
        self.connections += 1
        try:
            self.received.append(str(await ws.recv()))
            for message in self.script(number):
                await ws.send(message)
            if number in self.close_after:
                if self.abort:
                    ws.transport.abort()
                else:
                    await ws.close()
                return
            async for frame in ws:
                self.received.append(str(frame))
        except ConnectionClosed:
            pass
