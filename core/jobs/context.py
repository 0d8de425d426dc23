"""What a running job sees: progress, cancellation, pausing, checkpoints and its files.

A job runs in a worker thread and calls ``should_stop()`` between units of work
(a chunk of a sweep, a walk-forward window). That one call is where the job
is paused (it blocks until resumed) and where it learns it was cancelled, so
a job that checks at least every second honours both within a second.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from core.jobs.datasets import dataset_bars
from core.market.catalog import Catalog
from core.market.history import Bars
from core.research.executors import LOCAL, SweepExecutor
from core.research.sweep import Cancelled


class JobContext:
    """``progress`` may be called from any thread and as often as the job likes;
    updates reach the bus at most ``max_updates_per_second`` times a second (and
    always at 0% and 100%), so a fast sweep cannot flood the views.

    ``resume`` holds the payloads an earlier run of this job saved with
    ``checkpoint``, oldest first (empty for a fresh job); ``checkpoint`` saves
    one more, durably, through ``save``. ``on_park`` and ``on_unpark`` tell the
    manager when the job's thread actually blocks for a pause and wakes again.
    """

    def __init__(
        self,
        report: Callable[[int, int], None],
        *,
        resume: Sequence[Any] = (),
        save: Callable[[Any], None] | None = None,
        on_park: Callable[[], None] | None = None,
        executor: SweepExecutor = LOCAL,
        catalog: Catalog | None = None,
        max_updates_per_second: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._report = report
        self.resume = list(resume)
        self._save = save
        self._on_park = on_park
        self.executor = executor  # where the job's sweeps run
        self.catalog = catalog  # where a ``catalog:ID`` dataset is read from
        self._cancel = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._min_gap = 1.0 / max_updates_per_second
        self._clock = clock
        self._last = -float("inf")
        self.files: list[Path] = []

    # --- called by the job ------------------------------------------------------------

    def progress(self, done: int, total: int) -> None:
        now = self._clock()
        if done in (0, total) or now - self._last >= self._min_gap:
            self._last = now
            self._report(done, total)

    def should_stop(self) -> bool:
        """True once cancelled; while paused, blocks here until resumed or cancelled."""
        if not self._running.is_set() and not self._cancel.is_set():
            if self._on_park is not None:
                self._on_park()
            while not self._running.wait(0.1):
                if self._cancel.is_set():
                    break
        return self._cancel.is_set()

    def check(self) -> None:
        """``should_stop`` for code that unwinds by exception: raises ``Cancelled``."""
        if self.should_stop():
            raise Cancelled

    def bars(self, spec: str, seed: int = 0, count: int = 5_000) -> Bars:
        """The bars of a dataset spec (``core.jobs.datasets``), reading ``catalog:ID``
        from this process's data catalog."""
        return dataset_bars(spec, seed, count, self.catalog)

    def checkpoint(self, payload: Any) -> None:
        """Save ``payload`` (JSON-able) so a restart can carry on from here."""
        if self._save is not None:
            self._save(payload)

    def add_file(self, path: str | Path) -> None:
        """Record a file the job produced (the history lists it; retention removes it)."""
        self.files.append(Path(path))

    # --- called by the manager --------------------------------------------------------

    def cancel(self) -> None:
        self._cancel.set()
        self._running.set()

    def pause(self) -> None:
        self._running.clear()

    def resume_running(self) -> None:
        self._running.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()
