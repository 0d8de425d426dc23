"""Open positions, showing as many whole columns as the width allows."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual.widgets import DataTable

from console import formatting as fmt
from console.ticks import tick_size
from console.widgets.keyed_rows import upsert_row
from core.events import PositionView

#: (key, header), most important first: a narrow table drops columns from the end.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("symbol", "Symbol"),
    ("qty", "Qty"),
    ("upnl", "Unrealized"),
    ("last", "Last"),
    ("rpnl", "Realized"),
    ("avg", "Avg"),
)


class PositionsTable(DataTable[Any]):
    """One row per open position, keyed by symbol so the cursor stays on its row.

    Columns grow to their widest cell; those that would not fit whole are
    left out (the least important first) rather than cut, and come back when
    the table widens.

    COMPONENT_CLASSES (besides DataTable's):
        positions-table--up: a gain. positions-table--down: a loss.
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = DataTable.COMPONENT_CLASSES | {
        "positions-table--up",
        "positions-table--down",
    }
    DEFAULT_CSS = """
    PositionsTable { height: 1fr; }
    PositionsTable > .positions-table--up { color: $success; }
    PositionsTable > .positions-table--down { color: $error; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self._positions: tuple[PositionView, ...] = ()
        self._shown: tuple[str, ...] = ()

    def show(self, positions: tuple[PositionView, ...]) -> None:
        self._positions = positions
        cells = {p.symbol: self._cells(p) for p in positions}
        shown = self._fitting(cells)
        if shown != self._shown:
            self.clear(columns=True)
            for key, header in COLUMNS:
                if key in shown:
                    self.add_column(header, key=key)
            self._shown = shown
        for symbol, row in cells.items():
            upsert_row(self, symbol, {k: v for k, v in row.items() if k in shown})
        for key in [k for k in self.rows if k.value not in cells]:
            self.remove_row(key)

    def on_resize(self) -> None:
        self.show(self._positions)

    def _fitting(self, cells: dict[str, dict[str, Text]]) -> tuple[str, ...]:
        room = self.scrollable_content_region.width or self.size.width
        shown: list[str] = []
        used = 0
        for key, _ in COLUMNS:
            need = self._width(key, cells) + 2 * self.cell_padding
            if shown and used + need > room:
                break
            shown.append(key)
            used += need
        return tuple(shown)

    @staticmethod
    def _width(key: str, cells: dict[str, dict[str, Text]]) -> int:
        header = dict(COLUMNS)[key]
        return max([len(header)] + [row[key].cell_len for row in cells.values()])

    def _cells(self, p: PositionView) -> dict[str, Text]:
        def signed(value: float) -> Text:
            component = "positions-table--up" if value > 0 else "positions-table--down"
            style = self.get_component_rich_style(component) if value else Style()
            return Text(fmt.signed_money(value), style=style, justify="right")

        tick = tick_size(self, p.symbol)
        return {
            "symbol": Text(p.symbol),
            "qty": Text(fmt.quantity(p.quantity), justify="right"),
            "upnl": signed(p.unrealized_pnl),
            "last": Text(fmt.price(p.last_price, tick), justify="right"),
            "rpnl": signed(p.realized_pnl),
            "avg": Text(fmt.price(p.avg_price, tick), justify="right"),
        }
