"""The console's screens, one module each."""

from console.screens.dashboard import DashboardScreen

__all__ = ["DashboardScreen"]
