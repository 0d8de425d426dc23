"""Alert rules: watch the bus and raise ``AlertRaised`` when something needs a person.

Rules (thresholds from the settings, ``QD_ALERT_*``):

- ``feed_stale``: a feed has had no tick for ``feed_stale_seconds``;
- ``risk_limit``: the daily loss or the drawdown is within
  ``drawdown_within_percent`` of its limit;
- ``risk_state``: the risk state changed (halted, reducing, reset), once per change;
- ``strategy_fault``: the engine stopped a live strategy whose code raised or returned a
  wrong output (its file, line and error), once per stop;
- ``job_failures``: more than ``job_failures_per_hour`` jobs failed in the last hour;
- ``error_rate``: more than ``errors_per_minute`` ERROR records were logged in a minute;
- ``memory``: the machine's memory is over ``memory_percent`` in use;
- ``strategy_load``: a user strategy file (or package) did not load, one alert per
  place (file and line); cleared once a load no longer fails there.

A condition is raised when it begins, raised again every ``repeat_seconds``
while it lasts, and cleared (``active=False``) when it ends. Each alert goes on
the bus (the console shows it) and to every sink (the webhook).
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from core.bus import Bus
from core.events import (
    ENGINE,
    AlertRaised,
    HealthSnapshot,
    JobState,
    JobUpdate,
    RiskSnapshot,
    Severity,
    StrategiesLoaded,
    StrategyChanged,
)
from core.trading.risk import RiskEvent

log = logging.getLogger(__name__)

AlertSink = Callable[[AlertRaised], None]
HOUR, MINUTE = 3600.0, 60.0
#: The risk limits the ``risk_limit`` rule watches (names as the risk governor gives them).
WATCHED_LIMITS = ("daily loss", "drawdown")


@dataclass(frozen=True, slots=True)
class AlertRules:
    feed_stale_seconds: float = 10.0
    drawdown_within_percent: float = 20.0
    job_failures_per_hour: int = 2
    errors_per_minute: int = 10
    memory_percent: float = 80.0
    repeat_seconds: float = 900.0
    loop_lag_ms: float = 250.0


class ErrorCounter(logging.Handler):
    """Counts ERROR (and worse) records, by time, for the ``error_rate`` rule."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        super().__init__(level=logging.ERROR)
        self._clock = clock
        self._times: collections.deque[float] = collections.deque(maxlen=10_000)

    def emit(self, record: logging.LogRecord) -> None:
        self._times.append(self._clock())

    def in_last(self, seconds: float) -> int:
        since = self._clock() - seconds
        return sum(1 for t in self._times if t >= since)


class AlertEvaluator:
    """Runs on the Deck's loop; ``risk`` reads the engine's risk figures (a call, not
    an event, since the engine does not publish them)."""

    def __init__(
        self,
        bus: Bus,
        rules: AlertRules,
        *,
        risk: Callable[[], RiskSnapshot] | None = None,
        errors: ErrorCounter | None = None,
        sinks: Sequence[AlertSink] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._bus = bus
        self.rules = rules
        self._risk = risk
        self._errors = errors
        self._sinks = list(sinks)
        self._clock = clock
        self._events = bus.subscribe(HealthSnapshot, RiskEvent, JobUpdate, StrategyChanged,
                                     StrategiesLoaded, maxsize=1_000)  # fmt: skip
        self._active: dict[tuple[str, str], float] = {}  # (rule, subject) -> last raised at
        self._failed_jobs: dict[int, float] = {}  # job id -> when it failed
        self._task: asyncio.Task[None] | None = None
        self.raised: collections.Counter[str] = collections.Counter()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="alert-rules")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self._events.close()

    @property
    def active(self) -> list[tuple[str, str]]:
        """The conditions raised and not yet cleared, as (rule, subject)."""
        return sorted(self._active)

    async def _run(self) -> None:
        async for event in self._events:
            try:
                self.observe(event)
            except Exception:
                log.exception("alert rules failed on %s", type(event).__name__)

    def observe(self, event: object) -> None:
        if isinstance(event, HealthSnapshot):
            self._on_health(event)
        elif isinstance(event, RiskEvent):
            self._on_risk_event(event)
        elif isinstance(event, JobUpdate) and event.state is JobState.FAILED:
            self._failed_jobs.setdefault(event.job_id, self._clock())
        elif isinstance(event, StrategyChanged) and not event.running and event.who == ENGINE:
            self._emit(AlertRaised("strategy_fault", Severity.CRITICAL, event.strategy,
                                   f"strategy {event.strategy} stopped by the engine, its "
                                   f"positions kept: {event.why}", self._clock()))  # fmt: skip
        elif isinstance(event, StrategiesLoaded):
            self._on_strategies_loaded(event)

    def _on_strategies_loaded(self, loaded: StrategiesLoaded) -> None:
        failing = {e.source if e.line is None else f"{e.source}:{e.line}": e
                   for e in loaded.errors}  # fmt: skip
        for place, error in failing.items():
            self._condition("strategy_load", place, True, Severity.WARNING,
                            f"strategy code did not load: {error}")  # fmt: skip
        for rule, place in self.active:
            if rule == "strategy_load" and place not in failing:
                self._condition(rule, place, False, Severity.INFO, "")

    def _on_health(self, health: HealthSnapshot) -> None:
        rules = self.rules
        for feed in health.feeds:
            age = feed.last_tick_age
            stale = age is not None and age > rules.feed_stale_seconds
            self._condition("feed_stale", feed.name, stale, Severity.CRITICAL,
                            f"feed {feed.name} has had no tick for {age or 0:.0f} s")  # fmt: skip
        self._condition("memory", "", health.host_memory_percent > rules.memory_percent,
                        Severity.WARNING, f"memory {health.host_memory_percent:.0f}% in use "
                        f"(alert above {rules.memory_percent:g}%)")  # fmt: skip
        lag = health.loop_lag_max_ms
        self._condition("loop_lag", "", lag > rules.loop_lag_ms, Severity.CRITICAL,
                        f"the event loop stalled for {lag:,.0f} ms (alert above "
                        f"{rules.loop_lag_ms:g} ms): the engine, the feeds and every console "
                        "waited")  # fmt: skip
        if self._risk is not None:
            self._check_limits(self._risk())
        now = self._clock()
        self._failed_jobs = {i: t for i, t in self._failed_jobs.items() if now - t <= HOUR}
        failures = len(self._failed_jobs)
        self._condition("job_failures", "", failures > rules.job_failures_per_hour,
                        Severity.WARNING, f"{failures} jobs failed in the last hour")  # fmt: skip
        if self._errors is not None:
            errors = self._errors.in_last(MINUTE)
            self._condition("error_rate", "", errors > rules.errors_per_minute, Severity.WARNING,
                            f"{errors} errors logged in the last minute")  # fmt: skip

    def _check_limits(self, risk: RiskSnapshot) -> None:
        near = 1.0 - self.rules.drawdown_within_percent / 100.0
        for usage in risk.limits:
            if usage.name in WATCHED_LIMITS:
                self._condition(
                    "risk_limit", usage.name, usage.fraction >= near, Severity.CRITICAL,
                    f"{usage.name} at {usage.fraction:.0%} of its limit ({usage.used:,.4g} "
                    f"of {usage.limit:,.4g})",
                )  # fmt: skip

    def _on_risk_event(self, event: RiskEvent) -> None:
        if event.kind == "breach" or event.previous is event.state:
            return
        severity = {"halted": Severity.CRITICAL, "reducing": Severity.WARNING}.get(
            event.state.value, Severity.INFO
        )
        self._emit(AlertRaised("risk_state", severity, "", f"risk state {event.previous.value} "
                               f"-> {event.state.value} by {event.who}: {event.why}",
                               self._clock()))  # fmt: skip

    def _condition(self, rule: str, subject: str, holds: bool, severity: Severity,
                   message: str) -> None:  # fmt: skip
        key, now = (rule, subject), self._clock()
        if holds:
            last = self._active.get(key)
            if last is None or now - last >= self.rules.repeat_seconds:
                self._active[key] = now
                self._emit(AlertRaised(rule, severity, subject, message, now))
        elif key in self._active:
            del self._active[key]
            cleared = f"cleared: {rule.replace('_', ' ')}" + (f" {subject}" if subject else "")
            self._emit(AlertRaised(rule, Severity.INFO, subject, cleared, now, active=False))

    def _emit(self, alert: AlertRaised) -> None:
        if alert.active:
            self.raised[alert.rule] += 1
        log.warning("alert %s: %s", alert.rule, alert.message,
                    extra={"alert_rule": alert.rule, "alert_active": alert.active})  # fmt: skip
        self._bus.publish(alert)
        for sink in self._sinks:
            try:
                sink(alert)
            except Exception:
                log.exception("an alert sink failed")
