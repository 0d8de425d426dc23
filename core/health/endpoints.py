"""The Deck's monitoring routes: ``/health``, ``/health/detailed`` and ``/metrics``.

``/health`` is liveness: it answers from memory (never the database), so a
busy store cannot make a live process look dead. ``/health/detailed`` reads
what the Deck already knows (the health monitor's latest snapshot, the
engine's risk state, the job manager's jobs, the SSH sessions) and asks the
store one ``SELECT 1`` in a worker thread, bounded by a short timeout. Its
status is 503 when a component is down, so a load balancer can act on it.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy import text

from core.events import BreakerState, FeedState, JobState, RiskState
from core.health.metrics import deck_registry
from core.health.sources import Sources
from core.store import Store

STORE_TIMEOUT = 2.0  # seconds the store has to answer SELECT 1
OK, DEGRADED, DOWN = "ok", "degraded", "down"
_RANK = {OK: 0, DEGRADED: 1, DOWN: 2}


class DeckEndpoints:
    def __init__(self, sources: Sources, *, store_timeout: float = STORE_TIMEOUT) -> None:
        self.sources = sources
        self.store_timeout = store_timeout
        self.registry = deck_registry(sources)

    def health(self) -> dict[str, Any]:
        """Liveness, from memory."""
        deck = self.sources.deck
        uptime = time.time() - deck.started_at if deck.started_at and deck.running else 0.0
        return {"status": "ok" if deck.running else "starting", "run_id": deck.run_id,
                "uptime_s": round(uptime, 3)}  # fmt: skip

    async def detailed(self) -> tuple[int, dict[str, Any]]:
        """The HTTP status (503 when a component is down) and the components' report."""
        components = {
            "store": await self._store(),
            "feeds": self._feeds(),
            "engine": self._engine(),
            "jobs": self._jobs(),
            "alerts": self._alerts(),
        }
        if self.sources.readiness is not None:
            counts = self.sources.verdict_counts() or {}
            components["probes"] = _component(OK, None, results={
                verdict.value: n for verdict, n in counts.items() if n})  # fmt: skip
        if self.sources.ssh is not None:
            ssh = self.sources.ssh
            components["ssh"] = _component(OK, None, sessions=len(ssh.sessions),
                                           failed_logins=ssh.failed_logins)  # fmt: skip
        deck = self.sources.deck
        worst = max((c["status"] for c in components.values()), key=_RANK.__getitem__)
        if not deck.running:
            worst = DOWN
        body = {"status": worst, "run_id": deck.run_id, "running": deck.running,
                "components": components}  # fmt: skip
        return 503 if worst == DOWN else 200, body

    async def _store(self) -> dict[str, Any]:
        store = self.sources.deck.store
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.store_timeout):
                await asyncio.to_thread(_ping, store)
        except TimeoutError:
            return _component(DOWN, f"no answer to SELECT 1 within {self.store_timeout:g} s")
        except Exception as exc:
            return _component(DOWN, f"{type(exc).__name__}: {exc}")
        return _component(OK, None, latency_ms=round((time.perf_counter() - started) * 1000, 2))

    def _feeds(self) -> dict[str, Any]:
        latest = self.sources.deck.health.latest
        feeds = {}
        for status, reconnects in self.sources.feeds():
            alerts = [a for a in (latest.alerts if latest else ())
                      if a.feed == status.name and a.active]  # fmt: skip
            last_error = f"{alerts[-1].kind.value}: {alerts[-1].message}" if alerts else None
            level = {FeedState.LIVE: OK, FeedState.STOPPED: DOWN}.get(status.state, DEGRADED)
            feeds[status.name] = _component(
                level, last_error, state=status.state.value, last_tick_age_s=status.last_tick_age,
                ticks=status.ticks, dropped=status.dropped, reconnects=reconnects,
            )  # fmt: skip
        worst = max((f["status"] for f in feeds.values()), key=_RANK.__getitem__, default=DOWN)
        return {"status": worst, "feeds": feeds}

    def _engine(self) -> dict[str, Any]:
        engine = self.sources.deck.engine
        state = engine.execution.state
        # A halt is the governor doing its job: trading stops, the process is healthy.
        level = OK if state is RiskState.ACTIVE else DEGRADED
        return _component(level, None, risk_state=state.value, orders=engine.orders,
                          fills=engine.portfolio.fills, rejects=engine.rejects)  # fmt: skip

    def _jobs(self) -> dict[str, Any]:
        counts = self.sources.job_counts()
        failed = [u for u in self.sources.deck.jobs.jobs.values() if u.state is JobState.FAILED]
        last_error = f"job {failed[-1].job_id}: {failed[-1].summary}" if failed else None
        return _component(OK, last_error, **{s.value: n for s, n in counts.items()})

    def _alerts(self) -> dict[str, Any]:
        """Alerts raised and not cleared (they do not make the Deck unhealthy: they are
        about the world), and the outbound breakers (an open one degrades it: a
        dependency is down)."""
        deck = self.sources.deck
        breakers = {b.name: {"state": b.state.value, "failures": b.failures,
                             "rejected": b.rejected, "last_error": b.last_error or None}
                    for b in deck.breakers.statuses()}  # fmt: skip
        open_ = [name for name, b in breakers.items() if b["state"] == BreakerState.OPEN]
        return _component(DEGRADED if open_ else OK,
                          f"circuit open: {', '.join(open_)}" if open_ else None,
                          active=[f"{rule} {subject}".strip()
                                  for rule, subject in deck.alerting.rules.active],
                          breakers=breakers)  # fmt: skip


def _component(status: str, last_error: str | None, **detail: Any) -> dict[str, Any]:
    return {"status": status, "last_error": last_error, **detail}


def _ping(store: Store) -> None:
    with store.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
