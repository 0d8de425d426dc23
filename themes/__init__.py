"""Quarterdeck's Textual themes.

Gains and losses are never told apart by colour alone (figures carry a sign
and an arrow, see ``console.formatting``), and the colours themselves come
from the Okabe-Ito palette: blue for up and vermillion for down read apart
under every common colour-vision deficiency, where green and red do not.
The high-contrast theme keeps every text colour at WCAG AA (4.5:1) or better
on every background it is drawn on; ``tests/themes`` measures it.
"""

from __future__ import annotations

from textual.app import App
from textual.theme import Theme

DEFAULT_THEME = "quarterdeck-dark"
HIGH_CONTRAST_THEME = "quarterdeck-high-contrast"

QUARTERDECK_DARK = Theme(
    name=DEFAULT_THEME,
    primary="#4EA8DE",
    secondary="#80B3FF",
    accent="#FFB454",
    foreground="#D8DEE9",
    background="#0F1419",
    surface="#161D26",
    panel="#1E2833",
    success="#56B4E9",
    warning="#F0E442",
    error="#FF7F50",
    dark=True,
)

QUARTERDECK_LIGHT = Theme(
    name="quarterdeck-light",
    primary="#0B5CAD",
    secondary="#3A6EA5",
    accent="#9A4D00",
    foreground="#1B1F23",
    background="#FAFAF7",
    surface="#F0F0EB",
    panel="#E4E6E0",
    success="#005A8C",
    warning="#7A5A00",
    error="#A8400A",
    dark=False,
)

QUARTERDECK_HIGH_CONTRAST = Theme(
    name=HIGH_CONTRAST_THEME,
    primary="#FFD700",
    secondary="#7FDBFF",
    accent="#FFFFFF",
    foreground="#FFFFFF",
    background="#000000",
    surface="#000000",
    panel="#1A1A1A",
    success="#6CCBFF",
    warning="#FFE14D",
    error="#FF9E66",
    boost="#FFFFFF",
    dark=True,
    variables={
        "text-muted": "#D0D0D0",
        "footer-key-foreground": "#FFD700",
        "footer-description-foreground": "#FFFFFF",
        "block-cursor-foreground": "#000000",
        "block-cursor-background": "#FFD700",
        "block-cursor-text-style": "bold",
        "input-selection-background": "#FFD700 40%",
    },
)

THEMES: tuple[Theme, ...] = (QUARTERDECK_DARK, QUARTERDECK_LIGHT, QUARTERDECK_HIGH_CONTRAST)
THEME_NAMES: tuple[str, ...] = tuple(theme.name for theme in THEMES)


def register_themes(app: App[object]) -> None:
    for theme in THEMES:
        app.register_theme(theme)
