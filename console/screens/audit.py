"""The audit screen: the trail, newest first and live, searchable, verified on demand.

Verification is the CLI's (``quarterdeck audit verify``): the hash chain and
every signed checkpoint, with the key at ``settings.audit_key_file``. It and
every read of the store run in a worker thread.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.timer import Timer
from textual.widgets import DataTable, Input, Label

from console.focus import focus_now
from console.modes import MODES
from console.screens.base import DeckScreen, PaletteCommand
from console.widgets.audit_banner import VerificationBanner
from console.widgets.audit_details import AuditDetails
from console.widgets.audit_table import AuditTable
from core.audit import Tampered, Verified, read_entries, verify_audit

log = logging.getLogger(__name__)
WINDOW = 2_000  # the newest entries the table holds; search looks within them
SEARCH_PAUSE = 0.15  # seconds of no typing before the table is filtered again


class AuditScreen(DeckScreen):
    """BINDINGS: v verify, / search, Escape clear the search (and leave it), d or Enter
    show or hide the selected entry's details, r reread the trail from the store."""

    TITLE_TEXT = MODES["audit"].title
    AUTO_FOCUS = "#audit-table"
    BINDINGS = [
        Binding("v", "verify", "Verify", id="audit.verify"),
        Binding("slash", "search", "Search", id="audit.search"),
        Binding("escape", "clear_search", "Clear search", id="audit.clear"),
        Binding("d", "details", "Details", id="audit.details"),
        Binding("r", "reload", "Reread", id="audit.reload"),
    ]
    DEFAULT_CSS = """
    AuditScreen #audit-search-bar { height: 1; padding: 0 1; }
    AuditScreen #audit-search-bar > Label { width: auto; color: $text-muted; padding-right: 1; }
    AuditScreen #audit-search { width: 1fr; }
    AuditScreen #audit-entries { border: round $primary; }
    AuditScreen #audit-details { display: none; }
    AuditScreen.-details #audit-details { display: block; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.verdict: Verified | Tampered | None = None
        self._verified_upto = 0  # the newest entry number when the trail last verified
        self._search_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        yield VerificationBanner(id="audit-banner")
        with Horizontal(id="audit-search-bar"):
            yield Label("/ search")
            yield Input(placeholder="who, action, subject, detail, time…", id="audit-search",
                        compact=True)  # fmt: skip
        yield AuditTable(self.deck.bus, self.deck.settings.ui_refresh_hz, id="audit-entries")
        yield AuditDetails(id="audit-details")
        yield from self.compose_footer()

    def on_mount(self) -> None:
        self.action_reload()

    @property
    def table(self) -> AuditTable:
        return self.query_one(AuditTable)

    @work(exclusive=True, group="audit-read")
    async def action_reload(self) -> None:
        try:
            entries = await asyncio.to_thread(read_entries, self.deck.store, "", WINDOW)
        except Exception as exc:  # e.g. the engine has not created the tables yet
            log.warning("audit trail not read: %s", exc)
            self.notify(f"The audit trail could not be read: {exc}. Press r to retry.",
                        severity="error")  # fmt: skip
            return
        self.table.reset(entries)
        self.table.border_subtitle = (
            f"newest {WINDOW:,} · older: quarterdeck audit list" if len(entries) >= WINDOW else ""
        )

    @work(exclusive=True, group="audit-verify")
    async def action_verify(self) -> None:
        banner = self.query_one(VerificationBanner)
        banner.show_pending("Verifying the hash chain and the signed checkpoints…")
        upto = max(self.table.entries, default=0)
        try:
            verdict: Verified | Tampered = await asyncio.to_thread(
                verify_audit, self.deck.store, self.deck.settings.audit_key_file
            )
        except Tampered as problem:
            verdict = problem
        except Exception as exc:  # the key file or the database could not be read
            log.warning("audit trail not verified: %s", exc)
            self.verdict = None
            banner.show_unchecked(str(exc))
            return
        self.verdict = verdict
        if isinstance(verdict, Tampered):
            banner.show_broken(verdict)
            if verdict.seq is not None:
                self.table.select(verdict.seq)
        else:
            self._verified_upto = upto
            self._show_new_since()

    def on_audit_table_changed(self, _: AuditTable.Changed) -> None:
        self._show_new_since()
        self._show_details()

    def _show_new_since(self) -> None:
        if isinstance(self.verdict, Verified):
            new = sum(1 for seq in self.table.entries if seq > self._verified_upto)
            self.query_one(VerificationBanner).show_verified(self.verdict, new)

    def action_search(self) -> None:
        focus_now(self.query_one("#audit-search", Input))

    def action_clear_search(self) -> None:
        self.query_one("#audit-search", Input).value = ""
        focus_now(self.query_one(DataTable))

    def on_input_changed(self, event: Input.Changed) -> None:
        """Filter once typing pauses: each filter rebuilds the table's rows."""
        if event.input.id != "audit-search":
            return
        if self._search_timer is not None:
            self._search_timer.stop()
        value = event.value
        self._search_timer = self.set_timer(SEARCH_PAUSE, lambda: self._search(value))

    def _search(self, value: str) -> None:
        self.table.search = value

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "audit-search":
            focus_now(self.query_one(DataTable))

    def action_details(self) -> None:
        self.toggle_class("-details")
        self._show_details()

    def on_data_table_row_selected(self, _: DataTable.RowSelected) -> None:
        self.action_details()

    def on_data_table_row_highlighted(self, _: DataTable.RowHighlighted) -> None:
        self._show_details()

    def _show_details(self) -> None:
        if self.has_class("-details"):
            self.query_one(AuditDetails).show(self.table.selected)

    def palette_commands(self) -> Iterable[PaletteCommand]:
        if isinstance(self.verdict, Tampered) and self.verdict.seq is not None:
            seq = self.verdict.seq
            yield PaletteCommand(f"Go to broken audit entry {seq}",
                                 "the first entry that does not verify",
                                 lambda: self.table.select(seq))  # fmt: skip
        if self.table.search:
            yield PaletteCommand(f"Clear the audit search “{self.table.search}”",
                                 "show every entry", self.action_clear_search)  # fmt: skip
