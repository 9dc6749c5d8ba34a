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

Each state also has one sentence of **what the operator should do** (:func:`todo_of`), the
same in ``pupitre outbox`` and on the Audit screen's actions list: a sentence per state, made
exact for an action where the way out is the provider's own (e.g. an EDF OA acknowledgement
refused: check on the PORTAL, then send again from Curtailments).
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING

from pupitre.providers.core.outbox import OUTBOX_SUPERSEDED
from pupitre.providers.core.store import (
    OUTBOX_DELIVERED,
    OUTBOX_DROPPED,
    OUTBOX_FAILED,
    OUTBOX_HELD,
    OUTBOX_PENDING,
    READBACK_DIFFERS,
    READBACK_GIVEN_UP,
    READBACK_OWED,
)

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
#: What the operator should do about an action in each state (one sentence, no final stop).
TODO = {
    OutboxState.QUEUED: "nothing yet: it is sent as soon as a pupitre (dashboard or agent) runs in its mode",
    OutboxState.SENDING: "wait for the API's answer",
    OutboxState.RETRYING: "nothing while a pupitre runs, it is sent again by itself; "
    "if a deadline is near, use the provider's fallback",
    OutboxState.HELD: "check on the provider's side whether it arrived, before sending it again",
    OutboxState.DELIVERED: "nothing",
    OutboxState.NOT_ACCEPTED: "read why it was refused, correct it and send a new one",
    OutboxState.REPLACED: "nothing: the newer one counts",
    OutboxState.DROPPED: "nothing",
}
#: What to do, where a provider's action has its own way out: ``(provider, action) → state → sentence``.
ACTION_TODO: dict[tuple[str, str], dict[OutboxState, str]] = {
    ("edf_oa", "acknowledge"): {
        OutboxState.RETRYING: "before the deadline, check on the PORTAL what EDF OA retains; "
        "pupitre sends it again by itself",
        OutboxState.HELD: "check on the PORTAL whether EDF OA has it, then send again with `s` on Curtailments (3)",
        OutboxState.NOT_ACCEPTED: "check on the PORTAL what EDF OA retains, then re-send with `s` on Curtailments (3) "
        "(a contract left out counts as refused)",
    },
    ("grtgaz", "declare program"): {
        OutboxState.RETRYING: "if the hour's deadline is near, send it by e-mail (`x` in the program editor)",
        OutboxState.HELD: "check the program on GRTgaz's side, or send it by e-mail (`x` in the program editor)",
        OutboxState.NOT_ACCEPTED: "correct it under the next version (`n` in the program editor) and send it",
    },
    ("grdf_adict", "declare"): {
        OutboxState.NOT_ACCEPTED: "read GRDF's reason, correct it and declare again with `n` on Access rights (5)",
    },
    ("grdf_adict", "revoke"): {
        OutboxState.NOT_ACCEPTED: "read GRDF's reason, then revoke again with `x` on Access rights (5)",
    },
    ("grdf_adict", "send_proofs"): {
        OutboxState.NOT_ACCEPTED: "read GRDF's reason, then send the proofs again with `u` on Access rights (5) "
        "before the deadline",
    },
    ("switchgrid", "ask"): {
        OutboxState.NOT_ACCEPTED: "read Switchgrid's reason, then ask again from `f` on Load curves (6)",
    },
    ("switchgrid", "order"): {
        OutboxState.HELD: "say whether Switchgrid has it with `u` on Load curves (6), before ordering again (billed)",
        OutboxState.NOT_ACCEPTED: "read Switchgrid's reason, then order again with `o` on Load curves (6) (billed)",
    },
}
#: What to do when a delivered action's read-back is owed, or found something else at the API
READ_BACK_TODO = {
    READBACK_OWED: "nothing while a pupitre runs: the read-back is resumed by itself",
    READBACK_DIFFERS: "compare on the provider's side what it retains with what was sent, and send again if needed",
    READBACK_GIVEN_UP: "check on the provider's side that it is there",
}
#: why an action from before environments is held, and the way out
HELD_SINCE_ENVIRONMENTS = (
    "queued before pupitre kept environments apart; never sent automatically: `pupitre outbox` to release or drop it"
)
READ_BACK_DIFFERS = "READ-BACK DIFFERS"
#: how far back a shift handover lists actions refused or read back wrong (``pupitre outbox``, Audit)
RECENT_DAYS = 7


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


def todo_of(item: OutboxItem, state: OutboxState | None = None) -> str:
    """What the operator should do about ``item`` in ``state`` (its stored state when not
    given): the action's own sentence, else the state's; a delivered action whose read-back
    is owed, differs or was given up has its own."""
    state = state_of(item) if state is None else state
    if state is OutboxState.DELIVERED and item.readback in READ_BACK_TODO:
        return READ_BACK_TODO[item.readback]
    if state is OutboxState.HELD and item.status == OUTBOX_HELD:
        release = f"pupitre outbox release {item.id} --to sandbox|real"
        return f"release or drop it: `{release}` or `pupitre outbox drop {item.id}`"
    return ACTION_TODO.get((item.provider, item.action), {}).get(state, TODO[state])


def needs_operator(item: OutboxItem, now: dt.datetime, days: int = RECENT_DAYS) -> bool:
    """An action an operator taking over must know of: held or pending, its read-back owed,
    or — in the last ``days`` — refused, or delivered but read back different or given up."""
    if item.status in (OUTBOX_HELD, OUTBOX_PENDING) or item.readback == READBACK_OWED:
        return True
    recent = item.updated_at >= now - dt.timedelta(days=days)
    wrong = item.status == OUTBOX_DELIVERED and item.readback in (READBACK_DIFFERS, READBACK_GIVEN_UP)
    return recent and (item.status == OUTBOX_FAILED or wrong)


def status_line(item: OutboxItem, delivery: Delivery | None = None, *, sending: bool = False) -> str:
    """``RETRYING — HTTP 503 (attempt 2); kept in the outbox and sent again by itself``."""
    state = state_of(item, delivery, sending=sending)
    detail = detail_of(item, state, delivery)
    return f"{state.word} — {detail}" if detail else state.word
