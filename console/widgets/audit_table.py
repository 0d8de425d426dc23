"""The audit trail as a table, newest first, filtered by a search and following appends."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import DataTable

from console import formatting as fmt
from console.widgets.bus_pane import BusPane
from console.widgets.fit_table import FitTable
from core.audit import AuditEntry
from core.events import AuditAppended

COLUMNS = (("#", "seq"), ("Time (UTC)", "time"), ("Who", "who"), ("Action", "action"),
           ("Subject", "subject"), ("Detail", "detail"))  # fmt: skip


def detail_text(detail: dict[str, Any]) -> str:
    """``{"why": "drill", "n": 2}`` -> ``n=2 why=drill`` (keys sorted, values as JSON)."""
    return " ".join(
        f"{key}={value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)}"
        for key, value in sorted(detail.items())
    )


class AuditTable(BusPane):
    """Audit entries keyed by number, newest first; rows whose text contains ``search``
    (any column, any case) only. ``load`` adds entries read from the store and each
    ``AuditAppended`` adds one, so the table grows as the trail does.

    ``selected`` is the entry under the cursor; the cursor stays on its entry
    as rows are added or filtered out around it. Posts ``Changed`` after each redraw.
    """

    class Changed(Message):
        """The rows changed: entries were added or the search changed."""

    TOPICS = (AuditAppended,)
    LATEST_ONLY = False
    DEFAULT_CSS = """
    AuditTable { height: 1fr; }
    AuditTable > DataTable { height: 1fr; }
    """

    search: reactive[str] = reactive("", init=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.entries: dict[int, AuditEntry] = {}
        self._haystacks: dict[int, str] = {}

    def compose(self) -> ComposeResult:
        table = FitTable(shrink=("subject", "detail"), id="audit-table", cursor_type="row",
                         zebra_stripes=True)  # fmt: skip
        for label, key in COLUMNS:
            table.add_column(label, key=key)
        yield table

    def load(self, entries: Iterable[AuditEntry]) -> None:
        """Add entries (already known ones are ignored): rows are appended for those that
        match the search and put in order, so the rest of the table is left as it is."""
        table = self.query_one(DataTable)
        keep = self.selected  # None while the table is empty: the cursor starts at the top
        needle = self._needle
        added = False
        for entry in entries:
            if entry.seq in self.entries:
                continue
            self.entries[entry.seq] = entry
            self._haystacks[entry.seq] = " ".join(self.cells(entry).values()).casefold()
            if needle in self._haystacks[entry.seq]:
                self._add_row(table, entry)
                added = True
        if added:
            table.sort("seq", key=lambda seq: -int(seq.plain))
            if keep is not None:
                self.select(keep.seq)
        self._changed()

    def reset(self, entries: Iterable[AuditEntry]) -> None:
        """Show exactly ``entries`` (as read afresh from the store)."""
        self.entries.clear()
        self._haystacks.clear()
        self.query_one(DataTable).clear()
        self.load(entries)

    def apply(self, events: list[Any]) -> None:
        self.load(event.entry for event in events)

    def watch_search(self) -> None:
        """Rebuild the rows: the only full redraw, as DataTable cannot hide rows."""
        table = self.query_one(DataTable)
        keep = self.selected
        table.clear()
        for seq in self.shown:
            self._add_row(table, self.entries[seq])
        if keep is not None:
            self.select(keep.seq)
        self._changed()

    @property
    def _needle(self) -> str:
        return self.search.strip().casefold()

    @property
    def shown(self) -> list[int]:
        """The numbers of the entries that match the search, newest first."""
        needle = self._needle
        return [seq for seq in sorted(self.entries, reverse=True)
                if needle in self._haystacks[seq]]  # fmt: skip

    @property
    def selected(self) -> AuditEntry | None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return self.entries.get(int(str(key.value)))

    def select(self, seq: int) -> bool:
        """Put the cursor on entry ``seq`` if it is shown."""
        table = self.query_one(DataTable)
        if str(seq) not in table.rows:
            return False
        table.move_cursor(row=table.get_row_index(str(seq)))
        return True

    def _add_row(self, table: DataTable[Any], entry: AuditEntry) -> None:
        cells = self.cells(entry)
        rest = (Text(cells[key]) for _, key in COLUMNS[1:])
        table.add_row(Text(cells["seq"], justify="right"), *rest, key=str(entry.seq))

    def _changed(self) -> None:
        shown, known = self.query_one(DataTable).row_count, len(self.entries)
        self.border_title = (f"Audit trail · {fmt.quantity(known)} entries" if shown == known
                             else f"Audit trail · {fmt.quantity(shown)} of "
                                  f"{fmt.quantity(known)} match")  # fmt: skip
        self.post_message(self.Changed())

    @staticmethod
    def cells(entry: AuditEntry) -> dict[str, str]:
        return {
            "seq": str(entry.seq),
            "time": fmt.utc_timestamp(entry.ts),
            "who": entry.actor,
            "action": entry.action,
            "subject": entry.subject,
            "detail": detail_text(entry.detail),
        }
