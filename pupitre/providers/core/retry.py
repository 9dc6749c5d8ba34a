"""Retries with exponential backoff and full jitter, for idempotent reads only.

POST/PUT/PATCH are never retried here: actions go through the store's outbox,
which retries them only where the API documents that a repeat is safe.
"""

from __future__ import annotations

import random
from typing import Awaitable, Callable, TypeVar

import msgspec

from pupitre.providers.core.clock import loop_sleep
from pupitre.providers.core.errors import ApiError

T = TypeVar("T")


class RetryPolicy(msgspec.Struct, frozen=True):
    attempts: int = 3
    base_delay: float = 0.5
    max_delay: float = 10.0

    def delay(self, attempt: int, error: ApiError, rng: Callable[[], float] = random.random) -> float:
        """Backoff before retry ``attempt`` (1-based): full jitter, never below ``Retry-After``."""
        backoff = rng() * min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        if error.retry_after is not None:
            return max(backoff, min(error.retry_after, self.max_delay * 6))
        return backoff


DEFAULT_RETRY = RetryPolicy()
NO_RETRY = RetryPolicy(attempts=1)


async def retry_read(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], Awaitable[None]] = loop_sleep,
    rng: Callable[[], float] = random.random,
) -> T:
    """Run an idempotent read, retrying network, 5xx and 429 errors per ``policy``."""
    attempt = 1
    while True:
        try:
            return await call()
        except ApiError as error:
            if not error.retryable or attempt >= policy.attempts:
                raise
            await sleep(policy.delay(attempt, error, rng))
            attempt += 1
