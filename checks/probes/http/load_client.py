"""A lean HTTP/1.1 client for the load test: one keep-alive connection per worker, spoken
with h11 (the protocol engine httpx itself uses) over asyncio streams.

Through httpx each request costs the checking process a few milliseconds of CPU, so a
load test of 1000 requests measured httpx (about 160 requests a second on a 2-core
machine) more than the target; this client costs a small fraction of that. It only sends
the load test's GETs; every other probe speaks through ``ProbeClient``. Its failures are
httpx's exception types, so the load probe reports them as ``Unreachable`` like the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time

import h11
import httpx

from checks.probes.http.client import USER_AGENT

READ_SIZE = 64 * 1024


class LoadConnection:
    """GETs on one connection to ``url``'s host, reopened whenever the server closes it."""

    def __init__(self, url: httpx.URL, context: ssl.SSLContext, timeout: float,
                 headers: dict[str, str]) -> None:  # fmt: skip
        self.url = url
        self.context = context if url.scheme == "https" else None
        self.timeout = timeout
        self.headers = [("Host", url.netloc.decode()), ("User-Agent", USER_AGENT),
                        ("Accept", "*/*"), *headers.items()]  # fmt: skip
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._protocol = h11.Connection(h11.CLIENT)

    async def get(self) -> tuple[int, float]:
        """GET the URL: (status, round trip in ms, from sending to the answer's end)."""
        try:
            async with asyncio.timeout(self.timeout):
                if self._writer is None:
                    await self._open()
                started = time.perf_counter()
                status = await self._exchange()
                elapsed = (time.perf_counter() - started) * 1000.0
        except TimeoutError:
            await self.close()
            raise httpx.ReadTimeout(f"no answer within {self.timeout:g} s") from None
        except (OSError, h11.ProtocolError) as exc:
            await self.close()
            if isinstance(exc, ConnectionRefusedError | ssl.SSLError):
                raise httpx.ConnectError(str(exc) or type(exc).__name__) from None
            raise httpx.RemoteProtocolError(str(exc) or type(exc).__name__) from None
        if self._protocol.our_state is h11.DONE and self._protocol.their_state is h11.DONE:
            self._protocol.start_next_cycle()
        else:  # the server closes it (Connection: close): the next GET opens another
            await self.close()
        return status, elapsed

    async def _open(self) -> None:
        host, port = self.url.host, self.url.port or (443 if self.context else 80)
        self._reader, self._writer = await asyncio.open_connection(
            host, port, ssl=self.context, server_hostname=host if self.context else None
        )
        self._protocol = h11.Connection(h11.CLIENT)

    async def _exchange(self) -> int:
        assert self._reader is not None and self._writer is not None
        target = self.url.raw_path
        self._writer.write(self._protocol.send(h11.Request(method="GET", target=target,
                                                           headers=self.headers)))  # fmt: skip
        self._writer.write(self._protocol.send(h11.EndOfMessage()))
        await self._writer.drain()
        status = 0
        while True:
            event = self._protocol.next_event()
            if event is h11.NEED_DATA:
                self._protocol.receive_data(await self._reader.read(READ_SIZE))
            elif isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.EndOfMessage):
                return status
            elif isinstance(event, h11.ConnectionClosed):
                raise ConnectionResetError("the server closed the connection mid-answer")

    async def close(self) -> None:
        writer, self._writer, self._reader = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):  # ssl.SSLError among them
                await writer.wait_closed()
