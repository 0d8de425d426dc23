"""The Deck's Prometheus metrics, read from its running parts at scrape time.

One ``CollectorRegistry`` per Deck (never the process-global one, so two Decks
in one process, as in tests, do not mix), holding one collector that asks the
engine, feed, job manager, readiness and SSH services for their current
figures. Nothing is counted twice: the parts keep their counts, this reads them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Protocol

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from core.events import BreakerState, JobState, RiskState
from core.health.sources import Sources

P = "quarterdeck_"
BREAKER_LEVEL = {BreakerState.CLOSED: 0, BreakerState.HALF_OPEN: 1, BreakerState.OPEN: 2}


class DeckCollector(Collector):
    def __init__(self, sources: Sources) -> None:
        self.sources = sources

    def collect(self) -> Iterator[Metric]:
        deck = self.sources.deck
        up = time.time() - deck.started_at if deck.started_at and deck.running else 0.0
        yield _gauge("uptime_seconds", "Seconds since the Deck started (0 when not running).", up)
        yield from self._loop()
        yield from self._feeds()
        yield from self._trading()
        yield from self._jobs()
        yield from self._probes()
        yield from self._sessions()
        yield from self._system()
        yield from self._alerts()

    def _loop(self) -> Iterator[Metric]:
        health = self.sources.deck.health
        yield _gauge("event_loop_lag_seconds", "How late the event loop last woke a sleeper.",
                     health.lag.last_ms / 1000)  # fmt: skip
        latest = health.latest
        worst = latest.loop_lag_max_ms / 1000 if latest is not None else 0.0
        yield _gauge("event_loop_lag_max_seconds",
                     "Worst event-loop lag over the last health interval.", worst)  # fmt: skip

    def _feeds(self) -> Iterator[Metric]:
        age = GaugeMetricFamily(P + "feed_last_tick_age_seconds",
                                "Seconds since the feed's last tick (absent before the first).",
                                labels=["feed"])  # fmt: skip
        state = GaugeMetricFamily(P + "feed_state", "1 for the feed's current state.",
                                  labels=["feed", "state"])  # fmt: skip
        ticks = CounterMetricFamily(P + "feed_ticks", "Ticks received.", labels=["feed"])
        dropped = CounterMetricFamily(P + "feed_dropped",
                                      "Messages dropped by the quality filter, all reasons.",
                                      labels=["feed"])  # fmt: skip
        reconnects = CounterMetricFamily(
            P + "feed_reconnects", "Reconnections (live feeds only).", labels=["feed"]
        )
        for status, reconnect_count in self.sources.feeds():
            if status.last_tick_age is not None:
                age.add_metric([status.name], status.last_tick_age)
            for value in type(status.state):
                state.add_metric([status.name, value.value], float(status.state is value))
            ticks.add_metric([status.name], status.ticks)
            dropped.add_metric([status.name], status.dropped)
            if reconnect_count is not None:
                reconnects.add_metric([status.name], reconnect_count)
        yield from (age, state, ticks, dropped, reconnects)

    def _trading(self) -> Iterator[Metric]:
        engine = self.sources.deck.engine
        yield _counter("orders", "Orders admitted or rejected by the execution path.",
                       engine.orders)  # fmt: skip
        yield _counter("order_rejects", "Orders rejected (validation or risk).", engine.rejects)
        account = engine.portfolio
        yield _counter("fills", "Fills applied to the account.", account.fills)
        snapshot = engine.snapshot()
        yield _gauge("equity", "Account equity.", snapshot.equity)
        yield _gauge("realized_pnl", "Realized profit and loss.", snapshot.realized_pnl)
        yield _gauge("unrealized_pnl", "Unrealized profit and loss.", snapshot.unrealized_pnl)
        if snapshot.day_pnl is not None:
            yield _gauge("day_pnl", "Profit and loss since the risk day started.",
                         snapshot.day_pnl)  # fmt: skip
        latency = engine.tick_to_order
        quantiles = GaugeMetricFamily(
            P + "tick_to_order_seconds",
            "Tick-to-order latency over the newest orders (from the tick's due time to the "
            "order handed to execution), by quantile.", labels=["quantile"])  # fmt: skip
        for q in ("0.5", "0.99"):
            value = latency.quantile(float(q))
            if value is not None:
                quantiles.add_metric([q], value)
        yield quantiles
        yield _counter("tick_to_order_samples", "Orders whose tick-to-order latency was "
                       "recorded.", latency.count)  # fmt: skip
        risk = GaugeMetricFamily(P + "risk_state", "1 for the risk governor's current state.",
                                 labels=["state"])  # fmt: skip
        current = engine.execution.state
        for value in RiskState:
            risk.add_metric([value.value], float(current is value))
        yield risk

    def _jobs(self) -> Iterator[Metric]:
        jobs = GaugeMetricFamily(P + "jobs", "Unfinished jobs in this process, by state.",
                                 labels=["state"])  # fmt: skip
        counts = self.sources.job_counts()
        for state in (JobState.QUEUED, JobState.RUNNING, JobState.PAUSED):
            jobs.add_metric([state.value], counts[state])
        yield jobs

    def _probes(self) -> Iterator[Metric]:
        counts = self.sources.verdict_counts()
        if counts is None:
            return
        probes = GaugeMetricFamily(P + "probe_results",
                                   "Readiness probe items by their latest verdict.",
                                   labels=["verdict"])  # fmt: skip
        for verdict, count in counts.items():
            probes.add_metric([verdict.value], count)
        yield probes

    def _sessions(self) -> Iterator[Metric]:
        yield _gauge("console_sessions", "Console sessions attached to the Deck (local and SSH).",
                     len(self.sources.deck.sessions.sessions))  # fmt: skip
        ssh = self.sources.ssh
        if ssh is not None:
            yield _gauge("ssh_sessions", "SSH console sessions open.", len(ssh.sessions))
            yield _counter("ssh_failed_logins", "SSH logins refused (wrong key or unknown user).",
                           ssh.failed_logins)  # fmt: skip

    def _system(self) -> Iterator[Metric]:
        latest = self.sources.deck.health.latest
        if latest is None:
            return
        yield _gauge("process_cpu_percent", "This process's CPU use, percent of one core.",
                     latest.cpu_percent)  # fmt: skip
        yield _gauge("process_resident_bytes", "This process's resident memory.",
                     latest.memory_rss)  # fmt: skip
        yield _gauge("host_memory_used_percent", "The machine's memory in use, percent.",
                     latest.host_memory_percent)  # fmt: skip
        yield _gauge("disk_used_percent", "The data directory's disk, percent used.",
                     latest.disk_percent)  # fmt: skip
        yield _gauge("disk_free_bytes", "The data directory's disk, bytes free.", latest.disk_free)
        yield _gauge("open_files", "File descriptors this process holds.", latest.open_files)
        yield _gauge("open_files_limit", "This process's soft limit on file descriptors.",
                     latest.open_files_limit)  # fmt: skip

    def _alerts(self) -> Iterator[Metric]:
        alerting = self.sources.deck.alerting
        raised = CounterMetricFamily(P + "alerts_raised", "Alerts raised, by rule.",
                                     labels=["rule"])  # fmt: skip
        for rule, count in sorted(alerting.rules.raised.items()):
            raised.add_metric([rule], count)
        yield raised
        yield _gauge("alerts_active", "Alert conditions raised and not yet cleared.",
                     len(alerting.rules.active))  # fmt: skip
        if alerting.webhook is not None:
            hook = alerting.webhook
            deliveries = CounterMetricFamily(P + "alert_webhook_posts",
                                             "Alerts sent to the webhook, by outcome.",
                                             labels=["outcome"])  # fmt: skip
            outcomes = {"delivered": hook.delivered, "failed": hook.failed,
                        "dropped": hook.dropped, "retried": hook.retries}  # fmt: skip
            for outcome, count in outcomes.items():
                deliveries.add_metric([outcome], count)
            yield deliveries
        state = GaugeMetricFamily(P + "circuit_breaker_state",
                                  "0 closed, 1 half-open, 2 open.", labels=["name"])  # fmt: skip
        rejected = CounterMetricFamily(P + "circuit_breaker_rejected",
                                       "Calls refused while open.", labels=["name"])  # fmt: skip
        failures = CounterMetricFamily(P + "circuit_breaker_failures",
                                       "Calls that failed.", labels=["name"])  # fmt: skip
        for breaker in self.sources.deck.breakers.statuses():
            state.add_metric([breaker.name], BREAKER_LEVEL[breaker.state])
            rejected.add_metric([breaker.name], breaker.rejected)
            failures.add_metric([breaker.name], breaker.failures)
        yield from (state, rejected, failures)


class AnsweringServer(Protocol):
    """The HTTP server (in ``console.api``): its answers by route and status, its open
    connections."""

    @property
    def answers(self) -> Mapping[tuple[str, int], int]: ...

    @property
    def connections(self) -> int: ...


class HttpCollector(Collector):
    """The monitoring server's own answers, by route and status."""

    def __init__(self, server: AnsweringServer) -> None:
        self.server = server

    def collect(self) -> Iterator[Metric]:
        answers = CounterMetricFamily(P + "http_requests",
                                      "Requests answered on the monitoring port, by route "
                                      '(unknown paths as "other") and status code.',
                                      labels=["path", "code"])  # fmt: skip
        for (path, status), count in sorted(self.server.answers.items()):
            answers.add_metric([path, str(status)], count)
        yield answers
        yield _gauge("http_connections", "Connections open on the monitoring port.",
                     self.server.connections)  # fmt: skip


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(P + name, doc, value=value)


def _counter(name: str, doc: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(P + name, doc, value=value)


def deck_registry(sources: Sources) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DeckCollector(sources))
    return registry
