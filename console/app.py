"""The Quarterdeck Textual app: one instance per viewer, attached to a shared Deck."""

from __future__ import annotations

import asyncio
import logging
import signal

from textual.app import App
from textual.binding import Binding

from checks import ReadinessService
from console.screens import DashboardScreen, JobsScreen, TradingScreen
from core.deck import Deck
from themes import register_themes

log = logging.getLogger(__name__)


class QuarterdeckApp(App[int]):
    """The console. It starts the Deck in a worker so the first frame never waits for it.

    BINDINGS:
        q / ctrl+q: stop the engine cleanly and quit.
        1 / 2 / 3: the dashboard, jobs and trading screens.
    """

    CSS_PATH = "app.tcss"
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]
    TITLE = "Quarterdeck"
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("ctrl+q", "quit", "Quit", id="app.quit.ctrl", show=False, priority=True),
        Binding("1", "switch_mode('dashboard')", "Dashboard", id="app.screen.dashboard"),
        Binding("2", "switch_mode('jobs')", "Jobs", id="app.screen.jobs"),
        Binding("3", "switch_mode('trading')", "Trading", id="app.screen.trading"),
    ]

    def __init__(
        self,
        deck: Deck,
        readiness: ReadinessService | None = None,
        *,
        start_deck: bool = True,
        handle_sigterm: bool = False,
    ) -> None:
        super().__init__()
        self.deck = deck
        self.readiness = readiness
        self._start_deck = start_deck
        self._handle_sigterm = handle_sigterm
        self._quitting = False

    def on_mount(self) -> None:
        register_themes(self)
        self.theme = "quarterdeck-dark"
        s = self.deck.settings
        self.sub_title = (
            f"{s.environment} · {self.deck.engine.mode.upper()} · run {self.deck.run_id}"
        )
        self.add_mode("dashboard", lambda: DashboardScreen(self.deck, self.readiness))
        self.add_mode("jobs", lambda: JobsScreen(self.deck))
        self.add_mode("trading", lambda: TradingScreen(self.deck))
        self.switch_mode("dashboard")
        if self._start_deck:
            self.run_worker(self._start(), name="deck-start")
        if self._handle_sigterm:
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, self._on_sigterm)

    async def _start(self) -> None:
        try:
            await self.deck.start()
        except Exception as exc:
            log.exception("the deck failed to start")
            self.notify(f"The engine failed to start: {exc}", severity="error", timeout=60)

    def _on_sigterm(self) -> None:
        log.info("SIGTERM received: shutting down")
        self.call_later(self.action_quit)

    async def action_quit(self) -> None:
        """Stop the Deck (draining the store writer), then leave."""
        if self._quitting:
            return
        self._quitting = True
        try:
            await self.deck.stop()
        finally:
            if self._handle_sigterm:
                asyncio.get_running_loop().remove_signal_handler(signal.SIGTERM)
            self.exit(0)
