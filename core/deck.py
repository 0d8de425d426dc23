"""The Deck: the one runtime object that owns the trading domain's running parts.

One Deck per process. Front ends (the local console, SSH sessions, headless
serve) attach to it; none of them owns it. ``start()`` brings everything up
in dependency order and ``stop()`` takes it down in reverse, draining the
store writer last so nothing acknowledged is lost.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import uuid
from collections.abc import Callable
from typing import Protocol

import numpy as np

from core.announce import announce_audit, announce_logs
from core.audit import append_entry, sign_checkpoint
from core.bus import Bus
from core.config import Settings
from core.health import HealthMonitor
from core.jobs import JOB_KINDS, BatchRequest, ExportRequest, JobManager, OptimizeRequest
from core.jobs.retention import remove_expired_exports
from core.logs import log_tail
from core.market import PriceSimulator
from core.research.runner import run_backtest
from core.research.strategies import get_strategy
from core.research.sweep import set_thread_budget
from core.sessions import SessionRegistry
from core.store import BatchWriter, Store
from core.tasks import cancel_and_wait
from core.trading.engine import LiveEngine
from core.trading.fill_model import FillModel
from core.trading.journal import Journal
from core.trading.paper_broker import OrderNotWorking
from core.wiring import live_specs, make_feed, risk_limits

log = logging.getLogger(__name__)
HOUSEKEEPING_INTERVAL = 3600.0  # seconds between export retention sweeps and audit checkpoints


class Service(Protocol):
    """Anything that starts and stops with the Deck (e.g. the readiness runner)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class Deck:
    def __init__(self, settings: Settings | None = None, bus: Bus | None = None) -> None:
        self.settings = settings or Settings()
        s = self.settings
        self.run_id = uuid.uuid4().hex[:12]
        self.bus = bus if bus is not None else Bus()
        self.store = Store(s.resolved_database_url)
        self.writer = BatchWriter(self.store)
        self.feed = make_feed(self.bus, s)
        self.engine = LiveEngine(
            self.bus,
            live_specs(s, self.feed.symbols),
            run_id=self.run_id,
            fill_model=FillModel(s.commission),
            writer=self.writer,
            journal=Journal(self.store, self.run_id),
            risk_limits=risk_limits(s),
        )
        self.jobs = JobManager(
            self.bus, self.writer, JOB_KINDS, store=self.store,
            concurrency=s.job_concurrency or None,
        )  # fmt: skip
        set_thread_budget(s.job_threads or max(1, (os.cpu_count() or 1) - 1))
        self.sessions = SessionRegistry(self.bus)
        self.health = HealthMonitor(self.bus, [self.feed], s.health_interval)
        self._services: list[Service] = []
        self._started_services: list[Service] = []
        self.started_at: float | None = None
        self._lifecycle = asyncio.Lock()
        self._housekeeping: asyncio.Task[None] | None = None
        self.running = False
        self.logs = log_tail()  # the process's newest log records, for the console
        announce_audit(self.store, self.bus)
        self._stop_log_news: Callable[[], None] | None = None

    def add_service(self, service: Service) -> None:
        self._services.append(service)

    async def start(self) -> None:
        async with self._lifecycle:
            if self.running:
                return
            self.bus.attach(asyncio.get_running_loop())
            if self._stop_log_news is None:
                loop = asyncio.get_running_loop()
                self._stop_log_news = announce_logs(self.logs, self.bus, loop)
            await asyncio.to_thread(self.store.create_schema)
            self.writer.start()
            await self.jobs.start()
            self._housekeeping = asyncio.create_task(self._keep_house(), name="housekeeping")
            self.health.start()
            await asyncio.to_thread(_warm_up_kernels)
            self.engine.start()
            self.feed.start()
            for service in self._services:
                await service.start()
                self._started_services.append(service)
            self.running = True
            self.started_at = time.time()
            log.info("deck started", extra={"run_id": self.run_id, "database": self.store.url})
            if self.settings.demo_job:
                await self.submit_demo_optimization()

    async def stop(self) -> None:
        async with self._lifecycle:
            for service in reversed(self._started_services):
                try:
                    await service.stop()
                except Exception:
                    log.exception("service %r failed to stop", service)
            self._started_services.clear()
            await cancel_and_wait(self._housekeeping)
            self._housekeeping = None
            await self.jobs.stop()
            await self.feed.stop()
            await self.engine.stop()
            await self.health.stop()
            await self.writer.stop()
            if self.running:
                await asyncio.to_thread(self._sign_audit)
            self.store.dispose()
            if self.running:
                log.info("deck stopped", extra={"run_id": self.run_id})
            self.running = False
            if self._stop_log_news is not None:
                self._stop_log_news()
                self._stop_log_news = None

    async def kill(self, who: str, why: str) -> None:
        """The kill switch: halt trading, cancel every order, flatten every position."""
        await self.engine.kill(who, why)
        await asyncio.to_thread(append_entry, self.store, who, "risk.kill", self.run_id,
                                {"why": why})  # fmt: skip

    async def reset_risk(self, who: str, why: str) -> None:
        """An operator's word that trading may resume (from REDUCING or HALTED)."""
        await self.engine.reset_risk(who, why)
        await asyncio.to_thread(append_entry, self.store, who, "risk.reset", self.run_id,
                                {"why": why})  # fmt: skip

    async def stop_strategy(self, who: str, why: str, strategy: str) -> bool:
        """Stop a live strategy placing orders (its working orders are cancelled, its
        positions stay). False if it was stopped already."""
        changed = await self.engine.stop_strategy(who, why, strategy)
        if changed:
            await asyncio.to_thread(append_entry, self.store, who, "strategy.stop", strategy,
                                    {"why": why, "run_id": self.run_id})  # fmt: skip
        return changed

    async def start_strategy(self, who: str, why: str, strategy: str) -> bool:
        """Let a stopped strategy trade again. False if it was running."""
        changed = await self.engine.start_strategy(who, why, strategy)
        if changed:
            await asyncio.to_thread(append_entry, self.store, who, "strategy.start", strategy,
                                    {"why": why, "run_id": self.run_id})  # fmt: skip
        return changed

    async def cancel_order(self, who: str, why: str, order_id: int) -> bool:
        """Cancel one working order. False if it had already filled or gone."""
        try:
            order = await self.engine.cancel_order(who, why, order_id)
        except OrderNotWorking:
            return False
        detail = {"why": why, "run_id": self.run_id, "strategy": order.request.strategy,
                  "symbol": order.symbol}  # fmt: skip
        await asyncio.to_thread(append_entry, self.store, who, "order.cancel",
                                f"order {order_id}", detail)  # fmt: skip
        return True

    async def submit_demo_optimization(self) -> int:
        """Sweep the SMA crossover over 20,000 simulated hourly bars of the first symbol."""
        s = self.settings
        request = OptimizeRequest(
            strategy="sma_cross",
            dataset=f"sim:{s.sim_symbols[0]}",
            seed=s.sim_seed,
            bars=20_000,
            grid={"fast": (5, 50, 1), "slow": (10, 200, 1)},
            commission=s.commission,
        )
        return await self.jobs.submit("optimize", request.as_params())

    async def submit_export(
        self,
        strategy: str,
        dataset: str,
        params: dict[str, float] | None = None,
        *,
        format: str = "report",
        bars: int = 5_000,
        seed: int = 0,
    ) -> int:
        """Queue a PDF report (``format="report"``) of ``strategy`` on ``dataset``, or its
        Pine Script (``"pine"``), into the exports folder."""
        s = self.settings
        request = ExportRequest(
            strategy, dataset, str(s.exports_dir), format=format, params=params or {},
            commission=s.commission, seed=seed, bars=bars,
        )  # fmt: skip
        return await self.jobs.submit("export", request.as_params())

    async def _keep_house(self) -> None:
        """Now and then hourly: remove expired export files and sign an audit checkpoint."""
        s = self.settings
        while True:
            try:
                await asyncio.to_thread(remove_expired_exports, self.store, s.exports_dir,
                                        s.export_retention_hours * 3600)  # fmt: skip
                await asyncio.to_thread(self._sign_audit)
            except Exception:
                log.exception("housekeeping failed; retrying in an hour")
            await asyncio.sleep(HOUSEKEEPING_INTERVAL)

    def _sign_audit(self) -> None:
        try:
            sign_checkpoint(self.store, self.settings.audit_key_file)
        except (OSError, ValueError) as exc:
            log.error("audit checkpoint not signed: %s", exc)

    async def submit_batch(self, request: BatchRequest) -> int:
        """Queue a strategies x datasets batch; returns its job id."""
        return await self.jobs.submit("batch", request.as_params())


def _warm_up_kernels() -> None:
    """Compile (or load from numba's cache) the kernels the feed and engine call on the
    event loop, here in a worker thread, so a first-ever compile cannot freeze the UI."""
    PriceSimulator("WARM-UP", 0, 1.0).next_block(4)
    bars = {c: np.linspace(100.0, 110.0, 64) for c in ("open", "high", "low", "close", "volume")}
    bars["ts"] = np.arange(64) * 3600.0
    run_backtest(get_strategy("sma_cross"), bars, {"fast": 2, "slow": 5})
