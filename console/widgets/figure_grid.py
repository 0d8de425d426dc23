"""Rows of cells laid out in aligned columns as one ``Text``, never cut short.

A Rich ``Table`` would lay these out too, but it measures and renders every
cell again on every frame; these panes redraw ten times a second, and a
``Text`` whose columns are padded once costs a fraction of that.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from rich.text import Text

Justify = Literal["left", "right"]
GAP = 3  # cells between one label/value pair and the next


def text_grid(rows: Sequence[Sequence[Text]], justify: Sequence[Justify], gap: int = 1) -> Text:
    """``rows`` as lines, each column as wide as its widest cell and aligned as
    ``justify`` says. A left-aligned last column is not padded: a cell there may
    run on, and a pane that crops its lines cuts only that column."""
    widths = [max((row[i].cell_len for row in rows if i < len(row)), default=0)
              for i in range(len(justify))]  # fmt: skip
    last = len(justify) - 1
    lines: list[Text] = []
    for row in rows:
        line = Text(no_wrap=True)
        for i, cell in enumerate(row):
            pad = " " * (widths[i] - cell.cell_len)
            if i:
                line.append(" " * gap)
            if justify[i] == "right":
                line.append(pad)
                line.append_text(cell)
            else:
                line.append_text(cell)
                if i < last:
                    line.append(pad)
        lines.append(line)
    return Text("\n", no_wrap=True).join(lines)


def figure_grid(pairs: list[tuple[Text, Text]], width: int) -> Text:
    """``pairs`` left to right, then down, in the most columns of pairs that fit
    ``width`` whole (at least one): a narrow pane gets more rows, not clipped values."""
    if not pairs:
        return Text()
    label_width = max(label.cell_len for label, _ in pairs)
    value_width = max(value.cell_len for _, value in pairs)
    pair_width = label_width + 1 + value_width
    per_row = max(1, (width + GAP) // (pair_width + GAP))
    rows = []
    for start in range(0, len(pairs), per_row):
        line = Text(no_wrap=True)
        for column, (label, value) in enumerate(pairs[start : start + per_row]):
            if column:
                line.append(" " * GAP)
            line.append_text(label)
            line.append(" " * (label_width + 1 - label.cell_len + value_width - value.cell_len))
            line.append_text(value)
        rows.append(line)
    return Text("\n", no_wrap=True).join(rows)
