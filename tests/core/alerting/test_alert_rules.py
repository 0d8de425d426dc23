"""Each alert rule, driven by real events on a real bus: raised when its condition
begins, repeated while it lasts, cleared once when it ends."""

from __future__ import annotations

import logging
from dataclasses import replace

from core.bus import Bus
from core.events import (
    AlertRaised,
    FeedState,
    FeedStatus,
    HealthSnapshot,
    JobState,
    JobUpdate,
    LimitUsage,
    RiskSnapshot,
    RiskState,
    Severity,
)
from core.health.alerts import AlertEvaluator, AlertRules, ErrorCounter
from core.trading.risk import RiskEvent


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def health(*, memory: float = 40.0, tick_age: float | None = 0.1) -> HealthSnapshot:
    feed = FeedStatus("sim", FeedState.LIVE, 10, 100.0, tick_age)
    return HealthSnapshot(0.0, 5.0, 1, 1.0, 0.1, 0.2, feeds=(feed,), host_memory_percent=memory)


DEFAULTS = AlertRules()


def rig(rules: AlertRules = DEFAULTS, **options: object):  # type: ignore[no-untyped-def]
    bus, clock, sent = Bus(), Clock(), []
    evaluator = AlertEvaluator(bus, rules, clock=clock, sinks=[sent.append], **options)  # type: ignore[arg-type]
    seen = bus.subscribe(AlertRaised)
    return evaluator, clock, sent, seen


def test_a_condition_is_raised_repeated_and_cleared_once() -> None:
    evaluator, clock, sent, seen = rig(AlertRules(memory_percent=80, repeat_seconds=600))
    evaluator.observe(health(memory=91))
    clock.now += 60
    evaluator.observe(health(memory=92))  # still on: not repeated yet
    clock.now += 600
    evaluator.observe(health(memory=93))  # repeated after repeat_seconds
    evaluator.observe(health(memory=50))
    evaluator.observe(health(memory=50))  # cleared once
    assert [(a.rule, a.active, a.severity) for a in sent] == [
        ("memory", True, Severity.WARNING), ("memory", True, Severity.WARNING),
        ("memory", False, Severity.INFO),
    ]  # fmt: skip
    assert "93%" in sent[1].message and sent[2].message == "cleared: memory"
    assert seen.drain() == sent  # the console sees what the webhook gets
    assert evaluator.raised["memory"] == 2 and evaluator.active == []


def test_a_stalled_event_loop_raises_a_critical_alert_then_clears() -> None:
    evaluator, _, sent, _ = rig(AlertRules(loop_lag_ms=250))
    calm = health()
    evaluator.observe(calm)  # 0.2 ms: fine
    evaluator.observe(replace(calm, loop_lag_max_ms=12_400.0))  # a chart froze the loop
    evaluator.observe(calm)
    assert [(a.rule, a.active, a.severity) for a in sent] == [
        ("loop_lag", True, Severity.CRITICAL), ("loop_lag", False, Severity.INFO),
    ]  # fmt: skip
    assert "stalled for 12,400 ms" in sent[0].message


def test_a_feed_with_no_tick_for_too_long_is_stale() -> None:
    evaluator, _, sent, _ = rig(AlertRules(feed_stale_seconds=10))
    evaluator.observe(health(tick_age=9.9))
    evaluator.observe(health(tick_age=12.0))
    assert [(a.rule, a.subject, a.severity) for a in sent] == [
        ("feed_stale", "sim", Severity.CRITICAL)
    ]
    assert sent[0].message == "feed sim has had no tick for 12 s"
    assert evaluator.active == [("feed_stale", "sim")]


def test_loss_and_drawdown_near_their_limits_alert() -> None:
    usage = {"daily loss": LimitUsage("daily loss", 700, 1_000),
             "drawdown": LimitUsage("drawdown", 0.081, 0.10)}  # fmt: skip
    risk = lambda: RiskSnapshot(0.0, RiskState.ACTIVE, tuple(usage.values()))  # noqa: E731
    evaluator, _, sent, _ = rig(AlertRules(drawdown_within_percent=20), risk=risk)
    evaluator.observe(health())
    assert [(a.rule, a.subject) for a in sent] == [("risk_limit", "drawdown")]  # 81% >= 80%
    assert sent[0].message.startswith("drawdown at 81% of its limit")
    usage["daily loss"] = LimitUsage("daily loss", 850, 1_000)
    usage["drawdown"] = LimitUsage("drawdown", 0.02, 0.10)
    evaluator.observe(health())
    assert [(a.subject, a.active) for a in sent[1:]] == [("daily loss", True),
                                                          ("drawdown", False)]  # fmt: skip


def test_each_risk_state_change_alerts_once_by_how_bad_it_is() -> None:
    evaluator, _, sent, _ = rig()
    evaluator.observe(RiskEvent(1.0, "breach", RiskState.ACTIVE, RiskState.ACTIVE, "gov", "x"))
    evaluator.observe(RiskEvent(2.0, "transition", RiskState.ACTIVE, RiskState.HALTED, "gov",
                                "daily loss limit"))  # fmt: skip
    evaluator.observe(RiskEvent(3.0, "reset", RiskState.HALTED, RiskState.ACTIVE, "olga",
                                "limits reviewed"))  # fmt: skip
    assert [(a.rule, a.severity) for a in sent] == [
        ("risk_state", Severity.CRITICAL), ("risk_state", Severity.INFO),
    ]  # fmt: skip
    assert sent[0].message == "risk state active -> halted by gov: daily loss limit"


def test_more_than_two_job_failures_in_an_hour() -> None:
    evaluator, clock, sent, _ = rig(AlertRules(job_failures_per_hour=2))

    def failed(job_id: int) -> JobUpdate:
        return JobUpdate(job_id, "optimize", "t", JobState.FAILED, 0, 1, 0.0, None)

    for job_id in (1, 2, 2):  # the same job's updates count once
        evaluator.observe(failed(job_id))
    evaluator.observe(health())
    assert sent == []
    evaluator.observe(failed(3))
    evaluator.observe(health())
    assert [a.message for a in sent] == ["3 jobs failed in the last hour"]
    clock.now += 3_601  # they age out
    evaluator.observe(health())
    assert [a.active for a in sent] == [True, False]


def test_error_records_per_minute_over_the_threshold() -> None:
    clock = Clock()
    errors = ErrorCounter(clock)
    logger = logging.getLogger("tests.alerts.errors")
    logger.addHandler(errors)
    try:
        evaluator, _, sent, _ = rig(AlertRules(errors_per_minute=3), errors=errors)
        for _ in range(3):
            logger.error("venue rejected the order")
        logger.warning("not counted")
        evaluator.observe(health())
        logger.error("one more")
        evaluator.observe(health())
    finally:
        logger.removeHandler(errors)
    assert [a.message for a in sent] == ["4 errors logged in the last minute"]
    assert errors.in_last(60) == 4


def test_a_failing_sink_does_not_stop_the_others() -> None:
    bus, got = Bus(), []

    def broken(_alert: AlertRaised) -> None:
        raise RuntimeError("sink down")

    evaluator = AlertEvaluator(bus, AlertRules(memory_percent=10), sinks=[broken, got.append])
    evaluator.observe(health(memory=50))
    assert [a.rule for a in got] == ["memory"]
