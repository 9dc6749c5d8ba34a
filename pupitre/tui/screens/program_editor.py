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

The screen only shows and asks: its state and transitions are
:mod:`pupitre.providers.grtgaz.editing`, its words :mod:`pupitre.tui.program_render`.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Sequence

from rich.markup import escape
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import DataTable, Input, Static

from pupitre.providers.core.errors import ApiError
from pupitre.providers.grtgaz import editing, feasibility, rules
from pupitre.providers.grtgaz.drafts import SLOTS, Draft, slot_label, split_values
from pupitre.providers.grtgaz.editing import EditorState, Leave, Refused, Sent
from pupitre.providers.grtgaz.feeds import (
    DECLARE_ACTION,
    INDICATORS_FEED,
    PROVIDER,
    GrtgazSession,
    SitePrograms,
    adjustable_from,
    declaration_payload,
    pending_declarations,
)
from pupitre.providers.grtgaz.models import InputHmsProfile, SiteIndicators
from pupitre.providers.grtgaz.sites import Site, site_by_id
from pupitre.tui import program_render as render
from pupitre.tui.outbox import submit_after_confirmation
from pupitre.tui.screens.base import PupitreScreen
from pupitre.tui.widgets.footer import PupitreFooter
from pupitre.tui.widgets.header import HeaderBar

log = logging.getLogger("pupitre.grtgaz")


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
        self.state: EditorState = editing.start(site_id, gas_day, base, base_label)
        self.check: rules.ProgramCheck | None = None
        self.context: rules.ProgramContext | None = None
        self._shown: dict[int, render.Row] = {}

    # -- the state, read ---------------------------------------------------------------
    @property
    def draft(self) -> Draft:
        return self.state.draft

    @property
    def program_id(self) -> str:
        return self.state.program_id

    @property
    def sent(self) -> Sent | None:
        return self.state.sent

    @property
    def editing(self) -> int | None:
        """The slot whose value is being typed."""
        return self.state.typing.slot if self.state.typing is not None else None

    # -- layout ------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield HeaderBar("Program editor")
        yield Static("", id="ed-title", classes="line")
        yield Static("", id="ed-timing", classes="line")
        yield Static("", id="ed-indicators", classes="line")
        yield DataTable(id="ed-table", classes="fill", cursor_type="row", zebra_stripes=True)
        yield Static("", id="ed-hour", classes="line")
        with Horizontal(id="ed-input-row", classes="line"):
            yield Static("", id="ed-input-label")
            yield ValueInput(
                placeholder="kWh 25°C — Enter keeps, Esc drops",
                id="ed-value",
                compact=True,
                select_on_focus=False,  # every character typed is kept: parse_number refuses it in words
            )
        yield Static("", id="ed-summary", classes="message")
        yield Static("", id="ed-status", classes="message")
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
        self._renumber()
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
        return self.state.writable(slot, self.first_adjustable())

    def site(self) -> Site | None:
        return site_by_id(self.site_id)

    def values(self) -> list[float]:
        return self.state.values()

    @property
    def reference(self) -> list[float]:
        return editing.reference_of(self.programs)

    def _renumber(self) -> None:
        """The id it would be sent under now (§2.2): a declaration may have been made meanwhile."""
        pending = pending_declarations(self.papp.runtime.store, self.site_id, self.gas_day)
        contract = editing.contract_of(self.programs, self.site())
        self.state = editing.renumber(self.state, contract, self.programs, pending)

    def indicators(self) -> SiteIndicators | None:
        for site in self.papp.feeds.state(INDICATORS_FEED).data or []:
            if site.site_id == self.site_id:
                return site  # type: ignore[no-any-return]  # the feed's data is typed Any
        return None

    def _build_context(self) -> None:
        site = self.site()
        assert site is not None, self.site_id  # the programs screen opens the editor on a known site
        self.context = editing.program_context(
            site,
            self.gas_day,
            self.programs,
            self.indicators(),
            store=self.papp.runtime.store,
            tolerance=self.papp.runtime.settings.grtgaz.tolerance,
        )

    def profile(self) -> InputHmsProfile:
        """The §13.2 program that would be sent now."""
        assert self.context is not None
        return rules.input_profile(self.context, self.values(), declared_at=self.now(), profile_id=self.program_id)

    def _run_check(self) -> None:
        """``rules.precheck`` on the current values: what GRTgaz would say, per hour."""
        assert self.context is not None
        self.check = rules.precheck(self.context, self.values(), now=self.now(), profile_id=self.program_id)

    # -- drawing -----------------------------------------------------------------------
    def redraw(self) -> None:
        """Indicators changed, a verdict was read (or the screen came back): check again,
        repaint all."""
        sent = self.sent
        if sent is None:
            self._build_context()
            self._run_check()
        elif sent.profile is None:  # settled by the app's follow-up, in this process or another
            sent.profile = feasibility.verdict_of(self.papp.runtime.store, sent.program_id)
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

    def _rows(self) -> list[render.Row]:
        return render.rows(self.state, self.reference, self.first_adjustable(), self.check)

    def _build_rows(self) -> None:
        table = self.query_one("#ed-table", DataTable)
        table.clear()
        self._shown = {}
        for row in self._rows():
            self._shown[row.slot] = row
            table.add_row(*render.row_cells(row), key=str(row.slot))
        self._draw_lines()

    def _draw_rows(self) -> None:
        """Repaint only the rows whose content changed (this runs on every keystroke)."""
        table = self.query_one("#ed-table", DataTable)
        if table.row_count != SLOTS:
            self._build_rows()
            return
        for row in self._rows():
            if self._shown.get(row.slot) != row:
                for key, cell in zip(render.COLUMNS, render.row_cells(row), strict=True):
                    table.update_cell(str(row.slot), key, cell, update_width=True)
                self._shown[row.slot] = row
        self._draw_hour()

    def _draw_hour(self) -> None:
        """The highlighted hour in words: the rule that decides it and why."""
        slot = self._slot_under_cursor()
        line = self.query_one("#ed-hour", Static)
        if slot is None or self.check is None:
            line.update("")
            return
        line.update(render.hour_text(self.check.hours[slot], slot))

    def _draw_lines(self) -> None:
        site = self.site()
        self.query_one("#ed-title", Static).update(render.title_text(self.state, site.label if site else self.site_id))
        self._draw_timing()
        self._draw_summary()
        self._draw_status()

    def _draw_timing(self) -> None:
        text, assumed = render.timing_text(self.state, self.now(), self.first_adjustable())
        timing = self.query_one("#ed-timing", Static)
        timing.set_class(assumed, "-assumed")
        timing.update(text)
        self.query_one("#ed-indicators", Static).update(render.indicators_text(self.check))

    def _draw_summary(self) -> None:
        self.query_one("#ed-summary", Static).update(render.prediction_text(self.state, self.check))

    def _draw_status(self) -> None:
        status = self.query_one("#ed-status", Static)
        sent = self.sent
        if sent is None:
            pending = pending_declarations(self.papp.runtime.store, self.site_id, self.gas_day)
            status.update(render.pending_text(len(pending)))
            return
        outbox = self.papp.outbox
        item = self.papp.runtime.outbox.item(sent.item_id)
        status.update(render.sent_text(sent, item, self.now(), outbox.last.get(sent.item_id), sending=outbox.running))

    # -- editing -----------------------------------------------------------------------
    def _slot_under_cursor(self) -> int | None:
        table = self.query_one("#ed-table", DataTable)
        return table.cursor_row if 0 <= table.cursor_row < SLOTS else None

    def action_edit_value(self, first_key: str = "") -> None:
        slot = self._slot_under_cursor()
        if slot is None:
            return
        try:
            self.state = editing.start_typing(self.state, slot, self.first_adjustable())
        except Refused as refusal:
            self.notify(refusal.message, severity="warning", timeout=4)
            return
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
        self.state = editing.type_text(self.state, text)
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
        slot = self.editing
        if slot is None:
            return
        try:
            self.state = editing.commit(self.state)
        except Refused as refusal:
            self.notify(escape(refusal.message), severity="error", timeout=4)
            return
        self._draw_timing()  # "n hour(s) changed" now, not at the next tick
        following = editing.next_slot(self.state, slot, step, self.first_adjustable())
        if following is not None:
            self.query_one("#ed-table", DataTable).move_cursor(row=following, animate=False)
            self.action_edit_value()
            return
        self._close_input()

    def _close_input(self) -> None:
        self.state = editing.drop(self.state)
        self._show_table()

    def _show_table(self) -> None:
        """The input closed: the table has the focus, checked and drawn again."""
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
        try:
            self.state, pasted = editing.paste(self.state, text, self.first_adjustable())
        except Refused as refusal:
            self.notify(escape(refusal.message), severity=refusal.severity, timeout=8)
            return False
        self._run_check()
        self._draw_rows()
        self._draw_lines()
        self.notify(pasted.message, timeout=6)
        return True

    def action_paste(self) -> None:
        from pupitre.tui.dialogs.paste_values import PasteValuesScreen

        if self.sent is not None:
            self.notify(editing.SENT_WORDS, severity="warning")
            return

        def pasted(text: str | None) -> None:
            if text:
                self.apply_paste(text)

        self.app.push_screen(PasteValuesScreen(), pasted)

    def action_reset(self) -> None:
        if self.sent is not None:
            return
        self.state = editing.reset(self.state, self.first_adjustable())
        self._show_table()

    def action_back(self) -> None:
        leave = editing.leaving(self.state)
        if leave is Leave.CLOSE_INPUT:
            self._close_input()
        elif leave is Leave.ASK:
            from pupitre.tui.dialogs.confirm import ConfirmScreen

            def answer(leave: bool | None) -> None:
                if leave:
                    self.app.pop_screen()

            self.app.push_screen(ConfirmScreen(editing.leave_question(self.state)), answer)
        else:
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
        self._renumber()  # a declaration may have been made meanwhile
        self._run_check()
        profile = self.profile()
        payload = declaration_payload(
            profile,
            edited=self.state.changes_that_count(self.first_adjustable(), self.reference),
            base_label=self.draft.base_label,
            now=now,
        )
        from pupitre.tui.dialogs.program_confirm import ProgramConfirmScreen

        def queued(item_id: int) -> None:
            self.state = editing.mark_sent(self.state, item_id, profile.hmsProfileId)
            self.notify(f"{profile.hmsProfileId} saved in the outbox (#{item_id}) and being sent.", timeout=5)
            self._show_table()

        submit_after_confirmation(
            self,
            PROVIDER,
            DECLARE_ACTION,
            payload,
            ProgramConfirmScreen(profile, self.draft, render.summary_text(self.check)),
            queued,
        )

    def action_new_version(self) -> None:
        """After sending: the next version, starting from what was sent. GRTgaz's programs
        are read again first (the sent one may have changed the rebuilt program)."""
        try:
            self.state = editing.new_version(self.state)
        except Refused as refusal:
            self.notify(refusal.message, severity="warning")
            return
        self._renumber()
        self._show_table()
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
            self._renumber()
            self.redraw()

    def action_export(self) -> None:
        from pupitre.tui.dialogs.email_export import export_for_email

        check = self.check
        if self.sent is None and check is not None and check.outcome is rules.Outcome.REJECTED:
            self.notify(escape(render.rejected_words(check)), title="Not exported", severity="error", timeout=15)
            return
        reason = ""
        if self.sent is not None:
            reason = render.export_reason(self.papp.runtime.outbox.item(self.sent.item_id))
        export_for_email(self, profile=self.profile(), reason=reason)
