"""Pilot tests of the jobs and trading screens: every action from the keyboard."""

from __future__ import annotations

from textual.widgets import DataTable

from console.screens.reason import ReasonScreen
from core.config import Settings
from core.events import JobPriority, JobState, RiskState
from tests.console.pilot import LONG, answer, make_app, wait_until


async def test_jobs_screen_pauses_resumes_reprioritises_and_cancels(settings: Settings) -> None:
    app, deck = make_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: deck.running)
        assert await deck.jobs.submit("optimize", LONG) == 1
        await pilot.press("3")
        assert app.screen.id == "jobs"
        table = app.screen.query_one("#jobs-table", DataTable)
        await wait_until(pilot, lambda: table.row_count == 1)
        await wait_until(pilot, lambda: deck.jobs.jobs[1].state is JobState.RUNNING)
        await pilot.press("p")
        await wait_until(pilot, lambda: deck.jobs.jobs[1].state is JobState.PAUSED)
        await pilot.press("minus")
        assert deck.jobs.jobs[1].priority is JobPriority.LOW
        await wait_until(pilot, lambda: str(table.get_cell("1", "priority")) == "low")
        await pilot.press("r")
        await wait_until(pilot, lambda: deck.jobs.jobs[1].state is JobState.RUNNING)
        await pilot.press("c")
        await pilot.press("escape")  # cancelling the dialog cancels nothing
        assert deck.jobs.jobs[1].state is JobState.RUNNING
        await pilot.press("c")
        await answer(pilot, "enough data")
        await wait_until(pilot, lambda: deck.jobs.jobs[1].state is JobState.CANCELLED)
        await wait_until(pilot, lambda: str(table.get_cell("1", "state")) == "cancelled")
        await pilot.press("1")
        assert app.screen.id == "dashboard"
        await pilot.press("q")


async def test_trading_screen_kill_switch_and_reset_need_a_reason(settings: Settings) -> None:
    app, deck = make_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        assert app.screen.id == "trading"
        await wait_until(pilot, lambda: deck.running)
        await pilot.press("k")
        await answer(pilot, "")  # refused: a reason is required, the dialog stays
        assert isinstance(app.screen, ReasonScreen)
        await answer(pilot, "drill")
        await wait_until(pilot, lambda: deck.engine.execution.state is RiskState.HALTED)
        await pilot.press("R")
        await answer(pilot, "drill over")
        await wait_until(pilot, lambda: deck.engine.execution.state is RiskState.ACTIVE)
        strategies = app.screen.query_one("#strategies", DataTable)
        assert str(strategies.get_row("sma_cross")[0]) == "sma_cross"
        await pilot.press("q")
