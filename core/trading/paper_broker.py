"""The paper broker: a simulated venue that works orders against market prices.

Orders rest until a tick gives them a chance to trade, and are matched in the
order they arrived:

- MARKET fills at the tick's price, with slippage;
- LIMIT fills when the tick trades at or through its limit, at the tick's
  price with slippage but never worse than the limit;
- STOP waits for a tick at or through its stop (up for a buy, down for a
  sell), then fills like a market order on that same tick;
- STOP_LIMIT triggers the same way, then works as a limit order.

Time in force: IOC gets one tick, then any unfilled rest is cancelled; DAY
expires at the first tick of a later UTC day; GTC rests until cancelled.
With ``participation`` set, the quantity filled per symbol between two bars
is capped at that fraction of the previous bar's volume, so large orders fill
in parts; without it (the backtest's assumption) an order fills in full.
"""

from __future__ import annotations

import math
from dataclasses import replace

from core.events import Bar, Fill, Side, Tick
from core.trading.fill_model import FillModel
from core.trading.orders import Order, OrderStatus, OrderType, TimeInForce

SECONDS_PER_DAY = 86_400


class OrderNotWorking(KeyError):
    def __str__(self) -> str:
        return f"order {self.args[0]} is not working"


class PaperBroker:
    def __init__(
        self,
        fill_model: FillModel | None = None,
        participation: float | None = None,
        first_fill_id: int = 1,
    ) -> None:
        self.fill_model = fill_model or FillModel()
        self.participation = participation
        self.next_fill_id = first_fill_id
        self._working: dict[str, list[Order]] = {}
        self._capacity: dict[str, float] = {}

    def continue_fill_ids(self, next_fill_id: int) -> None:
        self.next_fill_id = next_fill_id

    @property
    def commission(self) -> float:
        return self.fill_model.commission

    def working(self, symbol: str | None = None) -> list[Order]:
        """Working orders, of one symbol or all, oldest first."""
        if symbol is not None:
            return list(self._working.get(symbol, ()))
        return sorted((o for orders in self._working.values() for o in orders),
                      key=lambda o: o.order_id)  # fmt: skip

    @property
    def open_orders(self) -> int:
        """How many orders are working (counted, not listed: the risk check asks per order)."""
        return sum(len(orders) for orders in self._working.values())

    def submit(self, order: Order) -> None:
        """Rest an accepted order until a tick lets it trade."""
        if order.status is not OrderStatus.ACCEPTED:
            raise ValueError(f"order {order.order_id} is {order.status.value}, not accepted")
        self._working.setdefault(order.symbol, []).append(order)

    def execute(self, order: Order, tick: Tick) -> Fill | None:
        """Submit ``order`` and give it ``tick`` at once, ahead of the resting orders: how
        the engine trades at the open that follows its signal. Whatever does not fill
        rests (an IOC remainder is cancelled)."""
        self.submit(order)
        fill = self._match(order, tick)
        if not order.status.working:
            self._working[order.symbol].remove(order)
        elif order.request.tif is TimeInForce.IOC:
            self._close(order, OrderStatus.CANCELLED, "ioc: unfilled remainder cancelled")
        return fill

    def cancel(self, order_id: int, reason: str = "cancelled") -> Order:
        order = self._find(order_id)
        self._working[order.symbol].remove(order)
        order.status = OrderStatus.CANCELLED
        order.reason = reason
        return order

    def replace(
        self,
        order_id: int,
        quantity: float | None = None,
        limit_price: float | None = None,
        stop_price: float | None = None,
    ) -> Order:
        """Change a working order's total quantity or prices in place; its place in the
        queue is kept. The new quantity must exceed what has already filled."""
        order = self._find(order_id)
        changes: dict[str, float] = {}
        if quantity is not None:
            if not quantity > order.filled_quantity:
                raise ValueError(
                    f"quantity: {quantity} does not exceed the {order.filled_quantity} filled"
                )
            changes["quantity"] = quantity
        if limit_price is not None:
            changes["limit_price"] = limit_price
        if stop_price is not None:
            changes["stop_price"] = stop_price
        order.request = replace(order.request, **changes)
        return order

    def on_bar(self, bar: Bar) -> None:
        """A bar closed: its volume sets the next interval's fill capacity."""
        if self.participation is not None:
            self._capacity[bar.symbol] = self.participation * bar.volume

    def on_tick(self, tick: Tick) -> list[Fill]:
        """Match the symbol's working orders against ``tick``; returns the fills."""
        orders = self._working.get(tick.symbol)
        if not orders:
            return []
        fills: list[Fill] = []
        for order in list(orders):
            if order.request.tif is TimeInForce.DAY and _day(tick.ts) > _day(order.ts):
                self._close(order, OrderStatus.EXPIRED, "day order expired")
                continue
            fill = self._match(order, tick)
            if fill is not None:
                fills.append(fill)
            if not order.status.working:
                orders.remove(order)
            elif order.request.tif is TimeInForce.IOC:
                self._close(order, OrderStatus.CANCELLED, "ioc: unfilled remainder cancelled")
        return fills

    def _match(self, order: Order, tick: Tick) -> Fill | None:
        request = order.request
        buy = request.side is Side.BUY
        price = tick.price
        if request.type in (OrderType.STOP, OrderType.STOP_LIMIT) and not order.triggered:
            stop = request.stop_price
            order.triggered = price >= stop if buy else price <= stop
            if not order.triggered:
                return None
        fill_at = self.fill_model.price(request.side, price)
        if request.type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
            limit = request.limit_price
            if (buy and price > limit) or (not buy and price < limit):
                return None
            fill_at = min(fill_at, limit) if buy else max(fill_at, limit)
        quantity = order.remaining
        if self.participation is not None:
            available = self._capacity.get(order.symbol, 0.0)
            quantity = min(quantity, available)
            if quantity <= 0:
                return None
            self._capacity[order.symbol] = available - quantity
        self.next_fill_id += 1
        fill = Fill(
            self.next_fill_id - 1, order.order_id, request.strategy, order.symbol,
            request.side, quantity, fill_at, self.fill_model.cost(quantity, fill_at), tick.ts,
            abs(fill_at - price) * quantity,
        )  # fmt: skip
        order.record_fill(quantity, fill_at, fill.fill_id)
        return fill

    def _close(self, order: Order, status: OrderStatus, reason: str) -> None:
        orders = self._working.get(order.symbol, [])
        if order in orders:
            orders.remove(order)
        order.status = status
        order.reason = reason

    def _find(self, order_id: int) -> Order:
        for orders in self._working.values():
            for order in orders:
                if order.order_id == order_id:
                    return order
        raise OrderNotWorking(order_id)


def _day(ts: float) -> int:
    return math.floor(ts / SECONDS_PER_DAY)
