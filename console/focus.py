"""Keys are keys: which widget a key press reaches, decided in the order keys are pressed.

Textual hands a key to the focused widget's message queue and runs a screen's binding
only when the key has bubbled back up to the app; by then the app may have handed the
next keys of the same gesture (`5a`, `/rsi`, `escape b`) to whatever had focus before
the first key's action ran. The console instead resolves bindings in the app's own
turn, one key at a time, unless a text field has focus; and moves focus at once
(``focus_now``), not on a later turn of the app's queue as ``Widget.focus`` does.
"""

from __future__ import annotations

from textual.widget import Widget
from textual.widgets import Input, OptionList

#: Widgets a printable key types into (an open Select searches its options as you type).
TEXT_TAKERS: tuple[type[Widget], ...] = (Input, OptionList)


def takes_text(focused: Widget | None) -> bool:
    """Whether the focused widget takes typing. Every key then goes its own way, through
    the widget's queue: resolving an enter at once would overtake the text typed just
    before it (the reason dialog would submit an empty reason)."""
    return isinstance(focused, TEXT_TAKERS)


def focus_now(widget: Widget) -> None:
    """Focus ``widget`` before the app reads the next key."""
    widget.screen.set_focus(widget)
