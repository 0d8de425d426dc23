"""The console's heap settler: a burst of calls (a terminal dragged to a new size)
freezes the heap once, after the last of them."""

from __future__ import annotations

import asyncio
import gc

from console.heap import HeapSettler


async def test_a_burst_of_settle_calls_freezes_once_after_the_last() -> None:
    settler = HeapSettler(delay=0.6)
    try:
        for _ in range(5):
            settler.settle_soon()
            await asyncio.sleep(0.2)  # 1 s in all: each call comes before the delay ran out
        assert settler.freezes == 0
        await asyncio.sleep(1.5)
        assert settler.freezes == 1
        assert gc.get_freeze_count() > 0
    finally:
        settler.cancel()
        gc.unfreeze()


async def test_cancel_leaves_the_heap_unfrozen() -> None:
    gc.unfreeze()
    settler = HeapSettler(delay=0.05)
    settler.settle_soon()
    settler.cancel()
    await asyncio.sleep(0.15)
    assert settler.freezes == 0
    assert gc.get_freeze_count() == 0
