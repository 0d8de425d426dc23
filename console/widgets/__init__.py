"""The console's widgets, one module each."""

from console.widgets.activity_pane import ActivityPane
from console.widgets.alerts_pane import AlertsPane
from console.widgets.audit_banner import VerificationBanner
from console.widgets.audit_details import AuditDetails
from console.widgets.audit_table import AuditTable
from console.widgets.backtest_chart import BacktestChart
from console.widgets.backtest_view import BacktestView
from console.widgets.bus_pane import BusPane
from console.widgets.checklist_tree import ChecklistTree
from console.widgets.equity_chart import EquityChart
from console.widgets.evidence_pane import EvidencePane
from console.widgets.health_pane import HealthPane
from console.widgets.heatmap_grid import HeatmapGrid
from console.widgets.job_details import JobDetails
from console.widgets.jobs_pane import JobsPane
from console.widgets.jobs_table import JobsTable
from console.widgets.log_view import LogView
from console.widgets.logs_pane import LogsPane
from console.widgets.metrics_panel import MetricsPanel
from console.widgets.orders_table import OrdersTable
from console.widgets.param_form import ParamForm
from console.widgets.portfolio_pane import PortfolioPane
from console.widgets.positions_table import PositionsTable
from console.widgets.readiness_pane import ReadinessPane
from console.widgets.release_banner import ReleaseBanner
from console.widgets.rto_timer import RtoTimer
from console.widgets.strategies_table import StrategiesTable
from console.widgets.strategy_browser import StrategyBrowser

__all__ = [
    "ActivityPane",
    "AlertsPane",
    "AuditDetails",
    "AuditTable",
    "BacktestChart",
    "BacktestView",
    "BusPane",
    "ChecklistTree",
    "EquityChart",
    "EvidencePane",
    "HealthPane",
    "HeatmapGrid",
    "JobDetails",
    "JobsPane",
    "JobsTable",
    "LogView",
    "LogsPane",
    "MetricsPanel",
    "OrdersTable",
    "ParamForm",
    "PortfolioPane",
    "PositionsTable",
    "ReadinessPane",
    "ReleaseBanner",
    "RtoTimer",
    "StrategiesTable",
    "StrategyBrowser",
    "VerificationBanner",
]
