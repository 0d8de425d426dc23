"""After a restart the console still knows the jobs of earlier runs: the Jobs screen
lists them with their stored details, and the heatmap finds the newest optimization."""

from __future__ import annotations

import asyncio

from textual.widgets import DataTable, Static

from console.screens.research import ResearchScreen
from console.widgets.heatmap_grid import HeatmapGrid
from console.widgets.job_details import JobDetails
from core.access import SYSTEM
from core.config import Settings
from core.deck import Deck
from tests.console.pilot import make_app, static_text, wait_until

BACKTEST = {"strategy": "sma_cross", "dataset": "sim:BTCUSD", "params": {"fast": 5, "slow": 20},
            "bars": 500}  # fmt: skip
OPTIMIZE = {"strategy": "sma_cross", "dataset": "sim:SPY", "bars": 300,
            "grid": {"fast": [2, 20, 6], "slow": [25, 85, 20]}}  # fmt: skip


async def earlier_run(settings: Settings) -> list[int]:
    """A previous process on the same data dir: two jobs, run to the end, then stopped."""
    deck = Deck(settings)
    await deck.start()
    try:
        ids = [await deck.submit_job(SYSTEM, "backtest", BACKTEST),
               await deck.submit_job(SYSTEM, "optimize", OPTIMIZE)]  # fmt: skip
        await asyncio.wait_for(asyncio.gather(*(deck.jobs.finished(i) for i in ids)), 120)
    finally:
        await deck.stop()
    return ids


async def test_jobs_of_an_earlier_process_show_on_the_jobs_screen_and_heatmap(
    settings: Settings,
) -> None:
    backtest, optimization = await earlier_run(settings)
    app, deck = make_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: deck.running)
        await pilot.press("3")
        table = app.screen.query_one("#jobs-table", DataTable)
        await wait_until(pilot, lambda: table.row_count == 2)
        assert [table.get_row_at(i)[1].plain for i in range(2)] == ["done", "done"]
        assert [table.get_row_at(i)[6].plain for i in range(2)] == ["backtest", "optimize"]
        table.move_cursor(row=1)
        await pilot.press("d")
        body = app.screen.query_one(JobDetails).query_one("#job-details-body", Static)
        await wait_until(pilot, lambda: "Result" in static_text(body))
        text = static_text(body)
        assert "sma_cross sim:SPY · optimize" in text and "best_params" in text
        await pilot.press("2")
        research = app.screen
        assert isinstance(research, ResearchScreen)
        assert research.finished_optimizations() == [optimization]
        await wait_until(pilot, lambda: research.form.strategy is not None)
        await pilot.press("h")
        grid = research.query_one(HeatmapGrid)
        await wait_until(pilot, lambda: grid.heatmap is not None)
        assert grid.heatmap is not None and (grid.heatmap.x, grid.heatmap.y) == ("fast", "slow")
        assert backtest not in research.finished_optimizations()
        await pilot.press("q")
