"""The dashboard's newer panes: day PnL, orders and fills, the equity chart, alerts, and
positions that never overflow their pane."""

from __future__ import annotations

import pytest
from textual.widgets import Sparkline, Static

from console.widgets.equity_chart import EquityChart
from console.widgets.positions_table import PositionsTable
from core.access import Principal, Role
from core.config import Settings
from tests.console.frozen import SIZES, publish_scenario
from tests.console.pilot import make_app, static_text, wait_until


async def test_live_dashboard_shows_day_pnl_fills_equity_and_the_kill_as_an_alert(
    settings: Settings,
) -> None:
    app, deck = make_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        figures = screen.query_one("#portfolio-figures", Static)
        await wait_until(pilot, lambda: "Day PnL" in static_text(figures))
        activity = screen.query_one("#activity", Static)
        await wait_until(pilot, lambda: " fill " in static_text(activity))
        chart = screen.query_one(EquityChart)
        await wait_until(pilot, lambda: len(chart.points) >= 3)
        assert (
            screen.query_one(Sparkline).data == [e for _, e in chart.points][-len(chart.points) :]
        )
        await deck.kill(Principal("alice", Role.OPERATOR), "drill")
        alerts = screen.query_one("#alerts", Static)
        await wait_until(
            pilot, lambda: "ACTIVE → HALTED (kill by alice: drill)" in static_text(alerts)
        )
        await pilot.press("q")


@pytest.mark.parametrize("size", SIZES)
async def test_positions_show_whole_columns_only_at_every_size(make_frozen_app, size) -> None:
    app = make_frozen_app()
    async with app.run_test(size=SIZES[size]) as pilot:
        publish_scenario(app.deck)
        await pilot.pause(0.3)
        table = app.screen.query_one(PositionsTable)
        assert table.virtual_size.width <= table.scrollable_content_region.width  # no cut
        shown = [str(column.label) for column in table.columns.values()]
        assert shown[:3] == ["Symbol", "Qty", "Unrealized"]  # the key ones, always
        assert "Realized" in shown  # both sizes have room for it now
        figures = static_text(app.screen.query_one("#portfolio-figures", Static))
        assert "Day PnL" in figures and "▲ +1,210.25" in figures  # equity - day start
