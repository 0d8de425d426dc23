"""One backtest's result: its metrics, equity and drawdown chart, and trades."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static

from console import formatting as fmt
from console.widgets.backtest_chart import BacktestChart
from console.widgets.metrics_panel import MetricsPanel
from core.research.runner import BacktestResult, Trade

#: The newest trades shown; a long run's full list is in an export.
TRADES_SHOWN = 1_000
COLUMNS = (("#", "n"), ("Side", "side"), ("PnL", "pnl"), ("Return", "return"),
           ("Entry", "entry"), ("Exit", "exit"), ("Entry px", "entry_px"),
           ("Exit px", "exit_px"), ("Bars", "bars"))  # fmt: skip


def bar_time(ts: float | None) -> str:
    """A bar's time in UTC, ``2026-01-03 14:00``; ``open`` for a trade not yet closed."""
    if ts is None:
        return "open"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M")


def trade_cells(number: int, trade: Trade) -> tuple[Text, ...]:
    exit_price = "--" if trade.exit_price is None else fmt.price(trade.exit_price)
    return (
        Text(str(number), justify="right"),
        Text("long" if trade.size > 0 else "short"),
        Text(fmt.signed_money(trade.pnl), justify="right"),
        Text(fmt.signed_percent(trade.return_pct), justify="right"),
        Text(bar_time(trade.entry_time)),
        Text(bar_time(trade.exit_time)),
        Text(fmt.price(trade.entry_price), justify="right"),
        Text(exit_price, justify="right"),
        Text(str(trade.bars_held), justify="right"),
    )


class BacktestView(VerticalScroll):
    """Scrolls as one page: metrics first (the figures matter most), then the chart, then
    the trades, newest last."""

    DEFAULT_CSS = """
    BacktestView { scrollbar-size-vertical: 1; }
    BacktestView > #result-title { text-style: bold; color: $primary; }
    BacktestView > MetricsPanel { margin-bottom: 1; }
    BacktestView > #trades { height: 12; border: round $primary; }
    Screen.-tall BacktestView > #trades { height: 14; }
    """

    def compose(self) -> ComposeResult:
        yield Static("", id="result-title")
        yield MetricsPanel(id="metrics")
        yield BacktestChart(id="equity-chart")
        table: DataTable[Any] = DataTable(id="trades", cursor_type="row", zebra_stripes=True)
        for label, key in COLUMNS:
            table.add_column(label, key=key)
        yield table

    def say(self, title: str) -> None:
        """Change the title alone (e.g. while a run is under way)."""
        self.query_one("#result-title", Static).update(title)

    def show(self, title: str, result: BacktestResult) -> None:
        trades = result.trades
        self.query_one("#result-title", Static).update(title)
        self.query_one(MetricsPanel).show(result.metrics)
        self.query_one(BacktestChart).show(result.equity)
        table = self.query_one("#trades", DataTable)
        table.clear()
        first = max(0, len(trades) - TRADES_SHOWN)
        for number, trade in enumerate(trades[first:], start=first + 1):
            table.add_row(*trade_cells(number, trade), key=str(number))
        shown = len(trades) - first
        table.border_title = f"Trades: {len(trades):,}" + (
            f" (newest {shown:,})" if shown < len(trades) else ""
        )
