"""Keyed live tables: updated in place, and never hoarding renders an update made stale."""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import DataTable

from console.widgets.keyed_rows import upsert_row


class OneTable(App[None]):
    def compose(self) -> ComposeResult:
        table: DataTable[Any] = DataTable()
        table.add_column("Symbol", key="symbol")
        table.add_column("PnL", key="pnl")
        yield table


async def test_updates_keep_the_row_and_drop_the_renders_they_made_stale() -> None:
    app = OneTable()
    async with app.run_test(size=(40, 10)) as pilot:
        table = app.query_one(DataTable)
        upsert_row(table, "SPY", {"symbol": "SPY", "pnl": "+1.00"})
        await pilot.pause()
        assert table._cell_render_cache  # drawn once: its cells are cached
        for n in range(200):
            upsert_row(table, "SPY", {"symbol": "SPY", "pnl": f"+{n}.00"})
            await pilot.pause()
        assert table.row_count == 1
        assert table.get_row("SPY") == ["SPY", "+199.00"]
        # Each update leaves at most one drawing's worth of cells (2 cells + 2 headers),
        # where Textual alone would keep every one of the 200 drawings.
        assert len(table._cell_render_cache) <= 4
        assert len(table._line_cache) <= table.row_count + 1


async def test_an_unchanged_cell_is_not_redrawn_but_a_new_style_is() -> None:
    from rich.text import Text

    app = OneTable()
    async with app.run_test(size=(40, 10)) as pilot:
        table = app.query_one(DataTable)
        upsert_row(table, "SPY", {"symbol": Text("SPY"), "pnl": Text("+1.00", style="green")})
        await pilot.pause()
        updates = table._update_count
        upsert_row(table, "SPY", {"symbol": Text("SPY"), "pnl": Text("+1.00", style="green")})
        assert table._update_count == updates  # the same cells: nothing to redraw
        upsert_row(table, "SPY", {"symbol": Text("SPY"), "pnl": Text("+1.00", style="red")})
        assert table._update_count == updates + 1  # same figure, new colour: redrawn
        assert table.get_row("SPY")[1].style == "red"
