"""The local console draws its dashboard before the trading domain is imported, then
builds the Deck off the loop and attaches to it (``DeckRecipe``)."""

from __future__ import annotations

import subprocess
import sys
import threading

from checks import ReadinessService
from console.app import QuarterdeckApp
from console.boot import DeckRecipe
from console.widgets.readiness_pane import ReadinessPane
from console.widgets.status_header import StatusHeader
from core.config import Settings
from core.deck import Deck
from tests.console.pilot import static_text, wait_until

HEAVY = ("numba", "sqlalchemy", "sqlmodel", "httpx", "checks", "core.deck", "core.research")


def test_the_dashboard_imports_none_of_the_trading_domain() -> None:
    code = (
        "import sys, console.app, console.screens.dashboard\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


class GatedRecipe(DeckRecipe):
    """Builds the real Deck, but only once the test opens the gate."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.gate = threading.Event()

    def build(self) -> tuple[Deck, ReadinessService]:
        assert self.gate.wait(60), "the test never opened the gate"
        return super().build()


async def test_dashboard_shows_before_the_deck_and_attaches_when_it_is_built(
    settings: Settings,
) -> None:
    settings.keymap_file.parent.mkdir(parents=True, exist_ok=True)
    settings.keymap_file.write_text('[app.screen]\njobs = "j"\n')
    recipe = GatedRecipe(settings)
    app = QuarterdeckApp(recipe)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.screen.id == "dashboard")
        header = app.screen.query_one(StatusHeader)
        assert "STARTING" in static_text(header.query_one("#status-line"))
        assert "waiting for the engine" in static_text(app.screen.query_one("#portfolio-figures"))
        assert not hasattr(app, "deck")

        await pilot.press("4")  # waits for the Deck instead of failing
        await pilot.pause(0.2)
        assert app.screen.id == "dashboard"

        recipe.gate.set()
        await wait_until(pilot, lambda: app.screen.id == "trading")
        assert app.deck.bus is recipe.bus
        assert app.screen.query_one(StatusHeader).mode == "paper"
        await pilot.press("1")
        header = app.screen.query_one(StatusHeader)
        assert header.mode == "paper"
        await wait_until(pilot, lambda: header.users == (app.user.name,))
        assert app.screen.query_one(ReadinessPane).readiness is app.readiness
        figures = app.screen.query_one("#portfolio-figures")
        await wait_until(pilot, lambda: "Cash" in static_text(figures))

        await pilot.press("j")  # the keymap is applied once the screens are known
        assert app.screen.id == "jobs"
        await app.action_quit()
    assert not app.deck.running


async def test_quitting_before_the_deck_is_built_leaves_cleanly(settings: Settings) -> None:
    recipe = GatedRecipe(settings)
    app = QuarterdeckApp(recipe)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.screen.id == "dashboard")
        await pilot.press("q")
    recipe.gate.set()
    assert app.return_code == 0
