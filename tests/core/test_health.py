"""The health monitor's snapshot: feed status and the newest feed alerts."""

from core.bus import Bus
from core.events import AlertKind, FeedAlert, FeedState, FeedStatus
from core.health import HealthMonitor


class StaticFeed:
    def status(self) -> FeedStatus:
        return FeedStatus("venue", FeedState.LIVE, 10, 5.0, 0.1, latency_p50=0.02, dropped=3)


async def test_a_snapshot_carries_feed_status_and_the_newest_alerts() -> None:
    bus = Bus()
    monitor = HealthMonitor(bus, [StaticFeed()])
    assert monitor.sample().alerts == ()
    alerts = [FeedAlert("venue", AlertKind.SPIKE, f"spike {i}", float(i)) for i in range(11)]
    for alert in alerts:
        bus.publish(alert)
    snapshot = monitor.sample()
    assert snapshot.alerts == tuple(alerts[-HealthMonitor.ALERTS_KEPT :])
    assert snapshot.feeds[0].dropped == 3 and snapshot.feeds[0].latency_p50 == 0.02
    bus.publish(late := FeedAlert("venue", AlertKind.STALE, "quiet", 20.0, "SPY"))
    assert monitor.sample().alerts[-1] == late  # older ones stay until pushed out
    assert len(monitor.sample().alerts) == HealthMonitor.ALERTS_KEPT
