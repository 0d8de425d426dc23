"""A fixed audit trail for the console's audit tests: known actors, actions and times."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.audit import append_entry, sign_checkpoint
from core.store import Store
from tests.console.frozen import FROZEN_TS

ENTRIES = (
    ("alice", "check.run", "deploy 1.4.0 prod", {"verdicts": {"pass": 41, "warn": 2}}),
    ("bob", "check.attest", "deploy 1.4.0 prod tls-expiry", {"note": "renewed on the 20th"}),
    ("carol", "check.waive", "deploy 1.4.0 prod pen-test", {"until": "2026-12-31"}),
    ("alice", "risk.kill", "frozen", {"why": "drill"}),
    ("alice", "risk.reset", "frozen", {"why": "drill over"}),
    ("retention", "export.deleted", "/data/exports/sma_cross.pdf", {}),
)


class SteppingClock:
    """``time()`` that starts at ``start`` and moves on ``step`` seconds each call."""

    def __init__(self, start: float, step: float) -> None:
        self._times: Iterator[float] = itertools.count(start, step)

    def time(self) -> float:
        return next(self._times)


def seed_trail(store: Store, key: Path | None = None, checkpoint_after: int = 4) -> None:
    """Append ``ENTRIES`` 90 seconds apart ending before ``FROZEN_TS``; with ``key``,
    sign a checkpoint after the first ``checkpoint_after`` of them."""
    clock = SteppingClock(FROZEN_TS - 3600.0, 90.0)
    store.create_schema()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("core.audit.trail.time", clock)
        patch.setattr("core.audit.checkpoint.time", clock)
        for n, (who, action, subject, detail) in enumerate(ENTRIES, start=1):
            append_entry(store, who, action, subject, detail)
            if key is not None and n == checkpoint_after:
                sign_checkpoint(store, key)
