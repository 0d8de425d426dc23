"""Keys are keys (headless): no screen shows itself with a text field focused, a screen
left in its text field comes back with its own widget focused, and a key following a
focus move in the same burst reaches the widget the move focused."""

from __future__ import annotations

from textual import events
from textual.widgets import Input

from console.modes import MODES
from core.config import Settings
from core.events import RiskState
from tests.console.pilot import make_app, wait_until


async def test_no_screen_opens_or_comes_back_in_a_text_field(settings: Settings) -> None:
    app, deck = make_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: deck.running)
        for mode in MODES.values():
            await pilot.press(mode.key)
            await wait_until(pilot, lambda mode=mode: app.screen.id == mode.name)
            await pilot.pause()
            assert not isinstance(app.focused, Input), mode.name
        await pilot.press("7", "slash")  # into the audit search, then away and back
        assert isinstance(app.focused, Input)
        app.switch_mode("dashboard")
        await pilot.pause()
        await pilot.press("7")
        await pilot.pause()
        assert app.screen.id == "audit" and not isinstance(app.focused, Input)
        await pilot.press("q")


async def test_keys_after_slash_in_one_burst_are_the_filter_s(settings: Settings) -> None:
    app, deck = make_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: deck.running)
        await pilot.press("2")
        await wait_until(pilot, lambda: app.screen.id == "research")
        await pilot.pause()
        jobs_before = len(deck.jobs.jobs)
        # "o" and "w" would queue jobs and "s", "h" change tabs, were they screen keys
        for key, character in [("slash", "/"), *((c, c) for c in "show")]:
            app.post_message(events.Key(key, character))  # one burst, as a terminal reads it
        await pilot.pause(0.2)
        assert app.screen.query_one("#strategy-filter", Input).value == "show"
        assert len(deck.jobs.jobs) == jobs_before
        await pilot.press("escape", "q")


async def test_a_reason_typed_and_entered_in_one_burst_is_the_reason(settings: Settings) -> None:
    """Text then enter, read together: the enter may not overtake the text before it."""
    app, deck = make_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: deck.running)
        await pilot.press("4", "k")
        await wait_until(pilot, lambda: isinstance(app.focused, Input))
        for character in "drill":
            app.post_message(events.Key(character, character))
        app.post_message(events.Key("enter", "\r"))
        await wait_until(pilot, lambda: deck.engine.execution.state is RiskState.HALTED)
        assert "drill" in deck.engine.stopped_by["sma_cross"].why
        await pilot.press("q")
