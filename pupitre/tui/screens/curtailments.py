"""Curtailments (key 3): tomorrow's EDF OA order, the acknowledge button, the read-back.

The operator sets, per contract, "will respect" (true) or "will not respect" (false).
A contract left unset is NOT sent, and EDF OA then counts it as refused (RG_ACK_0030):
the table and the confirmation dialog say so in words, not only in colour.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from rich.markup import escape
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Static

from pupitre.providers.edf_oa import rules
from pupitre.providers.edf_oa.feeds import (
    ACK_ACTION,
    ACKS_FEED,
    CURTAILMENTS_FEED,
    PROVIDER,
    TOKEN_FEED,
    ack_payload,
    adopt,
    sent_ack,
)
from pupitre.providers.edf_oa.models import (
    ACK_SOURCES,
    AcknowledgementsState,
    ContractCurtailment,
    CurtailmentOrder,
    shown,
)
from pupitre.tui.formats import age_text, countdown
from pupitre.tui.outbox import submit_after_confirmation
from pupitre.tui.screens.base import PupitreScreen
from pupitre.tui.widgets.feed_status import FeedStatus
from pupitre.tui.widgets.footer import PupitreFooter
from pupitre.tui.widgets.header import HeaderBar
from pupitre.tui.widgets.indicators import theme_colour
from pupitre.tui.widgets.outbox_status import outbox_status, outbox_status_text

CHOICE_TEXT = {True: "✓ will respect", False: "✗ will NOT", None: "· unset=REFUSED"}


def timeline_text(contract: ContractCurtailment, day: dt.date) -> Text:
    """One character per local hour of ``day``: ``█`` curtail, ``·`` none (RG_COR_0030)."""
    text = Text()
    for _, curtailed in rules.hourly_timeline(contract, day):
        text.append("█" if curtailed else "·", style="bold" if curtailed else "dim")
    return text


def periods_text(contract: ContractCurtailment) -> str:
    periods = rules.curtailment_periods(contract)
    if not periods:
        return "no curtailment"
    parts = []
    for period in periods:
        minutes = int(rules.duration(period).total_seconds() // 60)
        parts.append(f"{period.start_date:%H:%M}–{period.end_date:%H:%M} ({minutes // 60}h{minutes % 60:02d})")
    return ", ".join(parts)


class CurtailmentsScreen(PupitreScreen):
    AUTO_FOCUS = "#ack-table"  # focused as the screen is shown, so the first frame is drawn focused
    FEEDS = (CURTAILMENTS_FEED, ACKS_FEED, TOKEN_FEED)
    BINDINGS = [
        Binding(
            "s",
            "send",
            "Send…",
            id="curtailments.send",
            tooltip="Review every contract's value, then send tomorrow's acknowledgement",
        ),
        Binding(
            "y",
            "choose(True)",
            "Will respect",
            id="curtailments.respect",
            tooltip="The selected contract: true, will respect the curtailment (RG_ACK_0020)",
        ),
        Binding(
            "n",
            "choose(False)",
            "Will not",
            id="curtailments.refuse",
            tooltip="The selected contract: false, will not respect the curtailment",
        ),
        Binding("t", "token", "Token…", id="curtailments.token"),
        Binding(
            "c",
            "reports",
            "Reports",
            id="curtailments.reports",
            tooltip="Contracts & reports: the contracts, past orders and acknowledgements",
        ),
        Binding(
            "x",
            "choose(None)",
            "Unset",
            id="curtailments.unset",
            tooltip="Leave the selected contract out: EDF OA counts it as refused (RG_ACK_0030)",
        ),
        Binding("a", "choose_all", "All respect", id="curtailments.all", tooltip="Every contract of the order: true"),
        Binding(
            "k",
            "keep_retained",
            "Adopt EDF OA's",
            id="curtailments.keep",
            tooltip="Every contract takes the value EDF OA retains now (none retained: unset); "
            "a change made after our acknowledgement is accepted",
        ),
        Binding(
            "o",
            "resend_ours",
            "Re-send ours…",
            id="curtailments.resend",
            tooltip="After EDF OA's values changed behind our back: review and send our last acknowledgement again",
        ),
    ]

    def compose(self) -> ComposeResult:
        yield HeaderBar("Curtailments")
        yield Static("", id="order-line", classes="line")
        yield Static("", id="window-line", classes="line")
        yield DataTable(id="ack-table", classes="fill", cursor_type="row", zebra_stripes=True)
        yield Static("", id="contract-detail")
        yield Static("", id="outbox-line", classes="note")
        yield FeedStatus(CURTAILMENTS_FEED, classes="feed-status")
        yield PupitreFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("Contract", key="contract")
        table.add_column("0     6     12    18    ", key="timeline")
        table.add_column("Your choice", key="choice")
        table.add_column("EDF OA has", key="retained")
        self.papp.outbox.updated.subscribe(self, lambda _: self.redraw())

    # -- state -------------------------------------------------------------------------
    @property
    def order(self) -> CurtailmentOrder | None:
        return self.papp.feeds.state(CURTAILMENTS_FEED).data_as(CurtailmentOrder)

    @property
    def choices(self) -> dict[str, bool | None]:
        """The operator's choices for the current order (kept across screen switches)."""
        order = self.order
        if order is None:
            return {}
        return self.papp.ack_choices.setdefault(order.order_id, {})

    @property
    def settings(self) -> Any:
        return self.papp.runtime.settings.edf_oa

    def ours(self) -> rules.SentAck | None:
        """Our last delivered acknowledgement of the order (or EDF OA's values we adopted)."""
        order = self.order
        return None if order is None else sent_ack(self.papp.runtime.store, order.order_id)

    def summary(self) -> rules.AckSummary | None:
        order = self.order
        if order is None:
            return None
        return rules.ack_summary(
            order,
            self.papp.feeds.state(ACKS_FEED).data,
            self.papp.runtime.clock.now(),
            rules.parse_hhmm(self.settings.ack_deadline),
            self.ours(),
        )

    def selected_contract(self) -> str | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value)

    # -- drawing -----------------------------------------------------------------------
    def redraw(self) -> None:
        self._draw_header_lines()
        self._draw_table()
        self._draw_detail()
        self._draw_outbox()

    def tick(self) -> None:
        self._draw_header_lines()
        self._draw_outbox()

    def _draw_header_lines(self) -> None:
        now = self.papp.runtime.clock.now()
        order = self.order
        line = Text()
        if order is None:
            state = self.papp.feeds.state(CURTAILMENTS_FEED)
            line.append(
                "No curtailment order for tomorrow yet"
                if state.has_data or state.error is None
                else "Curtailment order unavailable",
                style="bold",
            )
            line.append(" — EDF OA publishes it around 13:00")
        else:
            line.append(f"Order {order.order_id}", style="bold")
            line.append(f" · delivery {order.application_date:%a %d/%m} · updated {order.updated_at:%d/%m %H:%M}")
            if not rules.order_is_for_tomorrow(order, now):
                line.append("  NOT TOMORROW'S ORDER (RG_COR_0010)", style="bold reverse")
        self.query_one("#order-line", Static).update(line)

        start, end = rules.parse_hhmm(self.settings.window_start), rules.parse_hhmm(self.settings.window_end)
        opens, closes = rules.window_bounds(now, start, end)
        window = Text()
        if rules.in_call_window(now, start, end):
            window.append(f"Window OPEN until {end:%H:%M}", style="bold")
        elif now < opens:
            window.append(f"Window opens {start:%H:%M} (in {countdown(now, opens)})")
        else:
            window.append(f"Window closed ({start:%H:%M}–{end:%H:%M})")
        summary = self.summary()
        if summary is not None and summary.needing:
            missing = summary.missing
            if missing:
                style = "bold reverse" if summary.level == "critical" else "bold"
                late = "PASSED" if summary.level == "critical" else f"({countdown(now, summary.deadline)})"
                window.append(f" · ack deadline {summary.deadline:%H:%M} {late}", style=style)
                window.append(f" · {len(missing)}/{len(summary.needing)} to ack", style=style)
        elif summary is not None:
            window.append(" · no curtailment tomorrow")
        token = self.papp.feeds.state(TOKEN_FEED).data
        if token is not None:
            level = rules.token_level(token, now, self.settings.token_warning_days)
            days = rules.token_days_left(token, now)
            window.append(f" · token {days:.0f}d", style="bold reverse" if level != "ok" else "")
        if summary is not None and summary.needing:  # after the token: the table shows them too
            if summary.overridden:
                window.append(f" · ⚠ {len(summary.overridden)} changed on EDF OA", style="bold reverse")
            if summary.by_omission:
                window.append(f" · {len(summary.by_omission)} refused by omission", style="bold")
            window.append(f" · {len(summary.will_respect)} will respect · {len(summary.will_not)} will not")
        self.query_one("#window-line", Static).update(window)

    def _draw_table(self) -> None:
        table = self.query_one(DataTable)
        selected = self.selected_contract()
        table.clear()
        order = self.order
        if order is None:
            return
        summary = self.summary()
        latest = summary.latest if summary else {}
        warn = theme_colour(self.app, "warning")
        for contract in order.curtailments:
            cid = contract.contract_id
            choice = self.choices.get(cid)
            if choice is None and not rules.has_curtailment(contract):
                choice_text = Text("· unset=refused", style="dim")
            else:
                choice_text = Text(
                    CHOICE_TEXT[choice], style=f"bold reverse {warn}".strip() if choice is None else "bold"
                )
            entry = latest.get(cid)
            changed = summary is not None and any(o.contract_id == cid for o in summary.overridden)
            if entry is None:
                retained = Text("— none", style="dim")
            else:
                stale = summary is not None and cid in summary.acked_before_update
                omitted = summary is not None and cid in summary.by_omission
                retained = Text(
                    f"{'⚠ ' if changed else ''}{'✓ true' if entry.ack_value else '✗ false'} "
                    f"{entry.ack_date:%H:%M} {shown(entry.ack_source, ACK_SOURCES)}"
                    f"{' ⚠old' if stale else ''}{' (omitted)' if omitted else ''}",
                    style=f"bold reverse {warn}".strip() if changed else "",
                )
            table.add_row(Text(cid), timeline_text(contract, order.application_date), choice_text, retained, key=cid)
        if selected is not None and selected in table.rows:
            table.move_cursor(row=table.get_row_index(selected))

    def _draw_detail(self) -> None:
        detail = self.query_one("#contract-detail", Static)
        order, cid = self.order, self.selected_contract()
        contract = next((c for c in order.curtailments if c.contract_id == cid), None) if order else None
        if contract is None:
            detail.update("")
            return
        parts = [f"{contract.contract_id} · plant {contract.plant_id}"]
        if contract.manager_id:  # RG_COR_0040: only producer and admin accounts see it
            parts.append(f"manager {contract.manager_id}")
        if contract.producer_id:  # RG_COR_0050: only admin accounts see it
            parts.append(f"producer {contract.producer_id}")
        summary = self.summary()
        entry = summary.latest.get(contract.contract_id) if summary else None
        if entry is not None:
            parts.append(
                f"last ack by {entry.user_id} via {shown(entry.ack_source, ACK_SOURCES)} {entry.ack_date:%H:%M:%S}"
            )
        text = Text(" · ".join(parts) + "\nCurtail: " + periods_text(contract))
        override = next((o for o in summary.overridden if o.contract_id == cid), None) if summary else None
        if override is not None:
            text.append(
                f"\n⚠ Changed on EDF OA after our acknowledgement: {override.sentence()} — "
                "k adopts EDF OA's values, o re-sends ours",
                style="bold",
            )
        elif summary is not None and contract.contract_id in summary.by_omission:
            text.append("\nRefused by omission: our acknowledgement left it out (RG_ACK_0030)", style="bold")
        detail.update(text)

    def _draw_outbox(self) -> None:
        line = self.query_one("#outbox-line", Static)
        outbox = self.papp.runtime.store.outbox(provider=PROVIDER, include_held=True)
        items = [i for i in outbox if i.action == ACK_ACTION]
        if not items:
            line.update(Text("No acknowledgement sent from here today.", style="dim"))
            return
        item = items[-1]
        now = self.papp.runtime.clock.now()
        text = Text(f"Acknowledgement #{item.id} queued {item.created_at:%H:%M:%S}: ")
        summary = self.summary()
        changed = [] if summary is None else summary.overridden
        ours = self.ours()
        if item.status == "delivered" and changed and ours is not None and ours.item_id == item.id:
            # "verified" no longer holds: EDF OA's values changed after our acknowledgement
            text.append_text(outbox_status_text(item, None, answer=False))
            text.append(
                f" · ⚠ CHANGED ON EDF OA SINCE: {'; '.join(o.sentence() for o in changed)} "
                "— k adopts EDF OA's, o re-sends ours",
                style="bold reverse",
            )
        else:
            text.append_text(outbox_status(self.papp, item, answer=False))  # the table shows what EDF OA retained
        text.append(f" {age_text(now, item.updated_at)}", style="dim")
        line.update(text)

    @on(DataTable.RowHighlighted, "#ack-table")
    def _row_changed(self) -> None:
        self._draw_detail()

    # -- actions -----------------------------------------------------------------------
    def action_choose(self, value: bool | None) -> None:
        cid = self.selected_contract()
        if cid is None:
            self.notify("No curtailment order to acknowledge yet.", severity="warning")
            return
        self.choices[cid] = value
        self._draw_table()
        self._draw_detail()

    def action_choose_all(self) -> None:
        order = self.order
        if order is None:
            self.notify("No curtailment order to acknowledge yet.", severity="warning")
            return
        for contract in order.curtailments:
            self.choices[contract.contract_id] = True
        self._draw_table()

    def action_keep_retained(self) -> None:
        """Adopt what EDF OA retains now (API or PORTAL) for every contract: its value, or
        unset where nothing is retained. After our acknowledgement, this accepts the
        changes made since (recorded: they stop being shown as overrides)."""
        summary = self.summary()
        order = self.order
        if summary is None or order is None:
            self.notify("No curtailment order to acknowledge yet.", severity="warning")
            return
        for contract in order.curtailments:
            entry = summary.latest.get(contract.contract_id)
            self.choices[contract.contract_id] = None if entry is None else entry.ack_value
        state = self.papp.feeds.state(ACKS_FEED).data_as(AcknowledgementsState)
        accepted = ""
        if state is not None and state.order_id == order.order_id and self.ours() is not None:
            adopt(self.papp.runtime.store, state, self.papp.runtime.clock.now())
            self.papp.feeds.updated.publish(ACKS_FEED)  # what we stand by changed: findings again
            if summary.overridden:
                accepted = f"; the change(s) on {', '.join(o.contract_id for o in summary.overridden)} accepted"
        self.notify(
            f"Adopted EDF OA's values for {len(summary.latest)} contract(s), "
            f"{len(order.curtailments) - len(summary.latest)} unset{accepted}.",
            timeout=6,
        )
        self.redraw()

    def action_resend_ours(self) -> None:
        """Our last acknowledgement's values back as the choices, then the usual review and send."""
        ours = self.ours()
        summary = self.summary()
        if ours is None or ours.origin == "adopted" or summary is None or not summary.overridden:
            self.notify("Nothing to re-send: EDF OA retains what we sent.", timeout=5)
            return
        for cid, value in ours.values.items():
            self.choices[cid] = None if cid in ours.left_out else value
        self._draw_table()
        self.action_send()

    def action_send(self) -> None:
        order = self.order
        if order is None:
            self.notify("No curtailment order to acknowledge yet: refresh (r) after 13:00.", severity="warning")
            return
        try:
            payload = ack_payload(order, self.choices, self.papp.runtime.clock.now())
        except rules.AckRuleError as refusal:
            self.notify(escape(str(refusal)), title="Not sent", severity="error", timeout=20)
            return
        from pupitre.tui.dialogs.ack_confirm import AckConfirmScreen

        def queued(item_id: int) -> None:
            self.notify(f"Acknowledgement #{item_id} saved and being sent.", timeout=5)
            self.redraw()

        summary = self.summary()
        submit_after_confirmation(
            self,
            PROVIDER,
            ACK_ACTION,
            payload,
            AckConfirmScreen(order, dict(self.choices), summary.latest if summary else {}),
            queued,
        )

    def action_token(self) -> None:
        from pupitre.tui.dialogs.token import TokenScreen

        self.app.push_screen(TokenScreen())

    def action_reports(self) -> None:
        self.papp.open_screen("edf_reports")
