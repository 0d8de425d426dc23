"""The portfolio pane: account figures, risk state and limit gauges, each strategy's
sub-ledger, and open positions."""

from __future__ import annotations

import math
from typing import Any

from rich.text import Text
from textual.app import ComposeResult

from console import formatting as fmt
from console.widgets.bus_pane import BusPane
from console.widgets.figure_grid import figure_grid, text_grid
from console.widgets.live_text import LiveText
from console.widgets.positions_table import PositionsTable
from core.events import PortfolioSnapshot, RiskSnapshot, RiskState

GAUGE_WIDTH = 8
GAUGE_WARNING = 0.8  # a limit this much used is shown as an alarm


class PortfolioPane(BusPane):
    """Equity, cash, day and total PnL and drawdown of the paper account, its risk
    state with a gauge per limit, one line per strategy, and its positions. Figures
    and gauges take as many columns as the width allows, so none is ever cut short.

    COMPONENT_CLASSES:
        portfolio-pane--up: a gain. portfolio-pane--down: a loss.
        portfolio-pane--label: a figure's name. portfolio-pane--warning: a limit not set.
    """

    TOPICS = (PortfolioSnapshot, RiskSnapshot)
    COMPONENT_CLASSES = {
        "portfolio-pane--up", "portfolio-pane--down", "portfolio-pane--label",
        "portfolio-pane--warning",
    }  # fmt: skip
    DEFAULT_CSS = """
    PortfolioPane { border: round $primary; border-title-color: $text; }
    PortfolioPane > #portfolio-figures { height: auto; }
    PortfolioPane > #portfolio-risk { height: auto; }
    PortfolioPane > #portfolio-strategies { height: auto; }
    PortfolioPane > PositionsTable { height: 1fr; }
    PortfolioPane .portfolio-pane--up { color: $success; }
    PortfolioPane .portfolio-pane--down { color: $error; }
    PortfolioPane .portfolio-pane--label { color: $text-muted; }
    PortfolioPane .portfolio-pane--warning { color: $warning; }
    """

    snapshot: PortfolioSnapshot | None = None
    risk: RiskSnapshot | None = None

    def compose(self) -> ComposeResult:
        self.border_title = "Portfolio · paper"
        yield LiveText("waiting for the engine…", id="portfolio-figures")
        yield LiveText("", id="portfolio-risk")
        yield LiveText("", id="portfolio-strategies")
        yield PositionsTable(id="positions")

    def apply(self, events: list[Any]) -> None:
        for event in events:
            if isinstance(event, RiskSnapshot):
                self.risk = event
            else:
                self.snapshot = event
        self._redraw()

    def on_resize(self) -> None:
        self._redraw()

    def _redraw(self) -> None:
        width = self.content_size.width
        if self.risk is not None:
            self.query_one("#portfolio-risk", LiveText).show(self._risk(self.risk, width))
        if self.snapshot is not None:
            s = self.snapshot
            self.query_one("#portfolio-figures", LiveText).show(self._figures(s, width))
            self.query_one("#portfolio-strategies", LiveText).show(self._strategies(s))
            self.query_one(PositionsTable).show(s.positions)

    def _signed(self, value: float, text: str) -> Text:
        if value > 0:
            return Text(text, style=self.get_component_rich_style("portfolio-pane--up"))
        if value < 0:
            return Text(text, style=self.get_component_rich_style("portfolio-pane--down"))
        return Text(text)

    def _figures(self, s: PortfolioSnapshot, width: int) -> Text:
        label = self.get_component_rich_style("portfolio-pane--label")
        day = s.day_pnl
        values = [
            ("Equity", Text(fmt.money(s.equity))),
            ("Day PnL", Text("--") if day is None else self._signed(day, fmt.signed_money(day))),
            ("Total PnL", self._signed(s.total_pnl, fmt.signed_money(s.total_pnl))),
            ("Drawdown", Text(fmt.percent(s.drawdown))),
            ("Cash", Text(fmt.money(s.cash))),
            (
                "Return",
                self._signed(s.total_pnl, fmt.signed_percent(s.total_pnl / s.starting_equity)),
            ),
            ("Realized", self._signed(s.realized_pnl, fmt.signed_money(s.realized_pnl))),
            ("Unrealized", self._signed(s.unrealized_pnl, fmt.signed_money(s.unrealized_pnl))),
            ("Fees", Text(fmt.money(s.fees))),
            ("Fills", Text(f"{s.fills:,}")),
        ]
        return figure_grid([(Text(name, style=label), value) for name, value in values], width)

    def _risk(self, r: RiskSnapshot, width: int) -> Text:
        """The state, then a gauge for each limit; an unset one says "no limit", in the
        warning colour (trading without it is a choice to see)."""
        label = self.get_component_rich_style("portfolio-pane--label")
        alarm = self.get_component_rich_style("portfolio-pane--down")
        warning = self.get_component_rich_style("portfolio-pane--warning")
        state = Text(r.state.value.upper(), style="" if r.state is RiskState.ACTIVE else alarm)
        pairs = [(Text("Risk", style=label), state)]
        for usage in r.limits:
            if usage.limit == math.inf:
                pairs.append((Text(usage.name, style=label), Text("no limit", style=warning)))
                continue
            gauge = Text(fmt.bar(usage.fraction, GAUGE_WIDTH),
                         style=alarm if usage.fraction >= GAUGE_WARNING else "")  # fmt: skip
            gauge.append(f"{fmt.percent(usage.fraction, 0):>5}")
            pairs.append((Text(usage.name, style=label), gauge))
        return figure_grid(pairs, width)

    def _strategies(self, s: PortfolioSnapshot) -> Text:
        """One line per strategy's sub-ledger: its equity and PnL since it started."""
        if len(s.strategies) < 2:
            return Text()  # one strategy's ledger is the account: nothing to break down
        label = self.get_component_rich_style("portfolio-pane--label")
        rows = [
            [
                Text(ledger.name, style=label),
                Text(fmt.money(ledger.equity)),
                self._signed(ledger.total_pnl, fmt.signed_money(ledger.total_pnl)),
            ]
            for ledger in s.strategies
        ]
        return text_grid(rows, ("left", "right", "right"))
