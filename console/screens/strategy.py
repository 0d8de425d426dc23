"""A strategy's drill-down, opened with ``enter`` on the Trading screen: its PnL and
costs, round trips and turnover, newest fills and signals, and a warning when its costs
exceed its gross profit. The figures are the account's own (``core.trading``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from console import formatting as fmt
from core.trading.strategy_report import StrategyReport, target_name

if TYPE_CHECKING:
    from core.deck import Deck


class StrategyScreen(ModalScreen[None]):
    """BINDINGS: r reread, escape close."""

    BINDINGS = [
        Binding("r", "reread", "Reread", id="strategy.reread"),
        Binding("escape", "close", "Close", id="strategy.close"),
    ]
    DEFAULT_CSS = """
    StrategyScreen { align: center middle; }
    StrategyScreen > VerticalScroll {
        width: 96; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    StrategyScreen #strategy-warning { color: $warning; text-style: bold; }
    """

    def __init__(self, deck: Deck, strategy: str) -> None:
        super().__init__()
        self.deck = deck
        self.strategy = strategy

    def compose(self) -> ComposeResult:
        with VerticalScroll() as body:
            body.border_title = f"Strategy {self.strategy}"
            body.border_subtitle = "r reread · escape close"
            yield Static("reading…", id="strategy-figures")
            yield Static("", id="strategy-warning")
            yield Static("", id="strategy-recent")

    def on_mount(self) -> None:
        self.action_reread()

    def action_reread(self) -> None:
        self.run_worker(self._read(), name="strategy-report", exclusive=True)

    def action_close(self) -> None:
        self.dismiss(None)

    async def _read(self) -> None:
        report = await self.deck.strategy_report(self.strategy)
        self.query_one("#strategy-figures", Static).update(figures(report))
        self.query_one("#strategy-warning", Static).update(cost_warning(report))
        self.query_one("#strategy-recent", Static).update(recent(report, self.deck.tick_size))


def cost_warning(report: StrategyReport) -> str:
    if not report.costs_exceed_gross:
        return ""
    gross = fmt.signed_money(report.gross_pnl)
    return (
        f"⚠ Costs {fmt.money(report.fees)} exceed the gross profit {gross}: it trades for the fees."
    )


def figures(report: StrategyReport) -> Text:
    ledger = report.figures.ledger
    if report.running:
        state = "running"
    elif report.stopped is not None:
        stopped = report.stopped
        state = f"stopped by {stopped.who} at {fmt.utc_stamp(stopped.ts)}: {stopped.why}"
    else:
        state = "stopped"
    rows: list[tuple[str, str]] = [
        ("State", state),
        ("Code", f"version {report.version} ({report.source})"),
        ("Realized", fmt.signed_money(ledger.realized_pnl)),
        ("Unrealized", fmt.signed_money(ledger.unrealized_pnl)),
        ("Gross PnL", fmt.signed_money(report.gross_pnl)),
        ("Fees", f"{fmt.money(report.fees)}  (commissions {fmt.money(ledger.commissions)}, "
                 f"slippage {fmt.money(ledger.slippage)})"),
        ("Total PnL", fmt.signed_money(report.total_pnl)),
        ("Trades", f"{report.figures.trades:,} round trips, {ledger.fills:,} fills"),
        ("Turnover", fmt.money(report.figures.turnover)),
    ]  # fmt: skip
    text = Text()
    for name, value in rows:
        text.append(f"{name:<12}", style="dim")
        text.append(f"{value}\n")
    return text


def recent(report: StrategyReport, tick_size: Callable[[str], float]) -> Text:
    """Its newest fills, priced on their symbol's tick, and its newest signals."""
    text = Text()
    text.append(f"Newest fills ({len(report.recent_fills)})\n", style="bold")
    for fill in reversed(report.recent_fills):
        text.append(f"  {fmt.utc_timestamp(fill.ts)}  {fill.side:<4} {fill.quantity:>10,.6g} "
                    f"{fill.symbol:<8} @ {fmt.price(fill.price, tick_size(fill.symbol))}  "
                    f"fees {fmt.money(fill.commission + fill.slippage)}  "
                    f"v {fill.strategy_version}\n")  # fmt: skip
    if not report.recent_fills:
        text.append("  none yet\n")
    text.append(f"Newest signals ({len(report.signals)})\n", style="bold")
    for signal in reversed(report.signals):
        text.append(f"  {fmt.utc_timestamp(signal.ts)}  {signal.symbol:<8} "
                    f"{target_name(signal.target)}\n")  # fmt: skip
    if not report.signals:
        text.append("  none since the engine started\n")
    return text
