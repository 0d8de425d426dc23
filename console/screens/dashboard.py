"""The dashboard: the account, its risk, jobs, alerts, orders and fills, equity, health
and readiness at a glance.

On a terminal at least 100 columns wide and 32 rows tall every pane fits on one
screen. Below that the account spans the full width with jobs and alerts under
it, which fill an 80x24 screen; the other panes follow below and are reached
by scrolling (mouse wheel, or Page Down once the screen has focus), so no
pane is squeezed until its numbers are cut.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Grid, VerticalScroll

from console.modes import MODES
from console.screens.base import DeckScreen
from console.widgets.activity_pane import ActivityPane
from console.widgets.alerts_pane import AlertsPane
from console.widgets.equity_chart import EquityChart
from console.widgets.health_pane import HealthPane
from console.widgets.jobs_pane import JobsPane
from console.widgets.portfolio_pane import PortfolioPane
from console.widgets.readiness_pane import ReadinessPane

if TYPE_CHECKING:
    from core.deck import Deck


class DashboardScreen(DeckScreen):
    TITLE_TEXT = MODES["dashboard"].title
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    DEFAULT_CSS = """
    DashboardScreen #dashboard { scrollbar-size-vertical: 1; }
    DashboardScreen #dashboard-grid {
        grid-size: 2;
        grid-columns: 3fr 2fr;
        grid-rows: 13 9 10 10;
        height: auto;
    }
    DashboardScreen #portfolio { column-span: 2; }
    DashboardScreen #dashboard-grid > * { padding: 0 1; }
    DashboardScreen #dashboard-grid > JobsPane { padding: 0; }
    DashboardScreen JobsPane > #job-result { display: none; }

    DashboardScreen.-wide.-tall #dashboard-grid {
        grid-columns: 1fr 1fr;
        grid-rows: 1fr 1fr 9 8;
        height: 100%;
    }
    DashboardScreen.-wide.-tall #portfolio { column-span: 1; row-span: 2; }
    DashboardScreen.-wide.-tall JobsPane > #job-result { display: block; }
    """

    def compose(self) -> ComposeResult:
        bus, hz = self.console.bus, self.console.settings.ui_refresh_hz
        yield from self.compose_header()
        with VerticalScroll(id="dashboard"), Grid(id="dashboard-grid"):
            yield PortfolioPane(bus, hz, id="portfolio")
            yield JobsPane(bus, hz, id="jobs-pane")
            yield AlertsPane(bus, hz, id="alerts-pane")
            yield ActivityPane(bus, hz, id="activity-pane")
            yield EquityChart(bus, hz, id="equity")
            yield ReadinessPane(bus, self.console.readiness, hz, id="readiness")
            yield HealthPane(bus, hz, id="health")
        yield from self.compose_footer()

    def on_mount(self) -> None:
        if self.console.deck_ready.is_set():
            self._catch_up(self.deck)

    def on_deck_attached(self, deck: Deck) -> None:
        super().on_deck_attached(deck)
        self._catch_up(deck)

    def _catch_up(self, deck: Deck) -> None:
        """Start the panes that follow events from what happened before they subscribed:
        the jobs so far and the readiness verdicts. The local console subscribes before
        the Deck starts, but an SSH session's dashboard opens long after (its jobs and
        readiness panes were empty until something changed)."""
        self.query_one(JobsPane).apply(list(deck.jobs.jobs.values()))
        if self.console.readiness is not None:
            self.query_one(ReadinessPane).follow(self.console.readiness)
