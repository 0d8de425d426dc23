"""The live engine loop: bars in, strategy signals, orders to the paper broker, fills out.

Each symbol trades from its own sub-ledger (an equal share of the starting
cash), the way a backtest of that symbol alone would. A signal computed at a
bar's close is acted on at the symbol's next tick, the first of the next bar,
which is the backtest's next-open fill.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from dataclasses import dataclass, field

from core.bus import Bus, Subscription
from core.events import Bar, Fill, Side, Tick
from core.market.window import BarWindow
from core.research.signals import HOLD, LONG, SHORT, target_position
from core.research.strategies import Params, Strategy
from core.store import BatchWriter, EquityRow, FillRow
from core.tasks import cancel_and_wait
from core.trading.fill_model import FillModel
from core.trading.orders import Order, OrderRequest
from core.trading.paper_broker import PaperBroker
from core.trading.portfolio import Portfolio

log = logging.getLogger(__name__)

#: Bars kept for a recursive strategy (EMA, Wilder, SAR...). Its signals equal the
#: backtest's exactly while the whole history fits; beyond that the forgotten
#: bars' weight is below (1 - 2/401)^10000, about 1e-22, for any span we allow.
RECURSIVE_HISTORY = 10_000


@dataclass(slots=True)
class SymbolBook:
    """One symbol's trailing bars and sub-ledger."""

    capacity: int  # bars kept: while fewer have arrived, the window is the whole history
    cash: float
    units: float = 0.0
    pending: int = HOLD  # a signal waiting for the next tick
    bars: BarWindow = field(init=False)

    def __post_init__(self) -> None:
        self.bars = BarWindow(self.capacity)


class LiveEngine:
    mode = "paper"

    def __init__(
        self,
        bus: Bus,
        writer: BatchWriter | None,
        strategy: Strategy,
        params: Params,
        symbols: list[str],
        starting_cash: float,
        position_fraction: float,
        commission: float,
        run_id: str,
        *,
        fill_model: FillModel | None = None,
        whole_units: bool = True,
    ) -> None:
        self._bus = bus
        self._writer = writer
        self.strategy = strategy
        self.params = strategy.resolve(params)
        self.run_id = run_id
        self.fraction = position_fraction
        self.broker = PaperBroker(fill_model or FillModel(commission))
        self.whole_units = whole_units
        self._order_ids = itertools.count(1)
        self.portfolio = Portfolio(starting_cash)
        lookback = strategy.lookback(self.params)
        # a recursive rule is exact while its whole history fits, then converging
        capacity = max(lookback, RECURSIVE_HISTORY) if strategy.recursive else lookback
        share = starting_cash / len(symbols)
        self.books = {s: SymbolBook(capacity, share) for s in symbols}
        self._equity_symbol = symbols[0]
        self._task: asyncio.Task[None] | None = None
        self.events = 0

    @property
    def label(self) -> str:
        shown = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.strategy.id}({shown})"

    def start(self) -> None:
        if self._task is None:
            subscription = self._bus.subscribe(Bar, Tick, maxsize=1_000_000)
            self._task = asyncio.create_task(self._run(subscription), name="engine")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)

    async def _run(self, subscription: Subscription) -> None:
        with subscription:
            self._bus.publish(self.portfolio.snapshot())
            while True:
                await subscription.wait()
                for event in subscription.drain():
                    self.handle(event)
                self._bus.publish(self.portfolio.snapshot())

    def handle(self, event: Bar | Tick) -> None:
        """Process one market event (public so replays and tests can drive the engine)."""
        self.events += 1
        if isinstance(event, Tick):
            self._on_tick(event)
        else:
            self._on_bar(event)

    def _on_bar(self, bar: Bar) -> None:
        book = self.books.get(bar.symbol)
        if book is None:
            return
        book.bars.append(bar)
        if bar.symbol == self._equity_symbol and self._writer is not None:
            self._writer.append(
                EquityRow(
                    run_id=self.run_id,
                    ts=bar.ts,
                    equity=self.portfolio.equity,
                    cash=self.portfolio.cash,
                )
            )
        signal = int(self.strategy.signals(book.bars.columns(), self.params)[-1])
        position = 0 if book.units == 0 else (1 if book.units > 0 else -1)
        target = target_position(signal, position)
        if target != HOLD:
            book.pending = target

    def _on_tick(self, tick: Tick) -> None:
        self.portfolio.mark(tick.symbol, tick.price, tick.ts)
        book = self.books.get(tick.symbol)
        if book is not None and book.pending != HOLD:
            self._trade_to_target(book, tick)
        for fill in self.broker.on_tick(tick):
            self._apply(self.books[fill.symbol], fill)

    def _trade_to_target(self, book: SymbolBook, tick: Tick) -> None:
        """Move the book to its pending target at this tick, as the backtest does at the
        next open: close what is held, then size the new side on the cash that leaves."""
        target, book.pending = book.pending, HOLD
        if book.units != 0:
            side = Side.SELL if book.units > 0 else Side.BUY
            self._execute(book, tick, side, abs(book.units))
        if target in (LONG, SHORT):
            side = Side.BUY if target == LONG else Side.SELL
            price = self.broker.fill_model.price(side, tick.price)
            budget = book.cash * self.fraction - self.broker.fill_model.fixed_fee
            unit_cost = price * (1.0 + self.broker.commission)  # the backtest's own arithmetic
            quantity = budget // unit_cost if self.whole_units else budget / unit_cost
            if quantity > 0:
                self._execute(book, tick, side, quantity)

    def _execute(self, book: SymbolBook, tick: Tick, side: Side, quantity: float) -> None:
        request = OrderRequest(self.strategy.id, tick.symbol, side, quantity)
        fill = self.broker.execute(Order(next(self._order_ids), request, tick.ts), tick)
        if fill is not None:
            self._apply(book, fill)

    def _apply(self, book: SymbolBook, fill: Fill) -> None:
        signed = fill.side.sign * fill.quantity
        book.units += signed
        book.cash -= signed * fill.price + fill.commission
        self.portfolio.apply_fill(fill)
        if self._writer is not None:
            self._writer.append(
                FillRow(
                    run_id=self.run_id,
                    fill_id=fill.fill_id,
                    order_id=fill.order_id,
                    strategy=fill.strategy,
                    symbol=fill.symbol,
                    side=fill.side.value,
                    quantity=fill.quantity,
                    price=fill.price,
                    commission=fill.commission,
                    ts=fill.ts,
                )
            )
        self._bus.publish(fill)
        log.info(
            "fill %s %s %s @ %s",
            fill.side.value,
            fill.quantity,
            fill.symbol,
            fill.price,
            extra={"strategy": fill.strategy, "fill_id": fill.fill_id},
        )
