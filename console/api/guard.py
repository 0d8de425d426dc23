"""Hostile clients at the connection level, where ASGI cannot see them.

uvicorn bounds a request head's size (``h11_max_incomplete_event_size``) and closes an
idle keep-alive connection; it does not bound how long a client may take to send a
head or to read its answers, nor how many connections one address holds, and the
answers it writes itself (400, 503) carry none of our headers. ``guarded_protocol``
adds these to its h11 protocol:

- a head must arrive whole within ``read_timeout`` of the connection opening (or of
  the previous answer), and a client must take its answers (the write buffer drain)
  within ``read_timeout``, or the connection is closed;
- one address holds at most ``max_per_client`` connections: one more is answered 429
  and closed at once, so one address holding slow connections cannot turn everyone
  else away;
- beyond ``max_connections`` open at once, a connection's request is answered by the
  ``unavailable`` application (503) and the connection closed;
- a request h11 cannot parse is answered 400 (431 for a head over the bound) as a
  problem document naming what is wrong, with the security headers (uvicorn's own
  answer is bare text).

A connection upgraded to a WebSocket leaves this protocol: it is no longer timed or
counted here.
"""

from __future__ import annotations

import asyncio
import collections
import math
import sys
from http import HTTPStatus

import h11
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from console.api.edges import CSP, secured
from console.api.problems import problem


class ConnectionGuard:
    """One server's bounds, and its connections by client address (its protocols share it)."""

    def __init__(
        self, *, read_timeout: float, max_connections: int, max_per_client: int, tls: bool,
        unavailable: ASGIApp,
    ) -> None:  # fmt: skip
        self.read_timeout = read_timeout
        self.max_connections = max_connections
        self.max_per_client = max_per_client
        self.tls = tls
        self.unavailable = unavailable
        self.served: collections.Counter[str] = collections.Counter()
        self.too_many = self._too_many()

    def _too_many(self) -> bytes:
        """The whole 429 answer, written before the request is read."""
        refusal = problem(429, "too many connections from this address",
                          headers={"retry-after": str(math.ceil(self.read_timeout)),
                                   "connection": "close"})  # fmt: skip
        head = b"".join(name + b": " + value + b"\r\n"
                        for name, value in secured(refusal.raw_headers, CSP, self.tls))  # fmt: skip
        return b"HTTP/1.1 429 Too Many Requests\r\n" + head + b"\r\n" + refusal.body


class GuardedH11Protocol(H11Protocol):
    guard: ConnectionGuard  # set on the subclass ``guarded_protocol`` makes

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._address = self.client[0] if self.client else "local"
        self._head_timer: asyncio.TimerHandle | None = None
        self._write_timer: asyncio.TimerHandle | None = None
        self._timed_cycle: object = None
        self._counted = False
        if self.guard.served[self._address] >= self.guard.max_per_client:
            transport.write(self.guard.too_many)
            transport.close()
            return
        self._counted = True
        self.guard.served[self._address] += 1
        if len(self.connections) > self.guard.max_connections:
            self.app = self.guard.unavailable  # its request is read, then answered 503
        self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._release()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        if self.cycle is not None and self.cycle is not self._timed_cycle:
            self._timed_cycle = self.cycle  # a new request's head arrived whole
            self._cancel_head_timer()

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        self._release()
        super().handle_websocket_upgrade(event)

    def on_response_complete(self) -> None:
        if not self.transport.is_closing():
            self._await_head()  # first: a pipelined request's head, handled next, stops it
        super().on_response_complete()

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._write_timer is None:
            self._write_timer = self.loop.call_later(self.guard.read_timeout, self._overdue)

    def resume_writing(self) -> None:
        super().resume_writing()
        if self._write_timer is not None:
            self._write_timer.cancel()
            self._write_timer = None

    def send_400_response(self, msg: str) -> None:
        # uvicorn calls this while handling h11's error: its reason and status (431 for a
        # head over the bound, 501 for an unknown transfer coding) say more than ``msg``.
        error = sys.exc_info()[1]
        status, detail = 400, msg
        if isinstance(error, h11.RemoteProtocolError):
            status, detail = error.error_status_hint, f"{msg[:-1]}: {error}"
        refusal = problem(status, detail, headers={"connection": "close"})
        headers = secured(refusal.raw_headers, CSP, self.scheme == "https")
        reason = HTTPStatus(status).phrase.encode()
        for event in (h11.Response(status_code=status, headers=headers, reason=reason),
                      h11.Data(data=refusal.body), h11.EndOfMessage()):  # fmt: skip
            self.transport.write(self.conn.send(event) or b"")
        self.transport.close()

    def _await_head(self) -> None:
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(self.guard.read_timeout, self._overdue)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _overdue(self) -> None:
        self._head_timer = self._write_timer = None
        self.transport.abort()  # slow, silent or not reading: nothing worth answering

    def _release(self) -> None:
        """Stop timing this connection and stop counting it against its address."""
        self._cancel_head_timer()
        if self._write_timer is not None:
            self._write_timer.cancel()
            self._write_timer = None
        if self._counted:
            self._counted = False
            self.guard.served[self._address] -= 1
            if not self.guard.served[self._address]:
                del self.guard.served[self._address]


def guarded_protocol(guard: ConnectionGuard) -> type[GuardedH11Protocol]:
    return type("GuardedH11Protocol", (GuardedH11Protocol,), {"guard": guard})


async def unavailable(scope: Scope, receive: Receive, send: Send) -> None:
    """The answer to a request over ``max_connections`` (an ASGI application)."""
    refusal = problem(503, "too many connections; try again shortly",
                      headers={"retry-after": "1", "connection": "close"})  # fmt: skip
    await refusal(scope, receive, send)
