"""Keeping the garbage collector's full passes short while sessions come and go.

Each session's console is a few MB of long-lived objects (widgets, styles,
caches) linked in cycles, and a full collection walks every long-lived
object: with twenty sessions those passes took up to 0.7 s, dozens of times
a minute, freezing every session meanwhile. So once a session has drawn, the
heap is frozen (``gc.freeze``: left out of collections).

Frozen objects are never collected, so when a session ends the heap is
thawed, and frozen again only once the collector has freed every ended
session's app: an app still referred to for a moment (a cancelled timer's
context can hold one until it falls due) would otherwise stay frozen, and
leak, for good.

Before each freeze the garbage a session's start left (composing a dashboard
makes many short-lived cycles) is collected, and the C allocator is asked to
hand the freed pages back (``malloc_trim``): about 0.7 MB less resident
memory per session (bench/README.md), for one collection of the unfrozen heap
per login.
"""

from __future__ import annotations

import asyncio
import ctypes
import functools
import gc
import weakref
from typing import Any

FREEZE_DELAY = 2.0  # seconds: a new session has composed and drawn its dashboard by then
SETTLE_DELAY = 0.5  # seconds between collections while an ended session's app lingers
#: Middle-generation collections between full ones (Python's default is 10). What a
#: full pass walks is the live, unfrozen heap (the sessions' render caches), not the
#: garbage since the last one, so ten times fewer passes cost about ten times less.
FULL_PASS_AFTER = 100


class HeapKeeper:
    def __init__(self) -> None:
        self._ended: list[weakref.ref[Any]] = []
        self._settling: asyncio.TimerHandle | None = None
        young, middle, _ = gc.get_threshold()
        gc.set_threshold(young, middle, FULL_PASS_AFTER)

    def session_started(self) -> None:
        asyncio.get_running_loop().call_later(FREEZE_DELAY, self._freeze_if_settled)

    def session_ended(self, *parts: object) -> None:
        """``parts``: the ended session's objects that must be freed before the next
        freeze (its app and the SSH session holding it)."""
        gc.unfreeze()
        self._ended += [weakref.ref(part) for part in parts]
        if self._settling is None:
            self._settling = asyncio.get_running_loop().call_later(SETTLE_DELAY, self._settle)

    def _freeze_if_settled(self) -> None:
        if not self._ended:
            gc.collect()
            gc.freeze()
            _return_free_memory()

    def _settle(self) -> None:
        self._settling = None
        gc.collect()
        self._ended = [ref for ref in self._ended if ref() is not None]
        if self._ended:
            self._settling = asyncio.get_running_loop().call_later(SETTLE_DELAY, self._settle)
        else:
            gc.freeze()
            _return_free_memory()


@functools.cache
def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: nothing to ask
        return None


def _return_free_memory() -> None:
    """glibc keeps freed memory for reuse; this returns its free pages to the system."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
