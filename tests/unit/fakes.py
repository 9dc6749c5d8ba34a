"""A stand-in outbox action handler (outbox and store-disk tests)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pupitre.providers.core.outbox import ActionRefused


class FakeHandler:
    def __init__(self) -> None:
        self.failures: list[Exception] = []
        self.sent: list[Any] = []
        self.refuse: str | None = None
        self.mismatch: str | None = None
        self.trace: str | None | Exception = None  # what find() answers
        self.looked: list[dt.datetime] = []

    def key(self, payload: Any) -> str:
        return payload["order_id"]

    def check(self, payload: Any, now: dt.datetime) -> None:
        if self.refuse:
            raise ActionRefused(self.refuse)

    def describe(self, payload: Any) -> str:
        return f"ack {payload['order_id']} {payload['value']}"

    async def find(self, payload: Any, since: dt.datetime) -> str | None:
        self.looked.append(since)
        if isinstance(self.trace, Exception):
            raise self.trace
        return self.trace

    async def send(self, payload: Any) -> str:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(payload)
        return "HTTP 200"

    async def verify(self, payload: Any) -> str:
        if self.mismatch:
            raise ActionRefused(self.mismatch)
        return "read back: ok"
