"""The console's widgets, one module each."""

from console.widgets.bus_pane import BusPane
from console.widgets.checklist_tree import ChecklistTree
from console.widgets.evidence_pane import EvidencePane
from console.widgets.health_pane import HealthPane
from console.widgets.jobs_pane import JobsPane
from console.widgets.jobs_table import JobsTable
from console.widgets.portfolio_pane import PortfolioPane
from console.widgets.readiness_pane import ReadinessPane
from console.widgets.release_banner import ReleaseBanner
from console.widgets.rto_timer import RtoTimer

__all__ = [
    "BusPane",
    "ChecklistTree",
    "EvidencePane",
    "HealthPane",
    "JobsPane",
    "JobsTable",
    "PortfolioPane",
    "ReadinessPane",
    "ReleaseBanner",
    "RtoTimer",
]
