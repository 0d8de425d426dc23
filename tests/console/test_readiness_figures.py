"""The readiness and runbook screens' figures: ledger times in UTC, the RTO stopwatch."""

from __future__ import annotations

import pytest

from console.formatting import stopwatch, utc_stamp
from tests.console.frozen import FROZEN_TS


def test_utc_stamp_is_the_same_in_every_timezone(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        assert utc_stamp(FROZEN_TS) == "2026-11-23 12:00Z"
        assert utc_stamp(FROZEN_TS + 59.9) == "2026-11-23 12:00Z"  # minutes, truncated
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0, "00:00"),
        (59.9, "00:59"),
        (83, "01:23"),
        (300, "05:00"),
        (3723, "1:02:03"),
        (-4, "00:00"),
    ],
)
def test_stopwatch_counts_whole_seconds(seconds: float, shown: str) -> None:
    assert stopwatch(seconds) == shown
