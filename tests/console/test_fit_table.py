"""How a too-wide table's free-text columns give up cells."""

from __future__ import annotations

from console.widgets.fit_table import narrowed

# (key, content width, header width)
COLUMNS = [("id", 9, 8), ("state", 17, 5), ("why", 30, 3), ("symbols", 20, 7)]


SHRINK = ("state", "why", "symbols")


def test_the_widest_shrink_column_gives_up_cells_first() -> None:
    assert narrowed(COLUMNS, SHRINK, 10) == {"why": 20}
    assert narrowed(COLUMNS, SHRINK, 20) == {
        "state": 15,
        "why": 16,
        "symbols": 16,
    }


def test_a_last_column_keeps_its_cells_until_the_others_are_at_their_headers() -> None:
    assert narrowed(COLUMNS, SHRINK, 30) == {"state": 12, "why": 12, "symbols": 13}
    assert narrowed(COLUMNS, SHRINK, 30, last=("state",)) == {"why": 10, "symbols": 10}
    assert narrowed(COLUMNS, SHRINK, 42, last=("state",)) == {"why": 3, "symbols": 7, "state": 15}
