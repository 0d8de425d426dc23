"""The Deck on an event loop and a thread of its own, and how a console talks to it.

A console lays out and paints whole screens: on a resize that is 70-280 ms of
Python in one call inside Textual. On the loop the engine runs on, each such
call was a tick waiting to be traded and a ``/health`` waiting to be answered.
So the process runs two loops: the Deck's (engine, feeds, jobs, store writer,
monitoring port) in a ``DeckLoop`` thread, and the consoles' (the local app, or
the SSH server and every session's app) on the main thread.

A console reaches the Deck through the bus (``core.bus`` delivers across loops)
and through ``Remote``: every coroutine method called on it (the command layer:
``kill``, ``submit_job``, ``cancel_order``...) runs on the Deck's loop, and the
console awaits the answer on its own. Plain attributes are read as they are (the
engine's state, the job table, settings): a read of one reference is safe across
threads, and a console copies what it iterates.

Python runs one thread at a time: while a console's thread holds the interpreter
for a long layout, the Deck's thread gets it back within the switch interval,
which ``DeckLoop`` shortens from 5 to ``SWITCH_INTERVAL`` seconds.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import sys
import threading
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import Future
from functools import cache
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

#: How long a thread may hold the interpreter while another waits for it (Python's
#: default is 5 ms): the longest a console's layout delays a tick, per hand-over.
SWITCH_INTERVAL = 0.001


class DeckLoop:
    """An event loop running in a daemon thread of its own, until ``close``."""

    def __init__(self, name: str = "deck") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._started = threading.Event()

    def start(self) -> DeckLoop:
        sys.setswitchinterval(SWITCH_INTERVAL)
        self._thread.start()
        self._started.wait()
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(self._started.set)
        try:
            self.loop.run_forever()
        finally:
            self._finish()

    def _finish(self) -> None:
        """Cancel what is left on the loop (the Deck stopped its own work already)."""
        pending = asyncio.all_tasks(self.loop)
        for task in pending:
            task.cancel()
        if pending:
            self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.run_until_complete(self.loop.shutdown_default_executor())
        self.loop.close()

    def submit(self, coroutine: Coroutine[Any, Any, T]) -> Future[T]:
        """Run ``coroutine`` on this loop, from any thread."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def close(self, timeout: float = 30.0) -> None:
        """Stop the loop and wait for its thread (from any other thread)."""
        if self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.error("the deck's loop did not stop within %.0f s", timeout)


async def on_loop(loop: asyncio.AbstractEventLoop, coroutine: Coroutine[Any, Any, T]) -> T:
    """Await ``coroutine`` run on ``loop``: at once if that is the running loop, else
    handed over (cancelling the caller cancels it there too)."""
    if asyncio.get_running_loop() is loop:
        return await coroutine
    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, loop))


@cache
def _has_coroutines(kind: type) -> bool:
    return any(inspect.iscoroutinefunction(member) for _, member in inspect.getmembers(kind))


class Remote:
    """``target`` as seen from another loop: its coroutine methods run on ``loop``,
    and its parts that have coroutine methods (the Deck's job manager, store writer,
    engine...) are ``Remote`` too. Everything else is the target's own attribute."""

    __slots__ = ("_loop", "_target")

    def __init__(self, target: Any, loop: asyncio.AbstractEventLoop) -> None:
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_loop", loop)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if inspect.ismethod(value) and inspect.iscoroutinefunction(value):
            return _marshalled(value, self._loop)
        if not callable(value) and _has_coroutines(type(value)):
            return Remote(value, self._loop)
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._target, name, value)

    def __repr__(self) -> str:
        return f"Remote({self._target!r})"


def _marshalled(
    method: Callable[..., Coroutine[Any, Any, T]], loop: asyncio.AbstractEventLoop
) -> Callable[..., Awaitable[T]]:
    def call(*args: Any, **kwargs: Any) -> Awaitable[T]:
        return on_loop(loop, method(*args, **kwargs))

    call.__name__ = method.__name__
    call.__doc__ = method.__doc__
    return call


class ServiceOn:
    """A Deck service (``start``/``stop``) that lives on another loop than the Deck's:
    the SSH server beside a threaded Deck runs on the consoles' loop, with its sessions."""

    def __init__(self, service: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.service = service
        self.loop = loop

    async def start(self) -> None:
        await on_loop(self.loop, self.service.start())

    async def stop(self) -> None:
        await on_loop(self.loop, self.service.stop())
