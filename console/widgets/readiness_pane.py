"""The readiness pane: the production checklist with each item's latest verdict."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable

from console.widgets.bus_pane import BusPane
from console.widgets.fit_table import FitTable
from console.widgets.keyed_rows import upsert_row
from core.bus import Bus
from core.events import CheckUpdate, Verdict

if TYPE_CHECKING:
    from checks import ReadinessService

VERDICT_MARKS: dict[Verdict, str] = {
    Verdict.PENDING: "… pending",
    Verdict.RUNNING: "⟳ running",
    Verdict.PASS: "✔ pass",
    Verdict.WARN: "! warn",
    Verdict.FAIL: "✘ fail",
    Verdict.ERROR: "✘ error",
    Verdict.MANUAL: "○ manual",
}


class ReadinessPane(BusPane):
    """One row per checklist item: verdict (symbol and word, not colour alone), item,
    severity and the probe's one-line reason.

    COMPONENT_CLASSES:
        readiness-pane--pass, readiness-pane--warn, readiness-pane--fail: verdict colours.
    """

    TOPICS = (CheckUpdate,)
    LATEST_ONLY = False  # every item's update matters, not just the newest one
    COMPONENT_CLASSES = {"readiness-pane--pass", "readiness-pane--warn", "readiness-pane--fail"}
    DEFAULT_CSS = """
    ReadinessPane { border: round $primary; }
    ReadinessPane > DataTable { height: 1fr; }
    ReadinessPane .readiness-pane--pass { color: $success; }
    ReadinessPane .readiness-pane--warn { color: $warning; }
    ReadinessPane .readiness-pane--fail { color: $error; text-style: bold; }
    """

    def __init__(
        self, bus: Bus, readiness: ReadinessService | None, max_hz: float = 10.0, **kwargs: Any
    ) -> None:
        super().__init__(bus, max_hz, **kwargs)
        self.readiness = readiness

    def compose(self) -> ComposeResult:
        self.border_title = "Readiness · production"
        table = FitTable(shrink=("reason", "title"), id="checks", cursor_type="row",
                         zebra_stripes=True)  # fmt: skip
        table.add_column("Status", key="verdict")
        table.add_column("Item", key="title")
        table.add_column("Severity", key="severity")
        table.add_column("Reason", key="reason")
        yield table

    def apply(self, events: list[Any]) -> None:
        table = self.query_one("#checks", DataTable)
        titles = self._titles()
        for update in events:
            title, severity = titles.get(update.item_id, (update.item_id, ""))
            cells = {
                "verdict": self._verdict(update.verdict),
                "title": Text(title),
                "severity": Text(severity),
                "reason": Text(update.reason),
            }
            upsert_row(table, update.item_id, cells)
        self._update_title(table)

    def follow(self, readiness: ReadinessService) -> None:
        """Show ``readiness``'s checklist from its items' latest updates on: the events
        this pane receives are only those published after it subscribed."""
        self.readiness = readiness
        self.apply(list(readiness.updates.values()))

    def _titles(self) -> dict[str, tuple[str, str]]:
        checklist = None if self.readiness is None else self.readiness.checklist
        if checklist is None:
            return {}
        return {item.id: (item.title, item.severity) for item in checklist.items}

    def _verdict(self, verdict: Verdict) -> Text:
        component = {
            Verdict.PASS: "readiness-pane--pass",
            Verdict.WARN: "readiness-pane--warn",
            Verdict.FAIL: "readiness-pane--fail",
            Verdict.ERROR: "readiness-pane--fail",
        }.get(verdict)
        style = self.get_component_rich_style(component) if component else ""
        return Text(VERDICT_MARKS[verdict], style=style)

    def _update_title(self, table: DataTable[Any]) -> None:
        if self.readiness is None or not self.readiness.results:
            return
        verdicts = [r.verdict for r in list(self.readiness.results.values())]
        passed = sum(v is Verdict.PASS for v in verdicts)
        self.border_subtitle = (
            f"{passed}/{len(verdicts)} automated checks pass · {table.row_count} items"
        )
