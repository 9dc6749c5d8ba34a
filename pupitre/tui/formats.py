"""Formatters every screen shares: countdowns, ages and times, status words and glyphs
(never colour alone), flexibility labels. Pure functions from data to text, testable
without the pilot; a screen formats nothing of its own that another screen also shows.
The outbox's states have their own words (:mod:`pupitre.providers.core.outbox_words`,
shared with ``pupitre outbox`` and ``pupitre check``) and widget
(:mod:`pupitre.tui.widgets.outbox_status`).
"""

from __future__ import annotations

import datetime as dt
from typing import Callable

from rich.text import Text

from pupitre.providers.core.clock import PARIS, format_age, instant
from pupitre.providers.core.text import unknown_word
from pupitre.providers.grtgaz.models import FeasibilityStatus, Flex, IndicatorStatus
from pupitre.providers.switchgrid.rules import ORDER_WORDS, order_word

__all__ = [
    "ASK_WORDS",
    "FEASIBILITY_GLYPH",
    "FEASIBILITY_WORD",
    "FLEX_SHORT",
    "ORDER_WORDS",
    "REQUEST_WORDS",
    "age_text",
    "countdown",
    "feasibility_text",
    "format_age",
    "order_word",
    "paris",
    "word_text",
]

# -- times -----------------------------------------------------------------------------------


def countdown(now: dt.datetime, at: dt.datetime) -> str:
    """Time left, to the second in the last two minutes: ``now``, ``1m30s``, ``22m``, ``3h05``."""
    seconds = (instant(at) - instant(now)).total_seconds()  # instants: right across DST
    if seconds <= 0:
        return "now"
    if seconds < 120:
        return f"{int(seconds // 60)}m{int(seconds % 60):02d}s" if seconds >= 60 else f"{int(seconds)}s"
    return format_age(seconds)


def age_text(now: dt.datetime, at: dt.datetime) -> str:
    """``(3m ago)``: how long ago ``at`` was."""
    return f"({format_age((instant(now) - instant(at)).total_seconds())} ago)"


def paris(moment: dt.datetime | None, pattern: str = "%d/%m/%y %H:%M") -> str:
    """A moment in Paris time (empty when unknown)."""
    return moment.astimezone(PARIS).strftime(pattern) if moment is not None else ""


# -- GRTgaz --------------------------------------------------------------------------------------


class ByStatus(dict[IndicatorStatus, str]):
    """A per-status table whose colour the document does not list (``PURPLE``) reads
    ``unknown(status)``: ``? unknown (PURPLE)`` on that one row."""

    def __init__(self, known: dict[IndicatorStatus, str], unknown: Callable[[IndicatorStatus], str]) -> None:
        super().__init__(known)
        self.unknown = unknown

    def __missing__(self, status: IndicatorStatus) -> str:
        return self.unknown(status)


#: An indicator's state as glyph and word (never colour alone).
GLYPHS = ByStatus({IndicatorStatus.GREEN: "✓", IndicatorStatus.RED: "✗", IndicatorStatus.GREY: "▒"}, lambda s: "?")
WORDS = ByStatus(
    {IndicatorStatus.GREEN: "green", IndicatorStatus.RED: "RED", IndicatorStatus.GREY: "GREY"}, lambda s: s.word
)
#: The three flexibility indicators, short (§3.2.2).
FLEX_SHORT = {Flex.Q_TO_QMINUS: "Q→Q-", Flex.PARTIAL: "part.", Flex.Q_TO_QPLUS: "Q→Q+"}
FEASIBILITY_GLYPH = {FeasibilityStatus.ACCEPTED: "✓", FeasibilityStatus.REFUSED: "✗", FeasibilityStatus.PENDING: "…"}
FEASIBILITY_WORD = {
    FeasibilityStatus.ACCEPTED: "ACCEPTED",
    FeasibilityStatus.REFUSED: "REFUSED",
    FeasibilityStatus.PENDING: "pending",
}


def feasibility_text(status: FeasibilityStatus) -> Text:
    """A program's feasibility as glyph + word (§13.3); REFUSED in reverse video."""
    style = {"ACCEPTED": "bold", "REFUSED": "bold reverse", "PENDING": "italic"}[status.value]
    return Text(f"{FEASIBILITY_GLYPH[status]} {FEASIBILITY_WORD[status]}", style=style)


# -- Switchgrid ----------------------------------------------------------------------------------

ASK_WORDS = {
    "PENDING_USER_ACTION": ("✎", "to sign"),
    "ACCEPTED": ("✓", "accepted"),
    "ADDRESS_CHECK_FAILED": ("✗", "address refused"),
    "CREATED": ("…", "created"),
    "PENDING_ADDRESS_CHECK": ("…", "checking address"),
    "PREPARING_CONSENT_COLLECTION": ("…", "preparing"),
}
REQUEST_WORDS = {
    "SUCCESS": ("✓", "done"),
    "FAILED": ("✗", "failed"),
    "PENDING": ("⏳", "pending"),
    "NOT_STARTED": ("…", "not started"),
    "PENDING_ADDRESS_CHECK": ("…", "checking address"),
}


def word_text(words: dict[str, tuple[str, str]], status: str) -> Text:
    """A status as glyph + word from ``words``; one the document does not list reads
    ``? unknown (PURPLE)``. Failures, unknowns and what waits for the operator in bold."""
    glyph, word = words.get(status) or ("?", unknown_word(status)[2:])
    bad = glyph in ("✗", "?")
    return Text(f"{glyph} {word}", style="bold" if bad or glyph == "✎" else "")
