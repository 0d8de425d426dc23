"""A DataTable whose columns are as wide as their content and never cut a header."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rich.text import Text
from textual.geometry import Size
from textual.widgets import DataTable
from textual.widgets.data_table import Column, ColumnKey, RowKey


def narrowed(
    columns: list[tuple[str, int, int]],
    shrink: Sequence[str],
    excess: int,
    last: Sequence[str] = (),
) -> dict[str, int]:
    """Widths for ``columns`` (key, content width, header width) ``excess`` cells too
    wide: the widest of the ``shrink`` columns gives up a cell, again and again (the
    first named wins a tie), none below its header's width; those also in ``last``
    only once every other is down to its header's. Only narrowed columns are in the
    result; the others keep their content's width."""
    floor = {key: header for key, _, header in columns}
    widths = {key: content for key, content, _ in columns if key in set(shrink)}
    order = [key for key in shrink if key in widths]
    while excess > 0:
        cuttable = [key for key in order if widths[key] > floor[key]]
        cuttable = [key for key in cuttable if key not in last] or cuttable
        if not cuttable:
            break
        widest = max(cuttable, key=lambda key: widths[key])
        widths[widest] -= 1
        excess -= 1
    content = {key: width for key, width, _ in columns}
    return {key: width for key, width in widths.items() if width < content[key]}


class FitTable(DataTable[Any]):
    """Columns sized to their content, header included, as a plain ``DataTable``'s are;
    when they do not all fit the width, the ``shrink`` columns (free text such as a
    subject or a reason, the widest first) give up cells, down to their header's
    width, and their cells end in an ellipsis instead of the table scrolling sideways
    and cutting the headers on its right edge. Widening gives the cells back."""

    def __init__(
        self, *, shrink: tuple[str, ...] = (), shrink_last: tuple[str, ...] = (), **kwargs: Any
    ) -> None:
        """``shrink_last``: those of ``shrink`` that give up cells only when the others
        cannot (a short state, say, that a reader needs whole)."""
        super().__init__(**kwargs)
        self.shrink, self.shrink_last = shrink, shrink_last

    def add_row(
        self,
        *cells: Any,
        height: int | None = 1,
        key: str | None = None,
        label: Any = None,
    ) -> RowKey:
        keys = [column.key.value for column in self.ordered_columns]
        clipped = [self._clip(str(k), cell) for k, cell in zip(keys, cells, strict=False)]
        return super().add_row(*clipped, height=height, key=key, label=label)

    def update_cell(
        self,
        row_key: RowKey | str,
        column_key: ColumnKey | str,
        value: Any,
        *,
        update_width: bool = False,
    ) -> None:
        clipped = self._clip(str(getattr(column_key, "value", column_key)), value)
        super().update_cell(row_key, column_key, clipped, update_width=update_width)

    def _clip(self, column: str, cell: Any) -> Any:
        """A shrinkable column's cell as one line that ends in "…" when it is cut."""
        if column not in self.shrink:
            return cell
        text = cell.copy() if isinstance(cell, Text) else Text(str(cell))
        text.no_wrap = True
        text.overflow = "ellipsis"
        return text

    def on_resize(self) -> None:
        self._fit()

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        super()._update_dimensions(new_rows)
        self._fit()

    def _fit(self) -> None:
        """Narrow the shrink columns just enough for the table to fit its width."""
        room = self.scrollable_content_region.width
        if not room or not self.shrink:
            return
        columns: dict[str, Column] = {str(c.key.value): c for c in self.columns.values()}
        pad = 2 * self.cell_padding
        need = self._row_label_column_width + sum(c.content_width + pad for c in columns.values())
        measured = [(key, c.content_width, c.label.cell_len) for key, c in columns.items()]
        shrink = [key for key in self.shrink if key in columns]
        widths = narrowed(measured, shrink, need - room, self.shrink_last)
        changed = False
        for key, column in columns.items():
            auto = key not in widths
            width = column.content_width if auto else widths[key]
            if (column.auto_width, column.width) != (auto, width):
                column.auto_width, column.width = auto, width
                changed = True
        if changed:
            self._clear_caches()
            total = self._row_label_column_width + sum(
                c.get_render_width(self) for c in columns.values()
            )
            self.virtual_size = Size(total, self.virtual_size.height)
            self.refresh()
