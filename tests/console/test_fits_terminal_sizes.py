"""Every screen at 80x24, 120x40 and 200x50, captured as the user sees it: the screen's
own keys in the footer before the global ones, no column header cut, the account's
seven figures on the dashboard and the Trading screen, and a status line that fits."""

from __future__ import annotations

import re

import pytest
from textual.widgets import DataTable

from console.app import QuarterdeckApp
from console.screens.help import class_bindings
from console.widgets.status_header import StatusHeader
from core.events import RiskSnapshot, RiskState
from tests.console.audit_seed import seed_trail
from tests.console.frozen import FROZEN_TS, publish_scenario
from tests.console.pilot import wait_until
from tests.console.test_readiness_screen_snapshots import show_release
from tests.console.test_snapshots_audit_logs import fixed_tail

SIZES = {"80x24": (80, 24), "120x40": (120, 40), "200x50": (200, 50)}

#: screen id -> (key to show it, the tables that must be on screen, whole)
SCREENS = {
    "dashboard": ("1", ("positions",)),
    "research": ("2", ()),
    "jobs": ("3", ("jobs-table",)),
    "trading": ("4", ("strategies", "orders")),
    "readiness": ("5", ()),
    "runbook": ("6", ("runbook-steps",)),
    "audit": ("7", ("audit-table",)),
    "logs": ("8", ()),
}

#: The account's figures as ``publish_scenario`` sets them.
ACCOUNT = {
    "Equity": "1,001,710.25",
    "Cash": "905,212.40",
    "Realized": "+384.50",
    "Unrealized": "+1,325.75",
    "Fees": "112.30",
    "Total PnL": "+1,597.95",
    "Drawdown": "0.07%",
}


def rows(app: QuarterdeckApp) -> list[str]:
    """The screen as the terminal shows it, one string per row."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def footer_rows(app: QuarterdeckApp) -> list[str]:
    footer = app.screen.query_one("KeyFooter")
    return rows(app)[footer.region.y : footer.region.bottom]


def own_keys(app: QuarterdeckApp) -> list[str]:
    """``k Label`` of each key the screen itself shows in the footer (the first key
    of an action bound to several)."""
    keys: dict[str, str] = {}
    for b in class_bindings(type(app.screen)):
        if b.show:
            keys.setdefault(b.action, f"{app.get_key_display(b)} {b.description}")
    return list(keys.values())


def whole(label: str, line: str) -> bool:
    """``label`` is on ``line`` with nothing but space or a border either side."""
    return re.search(rf"(?<![^\s│]){re.escape(label)}(?![^\s│])", line) is not None


def cut_headers(app: QuarterdeckApp) -> dict[str, list[str]]:
    """For each table whose header row is on screen, the column labels not shown whole."""
    screen = rows(app)
    visible = app.screen._compositor.visible_widgets
    cut: dict[str, list[str]] = {}
    for table in app.screen.query(DataTable):
        if table not in visible or not table.show_header:
            continue
        _, clip = visible[table]
        inside = table.content_region  # inside a table's own border, if it has one
        if not clip.contains(inside.x, inside.y):
            continue  # scrolled out of view
        header = screen[inside.y][inside.x : inside.right]
        cut[str(table.id)] = [str(c.label.plain) for c in table.ordered_columns
                              if not whole(c.label.plain, header)]  # fmt: skip
    return cut


async def show(pilot, screen: str) -> None:
    app = pilot.app
    if screen == "readiness":
        await show_release(pilot)
        return
    await pilot.press(SCREENS[screen][0])
    await wait_until(pilot, lambda: app.screen.id == screen)
    publish_scenario(app.deck)
    if screen == "audit":
        await wait_until(pilot, lambda: len(app.screen.table.entries) == 6)
    await pilot.pause(0.3)  # panes redraw at most 10 times a second


def seeded(make_frozen_app) -> QuarterdeckApp:
    app = make_frozen_app()
    seed_trail(app.deck.store, app.deck.settings.audit_key_file)
    app.deck.logs = fixed_tail()
    return app


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("screen", SCREENS)
async def test_screen_at_size_shows_its_keys_first_and_whole_headers(
    make_frozen_app, screen, size
) -> None:
    app = seeded(make_frozen_app)
    async with app.run_test(size=SIZES[size]) as pilot:
        await show(pilot, screen)
        footer = "\n".join(footer_rows(app))
        keys = own_keys(app)
        assert keys or screen == "dashboard"
        for key in keys:
            assert whole(key, footer), f"{key!r} not in the footer:\n{footer}"
        positions = [footer.index(key) for key in [*keys, "? Help"]]
        assert positions == sorted(positions), footer  # the screen's own keys first
        cut = cut_headers(app)
        assert set(SCREENS[screen][1]) <= set(cut), f"tables on screen: {sorted(cut)}"
        assert not any(cut.values()), cut


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("screen", ["dashboard", "trading"])
async def test_account_pane_at_size_shows_the_seven_figures(make_frozen_app, screen, size) -> None:
    app = make_frozen_app()
    async with app.run_test(size=SIZES[size]) as pilot:
        await show(pilot, screen)
        pane = app.screen.query_one("PortfolioPane")
        region = pane.region.intersection(app.screen.region)
        text = "\n".join(line[region.x : region.right]
                         for line in rows(app)[region.y : region.bottom])  # fmt: skip
        for label, value in ACCOUNT.items():
            assert re.search(rf"{label}\s+[▲▼•]?\s*{re.escape(value)}", text), (label, text)


@pytest.mark.parametrize("size", SIZES)
async def test_strategy_drill_down_at_size_shows_its_keys(make_frozen_app, size) -> None:
    app = seeded(make_frozen_app)  # the report reads the store: it needs its tables
    async with app.run_test(size=SIZES[size]) as pilot:
        await show(pilot, "trading")
        app.screen.query_one("#strategies").focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "StrategyScreen")
        await pilot.pause(0.3)
        text = "\n".join(rows(app))
        assert "Strategy sma_cross" in text and "r reread · escape close" in text, text
        for label in ("Realized", "Unrealized", "Fees", "Total PnL", "Turnover"):
            assert re.search(rf"█ {label}\s", text), label


@pytest.mark.parametrize("size", SIZES)
async def test_help_at_size_shows_its_keys_and_whole_headers(make_frozen_app, size) -> None:
    app = make_frozen_app()
    async with app.run_test(size=SIZES[size]) as pilot:
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "HelpScreen")
        await pilot.pause(0.2)
        text = "\n".join(rows(app))
        assert "esc close" in text, text
        cut = cut_headers(app)
        assert "help-table" in cut and not any(cut.values()), cut


@pytest.mark.parametrize("size", SIZES)
async def test_status_line_at_size_fits_and_keeps_the_risk_state(make_frozen_app, size) -> None:
    app = make_frozen_app()
    width = SIZES[size][0]
    async with app.run_test(size=SIZES[size]) as pilot:
        await pilot.press("4")
        await wait_until(pilot, lambda: app.screen.id == "trading")
        header = app.screen.query_one(StatusHeader)
        header.users = ("alice", "bob", "carol", "dave", "erin")
        app.deck.bus.publish(RiskSnapshot(FROZEN_TS, RiskState.HALTED, ()))
        await wait_until(pilot, lambda: header.has_class("-halted"))
        await pilot.pause(0.2)
        screen = rows(app)
        line = screen[0].rstrip()
        assert len(line) <= width and not line.endswith("…"), line
        assert "Trading" in line and "paper PAPER" in line and "risk HALTED" in line, line
        assert "12:00:00Z" in line, line
        if width >= 120:
            assert "on: alice, bob, carol, dave, erin" in line, line
        else:
            assert "5 on" in line, line
        assert screen[1].strip().startswith("HALTED"), screen[1]
