"""The Deck's alerting, assembled from the settings: the rules, the error counter
they read, and the webhook they send to (when one is configured)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from core.bus import Bus
from core.config import Settings
from core.events import RiskSnapshot
from core.health.alerts import AlertEvaluator, AlertRules, ErrorCounter
from core.health.breaker import BreakerRegistry
from core.health.webhook import WebhookNotifier

WEBHOOK_BREAKER = "alert webhook"


def alert_rules(s: Settings) -> AlertRules:
    return AlertRules(
        feed_stale_seconds=s.alert_feed_stale_seconds,
        drawdown_within_percent=s.alert_drawdown_within_percent,
        job_failures_per_hour=s.alert_job_failures_per_hour,
        errors_per_minute=s.alert_errors_per_minute,
        memory_percent=s.alert_memory_percent,
        repeat_seconds=s.alert_repeat_seconds,
        loop_lag_ms=s.alert_loop_lag_ms,
    )


class Alerting:
    """Started and stopped with the Deck; counts ERROR records only while running."""

    def __init__(self, bus: Bus, s: Settings, breakers: BreakerRegistry,
                 risk: Callable[[], RiskSnapshot]) -> None:  # fmt: skip
        self.errors = ErrorCounter()
        self.webhook: WebhookNotifier | None = None
        if s.alert_webhook_url:
            breaker = breakers.get(WEBHOOK_BREAKER)
            self.webhook = WebhookNotifier(s.alert_webhook_url, breaker, environment=s.environment)
        sinks = [self.webhook.notify] if self.webhook is not None else []
        self.rules = AlertEvaluator(bus, alert_rules(s), risk=risk, errors=self.errors,
                                    sinks=sinks)  # fmt: skip

    def start(self) -> None:
        logging.getLogger().addHandler(self.errors)
        self.rules.start()
        if self.webhook is not None:
            self.webhook.start()

    async def stop(self) -> None:
        await self.rules.stop()
        if self.webhook is not None:
            await self.webhook.stop()
        logging.getLogger().removeHandler(self.errors)
