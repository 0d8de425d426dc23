"""Measured contrast: the high-contrast theme meets WCAG AA (4.5:1) for every text colour on
every background it is drawn on, and every theme's body text and PnL colours do too."""

from __future__ import annotations

import pytest
from textual.color import Color
from textual.theme import Theme

from themes import QUARTERDECK_HIGH_CONTRAST, THEMES

AA = 4.5
BACKGROUNDS = ("background", "surface", "panel")
TEXT = (
    "foreground", "foreground-muted", "text-muted", "primary", "secondary", "accent",
    "success", "warning", "error", "footer-key-foreground", "footer-description-foreground",
)  # fmt: skip
PNL_AND_BODY = ("foreground", "success", "error")


def luminance(color: Color) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(color.r) + 0.7152 * channel(color.g) + 0.0722 * channel(color.b)


def contrast(text: Color, background: Color) -> float:
    """WCAG 2 contrast ratio, with a translucent text colour blended onto its background."""
    if text.a < 1:
        text = background.blend(text.with_alpha(1.0), text.a)
    light, dark = sorted((luminance(text), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def palette(theme: Theme) -> dict[str, Color]:
    """The theme's colours by variable name; Textual's contrast-chosen ``auto`` values
    are left out (Textual picks them for legibility itself)."""
    generated = theme.to_color_system().generate()
    wanted = (*BACKGROUNDS, *TEXT)
    return {
        name: Color.parse(value)
        for name, value in generated.items()
        if name in wanted and not value.startswith("auto")
    }


def test_contrast_formula_matches_the_wcag_reference_values() -> None:
    assert contrast(Color(255, 255, 255), Color(0, 0, 0)) == pytest.approx(21.0)
    assert contrast(Color(119, 119, 119), Color(255, 255, 255)) == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize("background", BACKGROUNDS)
@pytest.mark.parametrize("text", TEXT)
def test_high_contrast_theme_meets_wcag_aa(text: str, background: str) -> None:
    colors = palette(QUARTERDECK_HIGH_CONTRAST)
    ratio = contrast(colors[text], colors[background])
    assert ratio >= AA, f"{text} on {background}: {ratio:.2f}:1"


@pytest.mark.parametrize("theme", THEMES, ids=lambda t: t.name)
def test_every_theme_keeps_body_text_and_pnl_readable(theme: Theme) -> None:
    colors = palette(theme)
    for text in PNL_AND_BODY:
        ratio = contrast(colors[text], colors["background"])
        assert ratio >= AA, f"{theme.name}: {text} {ratio:.2f}:1"


# Machado, Oliveira & Fernandes (2009), severity 1.0, in linear RGB.
DEFICIENCIES = {
    "protanopia": ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216),
                   (-0.003882, -0.048116, 1.051998)),
    "deuteranopia": ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413),
                     (-0.011820, 0.042940, 0.968881)),
    "tritanopia": ((1.255528, -0.076749, -0.178779), (-0.078411, 0.930809, 0.147602),
                   (0.004733, 0.691367, 0.303900)),
}  # fmt: skip
DISTINCT = 120.0  # sRGB distance, 0-441; a typical trading red/green pair falls to ~75


def simulated(color: Color, deficiency: str) -> tuple[float, ...]:
    def to_linear(v: int) -> float:
        c = v / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    def to_srgb(v: float) -> float:
        v = min(max(v, 0.0), 1.0)
        return 255 * (12.92 * v if v <= 0.0031308 else 1.055 * v ** (1 / 2.4) - 0.055)

    rgb = [to_linear(color.r), to_linear(color.g), to_linear(color.b)]
    rows = DEFICIENCIES[deficiency]
    return tuple(to_srgb(sum(m * c for m, c in zip(row, rgb, strict=True))) for row in rows)


def distance_as_seen(a: Color, b: Color, deficiency: str) -> float:
    pa, pb = simulated(a, deficiency), simulated(b, deficiency)
    return sum((x - y) ** 2 for x, y in zip(pa, pb, strict=True)) ** 0.5


def test_a_red_green_pair_is_not_distinct_for_deuteranopes() -> None:
    """The check can fail: the usual trading green/red collapses under deuteranopia."""
    green, red = Color.parse("#089981"), Color.parse("#F23645")
    assert distance_as_seen(green, red, "deuteranopia") < DISTINCT


@pytest.mark.parametrize("deficiency", DEFICIENCIES)
@pytest.mark.parametrize("theme", THEMES, ids=lambda t: t.name)
def test_gain_and_loss_colours_stay_distinct_under_colour_blindness(
    theme: Theme, deficiency: str
) -> None:
    colors = palette(theme)
    seen = distance_as_seen(colors["success"], colors["error"], deficiency)
    assert seen >= DISTINCT, f"{theme.name} under {deficiency}: {seen:.0f}"
