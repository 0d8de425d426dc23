"""The dashboard's newer panes: day PnL, orders and fills, the equity chart, alerts, and
positions that never overflow their pane."""

from __future__ import annotations

import pytest
from textual.widgets import Sparkline, Static

from console.widgets.equity_chart import EquityChart
from console.widgets.positions_table import PositionsTable
from core.access import Principal, Role
from core.config import Settings
from core.events import Fill, PortfolioSnapshot, PositionView, Side
from core.trading.orders import OrderEvent, OrderRequest, OrderStatus, OrderType
from tests.console.frozen import FROZEN_TS, SIZES, publish_scenario
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


async def test_prices_show_on_the_instruments_tick(make_frozen_app) -> None:
    """SPY trades in cents: a price under 10 shows 9.87, not 9.87100 (the five decimals
    a price without a known tick gets), wherever the dashboard shows it."""
    app = make_frozen_app()
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.deck.tick_size("SPY") == 0.01 and app.deck.tick_size("EURUSD") == 0.00001
        ts = FROZEN_TS
        position = PositionView("SPY", 100.0, 9.8712, 9.87, -0.12, 0.0)
        app.deck.bus.publish(PortfolioSnapshot(ts, 99_013.0, 100_000.0, 100_000.0, 0.0, -0.12,
                                               0.5, 100_000.0, 1, (position,)))  # fmt: skip
        limit = OrderRequest("sma_cross", "EURUSD", Side.BUY, 1.0, OrderType.LIMIT,
                             1.0799800000000002)  # fmt: skip
        for event in (
            Fill(1, 1, "sma_cross", "SPY", Side.BUY, 100.0, 9.8712, 0.5, ts - 60),
            OrderEvent("accepted", 2, limit, ts - 30, OrderStatus.ACCEPTED, 0.0),
        ):
            app.deck.bus.publish(event)
        activity = app.screen.query_one("#activity", Static)
        await wait_until(pilot, lambda: "@ 9.87" in static_text(activity))
        assert "@ 9.871" not in static_text(activity)  # not 9.87120
        assert "limit 1.07998" in static_text(activity)
        table = app.screen.query_one(PositionsTable)
        await wait_until(pilot, lambda: table.row_count == 1)
        row = table.get_row("SPY")
        shown = dict(zip([str(c.key.value) for c in table.columns.values()], row, strict=True))
        assert (shown["last"].plain, shown["avg"].plain) == ("9.87", "9.87")
        await pilot.press("q")
