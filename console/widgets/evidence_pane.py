"""The evidence behind one checklist item: why it matters, its verdict, what was measured,
its waiver and every verdict it has had."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from checks.catalog import ChecklistItem
from checks.probes import Scope
from checks.release import ItemState
from console.formatting import utc_stamp
from console.widgets.checklist_tree import BADGES, IN_FLIGHT, item_status
from core.events import CheckUpdate
from core.store import CheckResultRow

LABEL_WIDTH = 7  # "Section", "Decided": the longest label


def _plain(value: Any) -> str:
    """A measurement as words that can wrap: lists joined with commas, not JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple):
        return ", ".join(_plain(v) for v in value) or "none"
    if value is None:
        return "none"
    return json.dumps(value, default=str)


def _examines(item: ChecklistItem) -> str:
    """What the item's verdict is about (a catalog item has a scope once loaded)."""
    scope = item.scope or Scope.MANUAL
    return f"{scope.value} · {scope.description}"


def _decided(state: ItemState) -> str:
    """How the item is decided: its probe, or who attested it for the owning team."""
    item = state.item
    if item.probe:
        return f"probe {item.probe}"
    team = item.owner.value
    result = state.result
    if result is not None and result.source == "attestation":
        return f"attested by {result.actor} for {team}"
    return f"manual: needs an attestation for {team}"


class EvidencePane(VerticalScroll):
    """Shows ``show(state, live, history)``: the item, its current badge and reason, the
    evidence (the live run's while one is under way, else the ledger's), the waiver and
    the history of results and attestations, newest first. It reads nothing itself.

    COMPONENT_CLASSES:
        evidence-pane--pass, --warn, --fail, --muted, --running: badge colours.
        evidence-pane--label: the field names.
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "evidence-pane--pass",
        "evidence-pane--warn",
        "evidence-pane--fail",
        "evidence-pane--muted",
        "evidence-pane--running",
        "evidence-pane--label",
    }
    DEFAULT_CSS = """
    EvidencePane { border: round $primary; padding: 0 1; }
    EvidencePane .evidence-pane--pass { color: $success; }
    EvidencePane .evidence-pane--warn { color: $warning; }
    EvidencePane .evidence-pane--fail { color: $error; text-style: bold; }
    EvidencePane .evidence-pane--muted { color: $text-muted; }
    EvidencePane .evidence-pane--running { color: $accent; text-style: bold; }
    EvidencePane .evidence-pane--label { color: $text-muted; }
    """

    #: (item id, how many history rows) of what is shown; None before an item is.
    showing: tuple[str, int] | None = None

    def compose(self) -> ComposeResult:
        self.border_title = "Evidence"
        yield Static("Select an item to see its evidence.", id="evidence-body")

    def show(
        self,
        state: ItemState | None,
        live: CheckUpdate | None,
        history: Sequence[CheckResultRow],
    ) -> None:
        body = self.query_one("#evidence-body", Static)
        self.showing = None if state is None else (state.item.id, len(history))
        if state is None:
            self.border_title = "Evidence"
            body.update("Select an item to see its evidence.")
            return
        self.border_title = f"Evidence · {state.item.id}"
        body.update(Group(self._summary(state, live), self._waiver(state),
                          self._history(history)))  # fmt: skip

    def _style(self, name: str) -> Any:
        return self.get_component_rich_style(f"evidence-pane--{name}", partial=True)

    def show_refusal(self, title: str, lines: Sequence[str]) -> None:
        """Show why an action was refused (an authorization) in place of the evidence,
        until another item is shown."""
        self.showing = None
        self.border_title = title
        text = Text()
        for n, line in enumerate(lines):
            text.append(("\n" if n else "") + line,
                        style=self._style("fail") if n == 0 else "")  # fmt: skip
        self.query_one("#evidence-body", Static).update(text)

    def _summary(self, state: ItemState, live: CheckUpdate | None) -> Group:
        """What matters under pressure first (status, reason, what was measured), then
        what the item is. Values wrap at words in the width left beside short labels;
        the measurements take the whole width, one ``key: value`` per line."""
        item = state.item
        badge, tone = BADGES.get(item_status(state, live), ("?", "muted"))
        reason, evidence = self._measured(state, live)
        top = self._grid()
        top.add_row("Status", Text.assemble((badge, self._style(tone)),
                                            f"  {item.severity.value}"))  # fmt: skip
        top.add_row("Reason", reason)
        measured = Text()
        for key, value in evidence.items():
            measured.append(f"\n  {key}: ", style=self._style("label"))
            measured.append(_plain(value))
        about = self._grid()
        about.add_row("Item", item.title)
        about.add_row("Section", item.section)
        about.add_row("Scope", _examines(item))
        about.add_row("Decided", _decided(state))
        about.add_row("Why", item.why)
        about.add_row("Needs", item.evidence)
        return Group(top, measured, about) if evidence else Group(top, about)

    def _grid(self) -> Table:
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style=self._style("label"), no_wrap=True, width=LABEL_WIDTH)
        grid.add_column(ratio=1)
        return grid

    @staticmethod
    def _measured(state: ItemState, live: CheckUpdate | None) -> tuple[str, dict[str, Any]]:
        if live is not None and live.verdict not in IN_FLIGHT:
            return live.reason, dict(live.evidence)
        if live is not None:
            return live.reason, {}
        if state.result is None:
            return ("not run yet" if state.item.probe else "not attested yet"), {}
        evidence = json.loads(state.result.evidence_json or "{}")
        return state.result.reason, evidence if isinstance(evidence, dict) else {}

    def _waiver(self, state: ItemState) -> Text:
        waiver = state.waiver or state.expired_waiver
        if waiver is None:
            return Text("")
        valid = "valid" if state.waiver is not None else "EXPIRED"
        return Text.assemble(
            ("\nWaiver ", self._style("label")),
            (f"{valid} until {utc_stamp(waiver.expires_at)}", self._style("warn")),
            f": {waiver.justification} ({waiver.approver}, {waiver.approver_role})",
        )

    def _history(self, rows: Sequence[CheckResultRow]) -> Text:
        """Each verdict on a line (when, verdict, by) with its reason under it: no columns
        to squeeze in a narrow pane."""
        if not rows:
            return Text("\nNo verdicts recorded for this release yet.", style=self._style("muted"))
        text = Text("\nHistory, newest first")
        for row in reversed(rows):
            by = row.actor if row.source == "probe" else f"{row.actor} ({row.source})"
            badge, tone = BADGES.get(row.verdict, (row.verdict, "muted"))
            text.append(f"\n {utc_stamp(row.ts)}  ")
            text.append(badge, style=self._style(tone))
            text.append(f"  {by}\n   {row.reason}")
        return text
