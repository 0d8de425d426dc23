"""The audit screen (being built under issue 7)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from console.screens.base import DeckScreen


class AuditScreen(DeckScreen):
    TITLE_TEXT = "Audit"

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        yield Static("Audit: not built yet.")
        yield from self.compose_footer()
