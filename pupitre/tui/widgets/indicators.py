"""Indicator states as glyph + word + colour, so none relies on colour alone."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.app import App
from textual.color import Color, ColorParseError

from pupitre.providers.grtgaz.models import IndicatorStatus
from pupitre.tui.formats import GLYPHS, WORDS, ByStatus

__all__ = ["GLYPHS", "WORDS", "status_label", "status_style", "status_text"]


THEME_COLOURS = ByStatus(
    {IndicatorStatus.GREEN: "success", IndicatorStatus.RED: "error", IndicatorStatus.GREY: "foreground-muted"},
    lambda s: "warning",
)


def theme_colour(app: App[object], name: str) -> str:
    """A theme variable as an opaque ``#rrggbb`` (Rich has no alpha), or ``""``."""
    value = app.theme_variables.get(name, "")
    try:
        return Color.parse(value).hex6 if value else ""
    except ColorParseError:
        return ""


def status_style(app: App[object], status: IndicatorStatus) -> Style:
    """A Rich style from the active theme's variables (``$success``, ``$error``…)."""
    colour = theme_colour(app, THEME_COLOURS[status])
    if status is IndicatorStatus.GREEN:
        return Style.parse(colour) if colour else Style()
    # Alert states in reverse video: they stand out even with NO_COLOR.
    return Style.parse(f"bold reverse {colour}".strip())


def status_label(status: IndicatorStatus) -> str:
    return f"{GLYPHS[status]} {WORDS[status]}"


def status_text(app: App[object], status: IndicatorStatus) -> Text:
    return Text(status_label(status), style=status_style(app, status))
