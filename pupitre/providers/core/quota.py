"""Quota limiter: a per-second rate and a per-day cap per credential.

One limiter per credential is shared by every feed and action of that credential
(GRDF OMEGA: 1 call/s per supplier; ADICT: per second and per day by park size).
The rate is a sliding one-second window, so queued work uses the quota fully
without ever exceeding it. Day counters live in the store, keyed by the Paris
calendar day, so a restart does not reset them.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Awaitable, Callable

from pupitre.providers.core.clock import Clock
from pupitre.providers.core.errors import QuotaError
from pupitre.providers.core.store import Store


class QuotaLimiter:
    def __init__(
        self,
        credential: str,
        *,
        provider: str,
        clock: Clock,
        per_second: float | None = None,
        per_day: int | None = None,
        store: Store | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.credential = credential
        self.provider = provider
        self.clock = clock
        self.per_second = per_second
        self.per_day = per_day
        self.store = store
        self._sleep = sleep
        self._monotonic = monotonic
        self._lock = asyncio.Lock()
        self._recent: deque[float] = deque()
        self._memory_day_counts: dict[str, int] = {}

    def used_today(self) -> int:
        day = self.clock.now().date()
        if self.store is not None:
            return self.store.quota_count(self.credential, day)
        return self._memory_day_counts.get(day.isoformat(), 0)

    def remaining_today(self) -> int | None:
        return None if self.per_day is None else max(0, self.per_day - self.used_today())

    def _count_call(self) -> None:
        day = self.clock.now().date()
        if self.store is not None:
            self.store.quota_increment(self.credential, day)
        else:
            key = day.isoformat()
            self._memory_day_counts[key] = self._memory_day_counts.get(key, 0) + 1

    async def acquire(self) -> None:
        """Wait for a slot in the rate window; refuse locally once the day cap is reached."""
        async with self._lock:
            if self.per_day is not None and self.used_today() >= self.per_day:
                raise QuotaError(
                    f"daily quota of {self.per_day} calls used up; it resets at midnight (Paris time)",
                    provider=self.provider,
                )
            if self.per_second:
                window = max(1, int(self.per_second))
                period = window / self.per_second  # e.g. 0.5/s -> 1 call per 2 s
                while True:
                    now = self._monotonic()
                    while self._recent and now - self._recent[0] >= period:
                        self._recent.popleft()
                    if len(self._recent) < window:
                        break
                    await self._sleep(period - (now - self._recent[0]))
                self._recent.append(self._monotonic())
            self._count_call()
