"""The portfolio pane: account figures, risk state and limit gauges, each strategy's
sub-ledger, and open positions."""

from __future__ import annotations

import math
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from console import formatting as fmt
from console.widgets.bus_pane import BusPane
from console.widgets.keyed_rows import upsert_row
from core.events import PortfolioSnapshot, RiskSnapshot, RiskState

WIDE_FIGURES = 52  # content width from which figures sit two pairs to a row
GAUGE_WARNING = 0.8  # a limit this much used is shown as an alarm


class PortfolioPane(BusPane):
    """Equity, cash, PnL and drawdown of the paper account, its risk state with a gauge
    per limit, one line per strategy, and its positions.

    COMPONENT_CLASSES:
        portfolio-pane--up: a gain. portfolio-pane--down: a loss.
        portfolio-pane--label: a figure's name.
    """

    TOPICS = (PortfolioSnapshot, RiskSnapshot)
    COMPONENT_CLASSES = {"portfolio-pane--up", "portfolio-pane--down", "portfolio-pane--label"}
    DEFAULT_CSS = """
    PortfolioPane { border: round $primary; border-title-color: $text; }
    PortfolioPane > #portfolio-figures { height: auto; }
    PortfolioPane > #portfolio-risk { height: auto; }
    PortfolioPane > #portfolio-strategies { height: auto; }
    PortfolioPane > DataTable { height: 1fr; }
    PortfolioPane .portfolio-pane--up { color: $success; }
    PortfolioPane .portfolio-pane--down { color: $error; }
    PortfolioPane .portfolio-pane--label { color: $text-muted; }
    """

    snapshot: PortfolioSnapshot | None = None

    def compose(self) -> ComposeResult:
        self.border_title = "Portfolio · paper"
        yield Static("waiting for the engine…", id="portfolio-figures")
        yield Static("", id="portfolio-risk")
        yield Static("", id="portfolio-strategies")
        table: DataTable[Any] = DataTable(id="positions", cursor_type="row", zebra_stripes=True)
        # Most important first: a narrow pane cuts from the right.
        table.add_column("Symbol", key="symbol")
        table.add_column("Qty", key="qty")
        table.add_column("Unrealized", key="upnl")
        table.add_column("Last", key="last")
        table.add_column("Avg", key="avg")
        table.add_column("Realized", key="rpnl")
        yield table

    def apply(self, events: list[Any]) -> None:
        for event in events:
            if isinstance(event, RiskSnapshot):
                self.query_one("#portfolio-risk", Static).update(self._risk(event))
            else:
                self.snapshot = event
                self.query_one("#portfolio-figures", Static).update(self._figures(event))
                self.query_one("#portfolio-strategies", Static).update(self._strategies(event))
                self._positions(event)

    def _signed(self, value: float, text: str) -> Text:
        if value > 0:
            return Text(text, style=self.get_component_rich_style("portfolio-pane--up"))
        if value < 0:
            return Text(text, style=self.get_component_rich_style("portfolio-pane--down"))
        return Text(text)

    def on_resize(self) -> None:
        if self.snapshot is not None:
            self.query_one("#portfolio-figures", Static).update(self._figures(self.snapshot))

    def _figures(self, s: PortfolioSnapshot) -> Table:
        """Label/value pairs: four columns when the pane is wide enough, else two,
        so that no figure is ever cut short."""
        label = self.get_component_rich_style("portfolio-pane--label")
        pairs = [
            ("Equity", Text(fmt.money(s.equity))),
            ("Cash", Text(fmt.money(s.cash))),
            ("Total PnL", self._signed(s.total_pnl, fmt.signed_money(s.total_pnl))),
            (
                "Return",
                self._signed(s.total_pnl, fmt.signed_percent(s.total_pnl / s.starting_equity)),
            ),
            ("Realized", self._signed(s.realized_pnl, fmt.signed_money(s.realized_pnl))),
            ("Unrealized", self._signed(s.unrealized_pnl, fmt.signed_money(s.unrealized_pnl))),
            ("Drawdown", Text(fmt.percent(s.drawdown))),
            ("Fills", Text(f"{s.fills:,}")),
        ]
        per_row = 2 if self.content_size.width >= WIDE_FIGURES else 1
        grid = Table.grid(padding=(0, 1), expand=True)
        for _ in range(per_row):
            grid.add_column(justify="left", no_wrap=True)
            grid.add_column(justify="right", no_wrap=True)
        for start in range(0, len(pairs), per_row):
            row: list[Text] = []
            for name, value in pairs[start : start + per_row]:
                row += [Text(name, style=label), value]
            grid.add_row(*row)
        return grid

    def _risk(self, r: RiskSnapshot) -> Table:
        """The state, then a gauge for each limit that is set (an unset one is ∞)."""
        label = self.get_component_rich_style("portfolio-pane--label")
        alarm = self.get_component_rich_style("portfolio-pane--down")
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True)
        grid.add_column(no_wrap=True)
        grid.add_column(justify="right", no_wrap=True)
        state_style = "" if r.state is RiskState.ACTIVE else alarm
        grid.add_row(Text("Risk", style=label), Text(r.state.value.upper(), style=state_style), "")
        for usage in r.limits:
            if usage.limit == math.inf:
                continue
            near = usage.fraction >= GAUGE_WARNING
            gauge = Text(fmt.bar(usage.fraction, 10), style=alarm if near else "")
            grid.add_row(Text(usage.name, style=label), gauge, fmt.percent(usage.fraction, 0))
        return grid

    def _strategies(self, s: PortfolioSnapshot) -> Table | str:
        """One line per strategy's sub-ledger: its equity and PnL since it started."""
        if len(s.strategies) < 2:
            return ""  # one strategy's ledger is the account: nothing to break down
        label = self.get_component_rich_style("portfolio-pane--label")
        grid = Table.grid(padding=(0, 1))
        for justify in ("left", "right", "right"):
            grid.add_column(justify=justify, no_wrap=True)  # type: ignore[arg-type]
        for ledger in s.strategies:
            grid.add_row(
                Text(ledger.name, style=label),
                fmt.money(ledger.equity),
                self._signed(ledger.total_pnl, fmt.signed_money(ledger.total_pnl)),
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
                "upnl": self._signed(p.unrealized_pnl, fmt.signed_money(p.unrealized_pnl)),
                "last": Text(fmt.price(p.last_price), justify="right"),
                "avg": Text(fmt.price(p.avg_price), justify="right"),
                "rpnl": self._signed(p.realized_pnl, fmt.signed_money(p.realized_pnl)),
            }
            upsert_row(table, p.symbol, cells)
        for key in [k for k in table.rows if k.value not in seen]:
            table.remove_row(key)
