"""Log records as lines, drawn only where they are on screen, so thousands cost nothing."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from console import formatting as fmt
from core.logs import LogEntry

LEVEL_WIDTH = 8  # "CRITICAL"


def line_parts(entry: LogEntry) -> list[tuple[str, str]]:
    """The line's text in (component, text) pieces: time, level, logger, message, fields."""
    parts = [("time", fmt.utc_clock_ms(entry.ts) + " "),
             (_level_class(entry.levelno), f"{entry.level:<{LEVEL_WIDTH}} "),
             ("logger", entry.logger + " "), ("message", entry.message)]  # fmt: skip
    if entry.exception:
        parts.append(("error", f" | {entry.exception}"))
    if entry.fields:
        parts.append(("fields", "  " + " ".join(f"{k}={v}" for k, v in entry.fields)))
    return parts


def line_text(entry: LogEntry) -> str:
    return "".join(text for _, text in line_parts(entry))


def _level_class(levelno: int) -> str:
    if levelno >= 40:
        return "error"
    if levelno >= 30:
        return "warning"
    return "info" if levelno >= 20 else "debug"


class LogView(ScrollView, can_focus=True):
    """One line a record, oldest at the top; only the lines in view are rendered.

    The level is written out (``WARNING``) as well as coloured. With ``follow``
    on, the newest line stays in view: every change and every resize (the
    first layout too) scrolls to it. Scrolling up from there posts
    ``ScrolledAway``, which the owner takes as "stop following". Scrolls both
    ways (long lines scroll sideways rather than wrap).

    COMPONENT_CLASSES:
        log-view--time, log-view--logger, log-view--message, log-view--fields: parts of a line.
        log-view--debug, log-view--info, log-view--warning, log-view--error: the level,
        by severity (the error class also colours an exception's summary).
    """

    COMPONENT_CLASSES = {
        "log-view--time", "log-view--logger", "log-view--message", "log-view--fields",
        "log-view--debug", "log-view--info", "log-view--warning", "log-view--error",
    }  # fmt: skip
    DEFAULT_CSS = """
    LogView { height: 1fr; background: $surface; }
    LogView > .log-view--time { color: $text-muted; }
    LogView > .log-view--logger { color: $secondary; }
    LogView > .log-view--message { color: $foreground; }
    LogView > .log-view--fields { color: $text-muted; }
    LogView > .log-view--debug { color: $text-muted; }
    LogView > .log-view--info { color: $success; }
    LogView > .log-view--warning { color: $warning; text-style: bold; }
    LogView > .log-view--error { color: $error; text-style: bold; }
    """

    class ScrolledAway(Message):
        """The user scrolled up from the newest line while following."""

    def __init__(self, capacity: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.capacity = capacity
        self.follow = True
        self.entries: list[LogEntry] = []
        self._widths: list[int] = []
        self._styles: dict[str, Style] = {}

    def replace(self, entries: Iterable[LogEntry]) -> None:
        self.entries = list(entries)[-self.capacity :]
        self._widths = [cell_len(line_text(entry)) for entry in self.entries]
        self._resized()

    def extend(self, entries: Iterable[LogEntry]) -> None:
        """Add lines at the bottom, dropping the oldest beyond ``capacity``."""
        new = list(entries)
        self.entries.extend(new)
        self._widths.extend(cell_len(line_text(entry)) for entry in new)
        excess = len(self.entries) - self.capacity
        if excess > 0:
            del self.entries[:excess]
            del self._widths[:excess]
        self._resized()

    def _resized(self) -> None:
        self.virtual_size = Size(max(self._widths, default=0), len(self.entries))
        self._keep_newest_in_view()
        self.refresh()

    def _keep_newest_in_view(self) -> None:
        if self.follow:
            self.scroll_end(animate=False, immediate=True, x_axis=False)

    def on_resize(self, event: events.Resize) -> None:
        """Lines set before the first layout had no height to scroll in: only now, and
        after each resize, is there a bottom to go to."""
        self._keep_newest_in_view()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        """Scrolling up away from the bottom is the user's doing: following only ever
        scrolls down, and a clamp (fewer lines, a taller view) lands on the bottom."""
        super().watch_scroll_y(old_value, new_value)
        if self.follow and new_value < old_value and new_value < self.max_scroll_y:
            self.post_message(self.ScrolledAway())

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()  # the theme changed

    def _style(self, part: str) -> Style:
        style = self._styles.get(part)
        if style is None:
            style = self.get_component_rich_style(f"log-view--{part}")
            self._styles[part] = style
        return style

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        base = self.rich_style
        index = scroll_y + y
        if index >= len(self.entries):
            return Strip.blank(width, base)
        segments = [Segment(text, base + self._style(part))
                    for part, text in line_parts(self.entries[index])]  # fmt: skip
        return Strip(segments).crop_extend(scroll_x, scroll_x + width, base)
