"""The Deck's own loop and thread: commands run there, answers, errors and cancellation
come back to the caller's loop."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest

from core.deck_loop import DeckLoop, Remote, ServiceOn, on_loop


class Part:
    def __init__(self) -> None:
        self.flushed_on: int | None = None

    async def flush(self) -> int:
        self.flushed_on = threading.get_ident()
        return self.flushed_on


class Target:
    """Deck-shaped: a coroutine command, a sync read, data, and a part with coroutines."""

    def __init__(self) -> None:
        self.writer = Part()
        self.jobs = {1: "done"}
        self.calls: list[int] = []

    async def kill(self, why: str) -> str:
        self.calls.append(threading.get_ident())
        await asyncio.sleep(0)
        return f"halted: {why}"

    async def fail(self) -> None:
        raise ValueError("refused")

    async def wait_forever(self, started: threading.Event, cancelled: threading.Event) -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            cancelled.set()

    def tick_size(self, symbol: str) -> float:
        return 0.01 if symbol == "SPY" else 1.0


@pytest.fixture
def deck_loop() -> Iterator[DeckLoop]:
    running = DeckLoop(name="test-deck").start()
    yield running
    running.close()


async def _ident() -> int:
    return threading.get_ident()


async def test_a_command_runs_on_the_decks_thread_and_answers_on_the_callers_loop(
    deck_loop: DeckLoop,
) -> None:
    target = Target()
    remote = Remote(target, deck_loop.loop)
    assert await remote.kill("drill") == "halted: drill"
    assert target.calls == [deck_loop.submit(_ident()).result()]
    assert target.calls[0] != threading.get_ident()


async def test_parts_with_commands_are_remote_and_data_is_read_as_it_is(
    deck_loop: DeckLoop,
) -> None:
    target = Target()
    remote = Remote(target, deck_loop.loop)
    assert isinstance(remote.writer, Remote)
    assert await remote.writer.flush() == deck_loop.submit(_ident()).result()
    assert remote.jobs is target.jobs
    assert remote.tick_size("SPY") == 0.01


async def test_an_error_on_the_decks_loop_is_raised_to_the_caller(deck_loop: DeckLoop) -> None:
    with pytest.raises(ValueError, match="refused"):
        await Remote(Target(), deck_loop.loop).fail()


async def test_cancelling_the_caller_cancels_the_command_on_the_decks_loop(
    deck_loop: DeckLoop,
) -> None:
    started, cancelled = threading.Event(), threading.Event()
    waiting = asyncio.create_task(Remote(Target(), deck_loop.loop).wait_forever(started, cancelled))
    assert await asyncio.to_thread(started.wait, 5)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert await asyncio.to_thread(cancelled.wait, 5)


async def test_on_the_same_loop_the_command_is_simply_awaited() -> None:
    target = Target()
    assert await on_loop(asyncio.get_running_loop(), target.kill("here")) == "halted: here"
    assert target.calls == [threading.get_ident()]


async def test_a_service_on_another_loop_starts_and_stops_there(deck_loop: DeckLoop) -> None:
    here = threading.get_ident()
    seen: list[int] = []

    class Server:
        async def start(self) -> None:
            seen.append(threading.get_ident())

        async def stop(self) -> None:
            seen.append(threading.get_ident())

    service = ServiceOn(Server(), asyncio.get_running_loop())
    await asyncio.wrap_future(deck_loop.submit(service.start()))
    await asyncio.wrap_future(deck_loop.submit(service.stop()))
    assert seen == [here, here]


def test_closing_stops_the_thread_and_cancels_what_was_left() -> None:
    running = DeckLoop(name="test-close").start()
    cancelled = threading.Event()

    async def forever() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            cancelled.set()

    running.loop.call_soon_threadsafe(lambda: running.loop.create_task(forever()))
    time.sleep(0.05)
    running.close()
    assert cancelled.is_set()
    assert running.loop.is_closed()
