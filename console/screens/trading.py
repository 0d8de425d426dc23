"""The trading screen: strategies running, the account and its risk, the kill switch and
the operator's reset (both ask for a reason, recorded with who gave it)."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Static

from console.screens.base import DeckScreen
from console.screens.reason import ReasonScreen
from console.widgets import PortfolioPane
from core.access import Capability


class TradingScreen(DeckScreen):
    TITLE_TEXT = "Trading"
    ACTIONS_NEED = {"kill": Capability.TRADE, "reset_risk": Capability.RESET_RISK}
    BINDINGS = [
        Binding("k", "kill", "Kill switch", id="trading.kill"),
        Binding("R", "reset_risk", "Reset risk", id="trading.reset_risk"),
    ]
    DEFAULT_CSS = """
    TradingScreen #trading-strategies { width: 1fr; border: round $primary; padding: 0 1; }
    TradingScreen PortfolioPane { width: 2fr; }
    """

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        with Horizontal():
            yield PortfolioPane(self.deck.bus, self.deck.settings.ui_refresh_hz,
                                id="trading-portfolio")  # fmt: skip
            yield Static(self._strategies(), id="trading-strategies")
        yield from self.compose_footer()

    def on_mount(self) -> None:
        self.query_one("#trading-strategies", Static).border_title = "Strategies"

    def _strategies(self) -> Table:
        table = Table.grid(padding=(0, 1))
        for column in ("Strategy", "Params", "Symbols"):
            table.add_column(column, no_wrap=True)
        for spec in self.deck.engine.specs:
            params = " ".join(f"{k}={v}" for k, v in spec.params.items()) or "defaults"
            table.add_row(spec.strategy.id, params, ", ".join(spec.symbols))
        return table

    def action_kill(self) -> None:
        async def kill(reason: str | None) -> None:
            if reason is not None:
                await self.deck.kill(self.user.name, reason)
                self.notify("Kill switch: trading halted, orders cancelled, flattening.",
                            severity="error")  # fmt: skip

        question = "KILL SWITCH: halt trading, cancel every order and flatten every position?"
        self.app.push_screen(ReasonScreen(question), kill)

    def action_reset_risk(self) -> None:
        async def reset(reason: str | None) -> None:
            if reason is not None:
                await self.deck.reset_risk(self.user.name, reason)
                self.notify("Risk reset: trading is ACTIVE again.")

        self.app.push_screen(ReasonScreen("Reset the risk governor to ACTIVE?"), reset)
