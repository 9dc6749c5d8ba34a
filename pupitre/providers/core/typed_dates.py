"""Dates as operators type them: ISO (``2026-11-01``) or French (``01/11/2026``, also with
``-`` or ``.`` and one-digit day or month), everywhere a date is typed. A date is a Paris
calendar day; a time that follows (``01/11/2026 10:00``) is kept as typed.
"""

from __future__ import annotations

import datetime as dt
import re

_FRENCH = re.compile(r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})(?=$|[\sT])")


def iso_date_text(text: str) -> str:
    """``text`` with a leading ``dd/mm/yyyy`` rewritten ``yyyy-mm-dd`` (the rest kept):
    what the rules, which read ISO, are given. Anything else is returned stripped, as is."""
    match = _FRENCH.match(text or "")
    if match is None:
        return (text or "").strip()
    day, month, year = (int(group) for group in match.groups())
    rest = text[match.end() :].rstrip()
    clock = re.match(r"\s+(\d{1,2}):(\d{2})(.*)$", rest)
    if clock:  # ``01/11/2026 10:00``: the ISO ``T``
        rest = f"T{int(clock[1]):02d}:{clock[2]}{clock[3]}"
    return f"{year:04d}-{month:02d}-{day:02d}{rest}".strip()


def typed_date(text: str) -> dt.date:
    """A typed calendar day; ValueError with one sentence when it is not one."""
    iso = iso_date_text(text)
    try:
        return dt.date.fromisoformat(iso)
    except ValueError:
        raise ValueError(f"{text.strip()!r} is not a date: type 2026-11-01 or 01/11/2026") from None
