"""What every console screen shares: the header and footer, the Deck, and the role guard."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual import events
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Input

from console.widgets.bus_pane import BusPane
from console.widgets.key_footer import KeyFooter
from console.widgets.status_header import StatusHeader
from core.access import Capability, PermissionDenied, Principal, denial

if TYPE_CHECKING:
    from console.app import QuarterdeckApp
    from core.deck import Deck

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Need:
    """What a screen action needs: the ``capability``, and the ``command`` of the command
    layer it runs (``job.cancel``), whose name a refusal is audited under."""

    capability: Capability
    command: str


@dataclass(frozen=True, slots=True)
class PaletteCommand:
    """A command a screen offers the palette because of its current state
    (e.g. "Cancel job 12"); ``needs`` is the screen action (a key of the screen's
    ``ACTIONS_NEED``) whose capability it needs, if any."""

    title: str
    help: str
    run: Callable[[], Any]
    needs: str | None = None


class DeckScreen(Screen[None]):
    """Base of the console's mode screens.

    ``ACTIONS_NEED`` maps an action name to what it needs (``Need``). An action
    the user's role lacks is shown disabled in the footer, the help screen and
    the palette; pressing its key or choosing it in the palette says why
    instead of doing nothing, and is audited as ``denied.<command>`` as the
    command would have been (``refuse``). That is the courtesy; the rule is
    enforced by the commands themselves, which take ``self.user`` and raise
    ``PermissionDenied``: wrap each call in ``refusals``.
    """

    TITLE_TEXT: ClassVar[str] = ""
    # A screen with a text field names where focus goes when it is shown (AUTO_FOCUS):
    # never the text field, which takes text only once the user moves into it (``/`` or
    # ``tab``). A key pressed while the screen mounts is then the screen's, not typed
    # into whichever Input came first.
    _styled_theme: str | None = None
    ACTIONS_NEED: ClassVar[dict[str, Need]] = {}

    @property
    def console(self) -> QuarterdeckApp:
        return cast("QuarterdeckApp", self.app)

    @property
    def deck(self) -> Deck:
        return self.console.deck

    @property
    def user(self) -> Principal:
        return self.console.user

    def compose_header(self) -> ComposeResult:
        app = self.console
        header = StatusHeader(
            app.bus,
            self.TITLE_TEXT,
            app.settings.environment,
            clock=app.clock,
            max_hz=app.settings.ui_refresh_hz,
        )
        if app.deck_ready.is_set():
            header.show_engine(self.deck)
        yield header

    def on_mount(self) -> None:
        if not self.console.deck_ready.is_set():
            self.console.deck_attached.subscribe(self, self.on_deck_attached)

    def on_deck_attached(self, deck: Deck) -> None:
        """The Deck this screen was drawn without is now built (see ``DeckRecipe``)."""
        self.query_one(StatusHeader).show_engine(deck)

    def compose_footer(self) -> ComposeResult:
        yield KeyFooter()

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        """Textual restyles a whole screen each time it is shown again, in case the theme
        changed while it was hidden. With a dozen tables that was most of the cost of a
        screen switch, so the restyle happens only when the theme did change. (Textual
        calls each class's handler in turn: Screen's runs here, once, not again after.)"""
        theme = self.app.theme
        restyle = event.refresh_styles and self._styled_theme != theme
        self._styled_theme = theme
        event.prevent_default()
        super()._on_screen_resume(events.ScreenResume(refresh_styles=restyle))
        for pane in self.query(BusPane):
            pane.catch_up()

    def leave_text_field(self) -> None:
        """Back on a screen left with a text field focused, keys are keys again: focus
        returns to the screen's own widget (``AUTO_FOCUS``), as on its first showing."""
        if isinstance(self.focused, Input):
            home = self.query(self.AUTO_FOCUS or "*")
            self.set_focus(next((w for w in home if w.focusable and not isinstance(w, Input)),
                                None))  # fmt: skip

    def denial_for(self, action: str) -> str | None:
        """Why the user may not run ``action`` here, or None if they may."""
        need = self.ACTIONS_NEED.get(action.partition("(")[0])
        return None if need is None else denial(self.user.role, need.capability)

    def refuse(self, action: str, what: str, via: str) -> None:
        """Say why the user may not run ``action`` (asked for as ``what``, by ``via``: a
        key, the palette) and audit the attempt as the command layer audits a refused
        command: ``denied.<command>``, with the user's name, role and source."""
        need = self.ACTIONS_NEED[action.partition("(")[0]]
        reason = denial(self.user.role, need.capability)
        if reason is None:
            return
        self.notify(f"{what}: {reason}.", severity="warning")
        self.console.run_worker(self._audit_refusal(need, what, via), group="refusals")

    async def _audit_refusal(self, need: Need, what: str, via: str) -> None:
        # imported here: core.guard brings the store, which the first frame does without
        from core.guard import DENIED, denied_detail, record, refusal

        error = refusal(self.user, need.capability, need.command)  # logs it, as commands do
        if error is None:
            return
        detail = {**denied_detail(error), "via": via}
        try:
            await asyncio.to_thread(record, self.deck.store, self.user, DENIED + need.command,
                                    what, detail)  # fmt: skip
        except Exception:  # a refusal not audited must not take the console down
            log.exception("%s by %s not audited", DENIED + need.command, self.user.name)

    @contextmanager
    def refusals(self, what: str) -> Iterator[None]:
        """Show a command's ``PermissionDenied`` as an error notification, not a crash
        (the command has already audited and logged the refusal)."""
        try:
            yield
        except PermissionDenied as exc:
            self.notify(f"{what} refused: {exc}.", severity="error", timeout=15)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return None if self.denial_for(action) else True

    def on_key(self, event: events.Key) -> None:
        if self.refuse_key(event.key):
            event.stop()

    def refuse_key(self, key: str) -> bool:
        """Say (and audit) why ``key`` is refused, if it is one of this screen's keys the
        user's role may not use; True if it was."""
        for namespace, bindings in self._binding_chain:
            if namespace is not self:
                continue
            for binding in bindings.key_to_bindings.get(key, ()):
                if self.denial_for(binding.action):
                    self.refuse(binding.action, binding.description, f"key {key}")
                    return True
        return False

    def unfinished(self) -> str | None:
        """What quitting now would cut short on this screen (asked before the app quits),
        or None."""
        return None

    def palette_commands(self) -> Iterable[PaletteCommand]:
        """Commands that depend on what is on this screen right now; none by default."""
        return ()
