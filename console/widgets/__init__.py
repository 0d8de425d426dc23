"""The console's widgets, one module each."""

from console.widgets.bus_pane import BusPane
from console.widgets.health_pane import HealthPane
from console.widgets.jobs_pane import JobsPane
from console.widgets.jobs_table import JobsTable
from console.widgets.portfolio_pane import PortfolioPane
from console.widgets.readiness_pane import ReadinessPane

# isort: split
from console.widgets.audit_banner import VerificationBanner
from console.widgets.audit_details import AuditDetails
from console.widgets.audit_table import AuditTable
from console.widgets.log_view import LogView
from console.widgets.logs_pane import LogsPane

__all__ = [
    "BusPane",
    "HealthPane",
    "JobsPane",
    "JobsTable",
    "PortfolioPane",
    "ReadinessPane",
]
__all__ += ["AuditDetails", "AuditTable", "LogView", "LogsPane", "VerificationBanner"]
