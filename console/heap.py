"""Keeping the collector's full passes short in the local console.

The console freezes the heap once the Deck has started (``gc.freeze``: what is
frozen is left out of collections). Every screen composed after that, and every
large result read for one (a heatmap's 79,401 evaluations), stayed in the heap
a full collection walks: on a console that had shown its screens, full passes
took 60-270 ms (bench/README.md, "Every screen, every size"), several a minute,
and each held the engine's loop for as long.

So a little after a screen is first shown, or a large result has been read,
the young garbage is collected (generations 0 and 1, which is quick) and the
heap frozen again; and, as for SSH sessions (``console.ssh.heap``), full passes
run after 100 middle-generation collections instead of 10. Frozen objects are
still freed when nothing refers to them; only garbage in reference cycles that
was already old when a freeze came stays, once per first showing of a screen.
"""

from __future__ import annotations

import asyncio
import gc

FREEZE_DELAY = 2.0  # seconds: a new screen has composed and drawn by then
#: Middle-generation collections between full ones (Python's default is 10).
FULL_PASS_AFTER = 100


class HeapSettler:
    """``settle_soon()`` freezes the heap ``delay`` seconds later (once for many calls)."""

    def __init__(self, delay: float = FREEZE_DELAY) -> None:
        self.delay = delay
        self.freezes = 0
        self._pending: asyncio.TimerHandle | None = None

    @staticmethod
    def install() -> None:
        young, middle, _ = gc.get_threshold()
        gc.set_threshold(young, middle, FULL_PASS_AFTER)

    def settle_soon(self) -> None:
        if self._pending is None:
            self._pending = asyncio.get_running_loop().call_later(self.delay, self.settle)

    def settle(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        gc.collect(1)
        gc.freeze()
        self.freezes += 1

    def cancel(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
