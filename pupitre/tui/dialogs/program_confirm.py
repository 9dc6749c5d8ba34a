"""Confirmation before declaring a GRTgaz program: everything that will be sent, the hours
changed, and what the local pre-check expects GRTgaz to answer."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.binding import Binding

from pupitre.providers.grtgaz.drafts import SLOTS, Draft, format_quantity, slot_label
from pupitre.tui.dialogs.send_confirm import SendConfirmScreen

COLUMNS = 3


def confirmation_text(profile: Any, draft: Draft, verdict: Text) -> Text:
    """The id, site, day, bounds, the 24 values (changed ones marked ``*``), the changes."""
    text = Text()
    text.append(f"Declare {profile.hmsProfileId}?\n", style="bold")
    text.append(
        f"{profile.hmsSiteLabel} ({profile.hmsSiteId}) · gas day {profile.gasDay:%d/%m/%Y} · "
        f"contract {profile.connectionContractCode}\n"
    )
    text.append(
        f"qMin {format_quantity(profile.qMin)} · qMax {format_quantity(profile.qMAx)} {profile.unit} · "
        f"declared at {profile.declarationDateTime:%H:%M:%S}\n\n"
    )
    changed = set(draft.changed_slots())
    rows = SLOTS // COLUMNS
    for row in range(rows):
        for column in range(COLUMNS):
            slot = column * rows + row
            value = profile.quantities[slot]
            mark = "*" if slot in changed else " "
            text.append(
                f"{slot_label(slot)} {format_quantity(value):>12}{mark}   ", style="bold" if slot in changed else ""
            )
        text.append("\n")
    text.append("\n")
    if changed:
        text.append(f"* {len(changed)} hour(s) changed from {draft.base_label}: ")
        text.append(
            ", ".join(
                f"{slot_label(s)} {format_quantity(draft.base[s])}→{format_quantity(draft.values[s])}"
                for s in sorted(changed)[:6]
            )
        )
        if len(changed) > 6:
            text.append(f", … (+{len(changed) - 6})")
        text.append("\n")
    else:
        text.append(f"No hour differs from {draft.base_label}.\n", style="bold")
    text.append_text(verdict)
    text.append(
        "\nIt is kept in the outbox until GRTgaz answers, then followed until ACCEPTED or REFUSED.", style="dim"
    )
    return text


class ProgramConfirmScreen(SendConfirmScreen):
    DEFAULT_CSS = """
    ProgramConfirmScreen > .dialog {
        width: 80;
    }
    ProgramConfirmScreen #program-scroll {
        height: auto;
        max-height: 100%;
    }
    """

    BINDINGS = [
        Binding("y", "send", "Send", id="program.send"),
        Binding("escape,n", "cancel", "Cancel", id="program.cancel"),
    ]
    DIALOG_ID, TEXT_ID, BUTTONS_ID, SCROLL_ID = "program-dialog", "program-text", "program-buttons", "program-scroll"

    def __init__(self, profile: Any, draft: Draft, verdict: Text) -> None:
        super().__init__()
        self.profile = profile
        self.draft = draft
        self.verdict = verdict

    def body(self) -> Text:
        return confirmation_text(self.profile, self.draft, self.verdict)
