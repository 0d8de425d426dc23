"""Recent orders and fills, newest first."""

from __future__ import annotations

from collections import deque
from itertools import islice
from typing import Any

from rich.text import Text
from textual.app import ComposeResult

from console import formatting as fmt
from console.ticks import tick_size
from console.widgets.bus_pane import BusPane
from console.widgets.figure_grid import text_grid
from console.widgets.live_text import LiveText
from core.events import Fill
from core.trading.orders import OrderEvent, OrderType

KEPT = 50
#: Order events a fill row already tells (a market order accepted and filled at once).
TOLD_BY_FILLS = frozenset({"filled", "partially_filled"})


def worth_showing(event: Fill | OrderEvent) -> bool:
    """Fills, and what happened to orders that the fills do not say: a resting order
    accepted, anything rejected, cancelled, expired or replaced."""
    if isinstance(event, Fill):
        return True
    if event.kind in TOLD_BY_FILLS:
        return False
    return not (event.kind == "accepted" and event.request.type is OrderType.MARKET)


class ActivityPane(BusPane):
    """One line per fill (side, quantity, symbol, price) or order outcome (its limit,
    or why it was refused), with the market time it happened.

    COMPONENT_CLASSES:
        activity-pane--buy, activity-pane--sell: the side (the word is always shown too).
        activity-pane--refused: a rejected, cancelled or expired order.
        activity-pane--label: quiet text.
    """

    TOPICS = (Fill, OrderEvent)
    LATEST_ONLY = False
    REPLAY = True  # a console opened late starts from what happened before
    COMPONENT_CLASSES = {
        "activity-pane--buy", "activity-pane--sell", "activity-pane--refused",
        "activity-pane--label",
    }  # fmt: skip
    DEFAULT_CSS = """
    ActivityPane { border: round $primary; }
    ActivityPane > Static { height: 1fr; }
    ActivityPane .activity-pane--buy { color: $success; }
    ActivityPane .activity-pane--sell { color: $error; }
    ActivityPane .activity-pane--refused { color: $warning; }
    ActivityPane .activity-pane--label { color: $text-muted; }
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.recent: deque[Fill | OrderEvent] = deque(maxlen=KEPT)
        self.fills = 0

    def compose(self) -> ComposeResult:
        self.border_title = "Orders and fills"
        yield LiveText("no orders yet", id="activity")

    def apply(self, events: list[Any]) -> None:
        for event in events:
            if worth_showing(event):
                self.recent.append(event)
            self.fills += isinstance(event, Fill)
        self.border_subtitle = f"{self.fills:,} fills this session"
        self._redraw()

    def on_resize(self) -> None:
        self._redraw()

    def _redraw(self) -> None:
        self.query_one("#activity", LiveText).show(self._table())

    def _table(self) -> Text:
        """The newest events, only as many as the pane has lines for; a line too long
        for the pane loses the end of its last column (a price or a reason)."""
        lines = self.content_size.height or KEPT
        rows = [self._row(event) for event in islice(reversed(self.recent), lines)]
        if not rows:
            return Text("no orders yet")
        return text_grid(rows, ("left", "left", "left", "right", "left", "left"))

    def _row(self, event: Fill | OrderEvent) -> list[Text]:
        """Time, what, side, quantity, symbol, then the price of a fill, the limit of
        a resting order, or why an order was refused."""
        quiet = self.get_component_rich_style("activity-pane--label")
        if isinstance(event, Fill):
            what = Text("fill")
            side, quantity, symbol = event.side, event.quantity, event.symbol
            detail = Text(f"@ {fmt.price(event.price, tick_size(self, symbol))}", no_wrap=True)
        else:
            refused = event.kind in ("rejected", "cancelled", "expired")
            style = self.get_component_rich_style("activity-pane--refused") if refused else ""
            what = Text(event.kind, style=style)
            r = event.request
            side, quantity, symbol = r.side, r.quantity, r.symbol
            tick = tick_size(self, symbol)
            limit = f"{r.type.value} {fmt.price(r.limit_price, tick)}" if r.limit_price else ""
            detail = Text(event.reason or limit, style=quiet, no_wrap=True, overflow="ellipsis")
        side_style = self.get_component_rich_style(f"activity-pane--{side.value}")
        return [
            Text(fmt.clock(event.ts), style=quiet), what, Text(side.value, style=side_style),
            Text(fmt.quantity(quantity)), Text(symbol), detail,
        ]  # fmt: skip
