"""A Static for text redrawn many times a second."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class LiveText(Static):
    """Lines of text that never wrap: a line too long for the pane ends in an ellipsis.

    ``show`` asks for a new layout only when the number of lines changes. A plain
    ``Static.update`` lays out the whole screen every time, and live panes updating
    ten times a second had made that most of the dashboard's drawing cost.
    """

    DEFAULT_CSS = "LiveText { text-wrap: nowrap; text-overflow: ellipsis; }"

    _lines = -1

    def show(self, text: Text | str) -> None:
        plain = text.plain if isinstance(text, Text) else text
        lines = plain.count("\n") + 1
        self.update(text, layout=lines != self._lines)
        self._lines = lines
