"""The console's screens, one module each.

``MODE_SCREENS`` is the console's map: mode name -> (key, screen class), in
the order the keys 1-8 go. The app, the palette and the help screen all read it.
"""

from console.screens.audit import AuditScreen
from console.screens.base import DeckScreen, PaletteCommand
from console.screens.dashboard import DashboardScreen
from console.screens.help import HelpScreen
from console.screens.jobs import JobsScreen
from console.screens.logs import LogsScreen
from console.screens.readiness import ReadinessScreen
from console.screens.reason import ReasonScreen
from console.screens.research import ResearchScreen
from console.screens.runbook import RunbookScreen
from console.screens.trading import TradingScreen

MODE_SCREENS: dict[str, tuple[str, type[DeckScreen]]] = {
    "dashboard": ("1", DashboardScreen),
    "research": ("2", ResearchScreen),
    "jobs": ("3", JobsScreen),
    "trading": ("4", TradingScreen),
    "readiness": ("5", ReadinessScreen),
    "runbook": ("6", RunbookScreen),
    "audit": ("7", AuditScreen),
    "logs": ("8", LogsScreen),
}

__all__ = [
    "MODE_SCREENS",
    "AuditScreen",
    "DashboardScreen",
    "DeckScreen",
    "HelpScreen",
    "JobsScreen",
    "LogsScreen",
    "PaletteCommand",
    "ReadinessScreen",
    "ReasonScreen",
    "ResearchScreen",
    "RunbookScreen",
    "TradingScreen",
]
