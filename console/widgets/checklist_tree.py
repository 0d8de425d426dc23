"""The checklist as a tree: sections, then items, each with its status badge, live."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from checks.catalog import Checklist, ChecklistItem
from checks.release import SATISFIED, ItemState, ReleaseState
from console.formatting import bar
from console.widgets.bus_pane import BusPane
from core.bus import Bus
from core.events import CheckUpdate, Verdict

#: status -> (badge, tone). The symbol and word carry the meaning; the tone's colour repeats it.
BADGES: dict[str, tuple[str, str]] = {
    "pass": ("✔ PASS", "pass"),
    "attested": ("✔ ATTESTED", "pass"),
    "warn": ("! WARN", "warn"),
    "waived": ("≈ WAIVED", "warn"),
    "fail": ("✘ FAIL", "fail"),
    "error": ("✘ ERROR", "fail"),
    "manual": ("○ MANUAL", "muted"),
    "pending": ("… PENDING", "muted"),
    "running": ("⟳ RUNNING", "running"),
}
SYMBOL_ORDER = "✔!≈✘○…⟳"  # the order of the counts on a section's line
BADGE_WIDTH = max(len(badge) for badge, _ in BADGES.values())
IN_FLIGHT = frozenset({Verdict.PENDING, Verdict.RUNNING})
FAILING = frozenset({"fail", "error"})  # what "failing only" keeps (a waived item is not)


def item_status(state: ItemState, live: CheckUpdate | None = None) -> str:
    """What an item shows: a probe's live verdict while a run is under way (or until the
    ledger is read again), else the ledger's; "waived" over an unsatisfied verdict with a
    valid waiver, "attested" for a manual item a person passed."""
    if live is not None:
        verdict = live.verdict.value
        if state.waiver is not None and verdict not in SATISFIED and live.verdict not in IN_FLIGHT:
            return "waived"
        return verdict
    status = state.status
    if status == "pass" and state.result is not None and state.result.source == "attestation":
        return "attested"
    return status


@dataclass(frozen=True, slots=True)
class Progress:
    """The latest run seen on the bus: how many of its probes have a final verdict."""

    done: int
    total: int

    @property
    def running(self) -> bool:
        return self.done < self.total


def _symbol_order(count: tuple[tuple[str, str], int]) -> int:
    return SYMBOL_ORDER.find(count[0][0])


class ChecklistTree(BusPane):
    """Sections (with counts per badge) and their items (badge, title), updated from the
    ledger (``show``) and from ``CheckUpdate`` events on the bus as probes run.

    A run's progress (probes finished / probes in the run) is the border subtitle;
    it follows any run of this checklist, from this session or another.

    ``toggle_failing_only`` shows only the items failing now (fail or error, live or
    in the ledger) under their sections, with each section's counts still over all
    its items; the list follows the verdicts as they change.

    COMPONENT_CLASSES:
        checklist-tree--pass, --warn, --fail, --muted, --running: badge colours.
        checklist-tree--advisory: the "advisory" tag after an item's title.
    """

    TOPICS = (CheckUpdate,)
    LATEST_ONLY = False  # every item's update matters, not only the newest
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "checklist-tree--pass",
        "checklist-tree--warn",
        "checklist-tree--fail",
        "checklist-tree--muted",
        "checklist-tree--running",
        "checklist-tree--advisory",
    }
    DEFAULT_CSS = """
    ChecklistTree { border: round $primary; }
    ChecklistTree > Tree { height: 1fr; overflow-x: hidden; }
    ChecklistTree .checklist-tree--pass { color: $success; }
    ChecklistTree .checklist-tree--warn { color: $warning; }
    ChecklistTree .checklist-tree--fail { color: $error; text-style: bold; }
    ChecklistTree .checklist-tree--muted { color: $text-muted; }
    ChecklistTree .checklist-tree--running { color: $accent; text-style: bold; }
    ChecklistTree .checklist-tree--advisory { color: $text-muted; }
    """

    class Selected(Message):
        """The cursor moved: to an item (``item_id`` set) or a section header."""

        def __init__(self, item_id: str | None, section: str | None) -> None:
            super().__init__()
            self.item_id = item_id
            self.section = section

    class Updated(Message):
        """Live verdicts changed for ``item_ids``; ``finished`` when that ended a run."""

        def __init__(self, item_ids: frozenset[str], finished: bool) -> None:
            super().__init__()
            self.item_ids = item_ids
            self.finished = finished

    def __init__(self, bus: Bus, max_hz: float = 10.0, **kwargs: Any) -> None:
        super().__init__(bus, max_hz, **kwargs)
        self.checklist: Checklist | None = None
        self.state: ReleaseState | None = None
        self.live: dict[str, CheckUpdate] = {}
        self.progress = Progress(0, 0)
        self._wave: set[str] = set()
        self._done: set[str] = set()
        self._items: dict[str, TreeNode[tuple[str, str]]] = {}
        self._sections: dict[str, TreeNode[tuple[str, str]]] = {}
        self._ids: frozenset[str] = frozenset()
        self.failing_only = False

    def compose(self) -> ComposeResult:
        tree: Tree[tuple[str, str]] = Tree("checklist", id="checklist-tree")
        tree.show_root = False
        tree.guide_depth = 2
        yield tree

    # --- what is selected -----------------------------------------------------------------

    @property
    def _tree(self) -> Tree[tuple[str, str]]:
        return self.query_one("#checklist-tree", Tree)

    @property
    def selected_item(self) -> ChecklistItem | None:
        node = self._tree.cursor_node
        if self.checklist is None or node is None or node.data is None or node.data[0] != "item":
            return None
        return self.checklist.item(node.data[1])

    @property
    def selected_section(self) -> str | None:
        node = self._tree.cursor_node
        if node is None or node.data is None:
            return None
        if node.data[0] == "section":
            return node.data[1]
        item = self.selected_item
        return None if item is None else item.section

    def item_state(self, item_id: str) -> ItemState | None:
        if self.state is None:
            return None
        return next((s for s in self.state.items if s.item.id == item_id), None)

    def toggle_failing_only(self) -> bool:
        """Show only the failing items, or every item again; returns the new setting."""
        self.failing_only = not self.failing_only
        if self.checklist is not None:
            self._build(self.checklist)
            self._relabel(None)
        return self.failing_only

    def _statuses(self) -> dict[str, str]:
        if self.state is None:
            return {}
        return {s.item.id: item_status(s, self.live.get(s.item.id)) for s in self.state.items}

    def _visible(self, checklist: Checklist, statuses: dict[str, str]) -> list[ChecklistItem]:
        if not self.failing_only or self.state is None:
            return list(checklist.items)
        # an item being rerun keeps its place until its new verdict is in
        ledger = {s.item.id: s.status for s in self.state.items}
        in_flight = {v.value for v in IN_FLIGHT}
        return [
            item for item in checklist.items
            if statuses.get(item.id) in FAILING
            or (statuses.get(item.id) in in_flight and ledger.get(item.id) in FAILING)
        ]  # fmt: skip

    def select_item(self, item_id: str) -> None:
        node = self._items.get(item_id)
        if node is not None:
            self._tree.move_cursor(node)

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[tuple[str, str]]) -> None:
        event.stop()
        data = event.node.data
        if data is None:
            return
        item_id = data[1] if data[0] == "item" else None
        self.post_message(self.Selected(item_id, self.selected_section))

    # --- what is shown --------------------------------------------------------------------

    def show(
        self, checklist: Checklist, state: ReleaseState,
        held: Mapping[str, CheckUpdate] | None = None,
    ) -> None:  # fmt: skip
        """Show ``state`` (just read from the ledger): probes' final live verdicts give way
        to it; those still in flight stay. ``held``: why the start-up run left an item
        out, shown while the ledger has no verdict for it."""
        if self.checklist is None or checklist.id != self.checklist.id:
            self.checklist = checklist
            self.live.clear()
            self._wave.clear()
            self._done.clear()
            self.progress = Progress(0, 0)
            self._ids = frozenset(item.id for item in checklist.items)
            self._build(checklist)
        self.state = state
        self.live = {k: u for k, u in self.live.items() if u.verdict in IN_FLIGHT}
        unjudged = {s.item.id for s in state.items if s.result is None}
        for item_id, update in (held or {}).items():
            if item_id in unjudged and item_id in self._ids:
                self.live.setdefault(item_id, update)
        self._relabel(None)

    def apply(self, events: list[Any]) -> None:
        if self.checklist is None:
            return
        touched: set[str] = set()
        completed = False
        for update in events:
            if update.checklist != self.checklist.id or update.item_id not in self._ids:
                continue
            if update.verdict is Verdict.MANUAL:
                continue  # a manual item's state is the ledger's, not the runner's reminder
            completed = self._track(update) or completed
            self.live[update.item_id] = update
            touched.add(update.item_id)
        if touched:
            self._relabel(touched)
            finished = completed and not self.progress.running
            self.post_message(self.Updated(frozenset(touched), finished))

    def _track(self, update: CheckUpdate) -> bool:
        """Track the run's progress; True when ``update`` finished one of its probes."""
        completed = False
        if update.verdict is Verdict.PENDING:
            if self._wave and self._done >= self._wave:
                self._wave, self._done = set(), set()  # a new run
            self._wave.add(update.item_id)
            self._done.discard(update.item_id)
        elif update.verdict is not Verdict.RUNNING and update.item_id in self._wave:
            self._done.add(update.item_id)
            completed = True
        self.progress = Progress(len(self._done), len(self._wave))
        return completed

    def _build(self, checklist: Checklist) -> None:
        tree = self._tree
        node = tree.cursor_node
        keep = node.data if node is not None else None
        tree.clear()
        self._items.clear()
        self._sections.clear()
        visible = self._visible(checklist, self._statuses())
        for item in visible:
            section = self._sections.get(item.section)
            if section is None:
                section = tree.root.add(item.section, data=("section", item.section), expand=True)
                self._sections[item.section] = section
            self._items[item.id] = section.add_leaf(item.title, data=("item", item.id))
        total = len(checklist.items)
        if self.failing_only:
            self.border_title = f"{checklist.title} · failing only: {len(visible)} of {total}"
            if not visible:
                tree.root.add_leaf(Text("No failing items (f: show every item)", style="italic"))
        else:
            self.border_title = f"{checklist.title} · {total} items"
        if keep is not None and keep[0] == "item" and keep[1] in self._items:
            tree.move_cursor(self._items[keep[1]])
        elif keep is not None and keep[0] == "section" and keep[1] in self._sections:
            tree.move_cursor(self._sections[keep[1]])

    def _relabel(self, touched: set[str] | None) -> None:
        if self.state is None or self.checklist is None:
            return
        statuses = self._statuses()
        if self.failing_only:
            visible = {item.id for item in self._visible(self.checklist, statuses)}
            if visible != set(self._items):
                self._build(self.checklist)
                touched = None
        sections: set[str] = set()
        for state in self.state.items:
            node = self._items.get(state.item.id)
            if node is not None and (touched is None or state.item.id in touched):
                node.set_label(self._item_label(state, statuses))
                sections.add(state.item.section)
        for section in sections:
            ids = [i.id for i in self.checklist.items if i.section == section]
            self._sections[section].set_label(self._section_label(section, ids, statuses))
        self._show_progress()

    def _badge(self, status: str) -> Text:
        badge, tone = BADGES.get(status, (status.upper(), "muted"))
        return Text(badge.ljust(BADGE_WIDTH), style=self._tone(tone))

    def _tone(self, tone: str) -> Style:
        return self.get_component_rich_style(f"checklist-tree--{tone}", partial=True)

    def _item_label(self, state: ItemState, statuses: dict[str, str]) -> Text:
        label = Text.assemble(self._badge(statuses[state.item.id]), " ", state.item.title)
        if not state.blocking:
            advisory = self.get_component_rich_style("checklist-tree--advisory", partial=True)
            label.append(" · advisory", style=advisory)
        return label

    def _section_label(self, section: str, ids: list[str], statuses: dict[str, str]) -> Text:
        badges = (BADGES.get(statuses[i], ("?", "muted")) for i in ids)
        counts = Counter((badge[0], tone) for badge, tone in badges)
        label = Text(section, style="bold")
        for (symbol, tone), count in sorted(counts.items(), key=_symbol_order):
            label.append(f" {symbol}{count}", style=self._tone(tone))
        return label

    def _show_progress(self) -> None:
        p = self.progress
        if not p.total:
            self.border_subtitle = ""
            return
        word = "running" if p.running else "last run"
        self.border_subtitle = f"{word} {p.done}/{p.total} ▕{bar(p.done / p.total, 10)}▏"
