"""Snapshots of the audit and logs screens at 120x40 and 80x24, in the default and the
high-contrast theme, with a fixed audit trail (verified) and fixed log records."""

from __future__ import annotations

import logging

import pytest

from core.logs import LogTail
from tests.console.audit_seed import seed_trail
from tests.console.frozen import FROZEN_TS, SIZES, SNAPSHOT_THEMES
from tests.console.pilot import wait_until


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


RECORDS = (
    (logging.DEBUG, "core.market.simulator", "tick block of %d generated", (512,), {}),
    (logging.INFO, "core.deck", "deck started", (), {"run_id": "frozen"}),
    (logging.INFO, "core.jobs.manager", "job %d queued: %s", (1, "optimize sma_cross"), {}),
    (logging.WARNING, "core.market.feeds.quality", "dropped a spike on %s", ("BTCUSD",),
     {"move": "+9.8%"}),
    (logging.ERROR, "core.jobs.manager", "job %d failed", (2,), {}),
    (logging.CRITICAL, "core.trading.engine", "risk kill: active -> halted", (), {}),
)  # fmt: skip


def fixed_tail() -> LogTail:
    """A tail of its own (the process's holds whatever earlier tests logged), with
    ``RECORDS`` a second and a quarter apart in the minute before ``FROZEN_TS``."""
    tail = LogTail()
    for n, (level, name, message, args, extra) in enumerate(RECORDS):
        record = logging.LogRecord(name, level, __file__, 1, message, args, None)
        record.__dict__.update(extra)
        record.created = FROZEN_TS - 60.0 + n * 1.25
        tail.handle(record)
    return tail


@pytest.mark.parametrize("theme", SNAPSHOT_THEMES)
@pytest.mark.parametrize("size", SIZES)
def test_logs_screen_snapshot_matches(snap_compare, make_frozen_app, size, theme) -> None:
    app = make_frozen_app(theme=theme)
    app.deck.logs = fixed_tail()

    async def show(pilot) -> None:
        await pilot.press("8")
        await pilot.press("l")  # INFO and above: the DEBUG record is hidden
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=SIZES[size], run_before=show)
