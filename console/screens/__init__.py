"""The console's screens, one module each."""

from console.screens.dashboard import DashboardScreen
from console.screens.jobs import JobsScreen
from console.screens.reason import ReasonScreen
from console.screens.trading import TradingScreen

__all__ = ["DashboardScreen", "JobsScreen", "ReasonScreen", "TradingScreen"]
