"""The order path: validation, then risk, then the paper broker; fills into the portfolio.

Everything that happens to an order, and every risk event, is handed to
``record`` in the order it happened, so the engine can journal it before it
tells anyone (see ``core.trading.journal``).
"""

from __future__ import annotations

from collections.abc import Callable

from core.events import Fill, Side, Tick
from core.trading.instruments import Instrument
from core.trading.orders import Order, OrderEvent, OrderRequest, OrderStatus
from core.trading.paper_broker import PaperBroker
from core.trading.portfolio import Portfolio
from core.trading.risk import RiskEvent, RiskGovernor, RiskState
from core.trading.validation import validate

KILL_SWITCH = "kill switch"


Record = Callable[[OrderEvent | Fill | RiskEvent], None]


class Execution:
    def __init__(
        self,
        broker: PaperBroker,
        risk: RiskGovernor,
        portfolio: Portfolio,
        instruments: dict[str, Instrument],
        record: Record,
        first_order_id: int = 1,
    ) -> None:
        self.broker = broker
        self.risk = risk
        self.portfolio = portfolio
        self.instruments = instruments
        self._record = record
        self.next_order_id = first_order_id
        self.last_prices: dict[str, float] = {}
        self.flatten_pending: set[str] = set()

    # --- orders ---------------------------------------------------------------------

    def submit(self, request: OrderRequest, ts: float) -> Order:
        """Validate, risk-check and rest an order; a refused one comes back REJECTED."""
        order = self._admit(request, ts)
        if order.status is OrderStatus.ACCEPTED:
            self.broker.submit(order)
        return order

    def execute_now(self, request: OrderRequest, tick: Tick, *, bypass_risk: bool = False) -> Order:
        """Admit an order and give it ``tick`` before the resting orders: the engine's
        orders at the open that follows its signal."""
        self.last_prices[tick.symbol] = tick.price
        order = self._admit(request, tick.ts, bypass_risk)
        if order.status is OrderStatus.ACCEPTED:
            fill = self.broker.execute(order, tick)
            if fill is not None:
                self._fill(order, fill)
            if order.status is OrderStatus.CANCELLED:
                self._event("cancelled", order, tick.ts)
        return order

    def cancel(self, order_id: int, reason: str, ts: float) -> Order:
        order = self.broker.cancel(order_id, reason)
        self._event("cancelled", order, ts)
        return order

    def replace(self, order_id: int, ts: float, **changes: float) -> Order:
        order = self.broker.replace(order_id, **changes)
        self._event("replaced", order, ts)
        return order

    # --- market events --------------------------------------------------------------

    def on_tick(self, tick: Tick) -> list[Fill]:
        self.last_prices[tick.symbol] = tick.price
        self.portfolio.mark(tick.symbol, tick.price, tick.ts)
        if tick.symbol in self.flatten_pending:
            self._flatten(tick)
        before = {o.order_id: o for o in self.broker.working(tick.symbol)}
        fills = self.broker.on_tick(tick)
        for fill in fills:
            self._fill(before[fill.order_id], fill)
        for order in before.values():
            if order.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED):
                self._event(order.status.value, order, tick.ts)
        for event in self.risk.observe(self.portfolio.equity, tick.ts):
            self._record(event)
        return fills

    # --- operators ------------------------------------------------------------------

    def kill(self, who: str, why: str, ts: float) -> None:
        """Halt, cancel every working order, and flatten every position at each symbol's
        next tick."""
        self._record(self.risk.kill(who, why, ts))
        for order in self.broker.working():
            self.cancel(order.order_id, f"{KILL_SWITCH}: {why}", ts)
        self.flatten_pending = {s for s, p in self.portfolio.positions.items() if p.quantity}

    def reset(self, who: str, why: str, ts: float) -> None:
        self._record(self.risk.reset(who, why, ts))

    def owe_flatten(self, symbols: set[str]) -> None:
        """Flatten these symbols at their next ticks: a kill a restart interrupted."""
        self.flatten_pending |= symbols

    def continue_from(self, next_order_id: int, next_fill_id: int) -> None:
        """Number new orders and fills after those a journal already holds."""
        self.next_order_id = next_order_id
        self.broker.continue_fill_ids(next_fill_id)

    @property
    def state(self) -> RiskState:
        return self.risk.state

    # --- internals ------------------------------------------------------------------

    def _flatten(self, tick: Tick) -> None:
        self.flatten_pending.discard(tick.symbol)
        held = self.portfolio.position(tick.symbol).quantity
        if held:
            side = Side.SELL if held > 0 else Side.BUY
            request = OrderRequest(KILL_SWITCH, tick.symbol, side, abs(held))
            self.execute_now(request, tick, bypass_risk=True)

    def _admit(self, request: OrderRequest, ts: float, bypass_risk: bool = False) -> Order:
        order = Order(self.next_order_id, request, ts)
        self.next_order_id += 1
        last = self.last_prices.get(request.symbol)
        reason = validate(request, self.instruments.get(request.symbol), last)
        if reason is None and not bypass_risk:
            position = self.portfolio.position(request.symbol).quantity
            price = request.limit_price or request.stop_price or last or 0.0
            reason = self.risk.check(request, price, position, self.broker.open_orders, ts)
        if reason is not None:
            order.status, order.reason = OrderStatus.REJECTED, reason
        self._event("rejected" if reason else "accepted", order, ts)
        return order

    def _fill(self, order: Order, fill: Fill) -> None:
        self.portfolio.apply_fill(fill)
        self._event(order.status.value, order, fill.ts)
        self._record(fill)

    def _event(self, kind: str, order: Order, ts: float) -> None:
        self._record(
            OrderEvent(
                kind,
                order.order_id,
                order.request,
                ts,
                order.status,
                order.filled_quantity,
                order.reason,
            )
        )
