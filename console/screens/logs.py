"""The logs screen: the process's newest log records, live, filtered by level and text.

The records come from the Deck's in-memory tail (``core.logs.LogTail``), the
same records that go to the JSON-lines file at ``settings.log_file``.
"""

from __future__ import annotations

from collections.abc import Iterable
from logging import getLevelName

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input

from console.focus import focus_now
from console.modes import MODES
from console.screens.base import DeckScreen, PaletteCommand
from console.widgets.log_view import LogView
from console.widgets.logs_pane import LogsPane


class LogsScreen(DeckScreen):
    """BINDINGS: l cycles the lowest level shown (DEBUG, INFO, WARNING, ERROR), / searches,
    Escape clears the search, f pauses or resumes following the newest records."""

    TITLE_TEXT = MODES["logs"].title
    AUTO_FOCUS = "#logs-view"
    BINDINGS = [
        Binding("l", "cycle_level", "Level", id="logs.level"),
        Binding("slash", "search", "Search", id="logs.search"),
        Binding("escape", "clear_search", "Clear search", id="logs.clear"),
        Binding("f", "toggle_follow", "Follow/pause", id="logs.follow"),
    ]

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        yield LogsPane(self.deck.bus, self.deck.logs, self.deck.settings.ui_refresh_hz,
                       id="logs-pane")  # fmt: skip
        yield from self.compose_footer()

    @property
    def pane(self) -> LogsPane:
        return self.query_one(LogsPane)

    def action_cycle_level(self) -> None:
        self.pane.cycle_level()

    def action_search(self) -> None:
        focus_now(self.query_one("#logs-search", Input))

    def action_clear_search(self) -> None:
        self.query_one("#logs-search", Input).value = ""
        focus_now(self.query_one(LogView))

    def action_toggle_follow(self) -> None:
        self.pane.toggle_follow()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "logs-search":
            self.pane.set_search(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "logs-search":
            focus_now(self.query_one(LogView))

    def palette_commands(self) -> Iterable[PaletteCommand]:
        pane = self.pane
        if not pane.following:
            yield PaletteCommand(f"Resume following the log ({pane.unseen:,} new)",
                                 "key f", self.action_toggle_follow)  # fmt: skip
        if pane.search:
            yield PaletteCommand(f"Clear the log search “{pane.search}”",
                                 f"show every record at {getLevelName(pane.level)} or above",
                                 self.action_clear_search)  # fmt: skip
