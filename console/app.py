"""The Quarterdeck Textual app: one instance per viewer, attached to a shared Deck."""

from __future__ import annotations

import asyncio
import gc
import getpass
import logging
import signal
import time
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import AwaitMount

from checks import ReadinessService
from console.keymap import KeymapError, load_keymap
from console.palette import palette_commands
from console.screens import MODE_SCREENS, DeckScreen, HelpScreen, ReasonScreen
from console.screens.confirm import ConfirmScreen
from console.screens.form import FormScreen
from console.screens.help import class_bindings
from core.access import Principal
from core.deck import Deck
from core.preferences import Preferences
from themes import DEFAULT_THEME, THEME_NAMES, register_themes

log = logging.getLogger(__name__)

MODE_BINDINGS = [
    Binding(key, f"switch_mode('{mode}')", screen.TITLE_TEXT, id=f"app.screen.{mode}")
    for mode, (key, screen) in MODE_SCREENS.items()
]


class QuarterdeckApp(App[int]):
    """The console. It starts the Deck in a worker so the first frame never waits for it.

    BINDINGS:
        1-8: the dashboard, research, jobs, trading, readiness, runbook, audit and logs.
        ?: every key binding. ctrl+p: the command palette.
        q / ctrl+q: stop the engine cleanly and quit.

    ``clock`` (epoch seconds) is injected so that tests can freeze every clock
    the screens show. ``start_deck`` False means the Deck belongs to someone else
    (an SSH session's app): quitting then ends this app only. ``source`` is where
    the user is, for the list of who is connected ("local", or an SSH client).
    """

    CSS_PATH = "app.tcss"
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]
    TITLE = "Quarterdeck"
    MODE_SCREENS: ClassVar[dict[str, tuple[str, type[DeckScreen]]]] = MODE_SCREENS
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("ctrl+q", "quit", "Quit", id="app.quit.ctrl", show=False, priority=True),
        Binding("question_mark,f1", "help", "Help", id="app.help"),
        Binding("ctrl+p", "command_palette", "Palette", id="app.palette", show=False),
        *MODE_BINDINGS,
    ]

    def __init__(
        self,
        deck: Deck,
        readiness: ReadinessService | None = None,
        *,
        user: Principal | None = None,
        clock: Callable[[], float] = time.time,
        start_deck: bool = True,
        handle_sigterm: bool = False,
        source: str = "local",
    ) -> None:
        super().__init__()
        self.deck = deck
        self.readiness = readiness
        self.user = user or Principal(getpass.getuser(), deck.settings.console_role)
        self.clock = clock
        self.keymap: dict[str, str] = {}
        self.preferences = Preferences(deck.settings.preferences_dir)
        self._start_deck = start_deck
        self._handle_sigterm = handle_sigterm
        self._source = source
        self._quitting = False
        self._session: int | None = None
        self._visited_modes: set[str] = set()
        self._hold_frames = True

    def on_mount(self) -> None:
        register_themes(self)
        saved = self.preferences.load(self.user.name).get("theme")
        self.theme = saved if saved in THEME_NAMES else DEFAULT_THEME
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        self._apply_keymap()
        for mode, (_, screen_type) in MODE_SCREENS.items():
            self.add_mode(mode, lambda t=screen_type, m=mode: t(id=m))
        self.switch_mode("dashboard")
        self._session = self.deck.sessions.open(self.user, self._source)
        if self._start_deck:
            self.run_worker(self._start(), name="deck-start")
        if self._handle_sigterm:
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, self._on_sigterm)

    def on_unmount(self) -> None:
        if self._session is not None:
            self.deck.sessions.close(self._session)
            self._session = None

    def switch_mode(self, mode: str) -> AwaitMount:
        self._hold_frames = mode not in self._visited_modes
        self._visited_modes.add(mode)
        return super().switch_mode(mode)

    def delay_update(self, delay: float = 0.05) -> None:
        """Textual holds all drawing for 50 ms on every mode switch, to hide a new screen
        while it lays itself out. Only a screen's first showing needs that: after it,
        the screen is ready and the hold was the larger part of a switch's latency."""
        if self._hold_frames:
            super().delay_update(delay)

    def _apply_keymap(self) -> None:
        path = self.deck.settings.keymap_file
        try:
            self.keymap = load_keymap(path, all_binding_ids())
        except KeymapError as exc:
            log.error("keymap not applied: %s", exc)
            self.notify(f"Default keys in use. {exc}", severity="error", timeout=30)
            return
        self.set_keymap(self.keymap)

    def _remember_theme(self, theme: Any) -> None:
        try:
            self.preferences.set(self.user.name, "theme", theme.name)
        except (OSError, ValueError) as exc:
            log.warning("theme not saved for %s: %s", self.user.name, exc)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from palette_commands(self, screen)
        yield SystemCommand("Screenshot", "save an SVG of this screen", self.deliver_screenshot)

    async def _start(self) -> None:
        try:
            await self.deck.start()
            # Everything built so far (numba, SQLAlchemy, the strategy library...) lives
            # as long as the process. Freezing it keeps full collections from walking
            # it: they had stalled the loop for ~170 ms every second or so at 10k ticks/s.
            gc.freeze()
        except Exception as exc:
            log.exception("the deck failed to start")
            self.notify(f"The engine failed to start: {exc}", severity="error", timeout=60)

    def _on_sigterm(self) -> None:
        log.info("SIGTERM received: shutting down")
        self.call_later(self.action_quit)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    async def action_quit(self) -> None:
        """Stop the Deck (draining the store writer) if this app started it, then leave."""
        if self._quitting:
            return
        self._quitting = True
        try:
            if self._start_deck:
                await self.deck.stop()
        finally:
            if self._handle_sigterm:
                asyncio.get_running_loop().remove_signal_handler(signal.SIGTERM)
            self.exit(0)


def all_binding_ids() -> set[str]:
    """Every binding id a keymap may name: the app's, each screen's and each dialog's."""
    owners: list[type[Any]] = [QuarterdeckApp, HelpScreen, ReasonScreen]
    owners += [screen for _, screen in MODE_SCREENS.values()]
    owners += [ConfirmScreen, FormScreen]
    return {b.id for owner in owners for b in class_bindings(owner) if b.id}
