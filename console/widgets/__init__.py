"""The console's widgets, one module each."""

from console.widgets.bus_pane import BusPane
from console.widgets.health_pane import HealthPane
from console.widgets.jobs_pane import JobsPane
from console.widgets.jobs_table import JobsTable
from console.widgets.portfolio_pane import PortfolioPane
from console.widgets.readiness_pane import ReadinessPane

__all__ = [
    "BusPane",
    "HealthPane",
    "JobsPane",
    "JobsTable",
    "PortfolioPane",
    "ReadinessPane",
]
