"""User strategies in the console, on a real started Deck and real files in a private
strategies folder: the research screen lists them with their file and version, shows
what did not load (and the dashboard's alerts do too), follows a saved change with a
notice, and the jobs screen names the version a job ran."""

from __future__ import annotations

import json
from pathlib import Path

from textual.widgets import Static

from console.screens.jobs import JobsScreen
from console.screens.research import ResearchScreen
from console.widgets.alerts_pane import AlertsPane
from console.widgets.strategy_browser import StrategyBrowser
from console.widgets.strategy_load_errors import StrategyLoadErrors
from core.access import SYSTEM
from core.config import Settings
from core.events import JobState
from core.research.strategies import REGISTRY
from tests.console.pilot import make_app, static_text, wait_until
from tests.core.test_strategy_library import BREAKOUT, BROKEN
from tests.strategy_files import write_strategy as write


async def open_research(pilot) -> ResearchScreen:
    await pilot.press("2")
    screen = pilot.app.screen
    assert isinstance(screen, ResearchScreen)
    await wait_until(pilot, lambda: screen.form.strategy is not None)
    return screen


async def cursor_to(pilot, screen: ResearchScreen, strategy_id: str) -> None:
    browser = screen.query_one(StrategyBrowser)
    await wait_until(pilot, lambda: strategy_id in browser.shown)
    browser.move_to(strategy_id)
    await wait_until(pilot, lambda: screen.form.strategy.id == strategy_id)


def description(screen: ResearchScreen) -> str:
    return static_text(screen.form.query_one("#strategy-description", Static))


def notices(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_research_lists_user_strategy_with_its_file_and_version(
    settings: Settings, strategy_folder: Path
) -> None:
    path = write(strategy_folder, "channel_breakout.py", BREAKOUT)
    app, _ = make_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_research(pilot)
        await cursor_to(pilot, screen, "channel_breakout")
        version = REGISTRY["channel_breakout"].version
        tree = screen.query_one(StrategyBrowser).tree
        family = tree.cursor_node.parent
        assert str(family.label) == "custom (1)"
        shown = description(screen)
        assert "channel_breakout · custom · long" in shown
        assert f"version {version}" in shown and path.name in shown
        await cursor_to(pilot, screen, "sma_cross")
        assert "built-in" in description(screen)
        assert not screen.query_one(StrategyLoadErrors).display  # everything loaded
        await pilot.press("q")


async def test_broken_file_shows_on_research_screen_and_as_alert(
    settings: Settings, strategy_folder: Path
) -> None:
    write(strategy_folder, "channel_breakout.py", BREAKOUT)
    bad = write(strategy_folder, "broken.py", BROKEN)
    app, _ = make_app(settings)
    error = f"{bad}:4: SyntaxError: invalid syntax"
    async with app.run_test(size=(120, 40)) as pilot:
        alerts = app.screen.query_one(AlertsPane)
        await wait_until(pilot, lambda: any(error in a.message for a in alerts.alerts))
        alert = next(a for a in alerts.alerts if error in a.message)
        assert alert.source == "strategy load" and alert.severe
        screen = await open_research(pilot)
        pane = screen.query_one(StrategyLoadErrors)
        await wait_until(pilot, lambda: pane.display)
        assert pane.text.splitlines() == ["1 strategy file did not load:", f"  {error}"]
        assert "channel_breakout" in screen.query_one(StrategyBrowser).shown  # the rest loads
        await pilot.press("q")


async def test_saved_change_shows_new_version_and_notice_keeping_cursor(
    settings: Settings, strategy_folder: Path
) -> None:
    write(strategy_folder, "channel_breakout.py", BREAKOUT)
    app, _ = make_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_research(pilot)
        await cursor_to(pilot, screen, "channel_breakout")
        old = screen.form.strategy.version
        screen.form.field("n").value = "30"
        write(strategy_folder, "channel_breakout.py", BREAKOUT.replace("shift(1)", "shift(2)"))
        await wait_until(pilot, lambda: screen.form.strategy.version != old)
        new = REGISTRY["channel_breakout"].version
        assert screen.form.strategy.version == new
        assert f"version {new}" in description(screen)
        tree = screen.query_one(StrategyBrowser).tree
        await wait_until(pilot, lambda: tree.cursor_node is not None)
        assert tree.cursor_node.data.id == "channel_breakout"
        assert screen.form.field("n").value == "30"  # the value typed stays
        notice = f"strategies reloaded: channel_breakout {old} → {new}"
        await wait_until(pilot, lambda: notice in notices(app))
        write(strategy_folder, "channel_breakout.py", BROKEN)  # a save that breaks it
        await wait_until(pilot, lambda: "channel_breakout" not in REGISTRY)
        await wait_until(pilot, lambda: any("channel_breakout removed" in n for n in notices(app)))
        [broken] = [n for n in notices(app) if "channel_breakout removed" in n]
        assert "channel_breakout.py:4: SyntaxError: invalid syntax" in broken
        await wait_until(pilot, lambda: screen.form.strategy.id == "sma_cross")
        await wait_until(pilot, lambda: tree.cursor_node is not None)
        assert tree.cursor_node.data.id == "sma_cross"  # the list's cursor goes with it
        await pilot.press("q")


async def test_jobs_details_name_the_strategy_version_a_job_ran(
    settings: Settings, strategy_folder: Path
) -> None:
    write(strategy_folder, "channel_breakout.py", BREAKOUT)
    app, deck = make_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: deck.strategy_library.latest is not None)
        version = REGISTRY["channel_breakout"].version
        request = {"strategy": "channel_breakout", "dataset": "sim:SPY", "bars": 300}
        job_id = await deck.submit_job(SYSTEM, "backtest", request)
        row = await deck.job_outcome(job_id)
        assert row.state == JobState.DONE.value
        assert json.loads(row.result_json)["strategy_version"] == version
        await pilot.press("3")
        screen = app.screen
        assert isinstance(screen, JobsScreen)
        await pilot.press("d")
        body = screen.query_one("#job-details-body", Static)
        await wait_until(pilot, lambda: "Strategy" in static_text(body))
        assert f"channel_breakout · version {version}" in static_text(body)
        await pilot.press("q")
