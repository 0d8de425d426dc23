"""The Deck: the one runtime object that owns the trading domain's running parts.

One Deck per process. Front ends (the local console, SSH sessions, headless
serve) attach to it; none of them owns it. ``start()`` brings everything up
in dependency order and ``stop()`` takes it down in reverse, draining the
store writer last so nothing acknowledged is lost.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any, BinaryIO, Protocol

import numpy as np

from core.access import SYSTEM, Capability, Principal, Role
from core.announce import announce_audit, announce_logs
from core.audit import Tampered, sign_checkpoint
from core.bus import Bus
from core.config import Settings
from core.events import (
    ENGINE,
    EQUITY_POINTS,
    AlertRaised,
    Fill,
    HealthSnapshot,
    JobPriority,
    PortfolioSnapshot,
    RiskState,
    StrategiesLoaded,
    StrategyChanged,
    equity_bucket,
)
from core.guard import permit_async, record
from core.health import HealthMonitor
from core.health.alerting import Alerting
from core.health.breaker import BreakerRegistry
from core.jobs import JOB_KINDS, BatchRequest, ExportRequest, JobManager, OptimizeRequest, records
from core.jobs.optimize import best_of
from core.jobs.retention import remove_expired_exports
from core.logs import log_tail
from core.market import PriceSimulator, SimulatorFeed, catalog_commands
from core.market.catalog import Catalog, Dataset
from core.market.feeds import FileReplayFeed
from core.research import strategy_lookup
from core.research.executors import executor_for
from core.research.runner import run_backtest
from core.research.strategies import get_strategy
from core.research.sweep import set_thread_budget
from core.sessions import SessionRegistry
from core.store import BatchWriter, JobRow, Store, accounts
from core.strategy_library import StrategyLibrary
from core.tasks import cancel_and_wait
from core.trading.account import (
    LoadedAccount,
    StrategyFigures,
    account_fills,
    load_account,
    strategy_figures,
)
from core.trading.engine import LiveEngine, StrategyFault
from core.trading.fill_model import FillModel
from core.trading.journal import Journal, Recovered
from core.trading.orders import OrderEvent
from core.trading.paper_broker import OrderNotWorking
from core.trading.portfolio import Portfolio
from core.trading.risk import RiskEvent
from core.trading.strategy_report import StrategyReport
from core.wiring import instruments, live_specs, make_feed, risk_limits

log = logging.getLogger(__name__)
HOUSEKEEPING_INTERVAL = 3600.0  # seconds between export retention sweeps and audit checkpoints
HOLD_INTERVAL = 10.0  # seconds between "this process still trades the account" notes
#: The engine, in the audit trail, when it stops a strategy whose code failed.
ENGINE_ACTOR = Principal(ENGINE, Role.ADMIN, source="engine")


class Service(Protocol):
    """Anything that starts and stops with the Deck (e.g. the readiness runner)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def keep_history(bus: Bus) -> None:
    """What a console opened late (an SSH session) starts from: the recent orders, fills
    and alerts, the latest health, and the equity curve so far, as the local console
    saw them happen."""
    for topic in (Fill, OrderEvent):
        bus.keep(topic, 500)
    for topic in (RiskEvent, StrategyChanged, AlertRaised):
        bus.keep(topic, 100)
    bus.keep(HealthSnapshot, 1)
    bus.keep(StrategiesLoaded, 1)  # the newest load's errors, for a research screen
    bus.keep(PortfolioSnapshot, EQUITY_POINTS, per=equity_bucket)


class Deck:
    def __init__(self, settings: Settings | None = None, bus: Bus | None = None) -> None:
        self.settings = settings or Settings()
        s = self.settings
        self.run_id = uuid.uuid4().hex[:12]
        self.bus = bus if bus is not None else Bus()
        keep_history(self.bus)
        self.store = Store(s.resolved_database_url)
        self.writer = BatchWriter(self.store)
        self.breakers = BreakerRegistry(failures_to_open=s.breaker_failures,
                                        cooldown=s.breaker_cooldown)  # fmt: skip
        self.feed = make_feed(self.bus, s, self.breakers)
        self.journal = Journal(self.store, self.run_id)  # of the account opened at start
        self.instruments = instruments(s, self.feed.symbols)
        self.engine = LiveEngine(
            self.bus,
            live_specs(s, self.feed.symbols),
            run_id=self.run_id,
            fill_model=FillModel(s.commission),
            writer=self.writer,
            journal=self.journal,
            risk_limits=risk_limits(s),
            instruments=self.instruments,
            on_fault=self._audit_fault,
        )
        if isinstance(self.feed, SimulatorFeed):
            self.engine.tick_due = self.feed.due  # a stalled loop shows in the latency
        self.catalog = Catalog(s.catalog_dir)  # uploaded datasets, for jobs and the API
        self.jobs = JobManager(
            self.bus, self.writer, JOB_KINDS, store=self.store,
            concurrency=s.job_concurrency or None, executor=executor_for(s.executor),
            max_combos=s.sweep_max_combos, catalog=self.catalog,
        )  # fmt: skip
        set_thread_budget(s.job_threads or max(1, (os.cpu_count() or 1) - 1))
        self.sessions = SessionRegistry(self.bus)
        self.health = HealthMonitor(self.bus, [self.feed], s.health_interval, s.data_dir,
                                    self.breakers.statuses)  # fmt: skip
        self.alerting = Alerting(self.bus, s, self.breakers, self.engine.risk_snapshot)
        self.strategy_library = StrategyLibrary(self.bus, self.store)
        self._services: list[Service] = []
        self._started_services: list[Service] = []
        self.started_at: float | None = None
        self._lifecycle = asyncio.Lock()
        self._halt_held = asyncio.Lock()  # an account reset holds the halt until it is done
        self._housekeeping: asyncio.Task[None] | None = None
        self._holding: asyncio.Task[None] | None = None
        self.account: LoadedAccount | None = None  # the account, as rebuilt at start
        self.recovered_at: float | None = None  # when that rebuild found earlier runs
        self.running = False
        self.logs = log_tail()  # the process's newest log records, for the console
        announce_audit(self.store, self.bus)
        self._stop_log_news: Callable[[], None] | None = None

    def tick_size(self, symbol: str) -> float:
        """The price increment ``symbol`` trades in (0: not known): its prices are shown
        on it."""
        instrument = self.instruments.get(symbol)
        return instrument.tick_size if instrument is not None else 0.0

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
            await self._open_account()
            self.writer.start()
            await self.jobs.start()
            self._housekeeping = asyncio.create_task(self._keep_house(), name="housekeeping")
            self.health.start()
            self.alerting.start()
            await asyncio.to_thread(_warm_up_kernels)
            await self.strategy_library.start()  # audited: after the schema
            self.engine.start()
            self.feed.start()
            for service in self._services:
                await service.start()
                self._started_services.append(service)
            self.running = True
            self.started_at = time.time()
            log.info("deck started", extra={"run_id": self.run_id, "database": self.store.url})
            if self.settings.demo_job:
                await self.submit_demo_optimization(SYSTEM)

    async def stop(self) -> None:
        async with self._lifecycle:
            for service in reversed(self._started_services):
                try:
                    await service.stop()
                except Exception:
                    log.exception("service %r failed to stop", service)
            self._started_services.clear()
            await self.strategy_library.stop()
            await cancel_and_wait(self._housekeeping)
            self._housekeeping = None
            await self.jobs.stop()
            await asyncio.to_thread(self.jobs.executor.close)  # a cluster client, if any
            await self.feed.stop()
            await self.engine.stop()
            await self.alerting.stop()
            await self.health.stop()
            await self.writer.stop()
            await cancel_and_wait(self._holding)
            self._holding = None
            if self.account is not None:
                await asyncio.to_thread(accounts.hold, self.store, self.account.account.id, None)
            if self.running:
                await asyncio.to_thread(self._sign_audit)
            self.store.dispose()
            if self.running:
                log.info("deck stopped", extra={"run_id": self.run_id})
            self.running = False
            if self._stop_log_news is not None:
                self._stop_log_news()
                self._stop_log_news = None

    async def _open_account(self) -> None:
        """Take up the account where its journal left it (whatever ended the last run),
        and have the feed carry on from there: a replay after the last bar handled, the
        simulator from the last prices. A rebuild is audited and logged."""
        s = self.settings
        row = await asyncio.to_thread(accounts.take, self.store, s.account, s.starting_cash)
        loaded = await asyncio.to_thread(load_account, self.store, row)
        if row.starting_cash != s.starting_cash:
            log.warning("account %s was opened with %.2f of cash; QD_STARTING_CASH=%.2f "
                        "applies from its next reset", row.id, row.starting_cash,
                        s.starting_cash)  # fmt: skip
        self.engine.open_account(row.starting_cash)
        self.engine.restore(loaded.state)
        self.journal.account_id = row.id
        self._continue_feed(loaded)
        self.account = loaded
        self._holding = asyncio.create_task(self._hold_account(row.id), name="account-hold")
        if loaded.state.mark is None and not loaded.state.fills:
            log.info("account %s opened with %.2f", row.id, row.starting_cash)
            return
        self.recovered_at = time.time()
        summary = loaded.summary()
        log.warning("account %s recovered: %d fills and %d orders (%d working) in %.3f s, "
                    "risk %s", row.id, summary["fills"], summary["orders"],
                    summary["working_orders"], loaded.seconds, summary["risk_state"],
                    extra={"run_id": self.run_id})  # fmt: skip
        await self._audit(SYSTEM, "account.recovered", row.id, {**summary, "run_id": self.run_id})

    def _continue_feed(self, loaded: LoadedAccount) -> None:
        cursors = loaded.state.cursors
        feed = self.feed
        if isinstance(feed, FileReplayFeed):
            cursor = cursors.get(feed.symbol)
            if cursor is not None:
                feed.resume_after(cursor.ts, cursor.event, self.engine.warm)
        elif isinstance(feed, SimulatorFeed) and cursors:
            prices = {c.symbol: c.price for c in cursors.values() if c.price is not None}
            feed.continue_from(prices, max(c.ts for c in cursors.values()))

    async def _hold_account(self, account_id: str) -> None:
        """Keep saying that this process trades the account (a reset elsewhere waits)."""
        holder = accounts.this_process()
        while True:
            await asyncio.sleep(HOLD_INTERVAL)
            try:
                await asyncio.to_thread(accounts.hold, self.store, account_id, holder)
            except Exception:
                log.exception("could not renew the hold on account %s", account_id)

    # --- commands: each takes its actor, whose role must hold the command's capability
    # (``PermissionDenied``, audited, if not: whatever front end sent it), and audits it.

    async def _audit(
        self, actor: Principal, action: str, subject: str, detail: dict[str, Any]
    ) -> None:
        await asyncio.to_thread(record, self.store, actor, action, subject, detail)

    async def kill(self, actor: Principal, why: str) -> None:
        """The kill switch: halt trading, cancel every order, flatten every position."""
        await permit_async(self.store, actor, Capability.TRADE, "risk.kill", self.run_id)
        await self.engine.kill(actor.name, why)
        await self._audit(actor, "risk.kill", self.run_id, {"why": why})

    async def reset_risk(self, actor: Principal, why: str) -> None:
        """An operator's word that trading may resume (from REDUCING or HALTED)."""
        await permit_async(self.store, actor, Capability.RESET_RISK, "risk.reset", self.run_id)
        async with self._halt_held:
            await self.engine.reset_risk(actor.name, why)
        await self._audit(actor, "risk.reset", self.run_id, {"why": why})

    async def reset_account(self, actor: Principal, why: str) -> str:
        """Archive the account and trade a new one with the configured starting cash, on
        an admin's word; the trading must be halted and the account flat. Returns the
        new account's id. ``ValueError`` says what stands in the way."""
        await permit_async(self.store, actor, Capability.RESET_ACCOUNT, "account.reset",
                           self.settings.account)  # fmt: skip
        if self.account is None:
            raise ValueError("the engine has not opened its account yet")
        async with self._halt_held:  # no risk reset meanwhile: halted, the account stays flat
            if self.engine.execution.risk.state is not RiskState.HALTED:
                raise ValueError("halt trading first (kill switch): an account starts over flat")
            refusal = self.engine.start_over_refusal()
            if refusal is not None:
                raise ValueError(refusal)
            s = self.settings
            old, new = await asyncio.to_thread(accounts.reset_account, self.store, s.account,
                                               actor.name, why, s.starting_cash)  # fmt: skip
            self.engine.start_over(s.starting_cash)
        self.journal.account_id = new.id
        self.account = LoadedAccount(new, Recovered(Portfolio(new.starting_cash)), 0.0)
        self.recovered_at = None
        await cancel_and_wait(self._holding)
        await asyncio.to_thread(accounts.hold, self.store, new.id, accounts.this_process())
        self._holding = asyncio.create_task(self._hold_account(new.id), name="account-hold")
        self.engine.publish()
        log.warning("account %s archived by %s (%s); trading account %s",
                    old.id if old else "-", actor.name, why, new.id)  # fmt: skip
        await self._audit(actor, "account.reset", s.account,
                          {"why": why, "archived": old.id if old else None, "opened": new.id,
                           "starting_cash": new.starting_cash, "run_id": self.run_id})  # fmt: skip
        return new.id

    async def strategy_report(self, strategy: str, recent: int = 12) -> StrategyReport:
        """A live strategy's drill-down (its fills are read off the loop). ``ValueError``
        names an unknown strategy."""
        engine = self.engine
        code = engine.live_spec(strategy).strategy
        account_id = self.account.account.id if self.account is not None else ""
        fills = await asyncio.to_thread(account_fills, self.store, account_id, strategy)
        prices = {s: (p, engine.portfolio.ts) for s, p in engine.execution.last_prices.items()}
        figures = strategy_figures(fills, prices).get(strategy)
        return StrategyReport(
            strategy, strategy not in engine.stopped, engine.stopped_by.get(strategy),
            figures or StrategyFigures(Portfolio(0.0)), tuple(fills[-recent:]),
            tuple(engine.signals.get(strategy, ())), code.version, code.source,
        )  # fmt: skip

    async def stop_strategy(self, actor: Principal, why: str, strategy: str) -> bool:
        """Stop a live strategy placing orders (its working orders are cancelled, its
        positions stay). False if it was stopped already."""
        await permit_async(self.store, actor, Capability.TRADE, "strategy.stop", strategy)
        changed = await self.engine.stop_strategy(actor.name, why, strategy)
        if changed:
            await self._audit(actor, "strategy.stop", strategy,
                              {"why": why, "run_id": self.run_id})  # fmt: skip
        return changed

    async def start_strategy(self, actor: Principal, why: str, strategy: str) -> bool:
        """Let a stopped strategy trade again. False if it was running."""
        await permit_async(self.store, actor, Capability.TRADE, "strategy.start", strategy)
        changed = await self.engine.start_strategy(actor.name, why, strategy)
        if changed:
            await self._audit(actor, "strategy.start", strategy,
                              {"why": why, "run_id": self.run_id})  # fmt: skip
        return changed

    async def restart_strategy(self, actor: Principal, why: str, strategy: str) -> tuple[str, str]:
        """Run the newest loaded code of a live strategy from its next signal, keeping its
        positions and ledger (a stopped one runs again); returns the old and new versions.
        A ``ValueError`` says why not (its file does not load now, its parameters no
        longer fit, trading is halted...), and the code it ran stays."""
        await permit_async(self.store, actor, Capability.TRADE, "strategy.restart", strategy)
        self.engine.live_spec(strategy)  # an unknown one before any file is loaded
        if await asyncio.to_thread(strategy_lookup.stale, strategy):
            await self.strategy_library.reload()  # audited and announced, as a save is
        try:
            newest = await asyncio.to_thread(strategy_lookup.find, strategy)
        except ValueError as exc:
            raise ValueError(f"the new version does not load: {exc}") from None
        was = await self.engine.restart_strategy(actor.name, why, newest)
        await self._audit(actor, "strategy.restart", strategy,
                          {"why": why, "old_version": was.version, "new_version": newest.version,
                           "strategy_source": newest.source, "run_id": self.run_id})  # fmt: skip
        return was.version, newest.version

    async def _audit_fault(self, fault: StrategyFault) -> None:
        """The engine stopped a strategy whose code failed: audited as its stop."""
        detail = {"why": fault.why, "version": fault.version, "symbol": fault.symbol,
                  "at": fault.at, "error": fault.error, "run_id": self.run_id}  # fmt: skip
        await self._audit(ENGINE_ACTOR, "strategy.stop", fault.strategy, detail)

    async def cancel_order(self, actor: Principal, why: str, order_id: int) -> bool:
        """Cancel one working order. False if it had already filled or gone."""
        await permit_async(self.store, actor, Capability.TRADE, "order.cancel", f"order {order_id}")
        try:
            order = await self.engine.cancel_order(actor.name, why, order_id)
        except OrderNotWorking:
            return False
        detail = {"why": why, "run_id": self.run_id, "strategy": order.request.strategy,
                  "symbol": order.symbol}  # fmt: skip
        await self._audit(actor, "order.cancel", f"order {order_id}", detail)
        return True

    async def submit_job(
        self, actor: Principal, kind: str, params: Mapping[str, Any],
        priority: JobPriority = JobPriority.NORMAL,
    ) -> int:  # fmt: skip
        """Queue a job; a ``ValueError`` names a bad kind or parameter. Returns its id."""
        await permit_async(self.store, actor, Capability.RUN_JOBS, "job.submit", kind)
        job_id = await self.jobs.submit(kind, params, priority)
        await self._audit(actor, "job.submit", f"job {job_id}",
                          {"kind": kind, "priority": priority.name.lower()})  # fmt: skip
        return job_id

    async def rerun_job(self, actor: Principal, job_id: int) -> int:
        """Queue a job's kind and stored request again, at its priority, as a new job.
        ``LookupError`` if the job is not in the store; ``ValueError`` if its request
        no longer parses."""
        await permit_async(self.store, actor, Capability.RUN_JOBS, "job.rerun", f"job {job_id}")
        await self.writer.flush()
        row = await asyncio.to_thread(records.get_job, self.store, job_id)
        if row is None:
            raise LookupError(f"job {job_id} is not in the store")
        new_id = await self.jobs.submit(row.kind, json.loads(row.params_json),
                                        JobPriority(row.priority))  # fmt: skip
        await self._audit(actor, "job.rerun", f"job {new_id}", {"of": job_id, "kind": row.kind})
        return new_id

    async def cancel_job(self, actor: Principal, job_id: int, why: str) -> bool:
        """Stop a job for good. False if it is not unfinished in this process."""
        return await self._control_job(actor, "job.cancel", job_id,
                                       lambda: self.jobs.cancel(job_id), {"why": why})  # fmt: skip

    async def pause_job(self, actor: Principal, job_id: int) -> bool:
        """Pause a job (a running one at its next check). False if it is not unfinished."""
        return await self._control_job(actor, "job.pause", job_id,
                                       lambda: self.jobs.pause(job_id))  # fmt: skip

    async def resume_job(self, actor: Principal, job_id: int) -> bool:
        return await self._control_job(actor, "job.resume", job_id,
                                       lambda: self.jobs.resume(job_id))  # fmt: skip

    async def set_job_priority(self, actor: Principal, job_id: int, priority: JobPriority) -> bool:
        """Move a job in the queue. False if it is not unfinished in this process."""
        return await self._control_job(actor, "job.priority", job_id,
                                       lambda: self.jobs.set_priority(job_id, priority),
                                       {"priority": priority.name.lower()})  # fmt: skip

    async def _control_job(
        self, actor: Principal, action: str, job_id: int, apply: Callable[[], bool],
        detail: dict[str, Any] | None = None,
    ) -> bool:  # fmt: skip
        subject = f"job {job_id}"
        await permit_async(self.store, actor, Capability.RUN_JOBS, action, subject)
        changed = apply()
        if changed:
            await self._audit(actor, action, subject, detail or {})
        return changed

    async def submit_demo_optimization(self, actor: Principal) -> int:
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
        return await self.submit_job(actor, "optimize", request.as_params())

    async def submit_export(
        self,
        actor: Principal,
        strategy: str,
        dataset: str,
        params: dict[str, float] | None = None,
        *,
        format: str = "report",
        bars: int = 5_000,
        seed: int = 0,
        priority: JobPriority = JobPriority.NORMAL,
    ) -> int:
        """Queue a PDF report (``format="report"``) of ``strategy`` on ``dataset``, or its
        Pine Script (``"pine"``), into the exports folder."""
        s = self.settings
        request = ExportRequest(
            strategy, dataset, str(s.exports_dir), format=format, params=params or {},
            commission=s.commission, seed=seed, bars=bars,
        )  # fmt: skip
        return await self.submit_job(actor, "export", request.as_params(), priority)

    async def submit_export_of_best(
        self, actor: Principal, job_id: int, *, format: str = "report"
    ) -> int:
        """Queue an export of optimize job ``job_id``'s best parameters, on the strategy,
        dataset, bars, seed and commission it searched with. A ``ValueError`` says why
        the job has no best parameters to give (missing, not an optimization, not done,
        nothing traded)."""
        await self.writer.flush()  # the job's last state may still be queued
        search, best = await asyncio.to_thread(best_of, self.store, job_id)
        request = ExportRequest(
            search.strategy, search.dataset, str(self.settings.exports_dir), format=format,
            params=best, commission=search.commission, seed=search.seed, bars=search.bars,
            source_job=job_id,
        )  # fmt: skip
        return await self.submit_job(actor, "export", request.as_params())

    async def job_outcome(self, job_id: int) -> JobRow:
        """Wait until a job known here finishes; its stored record (state, result, files,
        error). ``KeyError`` if the job is not known here."""
        await self.jobs.finished(job_id)
        await self.writer.flush()
        row = await asyncio.to_thread(records.get_job, self.store, job_id)
        if row is None:
            raise KeyError(job_id)
        return row

    async def submit_batch(
        self, actor: Principal, request: BatchRequest, priority: JobPriority = JobPriority.NORMAL
    ) -> int:
        """Queue a strategies x datasets batch; returns its job id."""
        return await self.submit_job(actor, "batch", request.as_params(), priority)

    async def add_dataset(
        self, actor: Principal, name: str, data: BinaryIO, symbol: str | None = None
    ) -> tuple[Dataset, bool]:
        """Validate the bar file ``name`` read from ``data`` and keep it in the data
        catalog, for jobs to run on as ``catalog:ID``: the dataset, and whether it is new
        (the same bytes uploaded again are the same dataset). A ``DataFileError`` names
        the file, row and column of bad data."""
        return await asyncio.to_thread(catalog_commands.add_dataset, self.store, self.catalog,
                                       actor, name, data, symbol)  # fmt: skip

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
        except (OSError, ValueError, Tampered) as exc:
            log.error("audit checkpoint not signed: %s", exc)


def _warm_up_kernels() -> None:
    """Compile (or load from numba's cache) the kernels the feed and engine call on the
    event loop, here in a worker thread, so a first-ever compile cannot freeze the UI."""
    PriceSimulator("WARM-UP", 0, 1.0).next_block(4)
    bars = {c: np.linspace(100.0, 110.0, 64) for c in ("open", "high", "low", "close", "volume")}
    bars["ts"] = np.arange(64) * 3600.0
    run_backtest(get_strategy("sma_cross"), bars, {"fast": 2, "slow": 5})
