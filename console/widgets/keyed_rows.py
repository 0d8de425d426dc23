"""Updating DataTable rows in place by key, so cursor and scroll survive live refreshes."""

from __future__ import annotations

from typing import Any

from textual.widgets import DataTable


def upsert_row(table: DataTable[Any], key: str, cells: dict[str, Any], height: int = 1) -> None:
    """Update the row ``key`` cell by cell (``cells`` maps column keys to values),
    or append it if the table has no such row yet. A column widens when a new value
    needs it ("queued" becoming "cancelled"), so no figure is ever cut short."""
    if key in table.rows:
        for column, value in cells.items():
            table.update_cell(key, column, value, update_width=True)
    else:
        table.add_row(*cells.values(), key=key, height=height)
