"""Indicator states as glyph + word + colour, so none relies on colour alone."""

from __future__ import annotations

from typing import Callable

from rich.style import Style
from rich.text import Text
from textual.app import App
from textual.color import Color, ColorParseError

from pupitre.providers.grtgaz.models import IndicatorStatus


class _ByStatus(dict[IndicatorStatus, str]):
    """A per-status table whose colour the document does not list (``PURPLE``) reads
    ``unknown(status)``: ``? unknown (PURPLE)`` on that one row."""

    def __init__(self, known: dict[IndicatorStatus, str], unknown: Callable[[IndicatorStatus], str]) -> None:
        super().__init__(known)
        self.unknown = unknown

    def __missing__(self, status: IndicatorStatus) -> str:
        return self.unknown(status)


GLYPHS = _ByStatus({IndicatorStatus.GREEN: "✓", IndicatorStatus.RED: "✗", IndicatorStatus.GREY: "▒"}, lambda s: "?")
WORDS = _ByStatus(
    {IndicatorStatus.GREEN: "green", IndicatorStatus.RED: "RED", IndicatorStatus.GREY: "GREY"}, lambda s: s.word
)
THEME_COLOURS = _ByStatus(
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
