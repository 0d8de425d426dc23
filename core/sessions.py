"""Who is connected: the local console and, later, every SSH session.

The registry is the Deck's; each front end registers its session on start
and removes it on exit. Every change is published as ``SessionsChanged`` so
headers across all sessions show the same list.
"""

from __future__ import annotations

import itertools
import time

from core.access import Principal
from core.bus import Bus
from core.events import SessionInfo, SessionsChanged


class SessionRegistry:
    def __init__(self, bus: Bus) -> None:
        self._bus = bus
        self._sessions: dict[int, SessionInfo] = {}
        self._ids = itertools.count(1)

    def open(self, principal: Principal, source: str = "local") -> int:
        session_id = next(self._ids)
        self._sessions[session_id] = SessionInfo(
            session_id, principal.name, principal.role.value, source, time.time()
        )
        self._publish()
        return session_id

    def close(self, session_id: int) -> None:
        if self._sessions.pop(session_id, None) is not None:
            self._publish()

    @property
    def sessions(self) -> tuple[SessionInfo, ...]:
        return tuple(self._sessions.values())

    def _publish(self) -> None:
        self._bus.publish(SessionsChanged(time.time(), self.sessions))
