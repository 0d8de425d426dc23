"""Label/value pairs laid out in as many columns as the width allows, never cut short."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

GAP = 3  # cells between one pair and the next


def figure_grid(pairs: list[tuple[Text, Text]], width: int) -> Table:
    """``pairs`` left to right, then down, in the most columns of pairs that fit
    ``width`` whole (at least one): a narrow pane gets more rows, not clipped values."""
    if not pairs:
        return Table.grid()
    label_width = max(label.cell_len for label, _ in pairs)
    value_width = max(value.cell_len for _, value in pairs)
    pair_width = label_width + 1 + value_width
    per_row = max(1, (width + GAP) // (pair_width + GAP))
    grid = Table.grid(padding=(0, 0))
    for column in range(per_row):
        if column:
            grid.add_column(width=GAP)
        grid.add_column(justify="left", no_wrap=True, min_width=label_width + 1)
        grid.add_column(justify="right", no_wrap=True, min_width=value_width)
    for start in range(0, len(pairs), per_row):
        row: list[Text | str] = []
        for column, (label, value) in enumerate(pairs[start : start + per_row]):
            row += ([""] if column else []) + [label, value]
        grid.add_row(*row)
    return grid
