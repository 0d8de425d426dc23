"""Textual's lines of screen without the memo caches each one carries.

Every ``textual.strip.Strip`` (one line of a widget or of the screen) makes
seven small FIFO caches when it is created, one per kind of derived line
(cropped, divided at cut points, styled, filtered...). Most stay empty, yet
cost about 900 bytes a line; the rest keep every line derived from this one,
with its rendered escape codes, alive as long as the line is. A console holds
a few thousand lines, so in a process serving twenty SSH consoles those
caches were most of each session's memory: 8.4-9.7 MB a session with them,
4.5-5.0 without (bench/README.md). Deriving a line again costs less than keeping it:
the widgets' own line caches, which Textual keeps per widget, are untouched.

``install`` makes new strips share one cache that keeps nothing. It changes
what is remembered, never what is drawn: the same calls give equal lines.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from rich.segment import Segment
from textual.strip import Strip

log = logging.getLogger(__name__)

#: The per-line caches of the Textual versions this was written against (8.2).
MEMO_SLOTS = (
    "_divide_cache",
    "_crop_cache",
    "_style_cache",
    "_filter_cache",
    "_line_length_cache",
    "_crop_extend_cache",
    "_offsets_cache",
)
_EXPECTED_SLOTS = {
    "_segments", "_cell_length", "_render_cache", "_link_ids", "_cell_count", *MEMO_SLOTS,
}  # fmt: skip


class _KeepNothing:
    """A cache that never has the key asked for and forgets what it is given."""

    __slots__ = ()

    def get(self, key: object, default: Any = None) -> Any:
        return default

    def __setitem__(self, key: object, value: object) -> None:
        pass


KEEP_NOTHING = _KeepNothing()
#: Textual's own ``Strip.__init__``, as this module found it.
TEXTUAL_INIT = Strip.__init__


def _lean_init(self: Strip, segments: Iterable[Segment], cell_length: int | None = None) -> None:
    self._segments = list(segments)
    self._cell_length = cell_length
    # One assignment each, not a loop over MEMO_SLOTS: this runs for every line drawn.
    self._divide_cache = self._crop_cache = self._style_cache = KEEP_NOTHING
    self._filter_cache = self._line_length_cache = KEEP_NOTHING
    self._crop_extend_cache = self._offsets_cache = KEEP_NOTHING
    self._render_cache = None
    self._link_ids = None
    self._cell_count = None


def install() -> bool:
    """Make strips created from now on cache-free; true if they are.

    A Textual whose ``Strip`` has other fields is left alone (with a warning):
    its ``__init__`` may set something this one would not.
    """
    if Strip.__init__ is _lean_init:
        return True
    if set(Strip.__slots__) != _EXPECTED_SLOTS:
        log.warning("textual.strip.Strip has changed (slots %s): its caches are kept",
                    sorted(Strip.__slots__))  # fmt: skip
        return False
    Strip.__init__ = _lean_init  # type: ignore[method-assign]
    return True
