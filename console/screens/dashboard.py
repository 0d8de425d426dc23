"""The dashboard: portfolio, jobs, health and readiness at a glance."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Grid
from textual.screen import Screen
from textual.widgets import Footer, Header

from checks import ReadinessService
from console.widgets import HealthPane, JobsPane, PortfolioPane, ReadinessPane
from core.deck import Deck


class DashboardScreen(Screen[None]):
    def __init__(self, deck: Deck, readiness: ReadinessService | None) -> None:
        super().__init__(id="dashboard")
        self._deck = deck
        self._readiness = readiness

    def compose(self) -> ComposeResult:
        bus, hz = self._deck.bus, self._deck.settings.ui_refresh_hz
        yield Header(show_clock=True)
        with Grid(id="dashboard-grid"):
            yield PortfolioPane(bus, hz, id="portfolio")
            yield JobsPane(bus, hz, id="jobs-pane")
            yield HealthPane(bus, hz, id="health")
            yield ReadinessPane(bus, self._readiness, hz, id="readiness")
        yield Footer()
