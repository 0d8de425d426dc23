"""Updating DataTable rows in place by key, so cursor and scroll survive live refreshes."""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable


def _width(value: Any) -> int:
    if isinstance(value, Text):
        return value.cell_len
    return cell_len(str(value))


def _same(shown: Any, value: Any) -> bool:
    """Whether ``value`` would draw exactly as ``shown`` does (``Text`` equality
    ignores the style, which is how a gain and a loss differ)."""
    if isinstance(shown, Text) and isinstance(value, Text):
        return (shown.plain, shown.style, shown.justify, shown.spans) == (
            value.plain, value.style, value.justify, value.spans)  # fmt: skip
    return type(shown) is type(value) and shown == value


def upsert_row(table: DataTable[Any], key: str, cells: dict[str, Any], height: int = 1) -> None:
    """Update the row ``key`` cell by cell (``cells`` maps column keys to values),
    or append it if the table has no such row yet. Cells that would not change are
    left alone.

    A column widens when a new value needs it ("queued" becoming "cancelled"), so
    no figure is ever cut short; it never narrows, so columns do not jitter as
    figures change, and an update that fits costs no re-measuring of the table."""
    if key in table.rows:
        changed = False
        for column, value in cells.items():
            if _same(table.get_cell(key, column), value):
                continue  # an update redraws the table and makes all its renders stale
            wider = _width(value) > table.columns[column].content_width  # type: ignore[index]
            table.update_cell(key, column, value, update_width=wider)
            changed = True
        if changed:
            forget_stale_renders(table)
    else:
        table.add_row(*cells.values(), key=key, height=height)


def forget_stale_renders(table: DataTable[Any]) -> None:
    """Drop the table's rendered cells, rows and lines after an update.

    DataTable keys those caches by an update counter that ``update_cell`` bumps,
    so an update makes every entry stale, but the entries stay until 10,000 cells
    and 1,000 rows and lines have piled up: several MB per live table that was
    never going to be read again. (Its own ``_clear_caches`` also empties caches
    shared by every table in the process, which an update leaves valid.)"""
    table._cell_render_cache.clear()
    table._row_render_cache.clear()
    table._row_renderable_cache.clear()
    table._line_cache.clear()
