"""The console's shared behaviour: palette, help, themes that persist, keymaps, role guard,
sessions, with the frozen console (nothing moves on its own)."""

from __future__ import annotations

from textual.command import CommandPalette
from textual.widget import Widget
from textual.widgets import DataTable, Input

from console.modes import MODES
from console.screens.help import HelpScreen
from console.widgets.status_header import StatusHeader
from core.access import Role
from core.events import RiskState
from core.preferences import Preferences
from tests.console.frozen import frozen_app
from tests.console.pilot import wait_until


async def run_palette_command(pilot, text: str) -> None:
    await pilot.press("ctrl+p")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, CommandPalette))
    pilot.app.screen.query_one(Input).value = text
    await pilot.pause(0.3)  # the palette searches in a worker
    await pilot.press("enter")
    await wait_until(pilot, lambda: not isinstance(pilot.app.screen, CommandPalette))


async def test_theme_chosen_in_the_palette_is_kept_for_the_next_session(tmp_path) -> None:
    app = frozen_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.theme == "quarterdeck-dark"
        await run_palette_command(pilot, "Theme: high-contrast")
        assert app.theme == "quarterdeck-high-contrast"
    saved = Preferences(app.deck.settings.preferences_dir).load("alice")
    assert saved["theme"] == "quarterdeck-high-contrast"
    again = frozen_app(tmp_path, theme="quarterdeck-high-contrast")
    async with again.run_test(size=(120, 40)):
        assert again.theme == "quarterdeck-high-contrast"


async def test_an_unknown_saved_theme_falls_back_to_the_default(tmp_path) -> None:
    app = frozen_app(tmp_path, theme="no-such-theme")
    async with app.run_test(size=(80, 24)):
        assert app.theme == "quarterdeck-dark"


async def test_palette_switches_screens(tmp_path) -> None:
    app = frozen_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await run_palette_command(pilot, "Go to Jobs")
        assert app.screen.id == "jobs"


def binding_descriptions(node) -> set[str]:
    return {b.description for bs in node._bindings.key_to_bindings.values() for b in bs}


async def test_palette_lists_quarterdeck_commands_not_widget_internals(tmp_path) -> None:
    app = frozen_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        for mode in MODES.values():
            app.switch_mode(mode.name)  # not its key: an input may have the focus
            await wait_until(pilot, lambda mode=mode: app.screen.id == mode.name)
            screen = app.screen
            own = {b.description for b in screen.BINDINGS if b.id} | {"Help", "Quit"}
            widgets = [w for w in screen.query(Widget) if w.focusable and binding_descriptions(w)]
            for widget in widgets:  # whichever widget has the focus, the palette is the same
                widget.focus()
                await pilot.pause()
                focused = app.focused  # the screen may hand the focus on (a filter, a form)
                assert focused is not None
                titles = {c.title: c.help for c in app.get_system_commands(screen)}
                internals = binding_descriptions(focused) - own
                assert not internals & set(titles), (mode.name, type(focused).__name__)
                assert "Focus Next" not in titles and "Copy selected text" not in titles
                for binding in screen.BINDINGS:
                    if binding.description not in titles:
                        continue  # not applicable right now (e.g. nothing selected)
                    assert titles[binding.description].endswith(f"·  {binding.id}")
                assert f"Go to {mode.title}" in titles and "Theme: light" in titles
        app.switch_mode("readiness")
        await wait_until(pilot, lambda: app.screen.id == "readiness")
        app.screen.query_one("Tree").focus()
        await pilot.pause()
        readiness = {c.title for c in app.get_system_commands(app.screen)}
        assert "Cursor to next ancestor" not in readiness
        assert {"Run all", "Run section", "Attest", "Export", "Go to Jobs"} <= readiness


async def test_help_lists_every_binding_and_filters(tmp_path) -> None:
    app = frozen_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        table = app.screen.query_one("#help-table", DataTable)
        ids = {table.get_row_at(i)[3] for i in range(table.row_count)}
        assert {"app.quit", "app.screen.trading", "jobs.cancel", "trading.kill"} <= ids
        app.screen.query_one("#help-filter", Input).value = "kill"
        await pilot.pause(0.1)
        assert [table.get_row_at(i)[3] for i in range(table.row_count)] == ["trading.kill"]
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_keymap_file_remaps_a_screen_key(tmp_path) -> None:
    app = frozen_app(tmp_path)
    app.deck.settings.keymap_file.parent.mkdir(parents=True, exist_ok=True)
    app.deck.settings.keymap_file.write_text('[app.screen]\njobs = "j"\n')
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("j")
        assert app.screen.id == "jobs"
        await pilot.press("3")  # the default key no longer switches
        assert app.screen.id == "jobs"
        await pilot.press("1")
        await pilot.press("3")
        assert app.screen.id == "dashboard"


async def test_broken_keymap_keeps_default_keys_and_says_where(tmp_path) -> None:
    app = frozen_app(tmp_path)
    keymap = app.deck.settings.keymap_file
    keymap.parent.mkdir(parents=True, exist_ok=True)
    keymap.write_text('"jobs.cancle" = "x"\n')
    async with app.run_test(size=(120, 40)) as pilot:
        messages = [str(n.message) for n in app._notifications]
        assert any(f"{keymap}:1: unknown binding id 'jobs.cancle'" in m for m in messages)
        await pilot.press("3")
        assert app.screen.id == "jobs"


async def test_viewer_is_told_why_the_kill_switch_is_disabled(tmp_path) -> None:
    app = frozen_app(tmp_path, role=Role.VIEWER, user="victor")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        await pilot.press("k")
        await pilot.pause(0.1)
        assert app.screen.id == "trading"  # no confirmation dialog opened
        assert app.deck.engine.execution.risk.state is RiskState.ACTIVE
        messages = [str(n.message) for n in app._notifications]
        assert "Kill switch: the viewer role may not trade (needs operator)." in messages
        bindings = {b.binding.id: b.enabled for b in app.screen.active_bindings.values()}
        assert bindings["trading.kill"] is False and bindings["app.help"] is True


async def test_palette_lists_forbidden_actions_with_the_reason(tmp_path) -> None:
    app = frozen_app(tmp_path, role=Role.OPERATOR, user="olga")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        commands = {c.title: c.help for c in app.get_system_commands(app.screen)}
        reason = "the operator role may not reset risk (needs admin)"
        assert commands["Reset risk"] == f"disabled: {reason}"
        assert commands["Kill switch"].startswith("k")
        await run_palette_command(pilot, "Reset risk")
        messages = [str(n.message) for n in app._notifications]
        assert "Reset risk: the operator role may not reset risk (needs admin)." in messages


async def test_header_shows_who_is_connected_and_the_frozen_clock(tmp_path) -> None:
    app = frozen_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.3)
        assert [s.user for s in app.deck.sessions.sessions] == ["alice"]
        header = app.screen.query_one(StatusHeader)
        line = str(header.query_one("#status-line").content)
        assert "12:00:00Z" in line and "on: alice" in line and "paper PAPER" in line
    assert app.deck.sessions.sessions == ()


async def test_mouse_click_on_a_footer_key_runs_its_action(tmp_path) -> None:
    app = frozen_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.2)
        keys = [k for k in app.screen.query("FooterKey") if k.action == "switch_mode('jobs')"]
        assert len(keys) == 1
        await pilot.click(keys[0])
        await wait_until(pilot, lambda: app.screen.id == "jobs")
