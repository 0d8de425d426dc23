"""The portfolio pane: account figures and open positions."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from console import formatting as fmt
from console.widgets.bus_pane import BusPane
from core.events import PortfolioSnapshot


class PortfolioPane(BusPane):
    """Equity, cash, PnL and drawdown of the paper account, and its positions.

    COMPONENT_CLASSES:
        portfolio-pane--up: a gain. portfolio-pane--down: a loss.
        portfolio-pane--label: a figure's name.
    """

    TOPICS = (PortfolioSnapshot,)
    COMPONENT_CLASSES = {"portfolio-pane--up", "portfolio-pane--down", "portfolio-pane--label"}
    DEFAULT_CSS = """
    PortfolioPane { border: round $primary; border-title-color: $text; }
    PortfolioPane > #portfolio-figures { height: auto; }
    PortfolioPane > DataTable { height: 1fr; }
    PortfolioPane .portfolio-pane--up { color: $success; }
    PortfolioPane .portfolio-pane--down { color: $error; }
    PortfolioPane .portfolio-pane--label { color: $text-muted; }
    """

    snapshot: PortfolioSnapshot | None = None

    def compose(self) -> ComposeResult:
        self.border_title = "Portfolio · paper"
        yield Static("waiting for the engine…", id="portfolio-figures")
        table: DataTable[Any] = DataTable(id="positions", cursor_type="row", zebra_stripes=True)
        table.add_column("Symbol", key="symbol")
        table.add_column("Qty", key="qty")
        table.add_column("Avg", key="avg")
        table.add_column("Last", key="last")
        table.add_column("Unrealized", key="upnl")
        table.add_column("Realized", key="rpnl")
        yield table

    def apply(self, events: list[Any]) -> None:
        snapshot = events[-1]
        self.snapshot = snapshot
        self.query_one("#portfolio-figures", Static).update(self._figures(snapshot))
        self._positions(snapshot)

    def _signed(self, value: float, text: str) -> Text:
        if value > 0:
            return Text(text, style=self.get_component_rich_style("portfolio-pane--up"))
        if value < 0:
            return Text(text, style=self.get_component_rich_style("portfolio-pane--down"))
        return Text(text)

    def _figures(self, s: PortfolioSnapshot) -> Table:
        label = self.get_component_rich_style("portfolio-pane--label")
        grid = Table.grid(padding=(0, 2), expand=True)
        for _ in range(4):
            grid.add_column(justify="right")
        grid.add_row(
            Text("Equity", style=label),
            fmt.money(s.equity),
            Text("Cash", style=label),
            fmt.money(s.cash),
        )
        grid.add_row(
            Text("Total PnL", style=label),
            self._signed(s.total_pnl, fmt.signed_money(s.total_pnl)),
            Text("Return", style=label),
            self._signed(s.total_pnl, fmt.signed_percent(s.total_pnl / s.starting_equity)),
        )
        grid.add_row(
            Text("Realized", style=label),
            self._signed(s.realized_pnl, fmt.signed_money(s.realized_pnl)),
            Text("Unrealized", style=label),
            self._signed(s.unrealized_pnl, fmt.signed_money(s.unrealized_pnl)),
        )
        grid.add_row(
            Text("Drawdown", style=label),
            fmt.percent(s.drawdown),
            Text("Fills", style=label),
            f"{s.fills:,}",
        )
        return grid

    def _positions(self, s: PortfolioSnapshot) -> None:
        table = self.query_one("#positions", DataTable)
        seen = set()
        for p in s.positions:
            seen.add(p.symbol)
            cells = {
                "symbol": p.symbol,
                "qty": Text(fmt.quantity(p.quantity), justify="right"),
                "avg": Text(fmt.price(p.avg_price), justify="right"),
                "last": Text(fmt.price(p.last_price), justify="right"),
                "upnl": self._signed(p.unrealized_pnl, fmt.signed_money(p.unrealized_pnl)),
                "rpnl": self._signed(p.realized_pnl, fmt.signed_money(p.realized_pnl)),
            }
            if p.symbol in table.rows:
                for column, value in cells.items():
                    table.update_cell(p.symbol, column, value)
            else:
                table.add_row(*cells.values(), key=p.symbol)
        for key in [k for k in table.rows if k.value not in seen]:
            table.remove_row(key)
