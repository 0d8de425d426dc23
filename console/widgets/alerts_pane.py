"""Alerts: feed alerts, risk breaches and state changes, strategies stopped and started,
and what the alert rules raise (memory, job failures, error rate...)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from console import formatting as fmt
from console.widgets.bus_pane import BusPane
from core.bus import Bus
from core.events import AlertRaised, FeedAlert, HealthSnapshot, Severity, StrategyChanged
from core.trading.risk import RiskEvent

KEPT = 50


@dataclass(frozen=True, slots=True)
class Alert:
    ts: float  # wall clock
    source: str
    message: str
    severe: bool


class AlertsPane(BusPane):
    """Newest first. Feed alerts come from the health snapshots (so a session that
    opens late still sees the recent ones) and carry their own time; risk and
    strategy events show their wall-clock time (``at``), not their market time.

    COMPONENT_CLASSES:
        alerts-pane--severe: needs attention now. alerts-pane--info: for the record.
        alerts-pane--label: the time and source.
    """

    TOPICS = (HealthSnapshot, RiskEvent, StrategyChanged, AlertRaised)
    LATEST_ONLY = False
    REPLAY = True  # a console opened late starts from what happened before
    COMPONENT_CLASSES = {"alerts-pane--severe", "alerts-pane--info", "alerts-pane--label"}
    DEFAULT_CSS = """
    AlertsPane { border: round $primary; }
    AlertsPane > Static { height: auto; }
    AlertsPane .alerts-pane--severe { color: $warning; text-style: bold; }
    AlertsPane .alerts-pane--info { color: $text; }
    AlertsPane .alerts-pane--label { color: $text-muted; }
    """

    def __init__(self, bus: Bus, max_hz: float = 10.0, **kwargs: Any) -> None:
        super().__init__(bus, max_hz, **kwargs)
        self.alerts: deque[Alert] = deque(maxlen=KEPT)
        self._seen: set[FeedAlert] = set()

    def compose(self) -> ComposeResult:
        self.border_title = "Alerts"
        yield Static("none", id="alerts")

    def apply(self, events: list[Any]) -> None:
        """Redraws only when an alert was added: the health snapshot that comes every
        second mostly repeats the feed alerts already shown."""
        newest = self.alerts[-1] if self.alerts else None
        for event in events:
            if isinstance(event, HealthSnapshot):
                self.alerts.extend(_feed_alert(a) for a in event.alerts if a not in self._seen)
                self._seen = set(event.alerts)  # the window the monitor keeps: bounded
            elif isinstance(event, RiskEvent):
                self.alerts.append(self._risk_alert(event))
            elif isinstance(event, AlertRaised):
                if event.rule != "risk_state":  # shown from the RiskEvent itself, above
                    severe = event.active and event.severity is not Severity.INFO
                    self.alerts.append(Alert(event.ts, event.rule.replace("_", " "),
                                             event.message, severe))  # fmt: skip
            else:
                verb = "started" if event.running else "stopped"
                message = f"{event.strategy} {verb} by {event.who}: {event.why}"
                self.alerts.append(Alert(event.at, "strategy", message, not event.running))
        if (self.alerts[-1] if self.alerts else None) is newest:
            return
        self.border_subtitle = f"{len(self.alerts)} recent"
        self.query_one("#alerts", Static).update(self._table())

    def _risk_alert(self, e: RiskEvent) -> Alert:
        if e.kind == "breach":
            message = e.why
        else:
            change = f"{e.previous.value.upper()} → {e.state.value.upper()}"
            message = f"{change} ({e.kind} by {e.who}: {e.why})"
        return Alert(e.at, "risk", message, e.kind != "reset")

    def _table(self) -> Table:
        quiet = self.get_component_rich_style("alerts-pane--label")
        severe = self.get_component_rich_style("alerts-pane--severe")
        info = self.get_component_rich_style("alerts-pane--info")
        table = Table.grid(padding=(0, 1))
        table.add_column(no_wrap=True)
        table.add_column()  # wraps: an alert is read whole, on two lines if need be
        for alert in reversed(self.alerts):
            text = Text(f"{'!' if alert.severe else '·'} {alert.source}: ", style=quiet)
            text.append(alert.message, style=severe if alert.severe else info)
            table.add_row(Text(fmt.clock(alert.ts), style=quiet), text)
        return table


def _feed_alert(alert: FeedAlert) -> Alert:
    where = f"{alert.symbol}: " if alert.symbol and alert.symbol not in alert.message else ""
    state = "" if alert.active else " (cleared)"
    source = f"{alert.feed} {alert.kind.value}"
    return Alert(alert.ts, source, f"{where}{alert.message}{state}", alert.active)
