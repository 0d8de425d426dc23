"""A modal that asks yes or no (or, where it matters, a third answer: not now)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static


class ConfirmScreen(ModalScreen[bool | None]):
    """Returns True for ``yes``, False for ``no`` (offered only when given), None for Escape.

    Nothing is focused at first, so an Enter meant for the screen below cannot
    confirm by accident: answer with the letter keys or the buttons.

    BINDINGS:
        y: yes. n: no (when offered). escape: neither.
    """

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n", "answer(False)", "No", id="confirm.no"),
        Binding("escape", "cancel", "Cancel", id="confirm.cancel"),
    ]
    AUTO_FOCUS = None
    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical {
        width: 72; max-width: 100%; height: auto; max-height: 100%;
        border: thick $warning; background: $surface; padding: 0 1;
    }
    ConfirmScreen #confirm-question { text-style: bold; width: 100%; }
    ConfirmScreen #confirm-detail { color: $text-muted; width: 100%; margin: 1 0; }
    ConfirmScreen Horizontal { height: auto; align-horizontal: right; }
    ConfirmScreen Button { margin-left: 1; }
    """

    def __init__(self, question: str, detail: str = "", yes: str = "Yes",
                 no: str | None = None) -> None:  # fmt: skip
        super().__init__()
        self.question = question
        self.detail = detail
        self.yes = yes
        self.no = no

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.question, id="confirm-question")
            if self.detail:
                yield Static(self.detail, id="confirm-detail", markup=False)
            with Horizontal():
                yield Button(f"{self.yes} (y)", id="confirm-yes", variant="warning")
                if self.no is not None:
                    yield Button(f"{self.no} (n)", id="confirm-no")
                yield Button("Cancel (esc)", id="confirm-cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        answers = {"confirm-yes": True, "confirm-no": False}
        self.dismiss(answers.get(event.button.id or ""))

    def action_answer(self, yes: bool) -> None:
        if yes or self.no is not None:
            self.dismiss(yes)

    def action_cancel(self) -> None:
        self.dismiss(None)
