"""Working orders: those resting at the broker, which an operator may cancel."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable

from console import formatting as fmt
from console.ticks import tick_size
from console.widgets.bus_pane import BusPane
from console.widgets.fit_table import FitTable
from console.widgets.keyed_rows import upsert_row
from core.bus import Bus
from core.trading.orders import Order, OrderEvent, OrderRequest, OrderType

COLUMNS = (("#", "id"), ("Side", "side"), ("Qty", "qty"), ("Filled", "filled"),
           ("Symbol", "symbol"), ("Type", "type"), ("Price", "price"), ("TIF", "tif"),
           ("Strategy", "strategy"))  # fmt: skip


class OrdersTable(BusPane):
    """One row per working order, keyed by its id, oldest first; an order leaves the
    table when it fills, is cancelled or expires. Seeded with the broker's working
    orders when mounted, then kept current from ``OrderEvent``s.
    ``selected`` is the order under the cursor, ``orders`` every working one.
    """

    TOPICS = (OrderEvent,)
    LATEST_ONLY = False
    DEFAULT_CSS = """
    OrdersTable { border: round $primary; }
    OrdersTable > DataTable { height: 1fr; }
    """

    def __init__(self, bus: Bus, working: list[Order], max_hz: float = 10.0,
                 **kwargs: Any) -> None:  # fmt: skip
        super().__init__(bus, max_hz, **kwargs)
        self.orders: dict[int, OrderRequest] = {o.order_id: o.request for o in working}
        self._filled = {o.order_id: o.filled_quantity for o in working}

    def compose(self) -> ComposeResult:
        self.border_title = "Working orders"
        table = FitTable(shrink=("strategy",), id="orders", cursor_type="row", zebra_stripes=True)
        for label, key in COLUMNS:
            table.add_column(label, key=key)
        yield table

    def on_mount(self) -> None:
        self._redraw(set())

    def apply(self, events: list[Any]) -> None:
        gone: set[int] = set()
        for event in events:
            if event.status.working:
                self.orders[event.order_id] = event.request
                self._filled[event.order_id] = event.filled_quantity
            elif event.order_id in self.orders:
                del self.orders[event.order_id]
                del self._filled[event.order_id]
                gone.add(event.order_id)
        self._redraw(gone)

    def _redraw(self, gone: set[int]) -> None:
        table = self.query_one("#orders", DataTable)
        for order_id in gone:
            if str(order_id) in table.rows:
                table.remove_row(str(order_id))
        for order_id, request in sorted(self.orders.items()):
            upsert_row(table, str(order_id), self._cells(order_id, request))
        self.border_subtitle = f"{len(self.orders)} working · x cancels"

    def _cells(self, order_id: int, r: OrderRequest) -> dict[str, Text]:
        tick = tick_size(self, r.symbol)
        prices = [fmt.price(p, tick) for p in (r.limit_price, r.stop_price) if p is not None]
        return {
            "id": Text(str(order_id), justify="right"),
            "side": Text(r.side.value),
            "qty": Text(fmt.quantity(r.quantity), justify="right"),
            "filled": Text(fmt.quantity(self._filled[order_id]), justify="right"),
            "symbol": Text(r.symbol),
            "type": Text(r.type.value),
            "price": Text(" / ".join(prices) or "market", justify="right"),
            "tif": Text(r.tif.value),
            "strategy": Text(r.strategy),
        }

    @property
    def selected(self) -> int | None:
        table = self.query_one("#orders", DataTable)
        if table.row_count == 0:
            return None
        key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return int(str(key.value))


def describe(order_id: int, r: OrderRequest, tick: float = 0.0) -> str:
    """``order 11 (buy 4 ETHUSD limit 3,050.00, sma_cross)``, for dialogs and the palette;
    ``tick`` is the symbol's (see ``fmt.price``)."""
    price = r.limit_price or r.stop_price
    what = f"{r.side.value} {fmt.quantity(r.quantity)} {r.symbol}"
    if r.type is not OrderType.MARKET and price is not None:
        what += f" {r.type.value} {fmt.price(price, tick)}"
    return f"order {order_id} ({what}, {r.strategy})"
