"""The live tail of the process's log: a level floor, a search, and follow or pause."""

from __future__ import annotations

import logging
from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Input, Label, Static

from console import formatting as fmt
from console.widgets.bus_pane import BusPane
from console.widgets.log_view import LogView, line_text
from core.events import LogsAppended
from core.logs import LogEntry, LogTail

LEVELS = (logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR)


class LogsPane(BusPane):
    """Follows ``tail`` (the Deck's ``LogTail``) on ``LogsAppended``, at most ``max_hz``
    redraws a second however many records arrive: each redraw reads every record
    since the last one seen, once.

    Shows records at ``level`` or above whose line contains ``search`` (any case).
    While ``following`` the view keeps the newest record in sight; scrolling up
    pauses it. While paused the view holds still for reading, and new records
    are only counted; following again catches up and goes back to the bottom.
    """

    TOPICS = (LogsAppended,)
    LATEST_ONLY = True
    DEFAULT_CSS = """
    LogsPane { height: 1fr; }
    LogsPane > #logs-bar { height: 1; padding: 0 1; background: $panel; }
    LogsPane > #logs-bar > Label { width: auto; color: $text-muted; padding-right: 1; }
    LogsPane #logs-level { width: auto; padding-right: 2; text-style: bold; }
    LogsPane #logs-search { width: 1fr; }
    LogsPane #logs-follow { width: auto; padding-left: 2; }
    LogsPane #logs-follow.-paused { color: $warning; text-style: bold; }
    """

    def __init__(self, bus: Any, tail: LogTail, max_hz: float = 10.0, **kwargs: Any) -> None:
        super().__init__(bus, max_hz, **kwargs)
        self.tail = tail
        self.level = logging.DEBUG
        self.search = ""
        self.following = True
        self.unseen = 0  # records that arrived while paused
        self._last_seq = 0

    def compose(self) -> ComposeResult:
        with Horizontal(id="logs-bar"):
            yield Static(id="logs-level")
            yield Label("/ search")
            yield Input(placeholder="message, logger, field…", id="logs-search", compact=True)
            yield Static(id="logs-follow")
        yield LogView(self.tail.capacity, id="logs-view")

    def on_mount(self) -> None:
        self._refilter()

    @property
    def view(self) -> LogView:
        return self.query_one(LogView)

    def apply(self, events: list[Any]) -> None:
        new = self.tail.entries(after=self._last_seq)
        if not new:
            return
        self._last_seq = new[-1].seq
        if self.following:
            self.view.extend(entry for entry in new if self.shows(entry))
        else:
            self.unseen += len(new)
            self._show_state()

    def shows(self, entry: LogEntry) -> bool:
        needle = self.search.casefold()
        return entry.levelno >= self.level and (not needle or needle in line_text(entry).casefold())

    def cycle_level(self) -> None:
        self.level = LEVELS[(LEVELS.index(self.level) + 1) % len(LEVELS)]
        self._refilter()

    def set_search(self, text: str) -> None:
        self.search = text.strip()
        self._refilter()

    def toggle_follow(self) -> None:
        self.following = not self.following
        self.view.follow = self.following
        if self.following:
            self._refilter()
        else:
            self._show_state()

    def on_log_view_scrolled_away(self, event: LogView.ScrolledAway) -> None:
        if self.following:
            self.toggle_follow()

    def _refilter(self) -> None:
        """Redraw from everything the tail holds (cheap: the view draws only what is seen)."""
        entries = self.tail.entries()
        self._last_seq = entries[-1].seq if entries else self._last_seq
        self.unseen = 0
        self.view.replace(entry for entry in entries if self.shows(entry))
        self._show_state()

    def _show_state(self) -> None:
        self.query_one("#logs-level", Static).update(f"level ≥ {logging.getLevelName(self.level)}")
        follow = self.query_one("#logs-follow", Static)
        follow.set_class(not self.following, "-paused")
        shown = f"{fmt.quantity(len(self.view.entries))} shown"
        follow.update(
            f"{shown} · following" if self.following
            else f"{shown} · PAUSED, {fmt.quantity(self.unseen)} new · f follows"
        )  # fmt: skip
