"""The console's widgets, one module each."""

from console.widgets.activity_pane import ActivityPane
from console.widgets.alerts_pane import AlertsPane
from console.widgets.bus_pane import BusPane
from console.widgets.equity_chart import EquityChart
from console.widgets.health_pane import HealthPane
from console.widgets.jobs_pane import JobsPane
from console.widgets.jobs_table import JobsTable
from console.widgets.portfolio_pane import PortfolioPane
from console.widgets.positions_table import PositionsTable
from console.widgets.readiness_pane import ReadinessPane

__all__ = [
    "ActivityPane",
    "AlertsPane",
    "BusPane",
    "EquityChart",
    "HealthPane",
    "JobsPane",
    "JobsTable",
    "PortfolioPane",
    "PositionsTable",
    "ReadinessPane",
]
