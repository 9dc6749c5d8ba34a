"""The alert model: one open problem the operator must hear about, whatever the provider.

An alert is raised by :class:`pupitre.alerts.AlertEngine` (the dashboard and ``pupitre agent``
run it) from the providers' findings — the same :meth:`Connection.findings` that ``pupitre
check`` prints — and from what time, the outbox and the feeds say. It lives in the store, so
every process on the store agrees on what is open, what was seen (and by whom), and what was
already announced by a channel with effects outside the window (the ``[alerts] command``:
claimed in the store, run once per alert across processes).

Its **key** is stable while its cause lasts: ``provider:cause:subject``
(``edf_oa:deadline-10:2026-12-07``); at most one open alert per key and environment. No
Textual import here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from pupitre.providers.core.checks import LEVELS, Level

#: An alert's severity: a finding's level other than ``ok``.
SEVERITIES: tuple[Level, ...] = tuple(level for level in LEVELS if level != "ok")
#: How each severity is written on the attention line, the window title and the command's JSON.
WORDS: dict[str, str] = {"attention": "ATTENTION", "unknown": "UNKNOWN", "critical": "CRITICAL"}


def alert_key(provider: str, cause: str, subject: str = "") -> str:
    """``provider:cause:subject`` (the subject may be empty: ``grtgaz:grey:``)."""
    return f"{provider}:{cause}:{subject}"


def rank(severity: str) -> int:
    """How bad ``severity`` is (``attention`` < ``unknown`` < ``critical``)."""
    return next((number for number, level in enumerate(LEVELS) if level == severity), 0)


class Alert(msgspec.Struct, frozen=True):
    """One alert as the store keeps it. ``seen_at``/``seen_by``: acknowledged on a console
    (the alert stays open until its cause goes away); ``cleared_at``: its cause went away."""

    id: int
    env: str
    key: str
    provider: str
    severity: str
    message: str
    raised_at: dt.datetime
    cleared_at: dt.datetime | None = None
    seen_at: dt.datetime | None = None
    seen_by: str = ""
    announced_at: dt.datetime | None = None

    @property
    def open(self) -> bool:
        return self.cleared_at is None

    @property
    def cause(self) -> str:
        return self.key.split(":")[1] if self.key.count(":") >= 2 else ""

    def as_json(self) -> dict[str, Any]:
        """What the ``[alerts] command`` reads on its stdin."""
        return {
            "key": self.key,
            "provider": self.provider,
            "severity": self.severity,
            "severity_word": WORDS.get(self.severity, self.severity.upper()),
            "message": self.message,
            "raised_at": self.raised_at.isoformat(),
            "cleared_at": self.cleared_at.isoformat() if self.cleared_at else None,
            "seen_at": self.seen_at.isoformat() if self.seen_at else None,
            "seen_by": self.seen_by or None,
            "environment": self.env,
        }


def worst(alerts: list[Alert]) -> Alert | None:
    """The worst open alert (the most recent among equals), ``None`` when none is open."""
    found = [a for a in alerts if a.open]
    return max(found, key=lambda a: (rank(a.severity), a.raised_at, a.id), default=None)
