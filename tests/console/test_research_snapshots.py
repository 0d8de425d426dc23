"""Snapshots of the research screen at 120x40 and 80x24, in the default and the
high-contrast theme: the browser and form, a backtest's result, and a heatmap.

The result and the heatmap are computed for real (small, fixed, simulated data),
so a change in the numbers shows here as well as in the pilot tests.
"""

from __future__ import annotations

import pytest

from console.screens.research import ResearchScreen
from console.widgets.heatmap_grid import HeatmapGrid
from core.jobs.datasets import dataset_bars
from core.research.backtest import BacktestConfig
from core.research.optimizer import Objective, Range, optimize
from core.research.strategies import get_strategy
from tests.console.frozen import SIZES, SNAPSHOT_THEMES

VIEWS = ("setup", "result", "heatmap")


async def show_setup(pilot) -> ResearchScreen:
    await pilot.press("2")
    screen = pilot.app.screen
    assert isinstance(screen, ResearchScreen)
    await pilot.pause(0.2)
    return screen


async def show_result(pilot) -> None:
    screen = await show_setup(pilot)
    screen.form.field("bars").value = "300"
    await pilot.press("b")
    while screen.result is None:
        await pilot.pause(0.05)
    await pilot.pause(0.2)


async def show_heatmap(pilot) -> None:
    screen = await show_setup(pilot)
    space = {"fast": Range(4, 20, 4), "slow": Range(10, 50, 10)}
    bars = dataset_bars("sim:BTCUSD", 7, 300)
    search = optimize(get_strategy("sma_cross"), bars, space, config=BacktestConfig())
    screen.show_search("sma_cross sim:BTCUSD", search.evaluations, Objective("sharpe"), 1)
    while screen.query_one(HeatmapGrid).heatmap is None:  # laid out off the event loop
        await pilot.pause(0.05)
    await pilot.pause(0.2)


SHOW = {"setup": show_setup, "result": show_result, "heatmap": show_heatmap}


@pytest.mark.parametrize("theme", SNAPSHOT_THEMES)
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("view", VIEWS)
def test_research_snapshot_matches(snap_compare, make_frozen_app, view, size, theme) -> None:
    app = make_frozen_app(theme=theme)
    assert snap_compare(app, terminal_size=SIZES[size], run_before=SHOW[view])
