"""The GRTgaz program editor: a new version of a site's program for one gas day.

It starts from the rebuilt program or a declaration, shows the id the program will be
sent under (the next version, §2.2), and on every keystroke runs the local pre-check
(``rules.precheck``: the §2 technical validation and the §3 feasibility rules) and
shows, per hour, whether it passes, the failing rule and the indicator that applies to
that hour now and next (§3.2.2.1). Hours that are no longer adjustable (chapter 2 §6-8)
are read-only.

Editing: ``Enter`` or a digit on an hour opens its value; ``Enter`` keeps it and moves
to the next hour, ``Esc`` drops it. A row of 24 values pasted (tab, ``;``, CSV, one per
line) fills the whole program, or ``v`` opens a box to paste into.

Sending (``s``) lists what will be sent and asks for confirmation; the program is then
written to the outbox (kept until GRTgaz answered), and the app follows its feasibility
until ACCEPTED or REFUSED, with GRTgaz's comment (§13.3) — also once the operator has left
the editor, and after a restart. ``x`` writes it as the e-mail fallback CSV (chapter 6),
which the screen offers when sending fails.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

from rich.markup import escape
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import DataTable, Input, Static

from pupitre.providers.core.errors import ApiError
from pupitre.providers.core.outbox_words import OutboxState
from pupitre.providers.grtgaz import feasibility, rules
from pupitre.providers.grtgaz.drafts import (
    SLOTS,
    Draft,
    DraftError,
    format_quantity,
    parse_number,
    parse_values,
    slot_label,
    split_values,
)
from pupitre.providers.grtgaz.feeds import (
    DECLARE_ACTION,
    INDICATORS_FEED,
    PROVIDER,
    GrtgazSession,
    SitePrograms,
    adjustable_from,
    declaration_payload,
    pending_declarations,
    stored_shortage,
    version_of,
)
from pupitre.providers.grtgaz.models import FeasibilityStatus, Flex, IndicatorStatus
from pupitre.providers.grtgaz.sites import site_by_id
from pupitre.tui.formats import FLEX_SHORT, age_text, feasibility_text
from pupitre.tui.outbox import submit_after_confirmation
from pupitre.tui.screens.base import PupitreScreen
from pupitre.tui.widgets.footer import PupitreFooter
from pupitre.tui.widgets.header import HeaderBar
from pupitre.tui.widgets.indicators import GLYPHS, WORDS
from pupitre.tui.widgets.outbox_status import outbox_status

if TYPE_CHECKING:
    from pupitre.providers.grtgaz.models import HmsProfile, InputHmsProfile

log = logging.getLogger("pupitre.grtgaz")
#: what the operator can do while a sent program waits or once it was refused
SENT_HINTS = {
    OutboxState.RETRYING: "x: export for e-mail",
    OutboxState.HELD: "x: export for e-mail",
    OutboxState.NOT_ACCEPTED: "n: correct it under the next version",
}


class ValueInput(Input):
    """The hour's value; a paste holding several values goes to the whole program."""

    class Pasted(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def _on_paste(self, event: events.Paste) -> None:
        if len(split_values(event.text)) > 1:
            event.stop()
            self.post_message(self.Pasted(event.text))
            return
        super()._on_paste(event)


@dataclass
class Sent:
    """The declaration sent from this editor: its outbox item and GRTgaz's verdict, once
    the app's follow-up has settled it (:mod:`pupitre.providers.grtgaz.feasibility`)."""

    item_id: int
    program_id: str
    profile: "HmsProfile | None" = None


class ProgramEditorScreen(PupitreScreen):
    FEEDS = (INDICATORS_FEED, feasibility.TOPIC)
    FORM = True
    BINDINGS = [
        Binding(
            "s",
            "send",
            "Send…",
            id="editor.send",
            tooltip="Review the program, then declare it (POST /hmsProfiles) through the outbox",
        ),
        Binding("enter", "edit_value", "Edit hour", id="editor.edit", show=False),
        Binding(
            "v",
            "paste",
            "Paste 24…",
            id="editor.paste",
            tooltip="Paste the 24 hourly values (tab, ; or CSV, or one per line)",
        ),
        Binding("b", "reset", "Reset", id="editor.reset", tooltip="Back to the starting program"),
        Binding(
            "x",
            "export",
            "E-mail CSV",
            id="editor.export",
            tooltip="Write the program as the e-mail fallback CSV (chapter 6)",
        ),
        Binding(
            "n",
            "new_version",
            "New version",
            id="editor.new_version",
            show=False,
            tooltip="After sending: edit the next version, starting from what was sent",
        ),
        Binding("escape", "back", "Back", id="editor.back"),
    ]

    def __init__(
        self, site_id: str, gas_day: dt.date, programs: SitePrograms, base: Sequence[float | None], base_label: str
    ) -> None:
        super().__init__()
        self.site_id = site_id
        self.gas_day = gas_day
        self.programs = programs
        self.draft = Draft(site_id, gas_day, tuple(0.0 if v is None else float(v) for v in base), base_label)
        self.editing: int | None = None  # the slot whose value is in the input
        self.tentative: float | None = None
        self.input_error = ""
        self.sent: Sent | None = None
        self.sent_ids: set[str] = set()  # sent from here, perhaps not listed by GRTgaz yet
        self.check: Any = None
        self.context: Any = None
        self.program_id = ""
        self._shown: dict[int, tuple[Any, ...]] = {}

    # -- layout ------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield HeaderBar("Program editor")
        yield Static("", id="ed-title")
        yield Static("", id="ed-timing")
        yield Static("", id="ed-indicators")
        yield DataTable(id="ed-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="ed-hour")
        with Horizontal(id="ed-input-row"):
            yield Static("", id="ed-input-label")
            yield ValueInput(
                placeholder="kWh 25°C — Enter keeps, Esc drops",
                id="ed-value",
                compact=True,
                select_on_focus=False,  # every character typed is kept: parse_number refuses it in words
            )
        yield Static("", id="ed-summary")
        yield Static("", id="ed-status")
        yield PupitreFooter()

    def on_mount(self) -> None:
        table = self.query_one("#ed-table", DataTable)
        table.add_column("Slot", key="slot")
        table.add_column("Rebuilt", key="base")
        table.add_column("New", key="new")
        table.add_column("Δ", key="delta")
        table.add_column("Pre-check", key="check")
        table.add_column("Indicator now → next", key="indicator")
        self.query_one("#ed-input-row").display = False
        self.papp.outbox.updated.subscribe(self, lambda _: self._draw_status())
        first = self.first_adjustable()
        table.focus()
        self.program_id = self.next_program_id()
        self._build_context()
        self._run_check()
        self._build_rows()
        if first is not None:
            table.move_cursor(row=first, animate=False)

    # -- data --------------------------------------------------------------------------
    @property
    def session(self) -> GrtgazSession:
        return self.papp.runtime.connections[PROVIDER].session_as(GrtgazSession)

    def now(self) -> dt.datetime:
        return self.papp.runtime.clock.now()

    def first_adjustable(self) -> int | None:
        return adjustable_from(self.gas_day, self.now())

    def writable(self, slot: int) -> bool:
        first = self.first_adjustable()
        return self.sent is None and first is not None and slot >= first

    def site(self) -> Any:
        return site_by_id(self.site_id)

    def contract(self) -> str:
        """The connection contract of the programs GRTgaz shows, else the site's (§2.3)."""
        for source in (self.programs.latest(), self.programs.rebuilt):
            if source is not None and source.connectionContractCode:
                return source.connectionContractCode
        site = self.site()
        return site.contract if site is not None else ""

    def next_program_id(self) -> str:
        """§2.2: one more than every version GRTgaz has and every one still in the outbox."""
        known = [p.hmsProfileId for p in self.programs.declared]
        known += [
            p["program"]["hmsProfileId"]
            for p in pending_declarations(self.papp.runtime.store, self.site_id, self.gas_day)
        ]
        known += sorted(self.sent_ids)
        return rules.next_program_id(self.gas_day, self.site_id, self.contract(), known)

    def changes_that_count(self) -> list[int]:
        """Adjustable hours that differ from the rebuilt program: what this declaration
        changes at GRTgaz (chapter 2 §6-8). They must still be adjustable when it is sent."""
        first = self.first_adjustable()
        if first is None:
            return []
        values, reference = self.values(), self.reference
        return [slot for slot in range(first, SLOTS) if values[slot] != reference[slot]]

    def values(self) -> list[float]:
        """The draft with the value being typed, so the pre-check sees every keystroke."""
        values = list(self.draft.values)
        if self.editing is not None and self.tentative is not None:
            values[self.editing] = self.tentative
        return values

    def indicators(self) -> Any:
        for site in self.papp.feeds.state(INDICATORS_FEED).data or []:
            if site.site_id == self.site_id:
                return site
        return None

    @property
    def reference(self) -> list[float]:
        """The rebuilt program (§13.4), the pre-check's reference; 0 where unknown."""
        rebuilt = self.programs.rebuilt
        if rebuilt is None:
            return [0.0] * SLOTS
        return [0.0 if q is None else float(q) for q in rebuilt.quantities]

    def _build_context(self) -> None:
        """What the pre-check needs of this site and day, read once (not per keystroke)."""
        self.context = rules.ProgramContext.from_api(
            self.site(),
            self.gas_day,
            indicators=self.indicators(),
            profiles=self.programs.declared,
            rebuilt=self.programs.rebuilt,
            tolerance=self.papp.runtime.settings.grtgaz.tolerance,
            contract=self.contract(),
            shortage=self.shortage(),
        )

    def shortage(self) -> bool:
        """A shortage was shown for this gas day (§4): by the indicators now, or recorded in
        the store's timeline by any process — it holds for the whole gas day, grey or not."""
        indicators = self.indicators()
        if indicators is not None and self.gas_day in rules.shortage_days([indicators]).get(self.site_id, ()):
            return True
        return stored_shortage(self.papp.runtime.store, self.site_id, self.gas_day)

    def profile(self) -> "InputHmsProfile":
        """The §13.2 program that would be sent now."""
        return rules.input_profile(self.context, self.values(), declared_at=self.now(), profile_id=self.program_id)

    # -- the pre-check -----------------------------------------------------------------
    def _run_check(self) -> None:
        """``rules.precheck`` on the current values: what GRTgaz would say, per hour."""
        self.check = rules.precheck(self.context, self.values(), now=self.now(), profile_id=self.program_id)

    # -- drawing -----------------------------------------------------------------------
    def redraw(self) -> None:
        """Indicators changed, a verdict was read (or the screen came back): check again,
        repaint all."""
        if self.sent is None:
            self._build_context()
            self._run_check()
        elif self.sent.profile is None:  # settled by the app's follow-up, in this process or another
            self.sent.profile = feasibility.verdict_of(self.papp.runtime.store, self.sent.program_id)
        self._draw_rows()
        self._draw_lines()

    def tick(self) -> None:
        """Time moves the first adjustable hour and the controlled window (chapter 2 §7,
        §3.2.3.2): check again; only the rows that change are repainted."""
        if self.sent is None and self.editing is None:
            self._run_check()
            self._draw_rows()
            self._draw_summary()
        self._draw_timing()
        self._draw_status()

    def _build_rows(self) -> None:
        table = self.query_one("#ed-table", DataTable)
        table.clear()
        self._shown = {}
        for slot, (signature, cells) in enumerate(self._rows()):
            self._shown[slot] = signature
            table.add_row(*cells(), key=str(slot))
        self._draw_lines()

    def _rows(self) -> list[tuple[tuple[Any, ...], Any]]:
        """Per slot: what its row depends on (cheap to compare) and how to draw it.

        Columns: slot, rebuilt (the reference the pre-check compares with, §3.2.2), the
        new value (bold when changed from the starting program), the difference to the
        reference, the verdict and the indicators applying to the hour."""
        values = self.values()
        reference = self.reference
        first = self.first_adjustable()
        writable_from = SLOTS if self.sent is not None or first is None else first
        hours = self.check.hours if self.check is not None else (None,) * SLOTS
        rows = []
        for slot in range(SLOTS):
            hour = hours[slot]
            signature = (
                values[slot],
                reference[slot],
                slot >= writable_from,
                slot == self.editing,
                values[slot] != self.draft.base[slot],
                hour,
            )
            rows.append((signature, lambda signature=signature, slot=slot: row_cells(slot, *signature)))
        return rows

    COLUMNS = ("slot", "base", "new", "delta", "check", "indicator")

    def _draw_rows(self) -> None:
        """Repaint only the rows whose content changed (this runs on every keystroke)."""
        table = self.query_one("#ed-table", DataTable)
        if table.row_count != SLOTS:
            self._build_rows()
            return
        for slot, (signature, cells) in enumerate(self._rows()):
            if self._shown.get(slot) != signature:
                for key, cell in zip(self.COLUMNS, cells(), strict=False):
                    table.update_cell(str(slot), key, cell, update_width=True)
                self._shown[slot] = signature
        self._draw_hour()

    def _draw_hour(self) -> None:
        """The highlighted hour in words: the rule that decides it and why."""
        slot = self._slot_under_cursor()
        line = self.query_one("#ed-hour", Static)
        if slot is None or self.check is None:
            line.update("")
            return
        line.update(hour_text(self.check.hours[slot], slot))

    def _draw_lines(self) -> None:
        self._draw_title()
        self._draw_timing()
        self._draw_summary()
        self._draw_status()

    def _draw_title(self) -> None:
        site = self.site()
        text = Text()
        text.append("Sent " if self.sent else "New ")
        text.append(self.program_id, style="bold")
        if self.sent is None:
            text.append(" (next version)")
        text.append(
            f" · {site.label if site else self.site_id} · gas day {self.gas_day:%d/%m} · from {self.draft.base_label}"
        )
        self.query_one("#ed-title", Static).update(text)

    def _draw_timing(self) -> None:
        now = self.now()
        first = self.first_adjustable()
        text = Text()
        if first is None:
            text.append("This gas day is over: nothing can be declared for it (PAST_GAS_DAY).", style="bold")
        else:
            text.append(f"Sent at {now:%H:%M}: from {slot_label(first)} on (· read-only) · ")
            text.append(timing_words(self.gas_day, now))
        if self.draft.dirty:
            text.append(f" · {len(self.draft.changed_slots())} hour(s) changed")
        assumption = rules.dst_assumption(self.gas_day)
        if assumption:
            text.append(f"\nAssumed: {assumption}", style="italic")
        timing = self.query_one("#ed-timing", Static)
        timing.set_class(bool(assumption), "-assumed")
        timing.update(text)
        indicators = Text("Indicators: ")
        if self.check is not None:
            indicators.append_text(indicators_line(self.check))
        self.query_one("#ed-indicators", Static).update(indicators)

    def _draw_summary(self) -> None:
        text = summary_text(self.check) if self.sent is None else Text("")
        if self.input_error:
            text = Text(f"{self.input_error}\n", style="bold").append_text(text)
        self.query_one("#ed-summary", Static).update(text)

    def _draw_status(self) -> None:
        status = self.query_one("#ed-status", Static)
        if self.sent is None:
            pending = pending_declarations(self.papp.runtime.store, self.site_id, self.gas_day)
            status.update(
                Text(
                    f"{len(pending)} earlier declaration(s) of this day still in the outbox." if pending else "",
                    style="bold",
                )
            )
            return
        status.update(self.sent_text())

    def sent_text(self) -> Text:
        assert self.sent is not None
        item = self.papp.runtime.outbox.item(self.sent.item_id)
        text = Text(f"#{self.sent.item_id} ")
        if item is None:
            return text.append("not in the outbox any more", style="bold")
        profile = self.sent.profile
        if item.status != "delivered":
            text.append_text(outbox_status(self.papp, item, SENT_HINTS))
        else:
            if profile is None or not profile.status.decided:
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
        text.append(f" {age_text(self.now(), item.updated_at)}", style="dim")
        return text

    # -- editing -----------------------------------------------------------------------
    def _slot_under_cursor(self) -> int | None:
        table = self.query_one("#ed-table", DataTable)
        return table.cursor_row if 0 <= table.cursor_row < SLOTS else None

    def action_edit_value(self, first_key: str = "") -> None:
        slot = self._slot_under_cursor()
        if slot is None:
            return
        if not self.writable(slot):
            self.notify(
                f"{slot_label(slot)} is no longer adjustable (chapter 2 §6-8)"
                if self.sent is None
                else "This program was sent: n edits the next version.",
                severity="warning",
                timeout=4,
            )
            return
        self.editing, self.tentative, self.input_error = slot, None, ""
        row = self.query_one("#ed-input-row")
        row.display = True
        self.query_one("#ed-input-label", Static).update(f" {slot_label(slot)} → ")
        box = self.query_one("#ed-value", ValueInput)
        with box.prevent(Input.Changed):
            box.value = first_key or f"{self.draft.values[slot]:g}"
        box.cursor_position = len(box.value)
        box.focus()
        if not first_key:
            box.select_all()
        else:
            self._typed(box.value)
        self._draw_rows()

    def on_key(self, event: events.Key) -> None:
        table = self.query_one("#ed-table", DataTable)
        if table.has_focus and event.character and (event.character.isdigit() or event.character in "-+.,"):
            event.stop()
            if self.editing is not None:  # typed before the focus reached the input
                box = self.query_one("#ed-value", ValueInput)
                box.value += event.character
                box.cursor_position = len(box.value)
                return
            self.action_edit_value(event.character)

    @on(Input.Changed, "#ed-value")
    def _value_changed(self, event: Input.Changed) -> None:
        self._typed(event.value)

    def _typed(self, text: str) -> None:
        """Every keystroke: the value as typed goes through the pre-check."""
        if self.editing is None:
            return
        try:
            self.tentative, self.input_error = parse_number(text), ""
        except DraftError as error:
            self.tentative, self.input_error = None, f"{slot_label(self.editing)}: {error}"
        self._run_check()
        self._draw_rows()
        self._draw_summary()

    @on(DataTable.RowHighlighted, "#ed-table")
    def _row_highlighted(self) -> None:
        self._draw_hour()

    @on(Input.Submitted, "#ed-value")
    def _value_submitted(self) -> None:
        self._commit(step=1)

    def _commit(self, step: int) -> None:
        if self.editing is None:
            return
        if self.tentative is None:
            self.notify(escape(self.input_error or "type a value"), severity="error", timeout=4)
            return
        slot = self.editing
        self.draft.set(slot, self.tentative)
        self.editing, self.tentative = None, None
        self._draw_timing()  # "n hour(s) changed" now, not at the next tick
        nxt = slot + step
        table = self.query_one("#ed-table", DataTable)
        if step and 0 <= nxt < SLOTS and self.writable(nxt):
            table.move_cursor(row=nxt, animate=False)
            self.action_edit_value()
            return
        self._close_input()

    def _close_input(self) -> None:
        self.editing, self.tentative, self.input_error = None, None, ""
        self.query_one("#ed-input-row").display = False
        self.query_one("#ed-table", DataTable).focus()
        self._run_check()
        self._draw_rows()
        self._draw_lines()

    @on(ValueInput.Pasted)
    def _pasted_in_input(self, event: ValueInput.Pasted) -> None:
        self._close_input()
        self.apply_paste(event.text)

    def on_paste(self, event: events.Paste) -> None:
        """A paste while the table has the focus (bracketed paste): the whole program."""
        event.stop()
        self.apply_paste(event.text)

    def apply_paste(self, text: str) -> bool:
        """Fill the program from 24 pasted values; read-only hours keep their value."""
        if self.sent is not None:
            self.notify("This program was sent: n edits the next version.", severity="warning")
            return False
        try:
            values = parse_values(text)
        except DraftError as error:
            self.notify(escape(f"Paste not used: {error}"), severity="error", timeout=8)
            return False
        first = self.first_adjustable()
        writable = range(first, SLOTS) if first is not None else range(0)
        kept = [slot for slot in range(SLOTS) if slot not in writable and values[slot] != self.draft.values[slot]]
        changed = self.draft.paste(values, writable)
        self._run_check()
        self._draw_rows()
        self._draw_lines()
        message = f"Pasted 24 values: {len(changed)} hour(s) changed."
        if kept:
            message += (
                f" {len(kept)} past hour(s) kept their value ({slot_label(kept[0])}…"
                f"{slot_label(kept[-1])}): not adjustable any more."
            )
        self.notify(message, timeout=6)
        return True

    def action_paste(self) -> None:
        from pupitre.tui.dialogs.paste_values import PasteValuesScreen

        if self.sent is not None:
            self.notify("This program was sent: n edits the next version.", severity="warning")
            return

        def pasted(text: str | None) -> None:
            if text:
                self.apply_paste(text)

        self.app.push_screen(PasteValuesScreen(), pasted)

    def action_reset(self) -> None:
        if self.sent is not None:
            return
        first = self.first_adjustable()
        for slot in self.draft.changed_slots():
            if first is not None and slot >= first:
                self.draft.values[slot] = self.draft.base[slot]
        self.draft.edited = {s for s in self.draft.edited if s in self.draft.changed_slots()}
        self._close_input()

    def action_back(self) -> None:
        if self.editing is not None:
            self._close_input()
            return
        if self.sent is None and self.draft.dirty:
            from pupitre.tui.dialogs.confirm import ConfirmScreen

            def answer(leave: bool | None) -> None:
                if leave:
                    self.app.pop_screen()

            self.app.push_screen(
                ConfirmScreen(
                    f"Drop the {len(self.draft.changed_slots())} change(s) of {self.program_id}? Nothing was sent."
                ),
                answer,
            )
            return
        self.app.pop_screen()

    # -- sending -----------------------------------------------------------------------
    def action_send(self) -> None:
        if self.sent is not None:
            self.notify("Already sent: n edits the next version.", severity="warning")
            return
        if self.editing is not None:
            self._commit(step=0)
            if self.editing is not None:
                return
        now = self.now()
        self.program_id = self.next_program_id()  # a declaration may have been made meanwhile
        self._run_check()
        profile = self.profile()
        payload = declaration_payload(
            profile, edited=self.changes_that_count(), base_label=self.draft.base_label, now=now
        )
        from pupitre.tui.dialogs.program_confirm import ProgramConfirmScreen

        def queued(item_id: int) -> None:
            self.sent = Sent(item_id, profile.hmsProfileId)
            self.notify(f"{profile.hmsProfileId} saved in the outbox (#{item_id}) and being sent.", timeout=5)
            self._close_input()

        submit_after_confirmation(
            self,
            PROVIDER,
            DECLARE_ACTION,
            payload,
            ProgramConfirmScreen(profile, self.draft, summary_text(self.check)),
            queued,
        )

    def action_new_version(self) -> None:
        """After sending: the next version, starting from what was sent. GRTgaz's programs
        are read again first (the sent one may have changed the rebuilt program)."""
        if self.sent is None:
            self.notify("Send this program first (s), or Esc to leave it.", severity="warning")
            return
        self.sent_ids.add(self.sent.program_id)
        label = f"v{version_of(self.sent.program_id)}"
        self.draft = Draft(self.site_id, self.gas_day, tuple(self.values()), label)
        self.sent = None
        self.program_id = self.next_program_id()
        self._close_input()
        self.run_worker(self._reload_programs(), group="editor-programs", exclusive=True, exit_on_error=False)

    async def _reload_programs(self) -> None:
        try:
            self.programs = await self.session.programs(self.site_id, self.gas_day)
        except ApiError as error:
            self.notify(
                escape(f"Programs not read again ({error}); the pre-check uses what was read before."),
                severity="warning",
                timeout=10,
            )
            return
        if self.sent is None and self.is_mounted:
            self.program_id = self.next_program_id()
            self.redraw()

    def action_export(self) -> None:
        from pupitre.tui.dialogs.email_export import export_for_email

        reason = ""
        if self.sent is None and self.check is not None and self.check.outcome is rules.Outcome.REJECTED:
            self.notify(
                escape(
                    "Not exported: GRTgaz would reject this program too — "
                    + "; ".join(f"{i.code} {i.explanation}" for i in self.check.issues)
                ),
                title="Not exported",
                severity="error",
                timeout=15,
            )
            return
        if self.sent is not None:
            item = self.papp.runtime.outbox.item(self.sent.item_id)
            if item is not None and item.status in ("pending", "failed"):
                reason = (
                    f"#{item.id} is {'still waiting for' if item.status == 'pending' else 'refused by'} "
                    "the API. It stays in the outbox: if GRTgaz records the mailed program first, "
                    "it is not sent again (same id, same values)."
                )
        export_for_email(self, profile=self.profile(), reason=reason)


# -- rendering of the pre-check (pure helpers) --------------------------------------------

SHORT_CODES = {
    rules.HMS_PROFILE_NOT_RESPECT_Q0_DELAY: "Q→Q- red",
    rules.HMS_PROFILE_NOT_RESPECT_QMAX_DELAY: "Q→Q+ red",
    rules.HMS_PROFILE_NOT_RESPECT_FLEXIBILITY_TOLERANCE: "allowance",
    rules.HMS_PROFILE_NOT_RESPECT_GRAY_INDICATOR: "GREY",
    rules.EXEEDED_QMIN_QMAX: "Qmin/Qmax",
    rules.BAD_QUANTITIES: "missing",
}


def timing_words(gas_day: dt.date, now: dt.datetime) -> str:
    """Which §3 regime a program sent now falls under."""
    limit = rules.auto_accept_before(gas_day)
    if now < limit:
        return f"no feasibility control before {limit:%d/%m %H:%M} (§3.1)"
    return "feasibility checked (§3.2)"


def status_word(status: IndicatorStatus) -> str:
    return f"{GLYPHS[status]}{WORDS[status]}"


def view_text(view: Any) -> str:
    """``Q→Q+ ✗RED`` and, when a change is announced, ``→✓green 11:15`` (§3.2.2.1)."""
    text = f"{FLEX_SHORT[view.flex]} {status_word(view.applicable)}"
    if view.next is not None and view.next_at is not None:
        text += f"→{status_word(view.next)} {view.next_at:%H:%M}"
    return text


def indicators_line(check: Any) -> Text:
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


def row_cells(
    slot: int, value: float, reference: float, writable: bool, editing: bool, changed: bool, hour: Any
) -> list[Text]:
    """The six cells of one editor row (see ``ProgramEditorScreen._rows``)."""
    style = "" if writable else "dim"
    new = Text(
        format_quantity(value) + ("✎" if editing else ""),
        justify="right",
        style="bold reverse" if editing else ("bold" if changed else style),
    )
    diff = value - reference
    delta = Text(
        "" if diff == 0 else ("+" if diff > 0 else "−") + format_quantity(abs(diff)),
        style="bold" if diff else "",
        justify="right",
    )
    return [
        Text(f"{' ' if writable else '·'}{slot_label(slot)}", style=style),
        Text(format_quantity(reference), style=style, justify="right"),
        new,
        delta,
        verdict_text(hour),
        indicator_text(hour),
    ]


def verdict_text(hour: Any) -> Text:
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


def indicator_text(hour: Any) -> Text:
    """The indicator(s) applying to one hour (§3.2.2: Q→Q- down, Q→Q+ and partial up)."""
    if hour is None or not hour.indicators:
        return Text("—" if hour is not None and hour.adjustable else "", style="dim")
    text = Text()
    for index, view in enumerate(hour.indicators):
        if index:
            text.append(" ")
        text.append(view_text(view), style="" if view.applicable is IndicatorStatus.GREEN else "bold")
    return text


def hour_text(hour: Any, slot: int) -> Text:
    """The highlighted hour: verdict, reason, code and the document's section."""
    text = Text(f"{slot_label(slot)} ", style="bold")
    text.append("✓ " if hour.ok else "✗ ", style="" if hour.ok else "bold reverse")
    text.append(hour.reason)
    if hour.code:
        text.append(f" — {hour.code}", style="bold")
    if hour.rule:
        text.append(f" ({hour.rule})", style="dim")
    return text


def summary_text(check: Any) -> Text:
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
