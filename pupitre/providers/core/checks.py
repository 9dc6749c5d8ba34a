"""Findings of the daily check: what ``pupitre check`` prints and the Overview summarises."""

from __future__ import annotations

from typing import Literal

import msgspec

#: ``unknown``: the data could not be read (the check cannot say); worse than attention, never
#: hiding a critical finding seen elsewhere.
Level = Literal["ok", "attention", "unknown", "critical"]
LEVELS: tuple[Level, ...] = ("ok", "attention", "unknown", "critical")  # from best to worst
EXIT_CODES = {"ok": 0, "attention": 1, "critical": 2, "unknown": 3}


class Finding(msgspec.Struct, frozen=True):
    """One line of the daily check. ``cause`` and ``subject`` name it stably while its words
    change (``deadline-10`` of ``2026-12-07``): the key of the alert it raises
    (:mod:`pupitre.providers.core.alerts`); not printed by ``pupitre check``."""

    provider: str
    level: Level
    message: str
    cause: str = ""
    subject: str = ""


def overall(findings: list[Finding]) -> Level:
    """The worst level among findings (``ok`` when there is none)."""
    return max((f.level for f in findings), key=LEVELS.index, default="ok")
