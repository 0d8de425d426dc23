"""Snapshots of the audit and logs screens at 120x40 and 80x24, in the default and the
high-contrast theme, with a fixed audit trail (verified) and fixed log records."""

from __future__ import annotations

import pytest

from tests.console.audit_seed import seed_trail
from tests.console.frozen import SIZES, SNAPSHOT_THEMES
from tests.console.test_screens import wait_until


async def wait_for(pilot, condition) -> None:
    await wait_until(pilot, condition, timeout=10)


@pytest.mark.parametrize("theme", SNAPSHOT_THEMES)
@pytest.mark.parametrize("size", SIZES)
def test_audit_screen_snapshot_matches(snap_compare, make_frozen_app, size, theme) -> None:
    app = make_frozen_app(theme=theme)
    seed_trail(app.deck.store, app.deck.settings.audit_key_file)

    async def show(pilot) -> None:
        await pilot.press("7")
        await wait_for(pilot, lambda: len(app.screen.table.entries) == 6)
        await pilot.press("v")
        await wait_for(pilot, lambda: app.screen.verdict is not None)
        await pilot.press("d")
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=SIZES[size], run_before=show)
