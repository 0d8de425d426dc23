"""A real HTTP server on 127.0.0.1 standing in for a Slack incoming webhook: it
records every post and answers from a script (a status and headers per request)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field


@dataclass
class WebhookServer:
    port: int = 0
    #: Answers to give, in order: (status, headers); 200 once the script runs out.
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    posts: list[dict] = field(default_factory=list)
    times: list[float] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/services/T000/B000/XXXX"

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.decode("latin-1").split("\r\n"):
                    if line.lower().startswith("content-length:"):
                        length = int(line.split(":", 1)[1])
                body = await reader.readexactly(length)
                self.posts.append(json.loads(body))
                self.times.append(time.monotonic())
                status, headers = self.script.pop(0) if self.script else (200, {})
                extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
                answer = b"ok" if status == 200 else b"no"
                writer.write(f"HTTP/1.1 {status} X\r\nContent-Length: {len(answer)}\r\n{extra}"
                             f"\r\n".encode() + answer)  # fmt: skip
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@asynccontextmanager
async def webhook_server(*script: tuple[int, dict[str, str]]) -> AsyncIterator[WebhookServer]:
    hook = WebhookServer(script=list(script))
    server = await asyncio.start_server(hook.serve, "127.0.0.1", 0)
    hook.port = server.sockets[0].getsockname()[1]
    try:
        yield hook
    finally:
        server.close()
        await server.wait_closed()
