"""Shared by the provider-vs-simulator tests."""

from __future__ import annotations

import itertools
from typing import Callable

import httpx


class Counting(httpx.AsyncBaseTransport):
    """Counts the requests that leave the client (to prove what is, or is not, retried)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.calls: list[tuple[str, str]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls.append((request.method, request.url.path))
        return await self.inner.handle_async_request(request)

    def calls_under(self, prefix: str) -> int:
        return sum(1 for _, path in self.calls if path.startswith(prefix))


def stepping() -> Callable[[], float]:
    """A monotonic clock 10 s further at each reading: a server-side quota never trips."""
    return itertools.count(0.0, 10.0).__next__
