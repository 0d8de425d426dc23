"""A modal of a few labelled fields: what an attestation, a waiver or a sign-off asks for."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from console.focus import focus_now
from core.bounds import Bound, OutOfBounds


@dataclass(frozen=True, slots=True)
class FormField:
    """One field: free text, or one of ``choices`` (shown as a Select); with ``bound``, a
    number that bound accepts (``core.bounds``, as the command line checks it)."""

    key: str
    label: str
    choices: tuple[str, ...] = ()
    default: str = ""
    required: bool = True
    bound: Bound | None = None


class FormScreen(ModalScreen[dict[str, str] | None]):
    """Returns ``{key: value}`` (text stripped) on submit, or None on Escape.

    Enter in a text field moves to the next one, and submits from the last;
    a required field left blank, or a number outside its field's bound, is refused
    with a message naming the field, and the dialog stays.

    BINDINGS:
        ctrl+s: submit. escape: cancel.
    """

    BINDINGS = [
        Binding("ctrl+s", "submit", "Submit", id="form.submit"),
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
    ]
    DEFAULT_CSS = """
    FormScreen { align: center middle; }
    FormScreen > Vertical {
        width: 72; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    FormScreen #form-title { text-style: bold; width: 100%; }
    FormScreen #form-detail { color: $text-muted; width: 100%; }
    FormScreen Label.form-label { margin-top: 1; }
    FormScreen Horizontal { height: auto; align-horizontal: right; margin-top: 1; }
    FormScreen Button { margin-left: 1; }
    """

    def __init__(self, title: str, fields: tuple[FormField, ...], detail: str = "",
                 submit: str = "Submit") -> None:  # fmt: skip
        super().__init__()
        self.form_title = title
        self.fields = fields
        self.detail = detail
        self.submit_label = submit

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.form_title, id="form-title")
            if self.detail:
                yield Static(self.detail, id="form-detail", markup=False)
            for field in self.fields:
                optional = "" if field.required else " (optional)"
                yield Label(f"{field.label}{optional}", classes="form-label")
                if field.choices:
                    options = [(choice, choice) for choice in field.choices]
                    yield Select(options, value=field.default or field.choices[0],
                                 allow_blank=False, id=f"form-{field.key}")  # fmt: skip
                else:
                    yield Input(field.default, id=f"form-{field.key}")
            with Horizontal():
                yield Button(f"{self.submit_label} (ctrl+s)", id="form-submit", variant="primary")
                yield Button("Cancel (esc)", id="form-cancel")

    def values(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for field in self.fields:
            widget = self.query_one(f"#form-{field.key}")
            value = widget.value if isinstance(widget, Input | Select) else ""
            values[field.key] = str(value).strip()
        return values

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        inputs = list(self.query(Input))
        if event.input is inputs[-1]:
            self.action_submit()
        else:
            self.focus_next()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "form-submit":
            self.action_submit()
        else:
            self.action_cancel()

    def action_submit(self) -> None:
        values = self.values()
        for field in self.fields:
            problem = None
            if field.required and not values[field.key]:
                problem = f"{field.label} is required."
            elif field.bound is not None and values[field.key]:
                try:
                    field.bound.check(values[field.key])
                except OutOfBounds as exc:
                    problem = f"{field.label}: {exc}."
            if problem is not None:
                self.notify(problem, severity="warning")
                focus_now(self.query_one(f"#form-{field.key}"))
                return
        self.dismiss(values)

    def action_cancel(self) -> None:
        self.dismiss(None)
