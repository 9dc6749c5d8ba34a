"""GRTgaz programs of one site and gas day: the rebuilt program, the declared programs.

Reached from Flexibility (``g`` on a site) and from the site detail. ``←``/``→`` change
the gas day. The hours table shows the rebuilt program (chapter 2, §14.4) as values
and bars, next to the declared program selected on the right (§14.5) and its
difference; the detail below the list shows that program's status and GRTgaz's
comment (§13.3). ``e`` opens the editor on the rebuilt program, ``c`` on the selected
declaration; ``x`` writes the selected declaration as the e-mail fallback CSV (chapter 6).

What was last read is kept in the store: when the API is down the screen still shows
it, with its age and the error.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Static
from textual.widgets.data_table import ColumnKey

from pupitre.providers.core.clock import format_age, gas_day_length_hours, gas_day_of, paris
from pupitre.providers.core.errors import ApiError
from pupitre.providers.grtgaz import rules
from pupitre.providers.grtgaz.drafts import SLOTS, format_quantity, slot_label
from pupitre.providers.grtgaz.feeds import (
    INDICATORS_FEED,
    PROVIDER,
    GrtgazSession,
    SitePrograms,
    adjustable_from,
    current_slot,
    outbox_declarations,
    payload_profile,
    version_of,
)
from pupitre.providers.grtgaz.models import Flex
from pupitre.providers.grtgaz.sites import site_by_id
from pupitre.tui.formats import FLEX_SHORT, feasibility_text
from pupitre.tui.screens.base import PupitreScreen
from pupitre.tui.widgets.charts import hbar, sparkline
from pupitre.tui.widgets.fitted_table import FittedTable
from pupitre.tui.widgets.footer import PupitreFooter
from pupitre.tui.widgets.header import HeaderBar

if TYPE_CHECKING:
    from pupitre.providers.core.store import OutboxItem
    from pupitre.providers.grtgaz.models import HmsProfile

log = logging.getLogger("pupitre.grtgaz")
BAR_WIDTH = 10


def day_label(day: dt.date, now: dt.datetime) -> str:
    """``Wed 18/11/2026 (today)`` — relative to the current gas day; 23/25-hour days said."""
    offset = (day - gas_day_of(now)).days
    relative = {0: "today", 1: "tomorrow", -1: "yesterday"}.get(offset, f"J{offset:+d}")
    hours = gas_day_length_hours(day)
    length = f", {hours}-hour day" if hours != SLOTS else ""
    return f"{day:%a %d/%m/%Y} ({relative}{length})"


def delta_text(value: float | None, reference: float | None) -> Text:
    if value is None or reference is None:
        return Text("")
    diff = value - reference
    if diff == 0:
        return Text("=", style="dim")
    return Text(("+" if diff > 0 else "−") + format_quantity(abs(diff)), style="bold")


def indicators_used(profile: "HmsProfile") -> str:
    """The indicators GRTgaz used for the feasibility (§13.3 ``indicator``)."""
    feasibility = profile.hmsProfileFeasibility
    if feasibility is None or feasibility.indicator is None:
        return ""
    if paris(profile.declarationDateTime) < rules.auto_accept_before(profile.gasDay):
        return "none (declared before J-1 01:00: accepted without control, §3.1)"
    return " · ".join(f"{FLEX_SHORT[flex]} {feasibility.indicator.status(flex).word}" for flex in Flex)


def program_detail(profile: "HmsProfile") -> Text:
    """Everything §13.3 says about one declared program, for the side panel."""
    text = Text()
    text.append(f"{profile.hmsProfileId}\n", style="bold")
    text.append("status ")
    text.append_text(feasibility_text(profile.status))
    text.append("\n")
    if profile.comment:
        text.append(f"“{profile.comment}”\n")
    codes = (
        [c for c in rules.comment_codes(profile.comment) if c != rules.HMS_PROFILE_ACCEPTED] if profile.comment else []
    )
    if codes:
        text.append(", ".join(codes) + "\n", style="dim")
    text.append(f"declared  {profile.declarationDateTime:%d/%m %H:%M:%S}\n")
    if profile.processingDateTime is not None:
        text.append(f"processed {profile.processingDateTime:%d/%m %H:%M:%S}\n")
    used = indicators_used(profile)
    if used:
        text.append(f"indicators: {used}\n")
    if profile.qMin is not None or profile.qMAx is not None:
        text.append(f"qMin {format_quantity(profile.qMin)} · qMax {format_quantity(profile.qMAx)}\n")
    quantities = [q for q in profile.quantities if q is not None]
    if quantities:
        text.append(f"total {format_quantity(sum(quantities))} kWh", style="dim")
    return text


def slot_marks(day: dt.date, now: dt.datetime) -> tuple[int | None, int | None]:
    """(first adjustable slot, current slot) of ``day`` at ``now``; ``None`` when the day is
    over (no slot adjustable) or not started (no current slot)."""
    return adjustable_from(day, now), current_slot(day, now)


class ProgramsScreen(PupitreScreen):
    FEEDS = (INDICATORS_FEED,)
    BINDINGS = [
        Binding(
            "e",
            "edit",
            "New program…",
            id="programs.edit",
            tooltip="Edit a new program starting from the rebuilt program",
        ),
        Binding(
            "c",
            "edit_selected",
            "Edit selected…",
            id="programs.edit_selected",
            tooltip="Edit a new program starting from the selected declaration",
        ),
        Binding("left", "day(-1)", "◀ Day", id="programs.previous_day", priority=True, tooltip="The previous gas day"),
        Binding("right", "day(1)", "Day ▶", id="programs.next_day", priority=True, tooltip="The next gas day"),
        Binding("t", "today", "Today", id="programs.today", tooltip="The current gas day", show=False),
        Binding(
            "x",
            "export",
            "E-mail CSV",
            id="programs.export",
            tooltip="Write the selected declaration as the e-mail fallback CSV (chapter 6)",
        ),
        Binding("l", "reload", "Reload", id="programs.reload", tooltip="Read the programs again", show=False),
        Binding("escape,backspace", "back", "Back", id="programs.back"),
    ]

    def __init__(self, site_id: str | None = None, gas_day: dt.date | None = None) -> None:
        super().__init__()
        self._site_id = site_id
        self._gas_day = gas_day
        self.data: SitePrograms | None = None
        self.error = ""
        self.loading = False
        self.selected_id: str | None = None
        self._hours_placed = False
        self._marks: tuple[int | None, int | None] = (None, None)

    @property
    def site_id(self) -> str:
        """The site shown; opened without one, the screen chooses it when mounted."""
        if self._site_id is None:
            raise RuntimeError("ProgramsScreen: no site before the screen is mounted")
        return self._site_id

    @property
    def gas_day(self) -> dt.date:
        """The gas day shown; opened without one, today's (chosen when mounted)."""
        if self._gas_day is None:
            raise RuntimeError("ProgramsScreen: no gas day before the screen is mounted")
        return self._gas_day

    @gas_day.setter
    def gas_day(self, day: dt.date) -> None:
        self._gas_day = day

    # -- layout ------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield HeaderBar("Programs")
        yield Static("", id="prog-title", classes="line")
        yield Static("", id="prog-rebuilt", classes="line")
        with Horizontal(id="prog-body", classes="fill"):
            yield FittedTable(id="prog-hours", cursor_type="row", zebra_stripes=True)
            with Vertical(id="prog-side"):
                yield FittedTable(id="prog-declared", cursor_type="row")
                yield Static("", id="prog-detail")
        yield Static("", id="prog-state", classes="feed-status")
        yield PupitreFooter()

    def on_mount(self) -> None:
        now = self.papp.runtime.clock.now()
        if self._site_id is None:  # opened as a mode: the first site shown on Flexibility
            sites = self.papp.feeds.state(INDICATORS_FEED).data or []
            wanted = self.papp.runtime.settings.grtgaz.sites
            self._site_id = sites[0].site_id if sites else (wanted[0] if wanted else "LI1001")
        self._gas_day = self._gas_day or gas_day_of(now)
        hours = self.query_one("#prog-hours", DataTable)
        hours.add_column("Slot", key="slot")
        hours.add_column("Rebuilt", key="rebuilt")
        hours.add_column("", key="bar", width=BAR_WIDTH)
        hours.add_column("Selected", key="selected")
        hours.add_column("Δ", key="delta")
        declared = self.query_one("#prog-declared", DataTable)
        declared.add_column("v", key="version")
        declared.add_column("Declared", key="declared")
        declared.add_column("Status", key="status")
        self.papp.outbox.updated.subscribe(self, self._outbox_updated)
        self.set_interval(max(10.0, self.papp.runtime.settings.grtgaz.refresh_seconds), self.action_reload)
        self._show_cached()
        self.action_reload()
        declared.focus()

    # -- data --------------------------------------------------------------------------
    @property
    def session(self) -> GrtgazSession | None:
        connection = self.papp.runtime.connections.get(PROVIDER)
        return connection.session_as(GrtgazSession) if connection is not None else None

    def _show_cached(self) -> None:
        session = self.session
        cached = session.cached_programs(self.site_id, self.gas_day) if session else None
        self.data = cached
        latest = cached.latest() if cached else None
        self.selected_id = latest.hmsProfileId if latest else None

    def action_reload(self) -> None:
        if self.session is None:
            self.error = "GRTgaz is not configured"
            self.redraw()
            return
        self.loading = True
        self.run_worker(self._load(self.site_id, self.gas_day), group="programs", exclusive=True, exit_on_error=False)
        self._draw_state()

    async def _load(self, site_id: str, gas_day: dt.date) -> None:
        assert self.session is not None
        try:
            result = await self.session.programs(site_id, gas_day)
        except ApiError as error:
            self.error = str(error)
        except Exception as error:  # never a traceback on screen
            log.exception("reading the programs failed")
            self.error = f"unexpected error ({type(error).__name__}); details in the log"
        else:
            if (site_id, gas_day) != (self.site_id, self.gas_day):
                return  # the operator moved to another day meanwhile
            self.error = ""
            previous = self.data.latest() if self.data else None
            previous_latest = previous.hmsProfileId if previous else None
            self.data = result
            latest = result.latest()
            if self.selected_id is None or self.selected_id == previous_latest:
                self.selected_id = latest.hmsProfileId if latest else None
        finally:
            if (site_id, gas_day) == (self.site_id, self.gas_day):
                self.loading = False
                if self.is_mounted:
                    self.redraw()

    def on_screen_resume(self) -> None:
        """Back from the editor: read again (the base class repaints what is known)."""
        if self.is_mounted:  # mounted: the site and day are chosen
            self.action_reload()

    def _outbox_updated(self, _: object) -> None:
        if self.is_mounted and self.app.screen is self:
            self.action_reload()

    def selected(self) -> "HmsProfile | None":
        if self.data is None:
            return None
        return next((p for p in self.data.declared if p.hmsProfileId == self.selected_id), None)

    # -- drawing -----------------------------------------------------------------------
    def redraw(self) -> None:
        self._draw_title()
        self._draw_declared()
        self._draw_hours()
        self._draw_detail()
        self._draw_state()

    def tick(self) -> None:
        now = self.papp.runtime.clock.now()
        marks = slot_marks(self.gas_day, now)
        if marks != self._marks:  # a new hour: the current and first adjustable slots move
            self._marks = marks
            self._draw_title()
            self._draw_hours()
        self._draw_state()

    def _draw_title(self) -> None:
        now = self.papp.runtime.clock.now()
        site = site_by_id(self.site_id)
        title = Text()
        label = site.label if site else (self.data.rebuilt.hmsSiteLabel if self.data and self.data.rebuilt else "")
        title.append(f"{label or self.site_id} ({self.site_id})", style="bold")
        if site is not None:
            title.append(f" · {site.mesh_label}")
        title.append(" · gas day ")
        title.append(day_label(self.gas_day, now), style="bold")
        first, _ = slot_marks(self.gas_day, now)
        if first is None:
            title.append(" · day over", style="dim")
        elif first > 0:
            title.append(f" · adjustable from {slot_label(first)}")
        self.query_one("#prog-title", Static).update(title)
        line = Text()
        rebuilt = self.data.rebuilt if self.data else None
        if rebuilt is None:
            line.append("No rebuilt program" + (" yet" if self.data else " read yet"), style="bold")
        else:
            values = rebuilt.quantities
            line.append("Rebuilt")
            if rebuilt.processingDateTime is not None:
                line.append(f" ({rebuilt.processingDateTime:%d/%m %H:%M})")
            line.append(" ")
            line.append(sparkline(values, low=0), style="bold")
            known = [v for v in values if v is not None]
            if known:
                line.append(f" {format_quantity(round(sum(known) / 1000))} MWh/day")
            line.append(f" · {rebuilt.hmsProfileId}", style="dim")
        self.query_one("#prog-rebuilt", Static).update(line)

    def _draw_declared(self) -> None:
        table = self.query_one("#prog-declared", DataTable)
        table.clear()
        declared = self.data.declared if self.data else []
        known = {p.hmsProfileId for p in declared}
        for profile in declared:
            table.add_row(
                Text(str(version_of(profile.hmsProfileId))),
                Text(f"{profile.declarationDateTime:%d/%m %H:%M}"),
                feasibility_text(profile.status),
                key=profile.hmsProfileId,
            )
        for item in self.outbox_items():
            program_id = item.payload["program"]["hmsProfileId"]
            if program_id not in known:
                words = "⧗ not sent" if item.status == "pending" else "✗ not taken"
                table.add_row(
                    Text(str(version_of(program_id))),
                    Text(f"{item.created_at:%d/%m %H:%M}"),
                    Text(words, style="bold reverse"),
                    key=program_id,
                )
        if not table.row_count:
            table.add_row(Text("—"), Text("none declared", style="dim"), Text(""), key="")
        if self.selected_id is not None and self.selected_id in table.rows:
            table.move_cursor(row=table.get_row_index(self.selected_id), animate=False)

    def _draw_hours(self) -> None:
        table = self.query_one("#prog-hours", DataTable)
        now = self.papp.runtime.clock.now()
        first, current = slot_marks(self.gas_day, now)
        rebuilt = list(self.data.rebuilt.quantities) if self.data and self.data.rebuilt else [None] * SLOTS
        selected = self.selected()
        chosen: Sequence[float | None] = list(selected.quantities) if selected else [None] * SLOTS
        high = max([v for v in list(rebuilt) + list(chosen) if v is not None] or [0.0])
        table.columns[ColumnKey("selected")].label = Text(
            f"v{version_of(selected.hmsProfileId)}" if selected else "Selected"
        )
        cursor = table.cursor_row if self._hours_placed else (current if current is not None else 0)
        self._hours_placed = True
        table.clear()
        for slot in range(SLOTS):
            past = first is None or slot < first
            mark = "▶" if slot == current else ("·" if past else " ")
            style = "dim" if past else ""
            table.add_row(
                Text(f"{mark}{slot_label(slot)}", style=style),
                Text(format_quantity(rebuilt[slot]), style=style, justify="right"),
                Text(hbar(rebuilt[slot], high, BAR_WIDTH), style=style),
                Text(format_quantity(chosen[slot]) if selected else "", justify="right"),
                delta_text(chosen[slot], rebuilt[slot]),
                key=str(slot),
            )
        table.move_cursor(row=min(max(cursor, 0), SLOTS - 1), animate=False)

    def _draw_detail(self) -> None:
        detail = self.query_one("#prog-detail", Static)
        profile = self.selected()
        if profile is not None:
            detail.update(program_detail(profile))
            return
        item = self.outbox_item(self.selected_id)
        if item is not None and item.status == "pending":
            text = Text(f"{self.selected_id}\n", style="bold")
            text.append(
                "In the outbox, not yet accepted by the API: it is sent as soon as GRTgaz "
                "answers (x: export it for e-mail)."
            )
            if item.last_error:
                text.append(f"\nLast attempt ({item.attempts}): {item.last_error}", style="dim")
            detail.update(text)
        elif item is not None:
            text = Text(f"{self.selected_id}\n", style="bold")
            text.append("NOT taken by GRTgaz", style="bold reverse")
            text.append(f": {item.last_error}\nc: correct it in a new program.")
            detail.update(text)
        else:
            detail.update(
                Text(
                    "Select a declared program to see its status and GRTgaz's comment.\n"
                    "e: new program from the rebuilt one.",
                    style="dim",
                )
            )

    def outbox_items(self) -> list[OutboxItem]:
        """This site and day's declarations still waiting in the outbox, or refused there."""
        return outbox_declarations(self.papp.runtime.store, self.site_id, self.gas_day, ("pending", "failed"))

    def outbox_item(self, program_id: str | None) -> OutboxItem | None:
        return next(
            (i for i in reversed(self.outbox_items()) if i.payload["program"]["hmsProfileId"] == program_id), None
        )

    def _draw_state(self) -> None:
        now = self.papp.runtime.clock.now()
        text = Text()
        if self.data is not None:
            age = format_age((now - self.data.fetched_at).total_seconds())
            source = " (kept copy)" if self.data.from_store else ""
            text.append(f"read {self.data.fetched_at:%d/%m %H:%M:%S}{source}, {age} ago")
        else:
            text.append("not read yet")
        if self.loading:
            text.append(" · reading…")
        if self.error:
            text.append(" · ")
            text.append(f"last read failed: {self.error}", style="bold")
        state = self.query_one("#prog-state", Static)
        state.set_class(bool(self.error), "-error")
        state.update(text)

    # -- events and actions ------------------------------------------------------------
    @on(DataTable.RowHighlighted, "#prog-declared")
    def _declared_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value
        if key and key != self.selected_id:
            self.selected_id = str(key)
            self._draw_hours()
            self._draw_detail()

    def action_day(self, step: int) -> None:
        self.gas_day = self.gas_day + dt.timedelta(days=step)
        self.error = ""
        self._show_cached()
        self.redraw()
        self.action_reload()

    def action_today(self) -> None:
        self.gas_day = gas_day_of(self.papp.runtime.clock.now())
        self.action_day(0)

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()
        else:
            self.app.switch_mode("flexibility")

    def _editor(self, base: Sequence[float | None], base_label: str) -> None:
        if self.data is None:
            self.notify("The programs of this day are not read yet: wait, or reload (l).", severity="warning")
            return
        self.papp.open_screen("program_editor", self.site_id, self.gas_day, self.data, base, base_label)

    def action_edit(self) -> None:
        rebuilt = self.data.rebuilt if self.data else None
        if rebuilt is None:
            latest = self.data.latest() if self.data else None
            if latest is not None:
                self.notify("No rebuilt program: starting from the last declaration.", timeout=5)
                self._editor(latest.quantities, f"v{version_of(latest.hmsProfileId)}")
                return
            self._editor([0.0] * SLOTS, "zero")
            return
        self._editor(rebuilt.quantities, "rebuilt program")

    def action_edit_selected(self) -> None:
        selected = self.selected()
        if selected is not None:
            program_id, values = selected.hmsProfileId, selected.quantities
        else:
            item = self.outbox_item(self.selected_id)
            if item is None:
                self.notify(
                    "Select a declared program first (or e: start from the rebuilt program).", severity="warning"
                )
                return
            program_id = item.payload["program"]["hmsProfileId"]
            values = payload_profile(item.payload).quantities
        self._editor(values, f"v{version_of(program_id)}")

    def action_export(self) -> None:
        from pupitre.tui.dialogs.email_export import export_for_email

        selected = self.selected()
        payload = None
        if selected is None:
            item = self.outbox_item(self.selected_id)
            if item is None or item.status != "pending":
                self.notify("Select a declared program, or one waiting in the outbox, to export.", severity="warning")
                return
            payload = item.payload
        export_for_email(self, profile=selected, payload=payload)
