"""A strategy's parameters as a form, built from its definition, checked as you type.

Each parameter gets a field and a hint with its range; a bad value shows its
error under the field, naming the parameter (the strategy's own
``ParameterError`` text), and a broken constraint (``fast < slow``) shows
under the form. ``read()`` gives the inputs for a run, or None while any
error stands, so nothing runs on a bad value.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Label, Select, Static

from console import formatting as fmt
from core import bounds
from core.research.strategies import Param, ParameterError, Params, Strategy

BARS_MIN = int(bounds.SIM_BARS.low or 0)
BARS_MAX = int(bounds.SIM_BARS.high or 0)


@dataclass(frozen=True)
class RunInputs:
    """What a backtest, a search or an export of the form's strategy runs on."""

    strategy: Strategy
    params: Params
    dataset: str
    bars: int


def bars_error(text: str) -> str | None:
    """The bars field's error, as a ``sim:`` job would refuse it, or None."""
    try:
        bounds.SIM_BARS.check(text)
    except bounds.OutOfBounds as exc:
        return f"bars: {exc}"
    return None


def hint(param: Param) -> str:
    bounds = f"{fmt.quantity(param.min)}..{fmt.quantity(param.max)}"
    return f"{bounds}  {param.description}" if param.description else bounds


def code_origin(strategy: Strategy) -> str:
    """Where a strategy's code comes from: ``built-in``, or its file (or package) and
    version, which every result of it records."""
    if strategy.source == "built-in":
        return "built-in"
    return f"{strategy.source} · version {strategy.version}"


class ParamForm(Vertical):
    """The chosen strategy's description, parameters, dataset and bar count.

    Enter in any field posts ``Submitted`` (the screen runs a backtest).
    """

    DEFAULT_CSS = """
    ParamForm { height: auto; }
    ParamForm #strategy-description { color: $text-muted; margin-bottom: 1; }
    ParamForm .field { height: 1; }
    ParamForm .field > Label { width: 12; }
    ParamForm .field > Input { width: 12; }
    ParamForm .field > Select { width: 32; }  /* a catalog dataset's name and size */
    ParamForm .field > .hint {
        width: 1fr; color: $text-muted; padding-left: 1; text-wrap: nowrap; text-overflow: ellipsis;
    }
    ParamForm .error { color: $error; padding-left: 12; }
    ParamForm #form-error { padding-left: 0; }
    ParamForm #param-rows { height: auto; }
    ParamForm #run-fields { margin-top: 1; height: auto; }
    """

    class Submitted(Message):
        """Enter was pressed in one of the form's fields."""

    def __init__(self, datasets: Sequence[tuple[str, str]], bars: int, **kwargs: object) -> None:
        """``datasets``: (label, dataset spec) pairs, the first chosen."""
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._datasets = list(datasets)
        self._bars = bars
        self.strategy: Strategy | None = None
        # Held while the parameter fields are rebuilt (``show`` awaits their removal and
        # mounting): a read waits for it, so a key pressed meanwhile never sees half a form.
        self._rebuilding = asyncio.Lock()

    def compose(self) -> ComposeResult:
        yield Static(id="strategy-description")
        yield Vertical(id="param-rows")
        with Vertical(id="run-fields"):
            with Horizontal(classes="field"):
                yield Label("dataset")
                yield Select(self._datasets, value=self._datasets[0][1], allow_blank=False,
                             id="dataset", compact=True)  # fmt: skip
            with Horizontal(classes="field"):
                yield Label("bars")
                yield Input(str(self._bars), id="bars", name="bars", compact=True)
                yield Static(f"{BARS_MIN:,}..{BARS_MAX:,}", classes="hint")
            yield Static(id="error-bars", classes="error")
        yield Static(id="form-error", classes="error")

    def on_mount(self) -> None:
        for error in self.query(".error"):
            error.display = False

    async def show(self, strategy: Strategy, keep_values: bool = False) -> None:
        """Rebuild the parameter fields for ``strategy``, at its defaults, or with
        ``keep_values`` at the values typed for the parameters it still has (a new
        version of the strategy shown)."""
        async with self._rebuilding:
            await self._rebuild(strategy, keep_values)

    async def _rebuild(self, strategy: Strategy, keep_values: bool) -> None:
        typed = {}
        if keep_values and self.strategy is not None:
            typed = {p.name: self.field(p.name).value for p in self.strategy.params}
        self.strategy = strategy
        self.border_title = strategy.name
        self.query_one("#strategy-description", Static).update(
            Text(f"{strategy.id} · {strategy.family.value} · {strategy.direction.value}\n"
                 f"{code_origin(strategy)}\n{strategy.description}")  # a user's text: no markup
        )  # fmt: skip
        rows = self.query_one("#param-rows", Vertical)
        await rows.remove_children()
        widgets = []
        for param in strategy.params:
            value = typed.get(param.name, fmt.quantity(param.default))
            field = Horizontal(
                Label(param.name),
                Input(value, id=f"param-{param.name}", name=param.name, compact=True),
                Static(hint(param), classes="hint"),
                classes="field",
            )  # fmt: skip
            error = Static(id=f"error-{param.name}", classes="error")
            error.display = False
            widgets += [field, error]
        await rows.mount_all(widgets)
        self._show_error("form-error", None)

    def field(self, name: str) -> Input:
        """The field of parameter ``name`` (or ``"bars"``)."""
        return self.query_one("#bars" if name == "bars" else f"#param-{name}", Input)

    def _show_error(self, widget_id: str, text: str | None) -> None:
        error = self.query_one(f"#{widget_id}", Static)
        error.update(f"✗ {text}" if text else "")
        error.display = text is not None

    def _check_field(self, field: Input) -> str | None:
        """Check one field, show its error (or clear it), return the error."""
        if field.name == "bars":
            message = bars_error(field.value.strip())
        else:
            assert self.strategy is not None
            param = next(p for p in self.strategy.params if p.name == field.name)
            try:
                param.coerce(field.value.strip())
                message = None
            except ParameterError as exc:
                message = str(exc)
        self._show_error(f"error-{field.name}", message)
        return message

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        # A field mounted for the strategy shown before (the list's cursor moved on, or a
        # reload came, while its Changed was queued) is gone: nothing to check.
        name = event.input.name
        if not name or self.strategy is None or not event.input.is_attached:
            return
        if name == "bars" or any(p.name == name for p in self.strategy.params):
            self._check_field(event.input)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Submitted())

    def offer_datasets(self, datasets: Sequence[tuple[str, str]]) -> None:
        """Offer these (label, spec) datasets, keeping the one chosen if still offered."""
        if list(datasets) == self._datasets:
            return
        self._datasets = list(datasets)
        select = self.query_one("#dataset", Select)
        chosen = select.value
        select.set_options(self._datasets)
        if any(spec == chosen for _, spec in self._datasets):
            select.value = chosen

    @property
    def dataset(self) -> str:
        return str(self.query_one("#dataset", Select).value)

    async def read(self) -> RunInputs | None:
        """The form's values once any rebuild under way is done, checked; None (with
        every error shown) if any is bad."""
        async with self._rebuilding:
            return self._read()

    def _read(self) -> RunInputs | None:
        strategy = self.strategy
        if strategy is None:
            return None
        fields = [self.field(p.name) for p in strategy.params] + [self.field("bars")]
        if any([self._check_field(field) is not None for field in fields]):
            return None
        raw = {p.name: self.field(p.name).value.strip() for p in strategy.params}
        try:
            params = strategy.resolve(raw)
        except ParameterError as exc:
            self._show_error("form-error", str(exc))
            return None
        self._show_error("form-error", None)
        return RunInputs(strategy, params, self.dataset, int(self.field("bars").value))
