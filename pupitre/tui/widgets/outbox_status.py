"""Where an action stands in the outbox, drawn the same on every screen that sends
(Curtailments, the program editor, Access rights, Load curves and its forms): the word of
:mod:`pupitre.providers.core.outbox_words` (also used by ``pupitre outbox`` and
``pupitre check``), never colour alone — states not done yet in reverse video — then why,
then the screen's own hint for that state (e.g. ``x: export for e-mail``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping

from rich.text import Text

from pupitre.providers.core.outbox_words import READ_BACK_DIFFERS, OutboxState, detail_of, state_of

if TYPE_CHECKING:
    from pupitre.providers.core.outbox import Delivery
    from pupitre.providers.core.store import OutboxItem
    from pupitre.tui.app import PupitreApp

#: states the operator must act on or wait for, in reverse video; the others in bold
LOUD = frozenset(
    {OutboxState.QUEUED, OutboxState.SENDING, OutboxState.RETRYING, OutboxState.HELD, OutboxState.NOT_ACCEPTED}
)


def outbox_status_text(
    item: OutboxItem,
    delivery: Delivery | None = None,
    *,
    sending: bool = False,
    hints: Mapping[OutboxState, str] | None = None,
    answer: bool = True,
) -> Text:
    """``RETRYING — HTTP 503 (attempt 2); kept in the outbox and sent again by itself · x: …``;
    a delivered action with the read-back's summary or the API's answer (``answer``)."""
    state = state_of(item, delivery, sending=sending)
    text = Text(state.word, style="bold reverse" if state in LOUD else "bold")
    detail = detail_of(item, state, delivery, answer=answer)
    if detail.startswith(READ_BACK_DIFFERS):
        text.append(" — ")
        text.append(detail, style="bold reverse")
    elif detail:
        text.append(f" — {detail}")
    hint = (hints or {}).get(state)
    if hint:
        text.append(f" · {hint}")
    return text


def outbox_status(
    app: PupitreApp, item: OutboxItem, hints: Mapping[OutboxState, str] | None = None, *, answer: bool = True
) -> Text:
    """:func:`outbox_status_text` with what this app's outbox knows: its last attempt at
    ``item`` and whether it is sending now."""
    return outbox_status_text(
        item, app.outbox.last.get(item.id), sending=app.outbox.running, hints=hints, answer=answer
    )
