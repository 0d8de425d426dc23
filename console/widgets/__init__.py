"""The console's widgets, one module each."""

from console.widgets.backtest_view import BacktestView
from console.widgets.bus_pane import BusPane
from console.widgets.equity_chart import EquityChart
from console.widgets.health_pane import HealthPane
from console.widgets.heatmap_grid import HeatmapGrid
from console.widgets.jobs_pane import JobsPane
from console.widgets.jobs_table import JobsTable
from console.widgets.metrics_panel import MetricsPanel
from console.widgets.param_form import ParamForm
from console.widgets.portfolio_pane import PortfolioPane
from console.widgets.readiness_pane import ReadinessPane
from console.widgets.strategy_browser import StrategyBrowser

__all__ = [
    "BacktestView",
    "BusPane",
    "EquityChart",
    "HealthPane",
    "HeatmapGrid",
    "JobsPane",
    "JobsTable",
    "MetricsPanel",
    "ParamForm",
    "PortfolioPane",
    "ReadinessPane",
    "StrategyBrowser",
]
