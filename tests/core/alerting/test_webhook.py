"""Alerts delivered to a real local webhook server: Slack's JSON, retries with backoff,
429 Retry-After, giving up, a bounded queue and a breaker around a dead endpoint."""

from __future__ import annotations

import random
import socket

from core.events import AlertRaised, Severity
from core.health.breaker import CircuitBreaker
from core.health.webhook import WebhookNotifier, slack_text
from tests.core.alerting.webhook_server import webhook_server

MEMORY = AlertRaised("memory", Severity.WARNING, "", "memory 91% in use", 1.0)


class Sleeps:
    """Records the delays asked for and does not wait them (the test stays fast)."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def notifier(url: str, sleeps: Sleeps, **options: object) -> WebhookNotifier:
    breaker = CircuitBreaker("alert webhook", failures_to_open=options.pop("opens_after", 50))  # type: ignore[arg-type]
    return WebhookNotifier(url, breaker, environment="prod", sleep=sleeps,
                           rng=random.Random(1), **options)  # type: ignore[arg-type]  # fmt: skip


def test_the_text_says_how_bad_where_and_what() -> None:
    assert slack_text(MEMORY, "prod") == "[WARNING] Quarterdeck prod: memory 91% in use (memory)"
    cleared = AlertRaised("memory", Severity.INFO, "", "cleared: memory", 2.0, active=False)
    assert slack_text(cleared, "prod").startswith("[RESOLVED] Quarterdeck prod: cleared")


async def test_an_alert_is_posted_as_slack_json() -> None:
    async with webhook_server() as hook:
        sender = notifier(hook.url, Sleeps())
        sender.start()
        sender.notify(MEMORY)
        await sender.idle()
        await sender.stop()
    assert hook.posts == [{"text": slack_text(MEMORY, "prod")}]
    assert (sender.delivered, sender.failed, sender.retries) == (1, 0, 0)


async def test_server_errors_are_retried_with_growing_jittered_delays() -> None:
    async with webhook_server((500, {}), (502, {}), (503, {})) as hook:
        sleeps = Sleeps()
        sender = notifier(hook.url, sleeps, base_delay=0.5, max_delay=30)
        sender.start()
        sender.notify(MEMORY)
        await sender.idle()
        await sender.stop()
    assert len(hook.posts) == 4 and sender.delivered == 1 and sender.retries == 3
    # full jitter: each delay within [0, 0.5 * 2^(n-1)]
    assert all(0 <= d <= 0.5 * 2**n for n, d in enumerate(sleeps.delays))
    assert len(sleeps.delays) == 3


async def test_429_waits_as_long_as_the_server_says_capped() -> None:
    async with webhook_server((429, {"Retry-After": "7"}),
                              (429, {"Retry-After": "3600"})) as hook:  # fmt: skip
        sleeps = Sleeps()
        sender = notifier(hook.url, sleeps, max_delay=30)
        sender.start()
        sender.notify(MEMORY)
        await sender.idle()
        await sender.stop()
    assert sleeps.delays == [7.0, 30.0] and sender.delivered == 1 and len(hook.posts) == 3


async def test_it_gives_up_after_its_attempts_and_goes_on_with_the_next() -> None:
    async with webhook_server(*[(503, {})] * 3) as hook:
        sender = notifier(hook.url, Sleeps(), attempts=3)
        sender.start()
        sender.notify(MEMORY)
        second = AlertRaised("error_rate", Severity.WARNING, "", "12 errors", 2.0)
        sender.notify(second)
        await sender.idle()
        await sender.stop()
    assert (sender.failed, sender.delivered) == (1, 1)
    assert hook.posts[-1] == {"text": slack_text(second, "prod")}


async def test_a_refusal_is_not_retried() -> None:
    async with webhook_server((404, {})) as hook:
        sender = notifier(hook.url, Sleeps())
        sender.start()
        sender.notify(MEMORY)
        await sender.idle()
        await sender.stop()
    assert (len(hook.posts), sender.failed, sender.retries) == (1, 1, 0)
    assert sender.breaker.state.value == "closed"  # the endpoint answered: it is up


async def test_a_dead_endpoint_opens_the_breaker_and_alerts_are_not_tried() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/hook"
    sleeps = Sleeps()
    sender = notifier(dead, sleeps, attempts=3, opens_after=3)
    sender.start()
    sender.notify(MEMORY)
    await sender.idle()
    tried = len(sleeps.delays)
    sender.notify(MEMORY)  # the breaker is open now: given up without a connection
    await sender.idle()
    await sender.stop()
    assert sender.breaker.state.value == "open" and sender.breaker.rejected == 1
    assert (sender.failed, tried, len(sleeps.delays)) == (2, 2, 2)
    assert "ConnectError" in sender.breaker.last_error


async def test_a_full_queue_drops_the_oldest_and_counts_it() -> None:
    async with webhook_server() as hook:
        sender = notifier(hook.url, Sleeps(), queue_size=2)
        for n in range(5):  # queued before the sender starts: nothing is sent yet
            sender.notify(AlertRaised("memory", Severity.WARNING, "", f"alert {n}", float(n)))
        sender.start()
        await sender.idle()
        await sender.stop()
    assert sender.dropped == 3
    assert [p["text"].split(": ")[1] for p in hook.posts] == [
        "alert 3 (memory)",
        "alert 4 (memory)",
    ]
