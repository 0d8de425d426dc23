"""The footer: the screen's own keys first, all of them, then the global ones that fit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.app import ComposeResult
from textual.containers import HorizontalGroup
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

#: The global key shown whatever the width: help lists every other one.
HELP_ACTION = "help"


@dataclass(frozen=True, slots=True)
class Key:
    """One key as the footer shows it."""

    key: str
    display: str
    description: str
    action: str
    enabled: bool
    tooltip: str

    @property
    def width(self) -> int:
        """Cells a ``FooterKey`` takes: `` k `` then ``description ``."""
        return len(self.display) + len(self.description) + 3


def pack(own: list[Key], shared: list[Key], width: int) -> tuple[tuple[Key, ...], ...]:
    """Lines of keys no wider than ``width``: every one of ``own``, on as many lines as
    they need, then help (on a line of its own if it must), then as many of the other
    ``shared`` keys, in order, as fit on the last line; none is ever cut."""
    lines: list[list[Key]] = [[]]

    def room(key: Key) -> bool:
        return sum(k.width for k in lines[-1]) + key.width <= width

    helps = [key for key in shared if key.action == HELP_ACTION]
    for key in own + helps:
        if lines[-1] and not room(key):
            lines.append([])
        lines[-1].append(key)
    for key in shared:
        if key.action == HELP_ACTION:
            continue
        if not room(key):
            break
        lines[-1].append(key)
    return tuple(tuple(line) for line in lines if line)


class KeyFooter(Footer):
    """Textual's ``Footer`` shows every key on one line, innermost first: the app's keys
    (quit, help, the eight screens) pushed a screen's own keys off the edge. This one
    shows the keys of the screen and its focused widget first, wrapping onto a second
    line rather than hiding one; then ``? Help`` and as many global keys as fit.

    It is rebuilt only when what it shows changes (a screen switch or focus move that
    changes no key, or a resize that moves none, keeps its keys).
    """

    DEFAULT_CSS = """
    KeyFooter { layout: vertical; height: auto; }
    KeyFooter > HorizontalGroup { height: 1; }
    """

    _lines: tuple[tuple[Key, ...], ...] | None = None

    def bindings_changed(self, screen: Screen[Any]) -> None:
        lines = self._pack(screen)
        if lines == self._lines and self._bindings_ready:
            return
        self._lines = lines
        super().bindings_changed(screen)

    def on_resize(self) -> None:
        if self._bindings_ready and self.is_attached:
            self.bindings_changed(self.screen)

    def _pack(self, screen: Screen[Any]) -> tuple[tuple[Key, ...], ...]:
        own: list[Key] = []
        shared: list[Key] = []
        seen: set[str] = set()
        palette = self.app.COMMAND_PALETTE_BINDING
        for namespace, binding, enabled, tooltip in screen.active_bindings.values():
            is_palette = binding.key == palette and self.app.ENABLE_COMMAND_PALETTE
            if not (binding.show or is_palette) or binding.action in seen:
                continue
            seen.add(binding.action)
            key = Key(binding.key, self.app.get_key_display(binding), binding.description,
                      binding.action, enabled, tooltip or binding.description)  # fmt: skip
            (shared if namespace is self.app else own).append(key)
        return pack(own, shared, self.size.width or self.app.size.width)

    def compose(self) -> ComposeResult:
        if not self._bindings_ready or self._lines is None:
            return
        for line in self._lines:
            with HorizontalGroup():
                for key in line:
                    yield FooterKey(key.key, key.display, key.description, key.action,
                                    disabled=not key.enabled, tooltip=key.tooltip,
                                    ).data_bind(compact=Footer.compact)  # fmt: skip
