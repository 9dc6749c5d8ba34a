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

Several processes share one store (dashboards, ``pupitre check``, an agent): each attempt
is made under a **claim** in the store, so one process at a time works on an action; a
claim is lost when its process is dead (same host) or its lease has run out. An attempt
that may have reached the API without an answer (a crash, a timeout, a network cut) stays
marked in the store (``sending_since``); the next attempt, in whichever process, says so
in the audit log and first asks the handler to **find** that attempt's trace at the API
(:meth:`ActionHandler.find`): found → ``delivered`` (audited ``found``, then read back),
never sent a second time; not found → sent. When the API offers no way to tell, the handler
raises :class:`ActionHeld`: the action stays pending, is not sent again, and waits for the
operator (``held``, audited once); a held action does not hold back the later ones, which
do not depend on it.

The read-back is owed in the store from the moment the answer is recorded (one write with
``delivered``) until it is done (``verified`` / ``differs``). A process killed in between, or
a read-back that failed on an API error, leaves it owed: the next drain, in whichever process,
resumes it under a claim, once, before that provider's later actions (audited ``resumed``).
It is owed for :data:`READBACK_WINDOW` after the delivery; past that it is given up (audited
``read-back given up``): a state read much later says little about what the action did.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import socket
import time
from typing import Any, Callable, Literal, Protocol

import msgspec

from pupitre.providers.core.clock import Clock, paris
from pupitre.providers.core.errors import ApiError
from pupitre.providers.core.store import (
    OUTBOX_DELIVERED,
    OUTBOX_FAILED,
    OUTBOX_PENDING,
    READBACK_DIFFERS,
    READBACK_GIVEN_UP,
    READBACK_OWED,
    READBACK_VERIFIED,
    OutboxItem,
    Store,
    StoreError,
    StoreWriteError,
)

log = logging.getLogger("pupitre.outbox")
OUTBOX_SUPERSEDED = "superseded"
Outcome = Literal["delivered", "retry", "failed", "superseded", "claimed", "held"]
#: How long a claim holds without its process dying: longer than any one attempt (three
#: requests of at most 10 s each, and the quota's waits).
CLAIM_SECONDS = 300.0
#: How long after its delivery an action's read-back is still owed (resumed after a crash,
#: retried after an API error); then it is given up.
READBACK_WINDOW = dt.timedelta(hours=2)


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks (Linux ``/proc``; "" elsewhere): with the pid,
    it names a process even after its pid is reused."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def _utc(moment: dt.datetime) -> dt.datetime:
    """For elapsed time (an aware subtraction in one zone is wall-clock: wrong across DST)."""
    return paris(moment).astimezone(dt.timezone.utc)


def process_owner() -> str:
    """This process as a claim owner: ``host:pid:start:nonce``."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_start_time(pid)}:{secrets.token_hex(3)}"


def owner_alive(owner: str) -> bool:
    """Whether a claim's process still runs. Another host's process is taken as alive (its
    claim is lost when its lease runs out)."""
    try:
        host, pid_text, start, _ = owner.split(":")
        pid = int(pid_text)
    except ValueError:
        return False
    if host != socket.gethostname():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return start == _start_time(pid)


class ActionRefused(Exception):
    """A local rule refuses the action; the message is for the operator."""


class ActionHeld(Exception):
    """The API cannot tell whether an earlier, unanswered attempt got through, and sending
    again could do the action twice: it waits for the operator. The message says what to check."""


class ActionHandler(Protocol):
    """What the outbox needs to know about one kind of action."""

    def key(self, payload: Any) -> str:
        """Actions with the same key supersede each other (the newest wins)."""

    def check(self, payload: Any, now: dt.datetime) -> None:
        """Re-validate before every attempt; raise :class:`ActionRefused` if it no longer holds."""

    def describe(self, payload: Any) -> str:
        """One line for the audit log and the screen (no secret in it)."""

    async def find(self, payload: Any, since: dt.datetime) -> str | None:
        """Before sending again after an attempt that got no answer (started at ``since``):
        the API's trace of that attempt as a short summary (it got through: not sent again),
        or ``None`` (it did not: send). Raise :class:`ActionHeld` when the API cannot tell."""

    async def send(self, payload: Any) -> str:
        """Send once (never retried inside); return a short summary of the answer.
        May raise :class:`ActionRefused` when the world changed since the action was queued."""

    async def verify(self, payload: Any) -> str:
        """Read back; return a summary, or raise :class:`ActionRefused` when it differs."""


class Delivery(msgspec.Struct, frozen=True):
    """Where one action stands after an attempt (or as the store tells it: :func:`stored_delivery`).

    ``verified``: the read-back matched (True), differs (False), or is not done (None); then
    ``owed`` says whether it is still to be done (resumed by a later drain)."""

    item_id: int
    outcome: Outcome
    message: str
    retry_after: float | None = None
    verified: bool | None = None
    owed: bool = False


def stored_delivery(item: OutboxItem) -> Delivery | None:
    """What the store says of a delivered or failed action, as a :class:`Delivery` (the same
    one the attempt returned); ``None`` for an action not answered yet."""
    if item.status == OUTBOX_FAILED:
        return Delivery(item.id, "failed", item.last_error)
    if item.status != OUTBOX_DELIVERED:
        return None
    note = item.readback_note
    if item.readback == READBACK_VERIFIED:
        return Delivery(item.id, "delivered", note, verified=True)
    if item.readback == READBACK_DIFFERS:
        return Delivery(item.id, "delivered", f"sent, but the read-back differs: {note}", verified=False)
    if item.readback == READBACK_OWED and note:
        return Delivery(item.id, "delivered", f"sent; the read-back failed ({note})", owed=True)
    if item.readback == READBACK_OWED:
        return Delivery(item.id, "delivered", item.response, owed=True)
    if item.readback == READBACK_GIVEN_UP:
        return Delivery(item.id, "delivered", f"sent; not read back ({note})")
    return Delivery(item.id, "delivered", item.response)


class Outbox:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        handlers: dict[tuple[str, str], ActionHandler],
        *,
        owner: str | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.clock = clock
        self.handlers = handlers
        self.owner = owner or process_owner()
        self._wall = wall

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

    def owed(self, provider: str | None = None) -> list[OutboxItem]:
        """Delivered actions whose read-back is still owed, oldest first."""
        return self.store.outbox(provider=provider, status=OUTBOX_DELIVERED, readback=READBACK_OWED)

    def item(self, item_id: int) -> OutboxItem | None:
        return next(iter(self.store.outbox(item_id=item_id)), None)

    def delivery(self, item_id: int) -> Delivery | None:
        """Where a delivered or failed action stands, as the store tells it (whichever process
        delivered it, read it back, or before a restart); ``None`` when not answered yet."""
        item = self.item(item_id)
        return stored_delivery(item) if item is not None else None

    def _claim(self, item: OutboxItem, *, readback: bool = False) -> bool:
        now = self._wall()
        return self.store.outbox_claim(item.id, self.owner, now + CLAIM_SECONDS, now, owner_alive, readback=readback)

    def send_again(self, item_id: int, why: str) -> bool:
        """The operator has checked that a held action did not reach the API: its mark is
        cleared, so the next attempt sends it (audited ``send again`` with ``why``). False
        when it is not held any more (delivered meanwhile) or another process is on it."""
        item = self.item(item_id)
        if item is None or item.status != OUTBOX_PENDING or item.sending_since is None or not self._claim(item):
            return False
        try:
            self.store.outbox_sending(item.id, None)
            self.store.outbox_update(item.id, OUTBOX_PENDING, self.clock.now(), attempted=False)
            self._audit(item, "send again", f"#{item.id} {why}")
        finally:
            self.store.outbox_release(item.id, self.owner)
        return True

    async def deliver(self, item: OutboxItem) -> Delivery:
        """One attempt at one pending action, under this process's claim (``claimed``: another
        live process is working on it or has done it; nothing was done here)."""
        if not self._claim(item):
            return Delivery(item.id, "claimed", "another pupitre process is delivering it")
        try:
            current = self.item(item.id)
            if current is None or current.status != OUTBOX_PENDING:  # done meanwhile by another process
                return Delivery(item.id, "claimed", "another pupitre process has delivered it")
            return await self._attempt(current)
        finally:
            self.store.outbox_release(item.id, self.owner)

    async def read_back(self, item: OutboxItem) -> Delivery:
        """Resume the read-back owed by a delivered action, under this process's claim
        (``claimed``: another live process is on it, or it is done); given up past
        :data:`READBACK_WINDOW` after the delivery."""
        if not self._claim(item, readback=True):
            return Delivery(item.id, "claimed", "another pupitre process is reading it back")
        try:
            current = self.item(item.id)
            if current is None or (current.status, current.readback) != (OUTBOX_DELIVERED, READBACK_OWED):
                return Delivery(item.id, "claimed", "another pupitre process has read it back")
            handler = self.handlers[(current.provider, current.action)]
            if _utc(self.clock.now()) - _utc(current.updated_at) > READBACK_WINDOW:
                hours = READBACK_WINDOW.total_seconds() / 3600
                why = f"not read back within {hours:g} h of its delivery at {current.updated_at:%d/%m %H:%M:%S}"
                if current.readback_note:
                    why += f"; last attempt: {current.readback_note}"
                self._read(current, READBACK_GIVEN_UP, why + ": check it at the API", "read-back given up")
                return self._stored(current)
            self._audit(
                current,
                "resumed",
                f"#{current.id} the read-back owed since its delivery at {current.updated_at:%d/%m %H:%M:%S}",
            )
            return await self._verify(current, handler)
        finally:
            self.store.outbox_release(item.id, self.owner)

    async def _attempt(self, item: OutboxItem) -> Delivery:
        handler = self.handlers[(item.provider, item.action)]
        now = self.clock.now()
        try:
            handler.check(item.payload, now)
        except ActionRefused as refusal:
            self.store.outbox_update(item.id, OUTBOX_FAILED, now, error=str(refusal), attempted=False)
            self._audit(item, "refused", f"#{item.id} {refusal}")
            return Delivery(item.id, "failed", str(refusal))
        found: str | None = None
        try:
            if item.sending_since is not None:
                try:
                    found = await handler.find(item.payload, item.sending_since)
                except ActionHeld as held:
                    return self._held(item, str(held))
                self._audit(
                    item,
                    "resumed",
                    f"#{item.id} an earlier attempt (from {item.sending_since:%d/%m %H:%M:%S}) got no answer "
                    + ("and reached the API" if found is not None else "and did not reach the API: sending it"),
                )
            if found is not None:
                self._answered(item, OUTBOX_DELIVERED, ("found", found), response=found)
                return await self._verify(item, handler)
            self.store.outbox_sending(item.id, item.sending_since or self.clock.now())
            answer = await handler.send(item.payload)
        except ActionRefused as refusal:
            self._answered(item, OUTBOX_FAILED, ("refused", str(refusal)), error=str(refusal))
            return Delivery(item.id, "failed", str(refusal))
        except ApiError as error:
            if error.retryable:
                # No answer after the request left (timeout, cut) or a 5xx: it may have got
                # through. A quota refusal is an answer (nothing was done); a connection refused
                # means nothing left. An earlier unanswered attempt keeps its mark either way.
                uncertain = error.uncertain or item.sending_since is not None
                retrying = ("retrying", f"attempt {item.attempts + 1}: {error}")
                self._answered(item, OUTBOX_PENDING, retrying, error=str(error), keep_mark=uncertain)
                return Delivery(item.id, "retry", str(error), error.retry_after)
            self._answered(item, OUTBOX_FAILED, ("failed", str(error)), error=str(error))
            return Delivery(item.id, "failed", str(error))
        self._answered(item, OUTBOX_DELIVERED, ("delivered", answer), response=answer)
        return await self._verify(item, handler)

    def _held(self, item: OutboxItem, reason: str) -> Delivery:
        """Pending, not sent, marked as still unanswered; audited when first held (each later
        attempt finds the same and says nothing new)."""
        if item.last_error != reason:
            self.store.outbox_update(item.id, OUTBOX_PENDING, self.clock.now(), error=reason, attempted=False)
            self._audit(item, "held", f"#{item.id} {reason}")
        return Delivery(item.id, "held", reason)

    def _answered(
        self,
        item: OutboxItem,
        status: str,
        audit: tuple[str, str],
        *,
        error: str = "",
        response: str = "",
        keep_mark: bool = False,
    ) -> None:
        """Record the answer and its audit line in one write (a crash keeps both or neither);
        a delivered action owes its read-back from this same write."""
        readback = READBACK_OWED if status == OUTBOX_DELIVERED else None
        with self.store.batch():
            self.store.outbox_update(
                item.id, status, self.clock.now(), error=error, response=response, readback=readback
            )
            if not keep_mark:
                self.store.outbox_sending(item.id, None)
            self._audit(item, audit[0], f"#{item.id} {audit[1]}")

    async def _verify(self, item: OutboxItem, handler: ActionHandler) -> Delivery:
        """Read back; the outcome is kept in the store (owed again after an API error)."""
        try:
            summary = await handler.verify(item.payload)
        except ActionRefused as mismatch:
            self._read(item, READBACK_DIFFERS, str(mismatch), "read-back differs")
        except ApiError as error:
            self._read(item, READBACK_OWED, str(error), "read-back failed")
        except StoreError:
            raise
        except Exception as error:  # a fault in the read-back itself: trying again would fail the same way
            log.exception("read-back of #%d failed", item.id)
            why = f"the read-back failed unexpectedly ({type(error).__name__}; details in the log): check it at the API"
            self._read(item, READBACK_GIVEN_UP, why, "read-back failed")
        else:
            self._read(item, READBACK_VERIFIED, summary, "verified")
        return self._stored(item)

    def _stored(self, item: OutboxItem) -> Delivery:
        return self.delivery(item.id) or Delivery(item.id, "delivered", item.response)

    def _read(self, item: OutboxItem, state: str, note: str, outcome: str) -> None:
        with self.store.batch():
            self.store.outbox_readback(item.id, state, note)
            self._audit(item, outcome, f"#{item.id} {note}")

    async def drain(self, provider: str | None = None) -> list[Delivery]:
        """Deliver pending actions, and resume owed read-backs, in queue order. Once one of a
        provider's actions must be retried (or its read-back is still owed), that provider's
        later actions wait: none may overtake an earlier one, nor change what it reads back."""
        deliveries = []
        blocked: set[str] = set()
        due = sorted(self.pending(provider) + self.owed(provider), key=lambda i: i.id)
        for item in due:
            current = self.item(item.id)
            if current is None or current.provider in blocked:
                continue
            if current.status == OUTBOX_PENDING:
                delivery = await self.deliver(current)
            elif (current.status, current.readback) == (OUTBOX_DELIVERED, READBACK_OWED):
                delivery = await self.read_back(current)
            else:
                continue
            if delivery.outcome == "claimed":  # another process has it: later ones wait behind it
                blocked.add(current.provider)
                continue
            deliveries.append(delivery)
            if delivery.outcome == "retry" or delivery.owed:
                blocked.add(current.provider)
        return deliveries
