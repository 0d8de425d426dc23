"""The runbook screen (being built under issue 7)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from console.screens.base import DeckScreen


class RunbookScreen(DeckScreen):
    TITLE_TEXT = "Runbook"

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        yield Static("Runbook: not built yet.")
        yield from self.compose_footer()
