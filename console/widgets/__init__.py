"""The console's widgets, one module each."""

from console.widgets.activity_pane import ActivityPane
from console.widgets.alerts_pane import AlertsPane
from console.widgets.bus_pane import BusPane
from console.widgets.checklist_tree import ChecklistTree
from console.widgets.equity_chart import EquityChart
from console.widgets.evidence_pane import EvidencePane
from console.widgets.health_pane import HealthPane
from console.widgets.job_details import JobDetails
from console.widgets.jobs_pane import JobsPane
from console.widgets.jobs_table import JobsTable
from console.widgets.orders_table import OrdersTable
from console.widgets.portfolio_pane import PortfolioPane
from console.widgets.positions_table import PositionsTable
from console.widgets.readiness_pane import ReadinessPane
from console.widgets.release_banner import ReleaseBanner
from console.widgets.rto_timer import RtoTimer
from console.widgets.strategies_table import StrategiesTable

__all__ = [
    "ActivityPane",
    "AlertsPane",
    "BusPane",
    "ChecklistTree",
    "EquityChart",
    "EvidencePane",
    "HealthPane",
    "JobDetails",
    "JobsPane",
    "JobsTable",
    "OrdersTable",
    "PortfolioPane",
    "PositionsTable",
    "ReadinessPane",
    "ReleaseBanner",
    "RtoTimer",
    "StrategiesTable",
]
