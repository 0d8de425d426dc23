"""The trading screen: strategies running (start, stop and restart them on their newest
code), working orders (cancel them), the account and its risk, recent orders and fills,
the kill switch and the operator's reset. Everything that changes trading asks for a
reason, recorded in the journal and the audit trail with who gave it.

Stopping a strategy leaves its positions as they are: it only stops new decisions
(and cancels its working orders). Getting out is a separate, deliberate act, the kill
switch, so that stopping a misbehaving strategy never itself sends a market order.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.widgets import DataTable

from console.modes import MODES
from console.screens.base import DeckScreen, Need, PaletteCommand
from console.screens.reason import ReasonScreen
from console.screens.strategy import StrategyScreen
from console.widgets.activity_pane import ActivityPane
from console.widgets.orders_table import OrdersTable, describe
from console.widgets.portfolio_pane import PortfolioPane
from console.widgets.strategies_table import StrategiesTable
from core.access import Capability
from core.events import RiskState


class TradingScreen(DeckScreen):
    """BINDINGS: s stop / g start / r restart (on its newest loaded code) the strategy
    under the cursor, x cancel the working order under the cursor, k kill switch, R reset
    risk; each asks for a reason. ``enter`` on a strategy opens its drill-down."""

    TITLE_TEXT = MODES["trading"].title
    AUTO_FOCUS = "#strategies"  # arrows move between strategies, not scroll the screen
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    ACTIONS_NEED = {
        "kill": Need(Capability.TRADE, "risk.kill"),
        "reset_risk": Need(Capability.RESET_RISK, "risk.reset"),
        "reset_account": Need(Capability.RESET_ACCOUNT, "account.reset"),
        "stop_strategy": Need(Capability.TRADE, "strategy.stop"),
        "start_strategy": Need(Capability.TRADE, "strategy.start"),
        "restart_strategy": Need(Capability.TRADE, "strategy.restart"),
        "cancel_order": Need(Capability.TRADE, "order.cancel"),
    }
    BINDINGS = [
        Binding("s", "stop_strategy", "Stop strategy", id="trading.stop_strategy"),
        Binding("g", "start_strategy", "Start strategy", id="trading.start_strategy"),
        Binding("r", "restart_strategy", "Restart strategy", id="trading.restart_strategy"),
        Binding("x", "cancel_order", "Cancel order", id="trading.cancel_order"),
        Binding("k", "kill", "Kill switch", id="trading.kill"),
        Binding("R", "reset_risk", "Reset risk", id="trading.reset_risk"),
    ]
    DEFAULT_CSS = """
    TradingScreen #trading { scrollbar-size-vertical: 1; }
    TradingScreen #trading-grid { grid-size: 1; grid-rows: auto 8 16 10; height: auto; }
    TradingScreen #trading-grid > * { padding: 0 1; }
    TradingScreen.-wide.-tall #trading-grid {
        grid-size: 2; grid-columns: 1fr 1fr; grid-rows: auto 8 1fr; height: 100%;
    }
    TradingScreen.-wide.-tall StrategiesTable { column-span: 2; }
    TradingScreen.-wide.-tall OrdersTable { column-span: 2; }
    """

    def compose(self) -> ComposeResult:
        deck, hz = self.deck, self.deck.settings.ui_refresh_hz
        engine = deck.engine
        yield from self.compose_header()
        with VerticalScroll(id="trading"), Grid(id="trading-grid"):
            yield StrategiesTable(deck.bus, engine.specs, engine.stopped_by, hz,
                                  id="trading-strategies")  # fmt: skip
            yield OrdersTable(deck.bus, engine.broker.working(), hz, id="trading-orders")
            yield PortfolioPane(deck.bus, hz, id="trading-portfolio")
            yield ActivityPane(deck.bus, hz, id="trading-activity")
        yield from self.compose_footer()

    # --- strategies -------------------------------------------------------------------

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """``enter`` on a strategy opens its drill-down."""
        if event.data_table.id == "strategies" and event.row_key.value is not None:
            self.app.push_screen(StrategyScreen(self.deck, str(event.row_key.value)))

    def action_stop_strategy(self) -> None:
        name = self.query_one(StrategiesTable).selected
        if name is not None:
            self._stop(name)

    def action_start_strategy(self) -> None:
        name = self.query_one(StrategiesTable).selected
        if name is not None:
            self._start(name)

    def action_restart_strategy(self) -> None:
        name = self.query_one(StrategiesTable).selected
        if name is not None:
            self._restart(name)

    def _stop(self, name: str) -> None:
        async def stop(reason: str | None) -> None:
            if reason is None:
                return
            with self.refusals(f"Stop strategy {name}"):
                if await self.deck.stop_strategy(self.user, reason, name):
                    self.notify(f"Strategy {name} stopped: no new orders; positions kept.")
                else:
                    self.notify(f"Strategy {name} was already stopped.", severity="warning")

        question = (f"Stop strategy {name}? It places no new orders and its working orders "
                    "are cancelled; its positions stay (the kill switch flattens).")  # fmt: skip
        self.app.push_screen(ReasonScreen(question), stop)

    def _start(self, name: str) -> None:
        if self.deck.engine.execution.risk.state is RiskState.HALTED:
            self.notify(f"Strategy {name} cannot start: trading is halted. An admin's risk "
                        "reset (R) comes first.", severity="warning", timeout=10)  # fmt: skip
            return

        async def start(reason: str | None) -> None:
            if reason is None:
                return
            with self.refusals(f"Start strategy {name}"):
                try:
                    started = await self.deck.start_strategy(self.user, reason, name)
                except ValueError as exc:
                    self.notify(f"Strategy {name} not started: {exc}.", severity="error")
                    return
                if started:
                    self.notify(f"Strategy {name} started: it trades from its next signal.")
                else:
                    self.notify(f"Strategy {name} is already running.", severity="warning")

        self.app.push_screen(ReasonScreen(f"Start strategy {name} trading again?"), start)

    def _restart(self, name: str) -> None:
        async def restart(reason: str | None) -> None:
            if reason is None:
                return
            with self.refusals(f"Restart strategy {name}"):
                try:
                    old, new = await self.deck.restart_strategy(self.user, reason, name)
                except ValueError as exc:
                    self.notify(f"Strategy {name} not restarted (it runs as it was): {exc}",
                                severity="error", timeout=15)  # fmt: skip
                    return
                same = " (the same code)" if old == new else ""
                self.notify(f"Strategy {name} restarted: version {old} -> {new}{same}; "
                            "positions kept, it trades from its next signal.")  # fmt: skip

        question = (f"Restart strategy {name} on its newest loaded code? Its positions and "
                    "ledger stay; its working orders are cancelled.")  # fmt: skip
        self.app.push_screen(ReasonScreen(question), restart)

    # --- orders -----------------------------------------------------------------------

    def action_cancel_order(self) -> None:
        order_id = self.query_one(OrdersTable).selected
        if order_id is None:
            self.notify("No working order to cancel.", severity="warning")
            return
        self._cancel(order_id)

    def _cancel(self, order_id: int) -> None:
        request = self.query_one(OrdersTable).orders.get(order_id)
        what = (f"order {order_id}" if request is None
                else describe(order_id, request, self.deck.tick_size(request.symbol)))  # fmt: skip

        async def cancel(reason: str | None) -> None:
            if reason is None:
                return
            with self.refusals(f"Cancel {what}"):
                if await self.deck.cancel_order(self.user, reason, order_id):
                    self.notify(f"Cancelled {what}.")
                else:
                    self.notify(f"Order {order_id} is no longer working.", severity="warning")

        self.app.push_screen(ReasonScreen(f"Cancel {what}?"), cancel)

    # --- the account ------------------------------------------------------------------

    def action_kill(self) -> None:
        async def kill(reason: str | None) -> None:
            if reason is not None:
                with self.refusals("Kill switch"):
                    await self.deck.kill(self.user, reason)
                    self.notify("Kill switch: trading halted, orders cancelled, every strategy "
                                "stopped, flattening.", severity="error")  # fmt: skip

        question = ("KILL SWITCH: halt trading, cancel every order, stop every strategy and "
                    "flatten every position?")  # fmt: skip
        self.app.push_screen(ReasonScreen(question), kill)

    def action_reset_risk(self) -> None:
        """Back to ACTIVE from REDUCING or HALTED; while ACTIVE, a reset restarts the
        day's loss and the drawdown's peak from now, and says so."""
        was = self.deck.engine.execution.risk.state

        async def reset(reason: str | None) -> None:
            if reason is not None:
                with self.refusals("Reset risk"):
                    await self.deck.reset_risk(self.user, reason)
                    if was is RiskState.ACTIVE:
                        self.notify("Risk reset: still ACTIVE; the day's loss and the "
                                    "drawdown now count from here.")  # fmt: skip
                    else:
                        self.notify(f"Risk reset: {was.name} -> ACTIVE. Stopped strategies "
                                    "stay stopped until started (g).")  # fmt: skip

        if was is RiskState.ACTIVE:
            question = ("Trading is ACTIVE. Restart the day's loss and the drawdown's peak "
                        "from now?")  # fmt: skip
        else:
            question = f"Reset the risk governor from {was.name} to ACTIVE?"
        self.app.push_screen(ReasonScreen(question), reset)

    def action_reset_account(self) -> None:
        """Archive the account and trade a new one (admin; halted and flat first)."""
        account = self.deck.account
        if account is None:
            self.notify("The engine has not opened its account yet.", severity="warning")
            return

        async def reset(reason: str | None) -> None:
            if reason is None:
                return
            with self.refusals("Account reset"):
                try:
                    new_id = await self.deck.reset_account(self.user, reason)
                except ValueError as exc:
                    self.notify(f"Account not reset: {exc}.", severity="error", timeout=15)
                    return
                self.notify(f"Account {account.account.id} archived; trading account {new_id} "
                            f"(quarterdeck account --id {account.account.id} reads the old one).",
                            timeout=15)  # fmt: skip

        cash = self.deck.settings.starting_cash
        question = (
            f"ACCOUNT RESET: archive account {account.account.id} and start a new "
            f"one with {cash:,.2f}? Trading must be halted and the account flat."
        )
        self.app.push_screen(ReasonScreen(question), reset)

    # --- the palette ------------------------------------------------------------------

    def palette_commands(self) -> Iterable[PaletteCommand]:
        """Stop or start each strategy (by its state), restart it on its newest code, reset
        the account, and cancel each working order."""
        stopped = self.deck.engine.stopped
        for spec in self.deck.engine.specs:
            name = spec.strategy.id
            symbols = ", ".join(spec.symbols)
            if name in stopped:
                yield PaletteCommand(f"Start strategy {name}", f"stopped; trades {symbols}",
                                     lambda n=name: self._start(n), "start_strategy")  # fmt: skip
            else:
                yield PaletteCommand(f"Stop strategy {name}", f"running; trades {symbols}",
                                     lambda n=name: self._stop(n), "stop_strategy")  # fmt: skip
            yield PaletteCommand(f"Restart strategy {name}",
                                 f"on its newest loaded code (runs {spec.strategy.version})",
                                 lambda n=name: self._restart(n), "restart_strategy")  # fmt: skip
        yield PaletteCommand("Reset the paper account…", "archive it and start a new one "
                             "(halted and flat first)", self.action_reset_account,
                             "reset_account")  # fmt: skip
        for order_id, request in sorted(self.query_one(OrdersTable).orders.items()):
            title = describe(order_id, request, self.deck.tick_size(request.symbol))
            yield PaletteCommand(f"Cancel {title}", "a working order",
                                 lambda o=order_id: self._cancel(o), "cancel_order")  # fmt: skip
