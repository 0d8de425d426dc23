"""The notice every console shows when the user strategies are reloaded (a file in the
strategies folder was saved, added or removed): what changed, or what did not load."""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.notifications import SeverityLevel

from core.bus import Bus
from core.events import StrategiesLoaded, StrategyVersionChange

#: Errors a notice names; the research screen and the alerts show them all.
NOTICE_ERRORS = 3
NOTICE_SECONDS = 10.0


def describe_change(c: StrategyVersionChange) -> str:
    if c.new is None:
        return f"{c.strategy} removed"
    if c.old is None:
        return f"{c.strategy} {c.new} (new)"
    return f"{c.strategy} {c.old} → {c.new}"


def reload_notice(loaded: StrategiesLoaded) -> tuple[str, SeverityLevel]:
    """The text and severity of a reload's notice: its changes, then the errors it
    brought (or, when nothing changed, those that remain: the save fixed nothing)."""
    changes = ", ".join(describe_change(c) for c in loaded.changes) or "no change"
    errors = loaded.new_errors or (() if loaded.changes else loaded.errors)
    lines = [f"strategies reloaded: {changes}", *(str(e) for e in errors[:NOTICE_ERRORS])]
    if len(errors) > NOTICE_ERRORS:
        lines.append(f"and {len(errors) - NOTICE_ERRORS} more (research screen, alerts)")
    return "\n".join(lines), "error" if errors else "information"


async def announce_reloads(app: App[Any], bus: Bus) -> None:
    """Show a notice on ``app`` for each reload of the user strategies, until cancelled
    (the start-up load is not news: the research screen and the alerts show it)."""
    with bus.subscribe(StrategiesLoaded) as loads:
        async for loaded in loads:
            if loaded.reload:
                text, severity = reload_notice(loaded)
                app.notify(text, severity=severity, timeout=NOTICE_SECONDS, markup=False)
