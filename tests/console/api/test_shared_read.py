"""``SharedRead``: a crowd of callers costs one read at a time, reused while fresh."""

from __future__ import annotations

import asyncio
import threading

from console.api.shared_read import SharedRead


async def test_callers_share_one_read_and_reuse_it_while_it_is_fresh() -> None:
    now = [100.0]
    shared: SharedRead[int] = SharedRead(1.0, clock=lambda: now[0])
    reads, release = [], threading.Event()

    def read() -> int:
        release.wait(30)
        reads.append(len(reads) + 1)
        return len(reads)

    waiting = [asyncio.create_task(shared.get(read)) for _ in range(20)]
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*waiting) == [1] * 20
    now[0] += 0.9
    assert await shared.get(read) == 1  # fresh: no read
    now[0] += 0.2
    assert await shared.get(read) == 2  # stale: read again
    assert reads == [1, 2]
