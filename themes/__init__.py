"""Quarterdeck's Textual themes."""

from __future__ import annotations

from textual.app import App
from textual.theme import Theme

QUARTERDECK_DARK = Theme(
    name="quarterdeck-dark",
    primary="#4EA8DE",
    secondary="#80B3FF",
    accent="#FFB454",
    foreground="#D8DEE9",
    background="#0F1419",
    surface="#161D26",
    panel="#1E2833",
    success="#5CCFA0",
    warning="#FFB454",
    error="#FF6B6B",
    dark=True,
)

THEMES: tuple[Theme, ...] = (QUARTERDECK_DARK,)


def register_themes(app: App[object]) -> None:
    for theme in THEMES:
        app.register_theme(theme)
