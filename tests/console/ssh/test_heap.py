"""The heap is frozen once sessions have drawn, and never while an ended one lingers."""

from __future__ import annotations

import asyncio
import gc
import weakref

import pytest

from console.ssh import heap
from console.ssh.heap import HeapKeeper


class Part:
    """Stands in for an ended session's app: something in a reference cycle."""

    def __init__(self) -> None:
        self.me = self


@pytest.fixture(autouse=True)
def quick_and_thawed(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(heap, "FREEZE_DELAY", 0.05)
    monkeypatch.setattr(heap, "SETTLE_DELAY", 0.05)
    threshold = gc.get_threshold()
    gc.unfreeze()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


async def test_a_started_session_is_frozen_once_it_has_drawn() -> None:
    keeper = HeapKeeper()
    keeper.session_started()
    assert gc.get_freeze_count() == 0
    await asyncio.sleep(0.2)
    assert gc.get_freeze_count() > 0


async def test_an_ended_session_thaws_the_heap_until_it_is_collected() -> None:
    keeper = HeapKeeper()
    gc.freeze()
    part = Part()
    keeper.session_ended(part)
    assert gc.get_freeze_count() == 0
    await asyncio.sleep(0.3)
    assert gc.get_freeze_count() == 0  # still referred to: freezing now would keep it for good
    keeper.session_started()  # a new session meanwhile does not freeze it either
    await asyncio.sleep(0.3)
    assert gc.get_freeze_count() == 0
    del part  # now only its own cycle holds it: the next collection frees it
    await asyncio.sleep(0.3)
    assert gc.get_freeze_count() > 0
    assert not any(isinstance(o, Part) for o in gc.get_objects())


def test_full_passes_come_ten_times_less_often() -> None:
    young, middle, _ = gc.get_threshold()
    HeapKeeper()
    assert gc.get_threshold() == (young, middle, heap.FULL_PASS_AFTER) == (young, middle, 100)


async def test_a_new_sessions_garbage_is_collected_not_frozen() -> None:
    """Cycles a session's start left behind are freed before the freeze; frozen, they
    would stay for good."""
    keeper = HeapKeeper()
    garbage = weakref.ref(Part())  # only its own cycle holds it
    keeper.session_started()
    await asyncio.sleep(0.2)
    assert gc.get_freeze_count() > 0 and garbage() is None
