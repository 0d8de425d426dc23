"""Alerts to a Slack-compatible incoming webhook: ``POST {"text": ...}`` as JSON.

Delivery never holds up the caller: ``notify`` puts the alert on a bounded
queue (when it is full the oldest waiting alert is dropped and counted) and
one task posts them in order. A post that fails for a reason worth retrying
(no connection, a timeout, a 5xx, a 429) is retried with exponential backoff
and full jitter, a 429's ``Retry-After`` taking precedence, up to
``attempts`` tries; then the alert is given up, counted and logged. A
circuit breaker around the webhook stops the retries hammering a dead
endpoint: while it is open, alerts are given up at once.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import random
import time
from collections.abc import Awaitable, Callable
from email.utils import parsedate_to_datetime

import httpx

from core.events import AlertRaised
from core.health.breaker import CircuitBreaker

log = logging.getLogger(__name__)

RETRIED_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class Refused(Exception):
    """The webhook turned the post down for good (a 4xx other than 408, 425, 429)."""


class DeliveryFailed(Exception):
    """One post did not land; ``retry_after`` is the server's wish, when it said one."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


def slack_text(alert: AlertRaised, environment: str) -> str:
    """One line a chat channel reads well: what, where, how bad, resolved or not."""
    mark = "RESOLVED" if not alert.active else alert.severity.upper()
    return f"[{mark}] Quarterdeck {environment}: {alert.message} ({alert.rule})"


class WebhookNotifier:
    def __init__(
        self,
        url: str,
        breaker: CircuitBreaker,
        *,
        environment: str = "paper",
        queue_size: int = 100,
        attempts: int = 5,
        base_delay: float = 0.5,
        max_delay: float = 30.0,
        timeout: float = 10.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.url = url
        self.breaker = breaker
        self.environment = environment
        self.attempts = attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._timeout = timeout
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._queue: collections.deque[AlertRaised] = collections.deque(maxlen=queue_size)
        self._waiting = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None
        self._posting = False
        self.delivered = self.failed = self.dropped = self.retries = 0

    def notify(self, alert: AlertRaised) -> None:
        """Queue ``alert`` for delivery; never waits."""
        if len(self._queue) == self._queue.maxlen:
            self.dropped += 1
        self._queue.append(alert)
        self._waiting.set()

    def start(self) -> None:
        if self._task is None:
            self._client = httpx.AsyncClient(timeout=self._timeout)
            self._task = asyncio.create_task(self._deliver_all(), name="alert-webhook")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def idle(self) -> None:
        """Return once everything queued has been delivered or given up (for tests)."""
        while self._queue or self._posting:
            await asyncio.sleep(0.01)

    async def _deliver_all(self) -> None:
        while True:
            await self._waiting.wait()
            while self._queue:
                alert = self._queue.popleft()
                self._posting = True
                try:
                    await self._deliver(alert)
                finally:
                    self._posting = False
            self._waiting.clear()

    async def _deliver(self, alert: AlertRaised) -> None:
        body = {"text": slack_text(alert, self.environment)}
        for attempt in range(1, self.attempts + 1):
            if not self.breaker.allow():
                self.failed += 1
                log.warning("alert webhook: circuit open, %r not sent", alert.message)
                return
            try:
                await self._post(body)
            except Refused as exc:
                self.breaker.succeeded()  # the endpoint is up; the alert is what it refused
                self.failed += 1
                log.error("alert webhook refused %r: %s", alert.message, exc)
                return
            except DeliveryFailed as exc:
                self.breaker.failed(str(exc))
                if attempt == self.attempts:
                    self.failed += 1
                    log.error("alert webhook: gave up on %r after %d attempts: %s",
                              alert.message, attempt, exc)  # fmt: skip
                    return
                self.retries += 1
                await self._sleep(self._delay(attempt, exc.retry_after))
            else:
                self.breaker.succeeded()
                self.delivered += 1
                return

    async def _post(self, body: dict[str, str]) -> None:
        assert self._client is not None
        try:
            response = await self._client.post(self.url, json=body)
        except httpx.TransportError as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from None
        if response.status_code in RETRIED_STATUSES:
            raise DeliveryFailed(f"HTTP {response.status_code}",
                                 _retry_after(response.headers.get("Retry-After")))  # fmt: skip
        if response.status_code >= 400:  # the request itself is wrong: retrying will not help
            raise Refused(f"HTTP {response.status_code}: {response.text[:200]}")

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        """Full jitter: uniform in [0, base * 2^(attempt-1)], capped; a server's
        Retry-After wins (capped too, so a hostile value cannot park the queue)."""
        if retry_after is not None:
            return min(retry_after, self.max_delay)
        return self._rng.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None if absent
    or unreadable."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
