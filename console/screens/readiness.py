"""The readiness screen (being built under issue 7)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from console.screens.base import DeckScreen


class ReadinessScreen(DeckScreen):
    TITLE_TEXT = "Readiness"

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        yield Static("Readiness: not built yet.")
        yield from self.compose_footer()
