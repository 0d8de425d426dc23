"""The Quarterdeck Textual app: one instance per viewer, attached to a shared Deck."""

from __future__ import annotations

import asyncio
import gc
import getpass
import logging
import signal
import time
from collections.abc import Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.signal import Signal
from textual.widget import AwaitMount

from console import lean_strips
from console.boot import DeckRecipe
from console.focus import takes_text
from console.heap import HeapSettler
from console.keymap import KeymapError, load_keymap
from console.modes import MODES, Mode, import_screens
from console.pace import PACE
from console.palette import palette_commands
from console.screens.base import DeckScreen
from console.screens.confirm import ConfirmScreen
from console.screens.form import FormScreen
from console.screens.help import HelpScreen, class_bindings
from console.screens.reason import ReasonScreen
from console.strategy_notices import announce_reloads
from core.access import Principal
from core.bus import Bus
from core.config import Settings
from core.deck_loop import Remote
from core.preferences import Preferences
from themes import DEFAULT_THEME, THEME_NAMES, register_themes

if TYPE_CHECKING:
    from checks import ReadinessService
    from core.deck import Deck

log = logging.getLogger(__name__)

MODE_BINDINGS = [
    Binding(mode.key, f"switch_mode('{name}')", mode.title, id=f"app.screen.{name}")
    for name, mode in MODES.items()
]


class QuarterdeckApp(App[int]):
    """The console, attached to a running Deck or to a ``DeckRecipe`` it builds itself.

    Given a recipe (the local console), it draws the dashboard first and builds
    and starts the Deck in a worker afterwards: the first frame never waits for
    the trading domain to import. Until the Deck is there, the other screens
    wait for it (``deck_ready``) and the keymap is not yet applied.

    BINDINGS:
        1-8: the dashboard, research, jobs, trading, readiness, runbook, audit and logs.
        ?: every key binding. ctrl+p: the command palette.
        q / ctrl+q: stop the engine cleanly and quit (asking first while a runbook run
            is under way).

    ``deck_loop`` is the loop the Deck runs on when that is not this app's (the
    console's Deck runs on a thread of its own, ``core.deck_loop``): the app then
    holds the Deck and its readiness service as ``Remote`` objects, whose commands
    run there. ``clock`` (epoch seconds) is injected so that tests can freeze every clock
    the screens show. ``start_deck`` False means the Deck belongs to someone else
    (an SSH session's app): quitting then ends this app only. Where the user is
    ("local", or an SSH client) is ``user.source``.
    """

    CSS_PATH = "app.tcss"
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]
    TITLE = "Quarterdeck"
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("ctrl+q", "quit", "Quit", id="app.quit.ctrl", show=False, priority=True),
        Binding("question_mark,f1", "help", "Help", id="app.help"),
        Binding("ctrl+p", "command_palette", "Palette", id="app.palette", show=False),
        *MODE_BINDINGS,
    ]

    def __init__(
        self,
        deck: Deck | DeckRecipe,
        readiness: ReadinessService | None = None,
        *,
        user: Principal | None = None,
        clock: Callable[[], float] = time.time,
        start_deck: bool = True,
        handle_sigterm: bool = False,
        manage_heap: bool = False,
        deck_loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        lean_strips.install()
        super().__init__()
        self.settings: Settings = deck.settings
        self.bus: Bus = deck.bus
        self.readiness = readiness
        self.deck_ready = asyncio.Event()
        self.deck_attached: Signal[Deck] = Signal(self, "deck-attached")
        self._recipe: DeckRecipe | None = None
        self._deck_loop = deck_loop
        self._pending_mode: str | None = None
        self._held_keys: list[events.Key] = []  # pressed after a screen key, while pending
        if isinstance(deck, DeckRecipe):
            self._recipe = deck
        else:
            self.deck, self.readiness = self._reach(deck, readiness)
            self.deck_ready.set()
        self.user = user or Principal(getpass.getuser(), self.settings.console_role)
        self.clock = clock
        self.keymap: dict[str, str] = {}
        self.preferences = Preferences(self.settings.preferences_dir)
        self._start_deck = start_deck
        self._handle_sigterm = handle_sigterm
        self._quitting = False
        self._asking_to_quit = False
        self._session: int | None = None
        self._visited_modes: set[str] = set()
        self._hold_frames = True
        #: Freezes the heap after a screen's first showing: the one console of a process
        #: (``quarterdeck``), not SSH sessions (the server's heap) nor tests' many apps.
        self.heap = HeapSettler() if manage_heap else None
        #: Where in each beat this console's live panes redraw (``console.pace``).
        self.redraw_phase = 0.0

    def on_mount(self) -> None:
        self.redraw_phase = PACE.opened()
        register_themes(self)
        saved = self.preferences.load(self.user.name).get("theme")
        self.theme = saved if saved in THEME_NAMES else DEFAULT_THEME
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        for mode in MODES.values():
            self.add_mode(mode.name, partial(_new_screen, mode))
        if self.deck_ready.is_set():
            self._attach()
        self.switch_mode("dashboard")
        self.run_worker(announce_reloads(self, self.bus), name="strategy-notices")
        if self._handle_sigterm:
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, self._on_sigterm)

    def on_ready(self) -> None:
        if self._recipe is not None:
            self.call_after_refresh(self.run_worker, self._build(self._recipe), name="deck-build")

    def _reach(
        self, deck: Deck, readiness: ReadinessService | None
    ) -> tuple[Deck, ReadinessService | None]:
        """The Deck and its readiness service as this app calls them: themselves on the
        app's own loop, else ``Remote``."""
        if self._deck_loop is None:
            return deck, readiness
        remote = cast("Deck", Remote(deck, self._deck_loop))
        return remote, None if readiness is None else cast(
            "ReadinessService", Remote(readiness, self._deck_loop)
        )

    async def _build(self, recipe: DeckRecipe) -> None:
        try:
            self.deck, self.readiness = self._reach(*await asyncio.to_thread(recipe.build))
        except Exception as exc:
            log.exception("the deck could not be built")
            self.notify(f"The engine could not be built: {exc}", severity="error", timeout=60)
            return
        self._attach()
        self.deck_attached.publish(self.deck)
        if self._pending_mode is not None:
            mode, self._pending_mode = self._pending_mode, None
            await self.switch_mode(mode)
            held, self._held_keys = self._held_keys, []
            for key in held:
                self.post_message(events.Key(key.key, key.character))

    async def on_event(self, event: events.Event) -> None:
        """Each key is resolved before the next is read (see ``console.focus``). Keys
        pressed after a screen key whose screen waits for the Deck are that screen's:
        they are held and replayed once it is shown (`2b` at start-up backtests, rather
        than the `b` reaching the dashboard)."""
        if isinstance(event, events.Key) and not event.is_forwarded:
            if self._pending_mode is not None:
                self._held_keys.append(event)
                return
            if not takes_text(self.focused) and self.screen.maximized is None:
                if await self._check_bindings(event.key, priority=True):
                    return
                screen = self.screen
                if isinstance(screen, DeckScreen) and screen.refuse_key(event.key):
                    return  # before the widgets' own bindings, as Textual's bubbling has it
                if await self._check_bindings(event.key):
                    return
        await super().on_event(event)

    def _attach(self) -> None:
        """The Deck is there: apply the keymap, join its sessions, start it if asked."""
        self.deck_ready.set()
        self._apply_keymap()
        self._session = self.deck.sessions.open(self.user, self.user.source)
        if self._start_deck:
            self.run_worker(self._start(), name="deck-start")

    def on_unmount(self) -> None:
        PACE.closed()
        if self.heap is not None:
            self.heap.cancel()
        if self._session is not None:
            self.deck.sessions.close(self._session)
            self._session = None

    async def action_switch_mode(self, mode: str) -> None:
        """Every screen but the dashboard needs the Deck: while it is still being built,
        the switch waits for it (without holding up the app's messages)."""
        if self.deck_ready.is_set():
            self.switch_mode(mode)
        else:
            self._pending_mode = mode

    def switch_mode(self, mode: str) -> AwaitMount:
        revisit = mode in self._visited_modes
        self._hold_frames = not revisit
        self._visited_modes.add(mode)
        if not revisit:
            self.settle_heap()
        mounted = super().switch_mode(mode)
        if revisit and isinstance(self.screen, DeckScreen):
            self.screen.leave_text_field()
        return mounted

    def settle_heap(self) -> None:
        """Freeze the heap soon (``console.heap``): a new screen, or a large result read,
        is long-lived."""
        if self.heap is not None:
            self.heap.settle_soon()

    def delay_update(self, delay: float = 0.05) -> None:
        """Textual holds all drawing for 50 ms on every mode switch, to hide a new screen
        while it lays itself out. Only a screen's first showing needs that: after it,
        the screen is ready and the hold was the larger part of a switch's latency."""
        if self._hold_frames:
            super().delay_update(delay)

    def _apply_keymap(self) -> None:
        path = self.settings.keymap_file
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
            if self.heap is not None:
                # Everything built so far (numba, SQLAlchemy, the strategy library...)
                # lives as long as the process. Freezing it keeps full collections from
                # walking it: they had stalled the loop for ~170 ms every second or so at
                # 10k ticks/s.
                gc.freeze()
                HeapSettler.install()
        except Exception as exc:
            log.exception("the deck failed to start")
            self.notify(f"The engine failed to start: {exc}", severity="error", timeout=60)

    def _on_sigterm(self) -> None:
        log.info("SIGTERM received: shutting down")
        self.call_later(self.shut_down)  # nobody to ask

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def unfinished_work(self) -> list[str]:
        """What quitting now would cut short, as each screen says (``DeckScreen.unfinished``):
        a runbook run under way."""
        screens = [screen for stack in self._screen_stacks.values() for screen in stack]
        return [what for screen in screens
                if isinstance(screen, DeckScreen) and (what := screen.unfinished())]  # fmt: skip

    async def action_quit(self) -> None:
        """Leave, asking first when that would cut work short (a runbook run under way)."""
        if self._quitting:
            return
        unfinished = self.unfinished_work()
        if not unfinished:
            await self.shut_down()
            return

        async def answered(yes: bool | None) -> None:
            self._asking_to_quit = False
            if yes:
                await self.shut_down()

        if not self._asking_to_quit:
            self._asking_to_quit = True
            self.push_screen(ConfirmScreen("Quit with a run under way?", "\n".join(unfinished),
                                           yes="Quit"), answered)  # fmt: skip

    async def shut_down(self) -> None:
        """Stop the Deck (draining the store writer) if this app started it, then leave."""
        if self._quitting:
            return
        self._quitting = True
        try:
            if self._start_deck and self.deck_ready.is_set():
                await self.deck.stop()
        finally:
            if self._handle_sigterm:
                asyncio.get_running_loop().remove_signal_handler(signal.SIGTERM)
            self.exit(0)


def _new_screen(mode: Mode) -> DeckScreen:
    return mode.screen_type()(id=mode.name)


def all_binding_ids() -> set[str]:
    """Every binding id a keymap may name: the app's, each screen's and each dialog's."""
    owners: list[type[Any]] = [QuarterdeckApp, HelpScreen, ReasonScreen]
    owners += import_screens()
    owners += [ConfirmScreen, FormScreen]
    return {b.id for owner in owners for b in class_bindings(owner) if b.id}
