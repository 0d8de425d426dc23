"""Every field of one audit entry, with the hashes that chain it to its neighbours."""

from __future__ import annotations

import json

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from console import formatting as fmt
from core.audit import AuditEntry


class AuditDetails(Static):
    """The entry under the audit table's cursor, field by field.

    COMPONENT_CLASSES:
        audit-details--label: the field names.
    """

    COMPONENT_CLASSES = {"audit-details--label"}
    DEFAULT_CSS = """
    AuditDetails {
        height: auto; max-height: 50%; border: round $secondary; padding: 0 1;
        overflow-y: auto;
    }
    AuditDetails > .audit-details--label { color: $text-muted; }
    """

    def show(self, entry: AuditEntry | None) -> None:
        self.border_title = f"Entry {entry.seq}" if entry else "Entry"
        if entry is None:
            self.update("No entry selected.")
            return
        label = self.get_component_rich_style("audit-details--label")
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style=label, no_wrap=True)
        grid.add_column(overflow="fold")
        detail = json.dumps(entry.detail, sort_keys=True, ensure_ascii=False)
        for name, value in (("Time", fmt.utc_timestamp(entry.ts)), ("Who", entry.actor),
                            ("Action", entry.action), ("Subject", entry.subject),
                            ("Detail", detail), ("Hash", entry.hash),
                            ("Prev hash", entry.prev_hash)):  # fmt: skip
            grid.add_row(name, Text(value))
        self.update(grid)
