"""The program editor's words (pure, no Textual): from the pre-check
(:func:`pupitre.providers.grtgaz.rules.precheck`) and the editor's state
(:mod:`pupitre.providers.grtgaz.editing`) to the rich texts the screen shows — the slot
table's rows, the highlighted hour, the title and timing lines, the prediction, and the
outbox line of a sent declaration. Tested without the pilot (``tests/unit``).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, NamedTuple

from rich.text import Text

from pupitre.providers.core.outbox_words import OutboxState
from pupitre.providers.grtgaz import rules
from pupitre.providers.grtgaz.drafts import SLOTS, format_quantity, slot_label
from pupitre.providers.grtgaz.editing import EditorState, Sent
from pupitre.providers.grtgaz.models import FeasibilityStatus, Flex, IndicatorStatus
from pupitre.tui.formats import FLEX_SHORT, GLYPHS, WORDS, age_text, feasibility_text
from pupitre.tui.widgets.outbox_status import outbox_status_text

if TYPE_CHECKING:
    from pupitre.providers.core.outbox import Delivery
    from pupitre.providers.core.store import OutboxItem

#: what the operator can do while a sent program waits or once it was refused
SENT_HINTS = {
    OutboxState.RETRYING: "x: export for e-mail",
    OutboxState.HELD: "x: export for e-mail",
    OutboxState.NOT_ACCEPTED: "n: correct it under the next version",
}
SHORT_CODES = {
    rules.HMS_PROFILE_NOT_RESPECT_Q0_DELAY: "Q→Q- red",
    rules.HMS_PROFILE_NOT_RESPECT_QMAX_DELAY: "Q→Q+ red",
    rules.HMS_PROFILE_NOT_RESPECT_FLEXIBILITY_TOLERANCE: "allowance",
    rules.HMS_PROFILE_NOT_RESPECT_GRAY_INDICATOR: "GREY",
    rules.EXEEDED_QMIN_QMAX: "Qmin/Qmax",
    rules.BAD_QUANTITIES: "missing",
}
COLUMNS = ("slot", "base", "new", "delta", "check", "indicator")


class Row(NamedTuple):
    """What one slot's row shows (cheap to compare: a row is repainted when it changes)."""

    slot: int
    value: float
    reference: float
    writable: bool
    editing: bool
    changed: bool
    hour: rules.HourCheck | None


def rows(state: EditorState, reference: list[float], first: int | None, check: rules.ProgramCheck | None) -> list[Row]:
    """The 24 rows: the rebuilt program (the reference the pre-check compares with,
    §3.2.2), the new value, whether it may still change, and the slot's verdict."""
    values = state.values()
    writable_from = state.writable_from(first)
    editing = state.typing.slot if state.typing is not None else None
    hours: tuple[rules.HourCheck | None, ...] = check.hours if check is not None else (None,) * SLOTS
    return [
        Row(
            slot,
            values[slot],
            reference[slot],
            slot >= writable_from,
            slot == editing,
            values[slot] != state.draft.base[slot],
            hours[slot],
        )
        for slot in range(SLOTS)
    ]


def row_cells(row: Row) -> list[Text]:
    """The six cells of a row, in :data:`COLUMNS`' order: slot (``·`` when read-only), the
    reference, the new value (bold when changed from the starting program, ``✎`` while
    typed), the difference to the reference, the verdict, the indicators of the hour."""
    style = "" if row.writable else "dim"
    new = Text(
        format_quantity(row.value) + ("✎" if row.editing else ""),
        justify="right",
        style="bold reverse" if row.editing else ("bold" if row.changed else style),
    )
    diff = row.value - row.reference
    delta = Text(
        "" if diff == 0 else ("+" if diff > 0 else "−") + format_quantity(abs(diff)),
        style="bold" if diff else "",
        justify="right",
    )
    return [
        Text(f"{' ' if row.writable else '·'}{slot_label(row.slot)}", style=style),
        Text(format_quantity(row.reference), style=style, justify="right"),
        new,
        delta,
        verdict_text(row.hour),
        indicator_text(row.hour),
    ]


def timing_words(gas_day: dt.date, now: dt.datetime) -> str:
    """Which §3 regime a program sent now falls under."""
    limit = rules.auto_accept_before(gas_day)
    if now < limit:
        return f"no feasibility control before {limit:%d/%m %H:%M} (§3.1)"
    return "feasibility checked (§3.2)"


def status_word(status: IndicatorStatus) -> str:
    return f"{GLYPHS[status]}{WORDS[status]}"


def view_text(view: rules.IndicatorView) -> str:
    """``Q→Q+ ✗RED`` and, when a change is announced, ``→✓green 11:15`` (§3.2.2.1)."""
    text = f"{FLEX_SHORT[view.flex]} {status_word(view.applicable)}"
    if view.next is not None and view.next_at is not None:
        text += f"→{status_word(view.next)} {view.next_at:%H:%M}"
    return text


def indicators_line(check: rules.ProgramCheck) -> Text:
    """The three indicators as a program sent now would be checked against them."""
    text = Text()
    if not check.indicators_known:
        return text.append("indicators not read yet: taken as RED", style="bold")
    for index, flex in enumerate(Flex):
        view = check.indicators[flex]
        if index:
            text.append(" · ")
        style = "" if view.applicable is IndicatorStatus.GREEN else "bold reverse"
        text.append(view_text(view), style=style)
    return text


def verdict_text(hour: rules.HourCheck | None) -> Text:
    """One hour's pre-check verdict: ``✓ ok``, ``✗ Q→Q- red``, ``· past``."""
    if hour is None:
        return Text("")
    if not hour.ok:
        return Text(f"✗ {SHORT_CODES.get(hour.code, hour.code or 'fails')}", style="bold reverse")
    if not hour.exists:
        return Text("· added §13.2", style="dim")
    if not hour.adjustable:
        return Text("· past", style="dim")
    if not hour.in_window and hour.rule != rules.RULE_AUTO:
        return Text("✓ >H+5", style="dim")
    return Text("✓ ok")


def indicator_text(hour: rules.HourCheck | None) -> Text:
    """The indicator(s) applying to one hour (§3.2.2: Q→Q- down, Q→Q+ and partial up)."""
    if hour is None or not hour.indicators:
        return Text("—" if hour is not None and hour.adjustable else "", style="dim")
    text = Text()
    for index, view in enumerate(hour.indicators):
        if index:
            text.append(" ")
        text.append(view_text(view), style="" if view.applicable is IndicatorStatus.GREEN else "bold")
    return text


def hour_text(hour: rules.HourCheck, slot: int) -> Text:
    """The highlighted hour: verdict, reason, code and the document's section."""
    text = Text(f"{slot_label(slot)} ", style="bold")
    text.append("✓ " if hour.ok else "✗ ", style="" if hour.ok else "bold reverse")
    text.append(hour.reason)
    if hour.code:
        text.append(f" — {hour.code}", style="bold")
    if hour.rule:
        text.append(f" ({hour.rule})", style="dim")
    return text


def summary_text(check: rules.ProgramCheck | None) -> Text:
    """The pre-check's prediction, with the codes GRTgaz would answer (§13.6 / §13.3)."""
    text = Text()
    if check is None:
        return text
    outcome = check.outcome
    if outcome is rules.Outcome.ACCEPTED:
        text.append("Pre-check ✓ would be ACCEPTED", style="bold")
        if not check.indicators_known:
            text.append(" — indicators unknown, taken as red", style="bold")
        partial = check.feasibility.partial
        if partial is not None:
            text.append(f" · partial allowance left {format_quantity(partial.remaining)} kWh")
        return text
    reasons: tuple[rules.Reason, ...]
    if outcome is rules.Outcome.REJECTED:
        text.append("Pre-check ✗ would be REJECTED (400, nothing taken):", style="bold reverse")
        reasons = check.issues
    else:
        text.append("Pre-check ✗ would be REFUSED:", style="bold reverse")
        reasons = check.comments
    for index, item in enumerate(reasons):
        text.append(";" if index else "")
        text.append(f" {item.code}", style="bold")
        text.append(f" {item.explanation}" + (f" ({item.section})" if item.section else ""))
    return text


def prediction_text(state: EditorState, check: rules.ProgramCheck | None) -> Text:
    """The summary line: why the value typed is refused, then the prediction (none once sent)."""
    text = summary_text(check) if state.sent is None else Text("")
    if state.input_error:
        text = Text(f"{state.input_error}\n", style="bold").append_text(text)
    return text


def title_text(state: EditorState, site_label: str) -> Text:
    """``New 20261118-LI1009-GFCCGE09-2 (next version) · Martigues · gas day 18/11 · from rebuilt``."""
    draft = state.draft
    text = Text()
    text.append("Sent " if state.sent else "New ")
    text.append(state.program_id, style="bold")
    if state.sent is None:
        text.append(" (next version)")
    text.append(f" · {site_label} · gas day {draft.gas_day:%d/%m} · from {draft.base_label}")
    return text


def timing_text(state: EditorState, now: dt.datetime, first: int | None) -> tuple[Text, bool]:
    """When a program sent now would take effect and how it is checked, the hours changed,
    and on 23/25-hour days what the editor assumed (§13.2); the flag: a second line."""
    gas_day = state.draft.gas_day
    text = Text()
    if first is None:
        text.append("This gas day is over: nothing can be declared for it (PAST_GAS_DAY).", style="bold")
    else:
        text.append(f"Sent at {now:%H:%M}: from {slot_label(first)} on (· read-only) · ")
        text.append(timing_words(gas_day, now))
    if state.draft.dirty:
        text.append(f" · {len(state.draft.changed_slots())} hour(s) changed")
    assumption = rules.dst_assumption(gas_day)
    if assumption:
        text.append(f"\nAssumed: {assumption}", style="italic")
    return text, bool(assumption)


def indicators_text(check: rules.ProgramCheck | None) -> Text:
    text = Text("Indicators: ")
    if check is not None:
        text.append_text(indicators_line(check))
    return text


def pending_text(pending: int) -> Text:
    """Before sending: earlier declarations of the day not answered yet."""
    return Text(f"{pending} earlier declaration(s) of this day still in the outbox." if pending else "", style="bold")


def sent_text(
    sent: Sent, item: OutboxItem | None, now: dt.datetime, delivery: Delivery | None = None, *, sending: bool = False
) -> Text:
    """The outbox line of the declaration sent: its outbox state (the words every screen
    uses) until GRTgaz took it, then the feasibility verdict with GRTgaz's comment (§13.3)."""
    text = Text(f"#{sent.item_id} ")
    if item is None:
        return text.append("not in the outbox any more", style="bold")
    profile = sent.profile
    if item.status != "delivered":
        text.append_text(outbox_status_text(item, delivery, sending=sending, hints=SENT_HINTS))
    elif profile is None or not profile.status.decided:
        text.append("received by GRTgaz, feasibility being checked…", style="bold")
    else:
        text.append_text(feasibility_text(profile.status))
        if profile.comment:
            text.append(f" — {profile.comment}")
            codes = [
                f"{code}: {rules.EXPLANATIONS.get(code, '')}"
                for code in rules.comment_codes(profile.comment)
                if code != "HMS_PROFILE_ACCEPTED"
            ]
            if codes:
                text.append("\n" + "; ".join(codes), style="dim")
        if profile.status is FeasibilityStatus.REFUSED:
            text.append("\nn: edit the next version from this one", style="dim")
    text.append(f" {age_text(now, item.updated_at)}", style="dim")
    return text


def export_reason(item: OutboxItem | None) -> str:
    """Why a sent program is also exported for e-mail: it is still in the outbox."""
    if item is None or item.status not in ("pending", "failed"):
        return ""
    return (
        f"#{item.id} is {'still waiting for' if item.status == 'pending' else 'refused by'} "
        "the API. It stays in the outbox: if GRTgaz records the mailed program first, "
        "it is not sent again (same id, same values)."
    )


def rejected_words(check: rules.ProgramCheck) -> str:
    """Why a program GRTgaz would reject (400) is not exported either."""
    return "Not exported: GRTgaz would reject this program too — " + "; ".join(
        f"{issue.code} {issue.explanation}" for issue in check.issues
    )
