"""The command palette's commands, worked out afresh each time it opens.

Every binding of the screen the palette was opened on is a command (with
its key, so the palette teaches the keyboard), followed by the screen's own
state-aware commands (``DeckScreen.palette_commands``), every screen, and
every theme. A command the user's role may not run stays listed, with the
reason, and choosing it shows that reason and is audited as refused
(``DeckScreen.refuse``), as its key would be.

Only Quarterdeck's own bindings are commands (each has an ``id``, the one a
keymap names). The bindings Textual gives a screen ("Focus Next") and the
widgets inside it (a tree's "Cursor to next ancestor", a table's cursor
keys, an input's editing keys) are how those are driven, not commands: they
are left out. So are the app's bindings (screens, help, quit), which are
listed below in their own words.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.app import SystemCommand
from textual.screen import Screen

from console.modes import MODES
from console.screens.base import DeckScreen
from themes import THEME_NAMES

if TYPE_CHECKING:
    from console.app import QuarterdeckApp


def _command(
    screen: Screen[Any], title: str, help_text: str, run: Callable[[], Any], needs: str | None
) -> SystemCommand:
    """``title`` running ``run``, or, if the user may not run ``needs`` here, refusing it."""
    if needs and isinstance(screen, DeckScreen):
        reason = screen.denial_for(needs)
        if reason:
            refuse = partial(screen.refuse, needs, title, "palette")
            return SystemCommand(title, f"disabled: {reason}", refuse)
    return SystemCommand(title, help_text, run)


def binding_commands(app: QuarterdeckApp, screen: Screen[Any]) -> Iterator[SystemCommand]:
    """The screen's own bindings, each once, with its key."""
    seen: set[str] = set()
    for active in screen.active_bindings.values():
        binding = active.binding
        if active.node is not screen or not binding.id or binding.action in seen:
            continue
        seen.add(binding.action)
        reason = screen.denial_for(binding.action) if isinstance(screen, DeckScreen) else None
        if not active.enabled and not reason:
            continue  # not applicable here (e.g. nothing selected), not forbidden
        run = partial(app.run_action, binding.action, screen)
        help_text = f"{app.get_key_display(binding)}  ·  {binding.id}"
        yield _command(screen, binding.description, help_text, run, binding.action)


def palette_commands(app: QuarterdeckApp, screen: Screen[Any]) -> Iterator[SystemCommand]:
    yield from binding_commands(app, screen)
    if isinstance(screen, DeckScreen):
        for command in screen.palette_commands():
            yield _command(screen, command.title, command.help, command.run, command.needs)
    for name, mode in MODES.items():
        yield SystemCommand(
            f"Go to {mode.title}", f"key {mode.key}", partial(app.action_switch_mode, name)
        )
    for name in THEME_NAMES:
        current = " (current)" if name == app.theme else ""
        yield SystemCommand(
            f"Theme: {name.removeprefix('quarterdeck-')}{current}",
            "kept for your next session",
            partial(setattr, app, "theme", name),
        )
    yield SystemCommand("Help: every key binding", "key ?", app.action_help)
    yield SystemCommand("Quit", "stop the engine cleanly and leave", app.action_quit)
