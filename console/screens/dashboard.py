"""The dashboard: portfolio, jobs, health and readiness at a glance."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Grid

from console.screens.base import DeckScreen
from console.widgets import HealthPane, JobsPane, PortfolioPane, ReadinessPane


class DashboardScreen(DeckScreen):
    TITLE_TEXT = "Dashboard"

    def compose(self) -> ComposeResult:
        bus, hz = self.deck.bus, self.deck.settings.ui_refresh_hz
        yield from self.compose_header()
        with Grid(id="dashboard-grid"):
            yield PortfolioPane(bus, hz, id="portfolio")
            yield JobsPane(bus, hz, id="jobs-pane")
            yield HealthPane(bus, hz, id="health")
            yield ReadinessPane(bus, self.console.readiness, hz, id="readiness")
        yield from self.compose_footer()
