"""The program editor's state machine (pure, no Textual): a :class:`Draft` being edited,
the value being typed, and the declaration once sent.

The screen (``pupitre.tui.screens.program_editor``) holds one :class:`EditorState` and
moves it with the transitions below, each a function from a state to the next one; a
transition the operator may not make raises :class:`Refused` with the words to show.
Its phases (:class:`Phase`):

- ``EDITING``: the table; ``start_typing`` opens an hour's value (adjustable hours only,
  chapter 2 §6-8), ``paste`` fills the 24 values, ``reset`` goes back to the start;
- ``TYPING``: every keystroke is ``type_text`` (the pre-check sees the value as typed),
  ``commit`` keeps it (a value that is not one is refused in words), ``drop`` forgets it;
- ``SENT``: read-only while the app follows the declaration to its verdict;
  ``new_version`` edits the next version from what was sent.

What the pre-check needs of the site and day (:func:`program_context`: the contract, the
rebuilt program, a shortage recorded by any process, §4) is read here too.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING, Any, Iterable, Literal

import msgspec
from msgspec.structs import replace

from pupitre.providers.grtgaz import rules
from pupitre.providers.grtgaz.drafts import SLOTS, Draft, DraftError, parse_number, parse_values, slot_label
from pupitre.providers.grtgaz.feeds import SitePrograms, stored_shortage, version_of

if TYPE_CHECKING:
    from pupitre.providers.core.store import Store
    from pupitre.providers.grtgaz.models import HmsProfile, SiteIndicators
    from pupitre.providers.grtgaz.sites import Site

SENT_WORDS = "This program was sent: n edits the next version."


class Refused(Exception):
    """A transition the operator may not make; the message says why, for the screen.
    ``severity`` is the notification's (``warning``: not now; ``error``: not that)."""

    def __init__(self, message: str, severity: Literal["warning", "error"] = "warning") -> None:
        super().__init__(message)
        self.message = message
        self.severity = severity


class Phase(enum.Enum):
    """Where the editor stands: see the module's docstring."""

    EDITING = "editing"
    TYPING = "typing"
    SENT = "sent"


class Leave(enum.Enum):
    """What Esc does: close the value being typed, ask before dropping changes, or leave."""

    CLOSE_INPUT = "close input"
    ASK = "ask"
    LEAVE = "leave"


class Typing(msgspec.Struct, frozen=True):
    """The value being typed into one slot: ``value`` when the text is a quantity, else
    ``error`` says why (``None`` and ``""`` before the first keystroke)."""

    slot: int
    value: float | None = None
    error: str = ""


class Sent(msgspec.Struct):
    """The declaration sent from this editor: its outbox item and GRTgaz's verdict, once
    the app's follow-up has settled it (:mod:`pupitre.providers.grtgaz.feasibility`)."""

    item_id: int
    program_id: str
    profile: HmsProfile | None = None


class EditorState(msgspec.Struct, frozen=True):
    """The editor's whole state. ``program_id`` is the id it would be sent under (§2.2);
    ``sent_ids`` the versions sent from here, perhaps not listed by GRTgaz yet."""

    draft: Draft
    program_id: str = ""
    typing: Typing | None = None
    sent: Sent | None = None
    sent_ids: frozenset[str] = msgspec.field(default_factory=frozenset)

    @property
    def phase(self) -> Phase:
        if self.sent is not None:
            return Phase.SENT
        return Phase.TYPING if self.typing is not None else Phase.EDITING

    @property
    def input_error(self) -> str:
        return self.typing.error if self.typing is not None else ""

    def values(self) -> list[float]:
        """The draft with the value being typed, so the pre-check sees every keystroke."""
        values = list(self.draft.values)
        if self.typing is not None and self.typing.value is not None:
            values[self.typing.slot] = self.typing.value
        return values

    def writable(self, slot: int, first: int | None) -> bool:
        """Whether ``slot`` may be edited: not sent, and adjustable (``first`` on)."""
        return self.sent is None and first is not None and slot >= first

    def writable_from(self, first: int | None) -> int:
        """The first slot that may be edited (``SLOTS``: none)."""
        return SLOTS if self.sent is not None or first is None else first

    def changes_that_count(self, first: int | None, reference: list[float]) -> list[int]:
        """Adjustable hours that differ from the rebuilt program: what this declaration
        changes at GRTgaz (chapter 2 §6-8). They must still be adjustable when it is sent."""
        if first is None:
            return []
        values = self.values()
        return [slot for slot in range(first, SLOTS) if values[slot] != reference[slot]]


def start(site_id: str, gas_day: dt.date, base: Iterable[float | None], base_label: str) -> EditorState:
    """A new editor on ``base`` (the rebuilt program or a declaration; 0 where unknown)."""
    return EditorState(Draft(site_id, gas_day, tuple(0.0 if v is None else float(v) for v in base), base_label))


# -- transitions -----------------------------------------------------------------------------


def start_typing(state: EditorState, slot: int, first: int | None, text: str = "") -> EditorState:
    """Open ``slot``'s value, with ``text`` already typed (a digit pressed on the table)."""
    if state.sent is not None:
        raise Refused(SENT_WORDS)
    if not state.writable(slot, first):
        raise Refused(f"{slot_label(slot)} is no longer adjustable (chapter 2 §6-8)")
    opened = replace(state, typing=Typing(slot))
    return type_text(opened, text) if text else opened


def type_text(state: EditorState, text: str) -> EditorState:
    """A keystroke: the text as it now stands, read as a quantity or refused in words."""
    if state.typing is None:
        return state
    slot = state.typing.slot
    try:
        typing = Typing(slot, parse_number(text))
    except DraftError as error:
        typing = Typing(slot, None, f"{slot_label(slot)}: {error}")
    return replace(state, typing=typing)


def commit(state: EditorState) -> EditorState:
    """Keep the value typed (Enter): refused while what is typed is not a quantity."""
    typing = state.typing
    if typing is None:
        return state
    if typing.value is None:
        raise Refused(typing.error or "type a value", "error")
    draft = state.draft.copy()
    draft.set(typing.slot, typing.value)
    return replace(state, draft=draft, typing=None)


def next_slot(state: EditorState, slot: int, step: int, first: int | None) -> int | None:
    """The slot Enter moves to after ``slot`` (``step`` 0: none), if it may be edited."""
    following = slot + step
    if step and 0 <= following < SLOTS and state.writable(following, first):
        return following
    return None


def drop(state: EditorState) -> EditorState:
    """Forget the value being typed (Esc in the input)."""
    return replace(state, typing=None)


class Pasted(msgspec.Struct, frozen=True):
    """What a paste did: the slots it changed, the past ones that kept their value."""

    changed: list[int]
    kept: list[int]

    @property
    def message(self) -> str:
        text = f"Pasted 24 values: {len(self.changed)} hour(s) changed."
        if self.kept:
            text += (
                f" {len(self.kept)} past hour(s) kept their value ({slot_label(self.kept[0])}…"
                f"{slot_label(self.kept[-1])}): not adjustable any more."
            )
        return text


def paste(state: EditorState, text: str, first: int | None) -> tuple[EditorState, Pasted]:
    """Fill the program from 24 pasted values; hours no longer adjustable keep theirs."""
    if state.sent is not None:
        raise Refused(SENT_WORDS)
    try:
        values = parse_values(text)
    except DraftError as error:
        raise Refused(f"Paste not used: {error}", "error") from None
    writable = range(first, SLOTS) if first is not None else range(0)
    kept = [slot for slot in range(SLOTS) if slot not in writable and values[slot] != state.draft.values[slot]]
    draft = state.draft.copy()
    changed = draft.paste(values, writable)
    return replace(state, draft=draft), Pasted(changed, kept)


def reset(state: EditorState, first: int | None) -> EditorState:
    """Back to the starting program, for the hours still adjustable."""
    if state.sent is not None:
        return state
    draft = state.draft.copy()
    for slot in draft.changed_slots():
        if first is not None and slot >= first:
            draft.values[slot] = draft.base[slot]
    draft.edited = {slot for slot in draft.edited if slot in draft.changed_slots()}
    return replace(state, draft=draft, typing=None)


def mark_sent(state: EditorState, item_id: int, program_id: str) -> EditorState:
    """The declaration is in the outbox as ``item_id``: the editor is read-only now."""
    return replace(state, sent=Sent(item_id, program_id), typing=None)


def new_version(state: EditorState) -> EditorState:
    """After sending: the next version, starting from what was sent (the caller gives it
    its id: :func:`next_program_id`)."""
    if state.sent is None:
        raise Refused("Send this program first (s), or Esc to leave it.")
    draft = state.draft
    label = f"v{version_of(state.sent.program_id)}"
    return EditorState(
        Draft(draft.site_id, draft.gas_day, tuple(state.values()), label),
        state.program_id,
        sent_ids=state.sent_ids | {state.sent.program_id},
    )


def leaving(state: EditorState) -> Leave:
    """What Esc does now: changes never sent are not dropped without asking."""
    if state.typing is not None:
        return Leave.CLOSE_INPUT
    if state.sent is None and state.draft.dirty:
        return Leave.ASK
    return Leave.LEAVE


def leave_question(state: EditorState) -> str:
    return f"Drop the {len(state.draft.changed_slots())} change(s) of {state.program_id}? Nothing was sent."


# -- what the pre-check needs ------------------------------------------------------------------


def next_program_id(
    state: EditorState, contract: str, programs: SitePrograms, pending: Iterable[dict[str, Any]]
) -> str:
    """§2.2: one more than every version GRTgaz has, every one still in the outbox
    (``pending``: their payloads) and every one sent from this editor."""
    known = [p.hmsProfileId for p in programs.declared]
    known += [payload["program"]["hmsProfileId"] for payload in pending]
    known += sorted(state.sent_ids)
    return rules.next_program_id(state.draft.gas_day, state.draft.site_id, contract, known)


def renumber(
    state: EditorState, contract: str, programs: SitePrograms, pending: Iterable[dict[str, Any]]
) -> EditorState:
    """The state under the id it would be sent under now (a declaration may have been made
    meanwhile, here or elsewhere)."""
    return replace(state, program_id=next_program_id(state, contract, programs, pending))


def contract_of(programs: SitePrograms, site: Site | None) -> str:
    """The connection contract of the programs GRTgaz shows, else the site's (§2.3)."""
    for source in (programs.latest(), programs.rebuilt):
        if source is not None and source.connectionContractCode:
            return source.connectionContractCode
    return site.contract if site is not None else ""


def reference_of(programs: SitePrograms) -> list[float]:
    """The rebuilt program (§13.4), the pre-check's reference; 0 where unknown."""
    rebuilt = programs.rebuilt
    if rebuilt is None:
        return [0.0] * SLOTS
    return [0.0 if q is None else float(q) for q in rebuilt.quantities]


def shortage(store: Store, site_id: str, gas_day: dt.date, indicators: SiteIndicators | None) -> bool:
    """A shortage was shown for this gas day (§4): by the indicators now, or recorded in
    the store's timeline by any process — it holds for the whole gas day, grey or not."""
    if indicators is not None and gas_day in rules.shortage_days([indicators]).get(site_id, ()):
        return True
    return stored_shortage(store, site_id, gas_day)


def program_context(
    site: Site,
    gas_day: dt.date,
    programs: SitePrograms,
    indicators: SiteIndicators | None,
    *,
    store: Store,
    tolerance: float,
) -> rules.ProgramContext:
    """What the pre-check needs of this site and day, read once (not per keystroke)."""
    return rules.ProgramContext.from_api(
        site,
        gas_day,
        indicators=indicators,
        profiles=programs.declared,
        rebuilt=programs.rebuilt,
        tolerance=tolerance,
        contract=contract_of(programs, site),
        shortage=shortage(store, site.site_id, gas_day, indicators),
    )
