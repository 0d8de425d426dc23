"""The console's map of mode screens: name -> key, title and where the screen lives.

Screens are named by import path, not imported here: the dashboard is drawn
before the trading domain (numba, SQLAlchemy...) has loaded, and most screens
import it. A screen's module is imported the first time it is shown (by then
the Deck's start-up has usually imported it already, off the event loop).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from console.screens.base import DeckScreen


@dataclass(frozen=True, slots=True)
class Mode:
    name: str
    key: str
    title: str
    screen: str  # "package.module:ClassName"

    def screen_type(self) -> type[DeckScreen]:
        module, _, name = self.screen.partition(":")
        return cast("type[DeckScreen]", getattr(import_module(module), name))


MODES: dict[str, Mode] = {
    mode.name: mode
    for mode in (
        Mode("dashboard", "1", "Dashboard", "console.screens.dashboard:DashboardScreen"),
        Mode("research", "2", "Research", "console.screens.research:ResearchScreen"),
        Mode("jobs", "3", "Jobs", "console.screens.jobs:JobsScreen"),
        Mode("trading", "4", "Trading", "console.screens.trading:TradingScreen"),
        Mode("readiness", "5", "Readiness", "console.screens.readiness:ReadinessScreen"),
        Mode("runbook", "6", "Runbook", "console.screens.runbook:RunbookScreen"),
        Mode("audit", "7", "Audit", "console.screens.audit:AuditScreen"),
        Mode("logs", "8", "Logs", "console.screens.logs:LogsScreen"),
    )
}


def import_screens() -> list[type[DeckScreen]]:
    """Every mode's screen class, importing their modules (slow: call it off the loop)."""
    return [mode.screen_type() for mode in MODES.values()]
