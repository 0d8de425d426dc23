"""Latency tracking: percentiles over a window, and an alarm that rises and clears once."""

from __future__ import annotations

import pytest

from core.market.feeds import LatencyMonitor


def test_latency_alarm_rises_once_per_crossing_and_clears_on_recovery() -> None:
    monitor = LatencyMonitor(threshold=1.5)
    changes = [monitor.observe(x) for x in (0.2, 1.6, 2.0, 1.4, 1.2, 0.3, 0.2, 1.7)]
    # 1.4 is below the threshold but above the clear level (1.125): no flapping.
    assert changes == [None, True, None, None, None, False, None, True]


def test_latency_percentiles_cover_the_last_window_only() -> None:
    monitor = LatencyMonitor(window=100)
    assert monitor.p50 is None and monitor.last is None
    for x in [10.0] * 50 + [i / 100 for i in range(1, 101)]:
        monitor.observe(x)
    assert monitor.last == 1.0
    assert monitor.p50 == pytest.approx(0.505)
    assert monitor.p99 == pytest.approx(0.9901)
