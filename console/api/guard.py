"""Hostile clients at the connection level, where ASGI cannot see them.

uvicorn bounds a request head's size (``h11_max_incomplete_event_size``) and the
connections it serves at once (``limit_concurrency``: 503), and closes an idle
keep-alive connection; it does not bound how long a client may take to send a head,
nor how many connections one address holds. ``guarded_protocol`` adds both to its h11
protocol: a head must arrive whole within ``read_timeout`` of the connection opening
(or of the previous answer), or the connection is closed; one address holds at most
``max_per_client`` connections, one more is answered 429 and closed at once, so one
address holding slow connections cannot turn everyone else away.
"""

from __future__ import annotations

import asyncio
import collections
import math

from uvicorn.protocols.http.h11_impl import H11Protocol

TOO_MANY = (
    b"HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/problem+json\r\n"
    b"retry-after: %d\r\nconnection: close\r\ncontent-length: %d\r\n\r\n%s"
)


class ConnectionGuard:
    """The connections being served, by client address, shared by one server's protocols."""

    def __init__(self, read_timeout: float, max_per_client: int) -> None:
        self.read_timeout = read_timeout
        self.max_per_client = max_per_client
        self.served: collections.Counter[str] = collections.Counter()

    def too_many(self) -> bytes:
        body = (b'{"type": "about:blank", "title": "Too Many Requests", "status": 429, '
                b'"detail": "too many connections from this address"}')  # fmt: skip
        return TOO_MANY % (math.ceil(self.read_timeout), len(body), body)


class GuardedH11Protocol(H11Protocol):
    guard: ConnectionGuard  # set on the subclass ``guarded_protocol`` makes

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._address = self.client[0] if self.client else "local"
        self._head_timer: asyncio.TimerHandle | None = None
        self._timed_cycle: object = None
        if self.guard.served[self._address] >= self.guard.max_per_client:
            self._counted = False
            transport.write(self.guard.too_many())
            transport.close()
            return
        self._counted = True
        self.guard.served[self._address] += 1
        self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        if self._counted:
            self._counted = False
            self.guard.served[self._address] -= 1
            if not self.guard.served[self._address]:
                del self.guard.served[self._address]
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        if self.cycle is not None and self.cycle is not self._timed_cycle:
            self._timed_cycle = self.cycle  # a new request's head arrived whole
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._await_head()

    def _await_head(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        self._head_timer = self.loop.call_later(self.guard.read_timeout, self._head_overdue)

    def _head_overdue(self) -> None:
        self._head_timer = None
        self.transport.abort()  # slow or silent: nothing worth answering


def guarded_protocol(guard: ConnectionGuard) -> type[GuardedH11Protocol]:
    return type("GuardedH11Protocol", (GuardedH11Protocol,), {"guard": guard})
