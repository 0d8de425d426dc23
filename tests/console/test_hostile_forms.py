"""The console refuses the numbers the command line refuses, with the same checks
(``core.bounds``, ``QD_SWEEP_MAX_COMBOS``): a message naming the field, and the screen
stays usable for the next, good value."""

from __future__ import annotations

from textual.widgets import Input

from checks import builtin_checklist
from checks.ledger import state
from console.screens.form import FormScreen
from console.screens.research import ResearchScreen
from core.access import Role
from core.audit import read_entries
from core.config import Settings
from tests.console.pilot import wait_until
from tests.console.test_readiness_screen import fill, messages, open_release, release
from tests.console.test_research_screen import error_text, open_research, research_app


async def test_a_waiver_for_nan_or_inf_days_is_refused_in_the_dialog(make_frozen_app) -> None:
    app = make_frozen_app(role=Role.RELEASE_MANAGER, user="rita")
    app.deck.store.create_schema()
    async with app.run_test(size=(120, 40)) as pilot:
        tree = await open_release(pilot)
        tree.select_item("security.headers")
        await pilot.press("W")
        for days in ("nan", "inf", "-1", "0", "ten", "1e9"):
            await fill(pilot, justification="CSP lands in 3.0.1", role="Security", days=days)
            await wait_until(pilot, lambda days=days: f"got '{days}'" in messages(app))
            assert isinstance(app.screen, FormScreen)  # the dialog stays, to be corrected
            assert app.screen.focused is app.screen.query_one("#form-days", Input)
        assert "Valid for (days): expected a number in (0, 3,650], got 'nan'." in messages(app)
        assert read_entries(app.deck.store, "check.waive") == []
        await fill(pilot, days="2")
        await wait_until(pilot, lambda: bool(read_entries(app.deck.store, "check.waive")))
        current = state(app.deck.store, builtin_checklist("production"), release(app))
        waiver = {s.item.id: s for s in current.items}["security.headers"].waiver
        assert waiver is not None and waiver.approver == "rita"
        await pilot.press("q")


async def test_an_optimization_past_the_sweep_limit_is_refused_naming_it(
    settings: Settings,
) -> None:
    app, deck = research_app(settings.model_copy(update={"sweep_max_combos": 10}))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: deck.running)
        screen = await open_research(pilot)
        await pilot.press("o")
        await wait_until(pilot, lambda: "refused" in messages(app))
        assert "the grid has 25 combinations, more than QD_SWEEP_MAX_COMBOS (10)" in (messages(app))
        assert deck.jobs.jobs == {}
        screen.form.field("bars").value = "nan"
        await pilot.pause()
        assert error_text(screen, "bars") == (
            "✗ bars: expected a whole number in [100, 1,000,000], got 'nan'"
        )
        await pilot.press("b")  # nothing runs on a bad value, and the screen carries on
        await pilot.pause(0.2)
        assert screen.result is None and isinstance(app.screen, ResearchScreen)
        await pilot.press("q")
