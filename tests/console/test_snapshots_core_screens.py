"""Snapshots of the dashboard, jobs and trading screens at 120x40 and 80x24, in the default
and the high-contrast theme, with the clock and the data frozen."""

from __future__ import annotations

import pytest

from tests.console.frozen import SIZES, SNAPSHOT_THEMES, publish_scenario

SCREENS = {"dashboard": "1", "jobs": "3", "trading": "4"}


@pytest.mark.parametrize("theme", SNAPSHOT_THEMES)
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("screen", SCREENS)
def test_screen_snapshot_matches(snap_compare, make_frozen_app, screen, size, theme) -> None:
    app = make_frozen_app(theme=theme)

    async def show(pilot) -> None:
        await pilot.press(SCREENS[screen])
        assert app.screen.id == screen  # composed: a crash would snapshot a blank frame
        publish_scenario(app.deck)
        await pilot.pause(0.3)  # panes redraw at most 10 times a second

    assert snap_compare(app, terminal_size=SIZES[size], run_before=show)
