"""Quota limiter: a per-second rate and a per-day cap per credential.

One limiter per credential is shared by every feed and action of that credential
(GRDF OMEGA: 1 call/s per supplier, §1.3; ADICT: per second and per day by park size).
The rate is a sliding window, so queued work uses the quota fully without ever
exceeding it.

With a store, the window and the day counters live **in the store**, taken in one
transaction per call: every pupitre process on that store (dashboards, ``pupitre
check``, an agent) shares one quota per credential, and a restart resets nothing.
Without one (unit tests), they live in memory.

``margin`` paces under the documented rate (0.1: 10 % under): the API counts a call
when it arrives, so calls paced exactly at the rate get refused whenever one travels
faster than the one before it.
"""

from __future__ import annotations

import time
from collections import deque
from typing import TYPE_CHECKING, Awaitable, Callable

from pupitre.providers.core.clock import Clock, loop_sleep
from pupitre.providers.core.errors import QuotaError
from pupitre.providers.core.store import Store

if TYPE_CHECKING:
    import asyncio


class QuotaLimiter:
    def __init__(
        self,
        credential: str,
        *,
        provider: str,
        clock: Clock,
        per_second: float | None = None,
        per_day: int | None = None,
        margin: float = 0.0,
        store: Store | None = None,
        sleep: Callable[[float], Awaitable[None]] = loop_sleep,
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        """``monotonic``: the clock of the rate window; by default the store's (shared by every
        process on it: the host's monotonic clock, or PostgreSQL's), else the host's."""
        self.credential = credential
        self.provider = provider
        self.clock = clock
        if not 0.0 <= margin < 1.0:
            raise ValueError(f"quota margin must be in [0, 1), not {margin}")
        self.per_second = per_second * (1.0 - margin) if per_second else per_second
        self.per_day = per_day
        self.store = store
        self._sleep = sleep
        self._monotonic = monotonic or (store.clock if store is not None else time.monotonic)
        self._lock: asyncio.Lock | None = None  # made on first use (see :func:`loop_sleep`)
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
        key = self.clock.now().date().isoformat()
        self._memory_day_counts[key] = self._memory_day_counts.get(key, 0) + 1

    def _window(self) -> tuple[int, float]:
        """``(calls, seconds)``: at most that many calls in any such span (0.5/s -> 1 per 2 s)."""
        assert self.per_second
        window = max(1, int(self.per_second))
        return window, window / self.per_second

    def _refused_today(self) -> QuotaError:
        return QuotaError(
            f"daily quota of {self.per_day} calls used up; it resets at midnight (Paris time)",
            provider=self.provider,
        )

    async def acquire(self) -> float | None:
        """Wait for a slot in the rate window; refuse locally once the day cap is reached.
        Returns the slot's stamp, for :meth:`answered` (``None`` without a per-second rate)."""
        if self._lock is None:
            import asyncio

            self._lock = asyncio.Lock()
        async with self._lock:
            if self.store is not None:
                return await self._acquire_shared(self.store)
            return await self._acquire_local()

    def answered(self, stamp: float | None) -> None:
        """The call of slot ``stamp`` has had its answer (or failed): the slot counts from now.

        The API counts a call when it arrives, which is before its answer; so the next call,
        which waits a period from this moment, reaches the API at least a period after this
        one, however long either spent on the way (a new connection, a loaded machine). The
        rate used is then ``1 / (period + latency)`` — the margin keeps paying for nothing."""
        if stamp is None:
            return
        if self.store is not None:
            self.store.quota_answered(self.credential, stamp, self._monotonic)
            return
        now = self._monotonic()
        if stamp in self._recent:
            self._recent = deque(sorted(now if s == stamp else s for s in self._recent))

    async def _acquire_shared(self, store: Store) -> float | None:
        window, period = self._window() if self.per_second else (0, 0.0)
        stamps: list[float] = []

        def now() -> float:  # read inside the store's transaction
            stamps.append(self._monotonic())
            return stamps[-1]

        while True:
            wait = store.quota_take(
                self.credential,
                day=self.clock.now().date(),
                per_day=self.per_day,
                window=window,
                period=period,
                now=now,
            )
            if wait is None:
                raise self._refused_today()
            if wait <= 0:
                return stamps[-1] if window else None
            await self._sleep(wait)

    async def _acquire_local(self) -> float | None:
        if self.per_day is not None and self.used_today() >= self.per_day:
            raise self._refused_today()
        if self.per_second:
            window, period = self._window()
            while True:
                now = self._monotonic()
                while self._recent and now - self._recent[0] >= period:
                    self._recent.popleft()
                if len(self._recent) < window:
                    break
                await self._sleep(period - (now - self._recent[0]))
            stamp = self._monotonic()
            self._recent.append(stamp)
            self._count_call()
            return stamp
        self._count_call()
        return None
