"""The live engine loop: bars in, strategy signals, orders through execution, fills out.

Several strategies run at once, each on its own symbols; every (strategy,
symbol) pair trades from its own sub-ledger (the strategy's cash divided
equally over its symbols), the way a backtest of that symbol alone would, and
all of them share one account, one risk governor and one paper broker. A
signal computed at a bar's close is acted on at the symbol's next tick, the
first of the next bar: the backtest's next-open fill.

Nothing is published before it is journaled: the loop handles a batch of
market events, commits the journal in a worker thread, and only then
publishes the fills, order and risk events, and the portfolio.

An operator may stop a strategy and start it again. A stopped strategy keeps
reading bars (its indicators stay warm) but places no orders, and its working
orders are cancelled; its positions are left as they are. Stopping is "no new
decisions", not "get out": closing positions is a separate, deliberate act
(the kill switch), so stopping a misbehaving strategy never itself trades.

A strategy's code never takes the engine down. One that raises, or returns a
wrong output, while its signals are computed is stopped by the engine (who
"engine", why naming the file, line and error), with its positions kept and no
order sent; every other strategy and symbol goes on. Each strategy runs the
``Strategy`` object it was given, whatever a reload of the strategies folder
later puts in the registry, until an operator restarts it with newer code
(``restart_strategy``): its positions, ledger and bars carry over.

The kill switch means it: it halts trading, cancels every working order,
stops every strategy (each with who and why) and flattens every position at
its symbol's next tick, each strategy's own position by an order in its name
(so its ledger is flat too), whatever no strategy holds by the kill switch.
Lifting the halt (an admin's reset) leaves the strategies stopped until an
operator starts each one; none starts while trading is halted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace

from core.bus import Bus, Subscription
from core.events import (
    ENGINE,
    Bar,
    Fill,
    PortfolioSnapshot,
    RiskSnapshot,
    RiskState,
    Side,
    StrategyChanged,
    Tick,
)
from core.market.window import BarWindow
from core.research.signals import HOLD, LONG, SHORT, target_position
from core.research.strategies import Direction, Params, Strategy
from core.research.strategies.user import StrategyCodeError, describe_exception, raised_at
from core.store import BatchWriter, EquityRow
from core.tasks import cancel_and_wait
from core.trading.execution import Execution
from core.trading.fill_model import FillModel
from core.trading.instruments import Instrument
from core.trading.journal import Cursor, Journal, Mark, Recovered, halt_after
from core.trading.latency import LatencyRecorder
from core.trading.orders import Order, OrderEvent, OrderRequest
from core.trading.paper_broker import PaperBroker
from core.trading.portfolio import Portfolio
from core.trading.risk import RiskEvent, RiskGovernor, RiskLimits, require_who_and_why
from core.trading.snapshot import SNAPSHOT_EVERY, Snapshot

log = logging.getLogger(__name__)
_drill_log = logging.getLogger(f"{__name__}.drill")
_drill_log.setLevel(logging.CRITICAL)  # a quiet engine's trading is not the desk's: never logged

#: Bars kept for a recursive strategy (EMA, Wilder, SAR...). Its signals equal the
#: backtest's exactly while the whole history fits; beyond that the forgotten
#: bars' weight is below (1 - 2/401)^10000, about 1e-22, for any span we allow.
RECURSIVE_HISTORY = 10_000
#: Seconds between marks (cursors and prices) committed while nothing else is journaled.
#: Every commit of orders or fills carries a mark too, so the journal is always a
#: consistent prefix of the run; this only bounds how much market data a restart re-reads.
MARK_INTERVAL = 0.5
RECENT_SIGNALS = 20  # signals kept per strategy, for its drill-down


@dataclass(frozen=True, slots=True)
class Signal:
    """A strategy asked for a new position (``LONG``, ``FLAT``, ``SHORT``...) at a close."""

    ts: float
    symbol: str
    target: int


@dataclass(frozen=True, slots=True)
class StrategyFault:
    """The engine stopped a strategy whose code failed on a symbol's bar at ``ts``:
    ``at`` is the file and line, ``error`` what went wrong."""

    ts: float
    strategy: str
    version: str
    symbol: str
    at: str
    error: str

    @property
    def why(self) -> str:
        return f"{self.at}: {self.error}"


def fault_of(exc: BaseException) -> tuple[str, str]:
    """Where strategy code failed (``path:line``) and what the error was."""
    if isinstance(exc, StrategyCodeError):
        return exc.at or raised_at(exc), exc.message
    return raised_at(exc), describe_exception(exc)


@dataclass(frozen=True)
class StrategySpec:
    """One strategy to run: its parameters, symbols, cash and sizing."""

    strategy: Strategy
    params: Params
    symbols: tuple[str, ...]
    cash: float
    fraction: float = 1.0  # of a book's cash put into each entry
    whole_units: bool = True
    direction: Direction | None = None  # the sides traded; None: the strategy's default


@dataclass(slots=True)
class Book:
    """One (strategy, symbol) pair: its trailing bars and its sub-ledger."""

    spec: StrategySpec
    params: Params
    symbol: str
    capacity: int  # bars kept: while fewer have arrived, the window is the whole history
    cash: float
    units: float = 0.0
    pending: int = HOLD  # a target waiting for the next tick
    bars: BarWindow = field(init=False)

    def __post_init__(self) -> None:
        self.bars = BarWindow(self.capacity)


def bars_kept(strategy: Strategy, params: Params) -> int:
    """The bars a book of ``strategy`` keeps: its look-back, or a long history for a
    recursive rule."""
    lookback = strategy.lookback(params)
    return max(lookback, RECURSIVE_HISTORY) if strategy.recursive else lookback


class LiveEngine:
    mode = "paper"

    def __init__(
        self,
        bus: Bus,
        specs: list[StrategySpec],
        *,
        run_id: str,
        fill_model: FillModel | None = None,
        risk_limits: RiskLimits | None = None,
        instruments: dict[str, Instrument] | None = None,
        writer: BatchWriter | None = None,
        journal: Journal | None = None,
        snapshot_every: int = SNAPSHOT_EVERY,
        quiet: bool = False,
        on_fault: Callable[[StrategyFault], Awaitable[None]] | None = None,
    ) -> None:
        """``quiet``: log none of its trading, for a throwaway engine (the readiness
        drill) whose kills and fills are not the desk's and must not read like them.
        ``on_fault`` hears of each strategy the engine stopped, once that is journaled
        and published (the Deck audits it)."""
        if not specs:
            raise ValueError("the engine needs at least one strategy")
        self._bus = bus
        self._writer = writer
        self._journal = journal
        self.run_id = run_id
        self.specs = specs
        self.specs_by_id = {spec.strategy.id: spec for spec in specs}
        starting_cash = sum(spec.cash for spec in specs)
        symbols = sorted({s for spec in specs for s in spec.symbols})
        self.portfolio = Portfolio(starting_cash)
        self.ledgers = {spec.strategy.id: Portfolio(spec.cash) for spec in specs}
        self.execution = Execution(
            PaperBroker(fill_model or FillModel()),
            RiskGovernor(risk_limits or RiskLimits(), starting_cash),
            self.portfolio,
            instruments or {s: Instrument(s) for s in symbols},
            self._record,
        )
        self.books: dict[tuple[str, str], Book] = {}
        self._by_symbol: dict[str, list[Book]] = {s: [] for s in symbols}
        for spec in specs:
            params = spec.strategy.resolve(spec.params)
            capacity = bars_kept(spec.strategy, params)
            for symbol in spec.symbols:
                book = Book(spec, params, symbol, capacity, spec.cash / len(spec.symbols))
                self.books[spec.strategy.id, symbol] = book
                self._by_symbol[symbol].append(book)
        self._equity_symbol = symbols[0]
        self.stopped_by: dict[str, StrategyChanged] = {}  # who stopped each, when and why
        self.signals: dict[str, deque[Signal]] = {}  # each strategy's newest signals
        self._outbox: list[Fill | OrderEvent | RiskEvent | StrategyChanged] = []
        self._faults: list[StrategyFault] = []  # stopped, not yet told to ``on_fault``
        self.on_fault = on_fault
        self._task: asyncio.Task[None] | None = None
        self._committing: asyncio.Future[int] | None = None
        self._cursors: dict[str, tuple[float, str, float]] = {}  # symbol: ts, event, price
        self._unmarked = False  # market events handled since the last mark
        self._marked_at = 0.0
        self._unsnapshotted = 0  # fills since the journal's last snapshot
        self._snapshot_every = snapshot_every
        self._log = _drill_log if quiet else log
        self.accepted_orders = 0  # of the account, every run (the journal's count)
        self.halt: RiskEvent | None = None  # what halted trading (who, when, why), while it holds
        self.events = 0
        self.orders = 0  # orders the execution path admitted or rejected
        self.rejects = 0
        #: Tick-to-order latency (``core.trading.latency``): from when a tick was due,
        #: as ``tick_due`` says (a feed's schedule, on ``time.monotonic``), or else from
        #: when its batch was taken from the bus, to the order handed to execution.
        self.tick_to_order = LatencyRecorder()
        self.tick_due: Callable[[Tick], float | None] | None = None
        self._batch_at: float | None = None  # when the batch being handled was taken

    @property
    def stopped(self) -> set[str]:
        """The strategies an operator (or the kill switch) stopped."""
        return set(self.stopped_by)

    @property
    def broker(self) -> PaperBroker:
        return self.execution.broker

    @property
    def label(self) -> str:
        return ", ".join(
            f"{spec.strategy.id}({', '.join(f'{k}={v}' for k, v in spec.params.items())})"
            for spec in self.specs
        )

    def start(self) -> None:
        if self._task is None:
            subscription = self._bus.subscribe(Bar, Tick, maxsize=1_000_000)
            self._task = asyncio.create_task(self._run(subscription), name="engine")

    async def stop(self) -> None:
        """Stop the loop, then finish its commit and commit and publish the rest of what
        it had handled: a clean shutdown leaves nothing unjournaled."""
        task, self._task = self._task, None
        await cancel_and_wait(task)
        self._marked_at = -MARK_INTERVAL  # the last mark is due now, whenever the last was
        if self._unsnapshotted:  # and a snapshot, so the next start replays nothing
            self._unsnapshotted, self._unmarked = self._snapshot_every, True
        await self._commit()
        self.publish()

    async def _run(self, subscription: Subscription) -> None:
        with subscription:
            self._bus.publish(self.snapshot())
            while True:
                if self._unmarked:  # a quiet market: mark where it stopped, once due
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(subscription.wait(), MARK_INTERVAL)
                else:
                    await subscription.wait()
                self._batch_at = time.monotonic()
                for event in subscription.drain():
                    self.handle(event)
                self._batch_at = None
                await self.flush()

    async def flush(self) -> None:
        """Commit what was handled, publish it, then tell ``on_fault`` of each strategy
        the engine stopped meanwhile (public so replays and tests driving ``handle``
        can end a batch as the loop does)."""
        await self._commit()
        self.publish()
        faults, self._faults = self._faults, []
        for fault in faults:
            if self.on_fault is None:
                continue
            try:
                await self.on_fault(fault)
            except Exception:  # the loop goes on whatever the listener does
                log.exception("reporting the stop of strategy %s failed", fault.strategy)

    async def _commit(self) -> None:
        """Commit the journal in a worker thread. The commit is shielded: cancelling the
        loop must not abandon a half-written batch, so ``stop`` waits for it instead."""
        while True:
            committing = self._committing
            if committing is None:
                if self._journal is None:
                    return
                self._mark_if_due()
                if not self._journal.pending:
                    return
                committing = asyncio.ensure_future(asyncio.to_thread(self._journal.commit))
                self._committing = committing
            try:
                await asyncio.shield(committing)
            finally:
                if committing.done() and self._committing is committing:
                    self._committing = None

    def checkpoint(self) -> int:
        """Journal a mark (and a snapshot when due) with what was recorded, and commit,
        blocking: for tools and tests. The running loop commits through ``_commit``, whose
        marks of a quiet market wait up to ``MARK_INTERVAL``."""
        assert self._journal is not None, "the engine has no journal"
        self._mark_if_due(force=True)
        return self._journal.commit()

    def _mark_if_due(self, *, force: bool = False) -> None:
        """Journal where the engine stands, with whatever else goes into this commit, or
        on its own every ``MARK_INTERVAL`` while market events arrive (``force``: now)."""
        assert self._journal is not None
        now = time.monotonic()
        due = self._unmarked and (force or now - self._marked_at >= MARK_INTERVAL)
        if self._journal.pending or due:
            if self._unsnapshotted >= self._snapshot_every:
                self._journal.record(self.journal_snapshot())
                self._unsnapshotted = 0
            self._journal.record(self.mark())
            self._unmarked, self._marked_at = False, now

    def journal_snapshot(self) -> Snapshot:
        """Everything a restart needs, at once (see ``core.trading.snapshot``)."""
        risk = self.execution.risk
        return Snapshot(
            self.portfolio.ts, self.portfolio, tuple(self.broker.working()),
            self.accepted_orders, self.execution.next_order_id, self.broker.next_fill_id,
            risk.state, tuple(self.stopped_by.values()),
            frozenset(self.execution.flatten_pending), self.halt,
            {key: (b.units, b.cash) for key, b in self.books.items()},
            dict(self.ledgers),
        )  # fmt: skip

    def mark(self) -> Mark:
        cursors = tuple(
            Cursor(symbol, ts, event, price)
            for symbol, (ts, event, price) in sorted(self._cursors.items())
        )
        return Mark(self.portfolio.ts, cursors, self.portfolio.peak_equity,
                    self.execution.risk.risk_day())  # fmt: skip

    async def kill(self, who: str, why: str) -> None:
        """The kill switch: halt, cancel every working order, stop every strategy and
        flatten every position at its symbol's next tick. Returns once the events are
        journaled and published."""
        self.execution.kill(who, why, self.portfolio.ts)
        # what every ledger holds, too: two strategies' positions may net to a flat account
        self.execution.owe_flatten(
            {s for ledger in self.ledgers.values() for s, p in ledger.positions.items()
             if p.quantity}
        )  # fmt: skip
        for spec in self.specs:
            self._switch(who, f"kill switch: {why}", spec.strategy.id, running=False)
        for book in self.books.values():
            book.pending = HOLD
        await self._commit()
        self.publish()

    async def reset_risk(self, who: str, why: str) -> None:
        """Return to ACTIVE on an operator's word, journaled and published."""
        self.execution.reset(who, why, self.portfolio.ts)
        await self._commit()
        self.publish()

    async def stop_strategy(self, who: str, why: str, strategy: str) -> bool:
        """Stop ``strategy`` placing orders and cancel its working orders; its positions
        stay. False if it was stopped already; a ``ValueError`` names an unknown one."""
        if not self._switch(who, why, strategy, running=False):
            return False
        self._drop_orders(strategy, f"strategy stopped: {why}")
        await self._commit()
        self.publish()
        return True

    def _drop_orders(self, strategy: str, reason: str) -> None:
        """Forget ``strategy``'s pending targets and cancel its working orders."""
        for book in self.books.values():
            if book.spec.strategy.id == strategy:
                book.pending = HOLD
        for order in self.broker.working():
            if order.request.strategy == strategy:
                self.execution.cancel(order.order_id, reason, self.portfolio.ts)

    async def restart_strategy(self, who: str, why: str, strategy: Strategy) -> Strategy:
        """Run ``strategy`` (newer code of the live strategy with its id) from its next
        signal: its books keep their positions, cash and bars, its ledger stays; the old
        code's pending targets and working orders go; a stopped strategy runs again.
        Returns the code it ran before. A ``ValueError`` says why not (unknown, halted,
        its parameters no longer fit, or the new code fails on the bars it would see),
        and the old code stays as it was."""
        require_who_and_why(who, why)
        old = self.live_spec(strategy.id)
        if self.execution.risk.state is RiskState.HALTED:
            raise ValueError(f"trading is halted: an admin's risk reset comes before "
                             f"{strategy.id} can restart")  # fmt: skip
        try:
            params = strategy.resolve(old.params)
        except ValueError as exc:
            raise ValueError(f"its parameters no longer fit the new version: {exc}") from None
        books = [book for book in self.books.values() if book.spec is old]
        try:
            capacity = bars_kept(strategy, params)
            for book in books:  # what the next bar will ask of it, tried now
                if len(book.bars):
                    strategy.signals(book.bars.columns(), params, old.direction)
        except Exception as exc:
            at, error = fault_of(exc)
            raise ValueError(f"the new version fails on the live bars: {at}: {error}") from None
        new = replace(old, strategy=strategy)
        at = next(i for i, spec in enumerate(self.specs) if spec is old)
        self.specs[at] = self.specs_by_id[strategy.id] = new  # in place: views hold the list
        for book in books:
            book.spec, book.params = new, params
            if capacity != book.capacity:
                book.capacity, book.bars = capacity, book.bars.resized(capacity)
        self._drop_orders(strategy.id, f"strategy restarted: {why}")
        self.stopped_by.pop(strategy.id, None)
        reason = f"restarted, version {old.strategy.version} -> {strategy.version}: {why}"
        self._record(StrategyChanged(self.portfolio.ts, strategy.id, True, who, reason,
                                     version=strategy.version))  # fmt: skip
        await self._commit()
        self.publish()
        return old.strategy

    def live_spec(self, strategy: str) -> StrategySpec:
        """The spec ``strategy`` runs by now, or a ``ValueError`` naming the live ones."""
        spec = self.specs_by_id.get(strategy)
        if spec is None:
            raise ValueError(f"no live strategy {strategy!r} (running: {self.label})")
        return spec

    async def start_strategy(self, who: str, why: str, strategy: str) -> bool:
        """Let a stopped strategy trade again from its next signal. False if it was
        running; a ``ValueError`` names an unknown one."""
        if not self._switch(who, why, strategy, running=True):
            return False
        await self._commit()
        self.publish()
        return True

    async def cancel_order(self, who: str, why: str, order_id: int) -> Order:
        """Cancel one working order on an operator's word (``OrderNotWorking`` if it
        has filled or gone already)."""
        require_who_and_why(who, why)
        order = self.execution.cancel(order_id, f"cancelled by {who}: {why}", self.portfolio.ts)
        await self._commit()
        self.publish()
        return order

    def _switch(self, who: str, why: str, strategy: str, *, running: bool) -> bool:
        require_who_and_why(who, why)
        self.live_spec(strategy)
        if (strategy not in self.stopped) == running:
            return False
        if running and self.execution.risk.state is RiskState.HALTED:
            raise ValueError(f"trading is halted: an admin's risk reset comes before {strategy} "
                             "can start again")  # fmt: skip
        change = StrategyChanged(self.portfolio.ts, strategy, running, who, why)
        if running:
            self.stopped_by.pop(strategy, None)
        else:
            self.stopped_by[strategy] = change
        self._record(change)
        return True

    def handle(self, event: Bar | Tick) -> None:
        """Process one market event (public so replays and tests can drive the engine);
        what it causes waits in the outbox until ``publish``."""
        self.events += 1
        self._unmarked = True
        if isinstance(event, Tick):
            self._cursors[event.symbol] = (event.ts, "tick", event.price)
            self._on_tick(event)
        else:
            self._cursors[event.symbol] = (event.ts, "bar", event.close)
            self._on_bar(event)

    def publish(self) -> None:
        """Publish (and queue for the store) everything handled since the last call."""
        outbox, self._outbox = self._outbox, []
        for event in outbox:
            self._bus.publish(event)
        self._bus.publish(self.snapshot())
        self._bus.publish(self.risk_snapshot())

    def snapshot(self) -> PortfolioSnapshot:
        """The account, with each strategy's sub-ledger as its breakdown and the day's
        starting equity as the risk governor counts it."""
        ledgers = tuple(ledger.snapshot(name) for name, ledger in self.ledgers.items())
        day_start = self.execution.risk.day_start_equity
        return replace(self.portfolio.snapshot(), strategies=ledgers, day_start_equity=day_start)

    def risk_snapshot(self) -> RiskSnapshot:
        exposures = {
            symbol: abs(p.quantity * p.last_price) for symbol, p in self.portfolio.positions.items()
        }
        return self.execution.risk.snapshot(exposures, self.broker.open_orders, self.portfolio.ts)

    def open_account(self, starting_cash: float) -> None:
        """Trade an account opened with ``starting_cash`` (before ``restore``: the
        settings' cash only opens new accounts)."""
        portfolio, risk = self.portfolio, self.execution.risk
        portfolio.starting_cash = portfolio.cash = portfolio.peak_equity = starting_cash
        risk.equity = risk.peak_equity = risk.day_start_equity = starting_cash

    def start_over_refusal(self) -> str | None:
        """Why the account may not start over now (positions or working orders), or None."""
        held = sorted(s for s, p in self.portfolio.positions.items() if p.quantity)
        if not held and not self.broker.open_orders:
            return None
        return (
            f"the account still holds {', '.join(held) or 'no position'} and "
            f"{self.broker.open_orders} working order(s): flatten it first (kill switch)"
        )

    def start_over(self, starting_cash: float) -> None:
        """Trade a new, empty account from now on (an account reset): the account, the
        ledgers and books, the ids and the risk governor start afresh, while the market
        data and the strategies' indicators carry on. Only a flat account with no
        working order may start over (``ValueError`` otherwise)."""
        refusal = self.start_over_refusal()
        if refusal is not None:
            raise ValueError(refusal)
        self.portfolio.take_over(Portfolio(starting_cash))
        self.ledgers = {spec.strategy.id: Portfolio(spec.cash) for spec in self.specs}
        for book in self.books.values():
            book.units, book.cash, book.pending = 0.0, book.spec.cash / len(book.spec.symbols), HOLD
        execution = self.execution
        execution.risk = RiskGovernor(execution.risk.limits, starting_cash, self.portfolio.ts)
        execution.continue_from(1, 1)
        execution.flatten_pending.clear()
        self.stopped_by.clear()
        self.halt = None
        self.accepted_orders = self._unsnapshotted = 0

    def restore(self, recovered: Recovered) -> None:
        """Take up where a journal left off: its fills rebuild the books, ledgers and
        account; its working orders rest again; ids, the risk state and its day, the
        stopped strategies and a flatten the kill switch still owes continue; its newest
        mark gives the last prices and where each symbol's market data stood."""
        self.portfolio.take_over(recovered.portfolio)
        snapshot = recovered.snapshot
        if snapshot is not None:
            for key, (units, cash) in snapshot.books.items():
                if key in self.books:
                    self.books[key].units, self.books[key].cash = units, cash
            for name, ledger in snapshot.ledgers.items():
                self._ledger(name).take_over(ledger)
        for fill in recovered.fills:
            self._book(fill)
        for order in recovered.working:
            self.broker.submit(order)
        self.execution.continue_from(recovered.next_order_id, recovered.next_fill_id)
        mark = recovered.mark
        if mark is not None:
            for cursor in mark.cursors:
                self._cursors[cursor.symbol] = (cursor.ts, cursor.event, cursor.price or 0.0)
                if cursor.price is not None:
                    self.execution.last_prices[cursor.symbol] = cursor.price
                    for ledger in self.ledgers.values():
                        ledger.mark(cursor.symbol, cursor.price, cursor.ts)
        risk = self.execution.risk
        risk.restore(recovered.risk_state, mark.risk if mark is not None else None)
        risk.equity = self.portfolio.equity
        self.execution.owe_flatten(recovered.flatten)
        self.stopped_by = dict(recovered.stopped_by)
        self.accepted_orders = recovered.orders
        self.halt = recovered.halt

    def warm(self, bar: Bar) -> None:
        """Add a bar the journal says was already handled: indicators see it, nothing
        trades and no signal is taken from it."""
        for book in self._by_symbol.get(bar.symbol, ()):
            book.bars.append(bar)

    def _on_bar(self, bar: Bar) -> None:
        self.broker.on_bar(bar)
        if bar.symbol == self._equity_symbol and self._writer is not None:
            self._writer.append(
                EquityRow(
                    run_id=self.run_id,
                    ts=bar.ts,
                    equity=self.portfolio.equity,
                    cash=self.portfolio.cash,
                )
            )
        for book in self._by_symbol.get(bar.symbol, ()):
            book.bars.append(bar)
            if book.spec.strategy.id in self.stopped_by:
                continue
            position = 0 if book.units == 0 else (1 if book.units > 0 else -1)
            try:
                signals = book.spec.strategy.signals(
                    book.bars.columns(), book.params, book.spec.direction
                )
                target = target_position(int(signals[-1]), position)
            except (Exception, SystemExit) as exc:  # strategy code: never the engine's end
                self._fault(book, bar, exc)
                continue
            if target != HOLD:
                book.pending = target
                self.signals.setdefault(book.spec.strategy.id, deque(maxlen=RECENT_SIGNALS)
                                        ).append(Signal(bar.ts, bar.symbol, target))  # fmt: skip

    def _fault(self, book: Book, bar: Bar, exc: BaseException) -> None:
        """Stop the strategy whose code failed on ``bar``, keeping its positions."""
        strategy = book.spec.strategy
        at, error = fault_of(exc)
        fault = StrategyFault(bar.ts, strategy.id, strategy.version, bar.symbol, at, error)
        self._log.error("strategy %s (version %s) failed on %s: %s", strategy.id,
                        strategy.version, bar.symbol, fault.why,
                        exc_info=not isinstance(exc, StrategyCodeError))  # fmt: skip
        self._switch(ENGINE, fault.why, strategy.id, running=False)
        self._drop_orders(strategy.id, f"strategy stopped: {fault.why}")
        self._faults.append(fault)

    def _on_tick(self, tick: Tick) -> None:
        for ledger in self.ledgers.values():
            ledger.mark(tick.symbol, tick.price, tick.ts)
        if tick.symbol in self.execution.flatten_pending:
            self._flatten_books(tick)
        for book in self._by_symbol.get(tick.symbol, ()):
            if book.pending != HOLD:
                self._trade_to_target(book, tick)
        self.execution.on_tick(tick)  # flattens what no strategy holds

    def _flatten_books(self, tick: Tick) -> None:
        """The kill switch, at a symbol's next tick: each ledger closes its own position
        by an order in its name (past the halt), so every ledger ends flat, as does the
        account."""
        for name, ledger in list(self.ledgers.items()):
            held = ledger.positions.get(tick.symbol)
            if held is not None and held.quantity:
                side = Side.SELL if held.quantity > 0 else Side.BUY
                request = OrderRequest(name, tick.symbol, side, abs(held.quantity))
                self.execution.execute_now(request, tick, bypass_risk=True)

    def _trade_to_target(self, book: Book, tick: Tick) -> None:
        """Move the book to its pending target at this tick, as the backtest does at the
        next open: close what is held, then size the new side on the cash that leaves."""
        target, book.pending = book.pending, HOLD
        self._record_latency(tick)
        if book.units != 0:
            side = Side.SELL if book.units > 0 else Side.BUY
            self._order(book, tick, side, abs(book.units))
        if target in (LONG, SHORT):
            model = self.broker.fill_model
            side = Side.BUY if target == LONG else Side.SELL
            budget = book.cash * book.spec.fraction - model.fixed_fee
            unit_cost = model.price(side, tick.price) * (1.0 + model.commission)
            quantity = budget // unit_cost if book.spec.whole_units else budget / unit_cost
            if quantity > 0:
                self._order(book, tick, side, quantity)

    def _record_latency(self, tick: Tick) -> None:
        due = self.tick_due(tick) if self.tick_due is not None else None
        now = time.monotonic()
        began = due if due is not None else self._batch_at
        self.tick_to_order.record(max(0.0, now - (now if began is None else began)))

    def _order(
        self, book: Book, tick: Tick, side: Side, quantity: float, *, bypass_risk: bool = False
    ) -> None:
        request = OrderRequest(book.spec.strategy.id, book.symbol, side, quantity)
        self.execution.execute_now(request, tick, bypass_risk=bypass_risk)

    def _record(self, event: Fill | OrderEvent | RiskEvent | StrategyChanged) -> None:
        """Everything the execution path does passes here, in order. A fill in a live
        strategy's name records the version of the code it runs."""
        if isinstance(event, Fill):
            spec = self.specs_by_id.get(event.strategy)
            if spec is not None:
                event = replace(event, strategy_version=spec.strategy.version)
        if self._journal is not None:
            self._journal.record(event)
        if isinstance(event, Fill):
            self._apply(event)
            self._unsnapshotted += 1
        elif isinstance(event, OrderEvent) and event.kind in ("accepted", "rejected"):
            self.orders += 1
            self.rejects += event.kind == "rejected"
            self.accepted_orders += event.kind == "accepted"
        elif isinstance(event, RiskEvent):
            self.halt = halt_after(self.halt, event)
            self._log.warning("risk %s: %s -> %s (%s: %s)", event.kind, event.previous.value,
                              event.state.value, event.who, event.why)  # fmt: skip
        elif isinstance(event, StrategyChanged):
            verb = "started" if event.running else "stopped"
            self._log.warning("strategy %s %s (%s: %s)", event.strategy, verb, event.who, event.why)
        self._outbox.append(event)

    def _apply(self, fill: Fill) -> None:
        self._book(fill)
        extra = {"strategy": fill.strategy, "fill_id": fill.fill_id}
        self._log.info("fill %s %s %s @ %s", fill.side.value, fill.quantity, fill.symbol,
                       fill.price, extra=extra)  # fmt: skip

    def _book(self, fill: Fill) -> None:
        """Apply a fill to its (strategy, symbol) book and its strategy's ledger."""
        signed = fill.side.sign * fill.quantity
        book = self.books.get((fill.strategy, fill.symbol))
        if book is not None:
            book.units += signed
            book.cash -= signed * fill.price + fill.commission
        self._ledger(fill.strategy).apply_fill(fill)

    def _ledger(self, strategy: str) -> Portfolio:
        """``strategy``'s ledger. Every fill has one, so the ledgers add up to the account:
        one that no live strategy placed (the kill switch flattening what none held, a
        strategy no longer configured) gets a ledger of its own with no cash."""
        ledger = self.ledgers.get(strategy)
        if ledger is None:
            ledger = self.ledgers[strategy] = Portfolio(0.0)
            for symbol, price in self.execution.last_prices.items():
                ledger.mark(symbol, price, self.portfolio.ts)
        return ledger
