"""What pilot tests share: a console on a real Deck, waiting on conditions (never a
guessed sleep), answering the reason dialog, reading a Static's text."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from typing import Any

from rich.console import Console
from textual.widgets import Input, Static

from checks import ReadinessService
from console.app import QuarterdeckApp
from console.screens.reason import ReasonScreen
from core.config import Settings
from core.deck import Deck


async def wait_until(pilot: Any, condition: Callable[[], object], timeout: float = 30.0) -> None:
    """Let the app run until ``condition()`` holds; fail after ``timeout`` seconds."""

    async def poll() -> None:
        while not condition():
            await pilot.pause(0.05)

    await asyncio.wait_for(poll(), timeout)


def static_text(widget: Static) -> str:
    console = Console(width=100, file=io.StringIO(), record=True)
    console.print(widget.content)
    return console.export_text()


def make_app(settings: Settings) -> tuple[QuarterdeckApp, Deck]:
    deck = Deck(settings)
    readiness = ReadinessService(deck)
    deck.add_service(readiness)
    return QuarterdeckApp(deck, readiness), deck


async def answer(pilot, text: str) -> None:
    """Type a reason into the open reason dialog and submit it."""
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ReasonScreen))
    pilot.app.screen.query_one("#reason", Input).value = text
    await pilot.press("enter")


#: An optimization long enough to be paused, reprioritised and cancelled while it runs.
LONG = {"strategy": "rsi_reversion", "dataset": "sim:SPY", "bars": 20_000,
        "grid": {"window": [5, 60, 1], "lower": [10, 45, 1], "upper": [55, 90, 1]}}  # fmt: skip
