"""Help: every key binding of every screen, generated from the bindings themselves, with
the user's keymap applied and the actions their role may not take marked with why."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from textual.app import ComposeResult
from textual.binding import Binding, BindingsMap
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Label

from console.modes import MODES
from console.screens.base import DeckScreen
from core.access import denial

if TYPE_CHECKING:
    from console.app import QuarterdeckApp


def class_bindings(owner: type[Any]) -> list[Binding]:
    """The class's bindings with those it inherits (Textual merges them per class)."""
    merged: BindingsMap = owner._merged_bindings or BindingsMap()
    return [binding for _, binding in merged]


def help_rows(app: QuarterdeckApp) -> list[tuple[str, str, str, str, str]]:
    """(where, keys, action, binding id, state) for every binding with an id, in screen order."""
    rows: list[tuple[str, str, str, str, str]] = []
    sections: list[tuple[str, type[Any]]] = [("Everywhere", type(app))]
    sections += [(mode.title, mode.screen_type()) for mode in MODES.values()]
    keymap = app.keymap
    for where, owner in sections:
        seen: set[str] = set()
        for binding in class_bindings(owner):
            if binding.id is None or binding.id in seen:
                continue
            seen.add(binding.id)
            keys = keymap.get(binding.id, binding.key)
            shown = ", ".join(app.get_key_display(binding.with_key(k)) for k in keys.split(","))
            state = ""
            if issubclass(owner, DeckScreen):
                need = owner.ACTIONS_NEED.get(binding.action.partition("(")[0])
                reason = denial(app.user.role, need.capability) if need else None
                state = f"disabled: {reason}" if reason else ""
            rows.append((where, shown, binding.description, binding.id, state))
    return rows


class HelpScreen(ModalScreen[None]):
    """Type to filter; Escape closes."""

    BINDINGS = [Binding("escape", "dismiss", "Close", id="help.close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical {
        width: 96%; max-width: 120; height: 90%; border: thick $primary;
        background: $surface; padding: 0 1;
    }
    HelpScreen DataTable { height: 1fr; }
    """

    def compose(self) -> ComposeResult:
        app = cast("QuarterdeckApp", self.app)
        self._rows = help_rows(app)
        with Vertical() as body:
            body.border_subtitle = "esc close · type to filter"
            yield Label(f"Key bindings for {app.user.name} ({app.user.role.value})")
            yield Input(placeholder="filter: screen, key, action or id", id="help-filter")
            table: DataTable[str] = DataTable(
                id="help-table", cursor_type="row", zebra_stripes=True
            )
            for column in ("Screen", "Keys", "Action", "Id", "State"):
                table.add_column(column, key=column.lower())
            yield table

    def on_mount(self) -> None:
        self._show("")

    def on_input_changed(self, event: Input.Changed) -> None:
        self._show(event.value)

    def _show(self, query: str) -> None:
        table = self.query_one("#help-table", DataTable)
        table.clear()
        needle = query.strip().lower()
        for row in self._rows:
            if not needle or needle in " ".join(row).lower():
                table.add_row(*row, key=row[3] + "@" + row[0])

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
