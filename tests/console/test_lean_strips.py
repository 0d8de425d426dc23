"""Strips without per-line caches draw exactly what Textual's own strips draw."""

from __future__ import annotations

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from textual._ansi_theme import DEFAULT_TERMINAL_THEME
from textual.color import Color
from textual.filter import ANSIToTruecolor
from textual.strip import Strip

from console import lean_strips

SEGMENTS = [
    Segment("Equity ", Style(color="bright_black")),
    Segment("1,000,000.00", Style(color="green", bold=True)),
    Segment("  │ ", None),
    Segment("risk ACTIVE", Style(color="#ff8800", bgcolor="blue")),
]
CONSOLE = Console(color_system="truecolor", width=80)


def textual_strip(segments: list[Segment]) -> Strip:
    strip = Strip.__new__(Strip)
    lean_strips.TEXTUAL_INIT(strip, segments)
    return strip


def derived(strip: Strip) -> list[object]:
    """Every kind of line Textual caches per strip, asked for twice (the second
    time from the cache, where there is one)."""
    out: list[object] = []
    for _ in range(2):
        out += [
            strip.crop(3, 20).render(CONSOLE),
            [part.render(CONSOLE) for part in strip.divide([5, 12, 30])],
            strip.apply_style(Style(italic=True)).render(CONSOLE),
            strip.adjust_cell_length(50).render(CONSOLE),
            strip.crop_extend(2, 40, None).render(CONSOLE),
            strip.apply_offsets(1, 2).render(CONSOLE),
            strip.apply_filter(ANSIToTruecolor(DEFAULT_TERMINAL_THEME), Color(10, 20, 30)).render(
                CONSOLE
            ),
            strip.render(CONSOLE),
        ]
    return out


def test_lines_are_drawn_the_same_and_nothing_is_kept() -> None:
    assert lean_strips.install()
    lean = Strip(SEGMENTS)
    assert all(getattr(lean, slot) is lean_strips.KEEP_NOTHING for slot in lean_strips.MEMO_SLOTS)
    assert derived(lean) == derived(textual_strip(SEGMENTS))
    assert lean.crop(3, 20) is not lean.crop(3, 20)  # derived again, not kept


def test_the_truecolor_filter_still_converts_ansi_colours() -> None:
    lean_strips.install()
    filtered = Strip(SEGMENTS).apply_filter(ANSIToTruecolor(DEFAULT_TERMINAL_THEME), Color(0, 0, 0))
    assert filtered.render(CONSOLE) == textual_strip(SEGMENTS).apply_filter(
        ANSIToTruecolor(DEFAULT_TERMINAL_THEME), Color(0, 0, 0)).render(CONSOLE)  # fmt: skip
    assert "\x1b[32" not in filtered.render(CONSOLE)  # ANSI green became a true colour


def test_install_is_idempotent() -> None:
    assert lean_strips.install() and lean_strips.install()
    assert Strip.__init__ is not lean_strips.TEXTUAL_INIT
