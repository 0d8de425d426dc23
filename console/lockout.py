"""Failed logins, over SSH and the API alike: too many in a window lock the user name
and the source address.

Pure bookkeeping with an injected clock; the servers decide what to do with a
verdict (refuse, log, audit). Counts are kept per user name and per address,
so a guesser is stopped whether it tries many names from one host or one name
from many hosts; a failure whose user is not known (a forged token) counts
against the address only. A success clears both counts (a client that offers several
keys before the right one is not slowly locked out), but never lifts a lock
already in force.

One instance serves both front ends when they run in one process, so a guesser
stopped on one is stopped on the other. SSH calls it from the consoles' loop and
the API from the Deck's loop (another thread): every method holds a lock.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

ATTEMPTS = 5
WINDOW = 300.0  # seconds in which ATTEMPTS failures lock
DURATION = 300.0  # seconds a lock lasts
MAX_TRACKED = 10_000  # names and addresses remembered at once, so a flood cannot grow memory

Key = tuple[str, str]  # ("user", name) or ("address", address)


class Lockout:
    def __init__(
        self,
        *,
        attempts: int = ATTEMPTS,
        window: float = WINDOW,
        duration: float = DURATION,
        clock: Callable[[], float] = time.monotonic,
        max_tracked: int = MAX_TRACKED,
    ) -> None:
        self.attempts = attempts
        self.window = window
        self.duration = duration
        self._clock = clock
        self._max_tracked = max_tracked
        self._failures: dict[Key, deque[float]] = {}
        self._locked: dict[Key, float] = {}  # key -> until
        self._lock = threading.Lock()

    def remaining(self, user: str | None, address: str) -> float:
        """Seconds until ``user`` (None: anyone) from ``address`` may try again; 0 when
        neither is locked."""
        with self._lock:
            now = self._clock()
            left = 0.0
            for key in _keys(user, address):
                until = self._locked.get(key)
                if until is None:
                    continue
                if until <= now:
                    del self._locked[key]
                else:
                    left = max(left, until - now)
            return left

    def failure(self, user: str | None, address: str) -> bool:
        """Count a failed attempt; True when it is the one that locks ``user`` and ``address``."""
        with self._lock:
            now = self._clock()
            self._prune(now)
            keys = _keys(user, address)
            reached = False
            for key in keys:
                times = self._failures.setdefault(key, deque())
                times.append(now)
                reached = reached or len(times) >= self.attempts
            if reached:
                for key in keys:
                    self._locked[key] = now + self.duration
                    self._failures.pop(key, None)
            while len(self._failures) > self._max_tracked:  # oldest first (insertion order)
                del self._failures[next(iter(self._failures))]
            return reached

    def success(self, user: str, address: str) -> None:
        with self._lock:
            self._failures.pop(("user", user), None)
            self._failures.pop(("address", address), None)

    def _prune(self, now: float) -> None:
        cutoff = now - self.window
        for key in list(self._failures):
            times = self._failures[key]
            while times and times[0] < cutoff:
                times.popleft()
            if not times:
                del self._failures[key]
        for key in [key for key, until in self._locked.items() if until <= now]:
            del self._locked[key]


def _keys(user: str | None, address: str) -> tuple[Key, ...]:
    return (("address", address),) if user is None else (("user", user), ("address", address))
