"""Injectable clock in Europe/Paris and gas-day helpers.

Gas day (GRTgaz chapter 1 §2.5): day J runs from J 06:00 to J+1 06:00 local time,
so it lasts 23 hours on the last Sunday of March and 25 hours on the last Sunday
of October.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
UTC = dt.timezone.utc
GAS_DAY_START_HOUR = 6


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """Current aware time in Europe/Paris."""


class SystemClock:
    """The real clock."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(PARIS)


class ManualClock:
    """A clock tests and demos set and move; it stands still unless ``running``.

    With ``running=True`` it ticks with real time from the instant it was set,
    which lets the sandbox start at a chosen moment and then live; ``speed`` runs it that
    many times faster than real time (training: a day in minutes).
    """

    def __init__(self, start: dt.datetime, *, running: bool = False, speed: float = 1.0) -> None:
        if not speed > 0:
            raise ValueError(f"the clock's speed must be positive, not {speed!r}")
        self._set(start)
        self.running = running
        self.speed = speed

    def _set(self, value: dt.datetime) -> None:
        if value.tzinfo is None:
            value = value.replace(tzinfo=PARIS)
        self._base = value.astimezone(PARIS)
        self._mono = _monotonic()

    def now(self) -> dt.datetime:
        if not self.running:
            return self._base
        return add(self._base, dt.timedelta(seconds=(_monotonic() - self._mono) * self.speed))

    def set(self, value: dt.datetime) -> None:
        self._set(value)

    def advance(self, **delta: float) -> None:
        self._set(add(self.now(), dt.timedelta(**delta)))


def _monotonic() -> float:
    import time

    return time.monotonic()


def add(moment: dt.datetime, delta: dt.timedelta) -> dt.datetime:
    """Elapsed-time arithmetic (Python's aware ``+`` is wall-clock and wrong across DST)."""
    return (paris(moment).astimezone(UTC) + delta).astimezone(PARIS)


def paris(value: dt.datetime) -> dt.datetime:
    """The same instant in Europe/Paris (naive values are taken as Paris wall time)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=PARIS)
    return value.astimezone(PARIS)


def instant(value: dt.datetime) -> dt.datetime:
    """The same instant in UTC, for comparing and ordering (naive values are Paris wall time).

    Python compares two aware datetimes that share a tzinfo (every ``PARIS`` value) on their
    wall clock, ignoring ``fold``: the two 02:30 of the autumn repeated hour compare equal.
    Comparing ``instant(a) < instant(b)`` (or one side in UTC) compares the real instants.
    """
    return paris(value).astimezone(UTC)


def gas_day_of(moment: dt.datetime) -> dt.date:
    """The gas day a moment belongs to (before 06:00 local it is the previous day's)."""
    local = paris(moment)
    if local.hour < GAS_DAY_START_HOUR:
        return local.date() - dt.timedelta(days=1)
    return local.date()


def gas_day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Start (J 06:00) and end (J+1 06:00) of gas day ``day``, aware in Paris."""
    start = dt.datetime.combine(day, dt.time(GAS_DAY_START_HOUR), tzinfo=PARIS)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(GAS_DAY_START_HOUR), tzinfo=PARIS)
    return start, end


def gas_day_hours(day: dt.date) -> list[dt.datetime]:
    """The real hourly slot starts of gas day ``day``: 24, or 23/25 on DST change days."""
    start, end = gas_day_bounds(day)
    slots = []
    moment = start.astimezone(UTC)
    stop = end.astimezone(UTC)
    while moment < stop:
        slots.append(moment.astimezone(PARIS))
        moment += dt.timedelta(hours=1)
    return slots


def gas_day_length_hours(day: dt.date) -> int:
    return len(gas_day_hours(day))


def format_age(seconds: float) -> str:
    """Short human age: ``12s``, ``4m``, ``3h05``, ``2d``."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}"
    return f"{seconds // 86400}d"


async def loop_sleep(seconds: float) -> None:
    """:func:`asyncio.sleep`, with asyncio imported on first use: a default argument of the
    modules a ``pupitre check`` answered from the store imports, which runs no event loop."""
    import asyncio

    await asyncio.sleep(seconds)
