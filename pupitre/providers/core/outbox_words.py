"""The words for where an action stands in the outbox: one word per state, the same on every
screen that sends, in ``pupitre outbox`` and in ``pupitre check`` (no Textual, no Rich: the
TUI renders them with :mod:`pupitre.tui.widgets.outbox_status`).

=============  ===============================================================
QUEUED         saved in the outbox, not sent yet
SENDING        being sent now
RETRYING       sent, not answered or not accepted *yet* (network, 5xx, quota):
               kept in the outbox and sent again by itself
HELD           waits for you: never sent again by itself (it may have reached
               the API already, or it dates from before environments)
DELIVERED      accepted by the API (then read back: ✓, or READ-BACK DIFFERS)
NOT ACCEPTED   refused by the API or by a rule that no longer holds; never retried
REPLACED       replaced by a newer one before it was sent
DROPPED        dropped by the operator; never sent
=============  ===============================================================
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from pupitre.providers.core.outbox import OUTBOX_SUPERSEDED
from pupitre.providers.core.store import OUTBOX_DELIVERED, OUTBOX_DROPPED, OUTBOX_FAILED, OUTBOX_HELD, OUTBOX_PENDING

if TYPE_CHECKING:
    from pupitre.providers.core.outbox import Delivery
    from pupitre.providers.core.store import OutboxItem


class OutboxState(enum.Enum):
    QUEUED = "QUEUED"
    SENDING = "SENDING"
    RETRYING = "RETRYING"
    HELD = "HELD"
    DELIVERED = "DELIVERED"
    NOT_ACCEPTED = "NOT ACCEPTED"
    REPLACED = "REPLACED"
    DROPPED = "DROPPED"

    @property
    def word(self) -> str:
        return self.value

    @property
    def meaning(self) -> str:
        return MEANINGS[self]

    @property
    def waiting(self) -> bool:
        """Not done yet: the operator must not take it as delivered."""
        return self in (OutboxState.QUEUED, OutboxState.SENDING, OutboxState.RETRYING, OutboxState.HELD)


MEANINGS = {
    OutboxState.QUEUED: "saved in the outbox, not sent yet",
    OutboxState.SENDING: "being sent now",
    OutboxState.RETRYING: "not accepted yet; kept in the outbox and sent again by itself",
    OutboxState.HELD: "waits for you; never sent again by itself",
    OutboxState.DELIVERED: "accepted by the API",
    OutboxState.NOT_ACCEPTED: "refused; never retried",
    OutboxState.REPLACED: "replaced by a newer one before it was sent",
    OutboxState.DROPPED: "dropped by the operator; never sent",
}
#: why an action from before environments is held, and the way out
HELD_SINCE_ENVIRONMENTS = (
    "queued before pupitre kept environments apart; never sent automatically: `pupitre outbox` to release or drop it"
)
READ_BACK_DIFFERS = "READ-BACK DIFFERS"


def state_of(item: OutboxItem, delivery: Delivery | None = None, *, sending: bool = False) -> OutboxState:
    """The state of ``item``: its stored status, refined by this process's last attempt
    (``delivery``: held) and whether the outbox is sending now (``sending``)."""
    status = item.status
    if status == OUTBOX_PENDING:
        if delivery is not None and delivery.outcome == "held":
            return OutboxState.HELD
        if sending:
            return OutboxState.SENDING
        return OutboxState.RETRYING if item.last_error else OutboxState.QUEUED
    return {
        OUTBOX_HELD: OutboxState.HELD,
        OUTBOX_DELIVERED: OutboxState.DELIVERED,
        OUTBOX_FAILED: OutboxState.NOT_ACCEPTED,
        OUTBOX_SUPERSEDED: OutboxState.REPLACED,
        OUTBOX_DROPPED: OutboxState.DROPPED,
    }.get(status, OutboxState.NOT_ACCEPTED)


def detail_of(item: OutboxItem, state: OutboxState, delivery: Delivery | None = None, *, answer: bool = True) -> str:
    """What follows the word: why it waits or was refused, or what the API answered (the
    read-back's summary, or the answer; without them when ``answer`` is false)."""
    if state is OutboxState.RETRYING:
        return f"{item.last_error} (attempt {item.attempts}); kept in the outbox and sent again by itself"
    if state is OutboxState.HELD:
        return item.last_error if item.status == OUTBOX_PENDING else HELD_SINCE_ENVIRONMENTS
    if state in (OutboxState.NOT_ACCEPTED, OutboxState.REPLACED, OutboxState.DROPPED):
        return item.last_error
    if state is OutboxState.DELIVERED:
        if delivery is not None and delivery.verified is False:
            return f"{READ_BACK_DIFFERS}: {delivery.message}"
        if delivery is not None and delivery.verified:
            return f"✓ {delivery.message}" if answer and delivery.message else "✓ read back"
        return item.response if answer else ""
    return ""


def status_line(item: OutboxItem, delivery: Delivery | None = None, *, sending: bool = False) -> str:
    """``RETRYING — HTTP 503 (attempt 2); kept in the outbox and sent again by itself``."""
    state = state_of(item, delivery, sending=sending)
    detail = detail_of(item, state, delivery)
    return f"{state.word} — {detail}" if detail else state.word
