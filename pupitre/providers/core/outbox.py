"""Operator actions: written to the outbox before they are sent, retried until the API
answers, verified by a read back, and audited at every step.

Nothing the operator decided is lost to a crash, a network cut or a restart: an action
is a row in the store's outbox *before* the first byte leaves, and stays ``pending``
until the API has answered. Writing it is one transaction (the row, what it supersedes,
its audit line); when the disk refuses it (full, read-only, damaged) or the store is
only in memory, :meth:`Outbox.enqueue` raises :class:`StoreError` and nothing is sent:
the caller keeps the decision on screen, "not saved", with a retry. Delivery is strictly
sequential, in queue order. A newer action with the same key (e.g. a new acknowledgement of the same order) supersedes
older pending ones, because the API keeps the last one (EDF OA §5.1.1).

Outcomes of one attempt:

* the API accepted it → ``delivered``, then the read-back runs (``verified`` or a
  mismatch, both audited);
* a network error, a timeout, a 5xx or a quota refusal → stays ``pending``, retried;
* any other refusal (4xx) or a local rule that no longer holds (e.g. the order is no
  longer today's, RG_ACK_0010) → ``failed``, with the message, never retried.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from pupitre.providers.core.clock import Clock
from pupitre.providers.core.errors import ApiError
from pupitre.providers.core.store import (
    OUTBOX_DELIVERED,
    OUTBOX_FAILED,
    OUTBOX_PENDING,
    OutboxItem,
    Store,
    StoreWriteError,
)

log = logging.getLogger("pupitre.outbox")
OUTBOX_SUPERSEDED = "superseded"
Outcome = Literal["delivered", "retry", "failed", "superseded"]


class ActionRefused(Exception):
    """A local rule refuses the action; the message is for the operator."""


class ActionHandler(Protocol):
    """What the outbox needs to know about one kind of action."""

    def key(self, payload: Any) -> str:
        """Actions with the same key supersede each other (the newest wins)."""

    def check(self, payload: Any, now: dt.datetime) -> None:
        """Re-validate before every attempt; raise :class:`ActionRefused` if it no longer holds."""

    def describe(self, payload: Any) -> str:
        """One line for the audit log and the screen (no secret in it)."""

    async def send(self, payload: Any) -> str:
        """Send once (never retried inside); return a short summary of the answer.
        May raise :class:`ActionRefused` when the world changed since the action was queued."""

    async def verify(self, payload: Any) -> str:
        """Read back; return a summary, or raise :class:`ActionRefused` when it differs."""


@dataclass(frozen=True)
class Delivery:
    item_id: int
    outcome: Outcome
    message: str
    retry_after: float | None = None
    verified: bool | None = None


class Outbox:
    def __init__(self, store: Store, clock: Clock, handlers: dict[tuple[str, str], ActionHandler]) -> None:
        self.store = store
        self.clock = clock
        self.handlers = handlers

    def _audit(self, item: OutboxItem | tuple[str, str], outcome: str, detail: str) -> None:
        provider, action = (item.provider, item.action) if isinstance(item, OutboxItem) else item
        self.store.audit(provider, action, outcome, self.clock.now(), detail)

    def enqueue(self, provider: str, action: str, payload: Any) -> int:
        """Validate, then write the action to the outbox (before any sending); return its id.
        :class:`ActionRefused` (a local rule) or :class:`StoreError` (not written): nothing queued."""
        handler = self.handlers[(provider, action)]
        now = self.clock.now()
        handler.check(payload, now)
        if not self.store.durable:
            raise StoreWriteError(self.store.problem or "the store is in memory: nothing can be saved")
        key = handler.key(payload)
        with self.store.batch():
            item_id = self.store.outbox_add(provider, action, payload, now)
            for older in self.pending(provider):
                if older.id != item_id and older.action == action and handler.key(older.payload) == key:
                    self.store.outbox_update(
                        older.id,
                        OUTBOX_SUPERSEDED,
                        now,
                        attempted=False,
                        error=f"superseded by #{item_id} before it was sent",
                    )
                    self._audit(older, "superseded", f"#{older.id} replaced by #{item_id}")
            self._audit((provider, action), "queued", f"#{item_id} {handler.describe(payload)}")
        return item_id

    def pending(self, provider: str | None = None) -> list[OutboxItem]:
        return self.store.outbox(provider=provider, status=OUTBOX_PENDING)

    def item(self, item_id: int) -> OutboxItem | None:
        return next((i for i in self.store.outbox() if i.id == item_id), None)

    async def deliver(self, item: OutboxItem) -> Delivery:
        """One attempt at one pending action."""
        handler = self.handlers[(item.provider, item.action)]
        now = self.clock.now()
        try:
            handler.check(item.payload, now)
        except ActionRefused as refusal:
            self.store.outbox_update(item.id, OUTBOX_FAILED, now, error=str(refusal), attempted=False)
            self._audit(item, "refused", f"#{item.id} {refusal}")
            return Delivery(item.id, "failed", str(refusal))
        try:
            answer = await handler.send(item.payload)
        except ActionRefused as refusal:
            self.store.outbox_update(item.id, OUTBOX_FAILED, self.clock.now(), error=str(refusal))
            self._audit(item, "refused", f"#{item.id} {refusal}")
            return Delivery(item.id, "failed", str(refusal))
        except ApiError as error:
            now = self.clock.now()
            if error.retryable:
                self.store.outbox_update(item.id, OUTBOX_PENDING, now, error=str(error))
                self._audit(item, "retrying", f"#{item.id} attempt {item.attempts + 1}: {error}")
                return Delivery(item.id, "retry", str(error), error.retry_after)
            self.store.outbox_update(item.id, OUTBOX_FAILED, now, error=str(error))
            self._audit(item, "failed", f"#{item.id} {error}")
            return Delivery(item.id, "failed", str(error))
        self.store.outbox_update(item.id, OUTBOX_DELIVERED, self.clock.now(), response=answer)
        self._audit(item, "delivered", f"#{item.id} {answer}")
        return await self._verify(item, handler)

    async def _verify(self, item: OutboxItem, handler: ActionHandler) -> Delivery:
        try:
            summary = await handler.verify(item.payload)
        except ActionRefused as mismatch:
            self._audit(item, "read-back differs", f"#{item.id} {mismatch}")
            return Delivery(item.id, "delivered", f"sent, but the read-back differs: {mismatch}", verified=False)
        except ApiError as error:
            self._audit(item, "read-back failed", f"#{item.id} {error}")
            return Delivery(item.id, "delivered", f"sent; the read-back failed ({error})", verified=None)
        self._audit(item, "verified", f"#{item.id} {summary}")
        return Delivery(item.id, "delivered", summary, verified=True)

    async def drain(self, provider: str | None = None) -> list[Delivery]:
        """Deliver pending actions in queue order. Once one of a provider's actions must
        be retried, that provider's later actions wait: none may overtake an earlier one."""
        deliveries = []
        blocked: set[str] = set()
        for item in self.pending(provider):
            current = self.item(item.id)
            if current is None or current.status != OUTBOX_PENDING or current.provider in blocked:
                continue
            delivery = await self.deliver(current)
            deliveries.append(delivery)
            if delivery.outcome == "retry":
                blocked.add(current.provider)
        return deliveries
