"""The acknowledgement confirmation: every contract of the order with the value that will be
sent — and, in words, every contract left out, which EDF OA counts as refused (RG_ACK_0030)."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding

from pupitre.providers.edf_oa import rules
from pupitre.providers.edf_oa.models import AckEntry, CurtailmentOrder
from pupitre.tui.dialogs.send_confirm import SendConfirmScreen


def confirmation_text(
    order: CurtailmentOrder, choices: dict[str, bool | None], retained: dict[str, AckEntry] | None = None
) -> Text:
    """Every contract with what EDF OA will retain, and each value this acknowledgement
    changes (a left-out contract overwrites a ``true``, e.g. from the PORTAL, RG_ACK_0030)."""
    retained = retained or {}
    text = Text()
    text.append(f"Acknowledge order {order.order_id} for {order.application_date:%a %d/%m}?\n\n", style="bold")
    left_out = set(rules.left_out(order, choices))
    for contract in order.curtailments:
        cid = contract.contract_id
        curtail = "curtailment" if rules.has_curtailment(contract) else "no curtailment"
        text.append(f"  {cid:<9}")
        if cid in left_out:
            text.append(" NOT SENT → counted as REFUSED (false)", style="bold reverse")
        elif choices.get(cid):
            text.append(" true  — will respect", style="bold")
        else:
            text.append(" false — will NOT respect", style="bold")
        text.append(f"   ({curtail})\n", style="dim")
        entry = retained.get(cid)
        will_be = bool(choices.get(cid)) if cid not in left_out else False
        if entry is not None and entry.ack_value != will_be:
            text.append(
                f"    ⚠ overwrites {'true' if entry.ack_value else 'false'} sent by {entry.user_id} "
                f"via {entry.ack_source} at {entry.ack_date:%H:%M}\n",
                style="bold",
            )
    text.append("\n")
    if left_out:
        text.append(
            f"{len(left_out)} contract(s) left out: EDF OA counts them as refused (RG_ACK_0030).\n", style="bold"
        )
    else:
        text.append("Every contract of the order is listed.\n")
    text.append("EDF OA keeps the last acknowledgement of the day (§5.1.1).", style="dim")
    return text


class AckConfirmScreen(SendConfirmScreen):
    DEFAULT_CSS = """
    AckConfirmScreen > .dialog {
        width: 76;
    }
    """

    BINDINGS = [Binding("y", "send", "Send", id="ack.send"), Binding("escape,n", "cancel", "Cancel", id="ack.cancel")]
    DIALOG_ID, TEXT_ID, BUTTONS_ID = "ack-dialog", "ack-text", "ack-buttons"

    def __init__(
        self, order: CurtailmentOrder, choices: dict[str, bool | None], retained: dict[str, AckEntry] | None = None
    ) -> None:
        super().__init__()
        self.order = order
        self.choices = choices
        self.retained = retained or {}

    def body(self) -> Text:
        return confirmation_text(self.order, self.choices, self.retained)
