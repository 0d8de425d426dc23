"""Bridges that put news from blocking code (audit appends, log records) on the bus.

Both are called on whatever thread did the work and hand the event to the
bus's loop without waiting, so views can follow the audit trail and the log
tail live instead of polling for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import weakref
from collections.abc import Callable

from core.audit import AuditEntry, watch_appends
from core.bus import Bus
from core.events import AuditAppended, LogsAppended
from core.logs import LogTail
from core.store import Store


def announce_audit(store: Store, bus: Bus) -> Callable[[], None]:
    """Publish ``AuditAppended`` on ``bus`` for every entry appended through ``store``.

    Entries appended before the bus is attached to its loop (the Deck not yet
    started) are not announced: a view reads the trail when it opens anyway.
    The bus is held weakly, so a forgotten watcher does not keep a Deck alive.
    Returns the function that stops announcing.
    """
    bus_ref = weakref.ref(bus)

    def on_append(entry: AuditEntry) -> None:
        target = bus_ref()
        if target is None:
            return
        # Not attached to a loop yet, or the loop is closed: nobody is watching.
        with contextlib.suppress(RuntimeError):
            target.publish_threadsafe(AuditAppended(entry))

    return watch_appends(store, on_append)


def announce_logs(tail: LogTail, bus: Bus, loop: asyncio.AbstractEventLoop) -> Callable[[], None]:
    """Publish ``LogsAppended`` on ``bus`` (on ``loop``, the bus's) as records reach
    ``tail``, with at most one announcement waiting on the loop however fast records
    come (a burst of thousands costs one event). Returns the function that stops it."""
    waiting = threading.Event()

    def deliver() -> None:
        waiting.clear()  # before reading last_seq: a record after this is announced again
        bus.publish(LogsAppended(tail.last_seq))

    def on_record(seq: int) -> None:
        if not waiting.is_set():
            waiting.set()
            loop.call_soon_threadsafe(deliver)

    return tail.listen(on_record)
