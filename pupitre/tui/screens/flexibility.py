"""Flexibility (key 2): GRTgaz indicator colours per site, live (GRTgaz §13.1, §3.2.2.1)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Input, Static

from pupitre.providers.core.search import search_key
from pupitre.providers.grtgaz import rules
from pupitre.providers.grtgaz.feeds import INDICATORS_FEED as FEED
from pupitre.providers.grtgaz.models import Flex, IndicatorStatus, SiteIndicators
from pupitre.providers.grtgaz.sites import site_by_id
from pupitre.tui.formats import FLEX_SHORT, countdown
from pupitre.tui.screens.base import PupitreScreen
from pupitre.tui.widgets.feed_status import FeedStatus
from pupitre.tui.widgets.footer import PupitreFooter
from pupitre.tui.widgets.header import HeaderBar
from pupitre.tui.widgets.indicators import GLYPHS, WORDS, status_style, status_text

SORTS = ("mesh", "severity", "site")
SEVERITY = {IndicatorStatus.GREY: 0, IndicatorStatus.RED: 1, IndicatorStatus.GREEN: 2}


ANNOUNCED_MARK = "*"
"""After a status applied on its announcement alone (not re-read from GRTgaz since)."""


def site_search_text(site: SiteIndicators) -> str:
    """What ``/`` matches: names, codes, client, and every status now or announced
    (an announced RED matches ``red``, issue 16)."""
    known = site_by_id(site.site_id)
    words = [site.site_id, site.site_label, site.mesh_label, site.mesh_code, known.client if known else ""]
    words += [status.value for status in rules.site_statuses(site, include_next=True)]
    return search_key("\x00".join(words))


def indicator_cell(app: Any, applied: rules.AppliedSite, flex: Flex) -> Text:
    """One indicator's status; ``*`` when it applies on its announcement alone (not re-read)."""
    text = status_text(app, applied.site.currentIndicator.indicator(flex).status)
    if flex in applied.announced:
        text.append(ANNOUNCED_MARK)
    return text


class FlexibilityScreen(PupitreScreen):
    FEEDS = (FEED,)
    AUTO_FOCUS = "#flex-table"  # focused as the screen is shown, so the first frame is drawn focused
    BINDINGS = [
        Binding("slash", "filter", "Filter", id="flexibility.filter"),
        Binding("s", "cycle_sort", "Sort", id="flexibility.sort"),
        Binding("enter", "detail", "Detail", id="flexibility.detail", show=True),
        Binding(
            "g",
            "programs",
            "Programs",
            id="flexibility.programs",
            tooltip="The selected site's programs: rebuilt, declared, and the editor",
        ),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="flexibility.clear"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.sort = "mesh"
        self.filter_text = ""
        self._applied_key: tuple[tuple[str, frozenset[Flex]], ...] = ()

    def compose(self) -> ComposeResult:
        yield HeaderBar("Flexibility")
        with Horizontal(id="flex-toolbar", classes="toolbar"):
            yield Static("", id="flex-summary", classes="summary")
            yield Input(placeholder="filter: site, mesh, client, red…", id="flex-filter", compact=True)
        yield DataTable(id="flex-table", classes="fill", cursor_type="row", zebra_stripes=True)
        yield FeedStatus(FEED, id="flex-status", classes="feed-status")
        yield PupitreFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("Site", key="site")
        table.add_column("Mesh", key="mesh")
        table.add_column("Q→Q-", key=Flex.Q_TO_QMINUS.name)
        table.add_column("Partial", key=Flex.PARTIAL.name)
        table.add_column("Q→Q+", key=Flex.Q_TO_QPLUS.name)
        table.add_column("Next change", key="next")
        self.query_one("#flex-filter", Input).display = False

    # -- data ----------------------------------------------------------------------------
    def sites(self) -> list[SiteIndicators]:
        data = self.papp.feeds.state(FEED).data
        return list(data or [])

    def applied(self) -> list[rules.AppliedSite]:
        """The sites as they apply now: announced changes on screen from their application
        time even when the feed is paused or stale (§3.2.2.1, issue 16)."""
        return rules.applied_sites(self.sites(), self.papp.runtime.clock.now())

    def visible_sites(self) -> list[rules.AppliedSite]:
        sites = self.applied()
        if self.filter_text:
            needle = search_key(self.filter_text)
            sites = [a for a in sites if needle in site_search_text(a.site)]
        if self.sort == "mesh":
            sites.sort(key=lambda a: (a.site.mesh_label.lower(), a.site.site_label.lower()))
        elif self.sort == "severity":  # an announced RED ranks with the reds
            sites.sort(key=lambda a: (SEVERITY.get(a.worst(), 1.5), a.site.site_label.lower()))
        else:
            sites.sort(key=lambda a: a.site.site_label.lower())
        return sites

    def next_cell(self, site: SiteIndicators, now: dt.datetime) -> Text:
        changes = rules.upcoming_changes([site], now)
        if not changes:
            return Text("—", style="dim")
        first = changes[0]
        names = ",".join(FLEX_SHORT[c.flex] for c in changes)
        text = Text()
        text.append(f"{GLYPHS[first.next]} {WORDS[first.next]} ", style=status_style(self.app, first.next))
        text.append(f"{names} {first.applies_at:%H:%M} in {countdown(now, first.applies_at)}")
        return text

    def redraw(self) -> None:
        table = self.query_one(DataTable)
        now = self.papp.runtime.clock.now()
        selected = None
        if table.row_count and table.cursor_row >= 0:
            selected = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
        table.clear()
        last_mesh = None
        visible = self.visible_sites()
        self._applied_key = self.applied_key(visible)
        for applied in visible:
            site = applied.site
            mesh = site.mesh_label if self.sort == "mesh" and site.mesh_label != last_mesh else ""
            last_mesh = site.mesh_label
            row: list[Any] = [Text(site.site_label), Text(mesh or ("" if self.sort == "mesh" else site.mesh_label))]
            row += [indicator_cell(self.app, applied, flex) for flex in Flex]
            row.append(self.next_cell(site, now))
            table.add_row(*row, key=site.site_id)
        if selected is not None and selected in table.rows:
            table.move_cursor(row=table.get_row_index(selected))
        self.update_summary()

    @staticmethod
    def applied_key(sites: list[rules.AppliedSite]) -> tuple[tuple[str, frozenset[Flex]], ...]:
        """What changes the table when an announced change's time comes."""
        return tuple((a.site_id, a.announced) for a in sites)

    def update_summary(self) -> None:
        applied = self.applied()
        sites = [a.site for a in applied]
        visible = len(self.visible_sites())
        counts = rules.status_counts(sites)
        summary = Text()
        summary.append(f"{len(sites)} sites")
        if visible != len(sites):
            summary.append(f" ({visible} shown, filter “{self.filter_text}”)")
        summary.append(f" · {counts[IndicatorStatus.RED]} red · {counts[IndicatorStatus.GREY]} grey")
        unknown = sum(n for status, n in counts.items() if not status.known)
        if unknown:
            summary.append(f" · {unknown} ? unknown colour", style="bold")
        if any(a.announced for a in applied):
            summary.append(f" · {ANNOUNCED_MARK} announced, not re-read", style="bold")
        summary.append(f" · sort: {self.sort}")
        self.query_one("#flex-summary", Static).update(summary)

    def tick(self) -> None:
        table = self.query_one(DataTable)
        now = self.papp.runtime.clock.now()
        visible = self.visible_sites()
        if self.applied_key(visible) != self._applied_key:  # an announced change's time came
            self.redraw()
            return
        for applied in visible:
            if applied.site_id in table.rows:
                table.update_cell(applied.site_id, "next", self.next_cell(applied.site, now))

    # -- actions -------------------------------------------------------------------------
    def action_filter(self) -> None:
        box = self.query_one("#flex-filter", Input)
        box.display = True
        box.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#flex-filter", Input)
        box.value = ""
        box.display = False
        self.query_one(DataTable).focus()

    @on(Input.Changed, "#flex-filter")
    def filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value.strip()
        self.redraw()

    @on(Input.Submitted, "#flex-filter")
    def filter_submitted(self) -> None:
        self.query_one(DataTable).focus()

    def action_cycle_sort(self) -> None:
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        self.redraw()

    @on(DataTable.RowSelected, "#flex-table")
    def row_selected(self, event: DataTable.RowSelected) -> None:
        self.open_detail(str(event.row_key.value))

    def action_detail(self) -> None:
        table = self.query_one(DataTable)
        if table.row_count:
            self.open_detail(str(table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value))

    def action_programs(self) -> None:
        table = self.query_one(DataTable)
        if not table.row_count:
            self.notify("No site to show yet.", severity="warning", timeout=4)
            return
        self.papp.open_screen(
            "programs", str(table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value)
        )

    def open_detail(self, site_id: str) -> None:
        self.papp.open_screen("site_detail", site_id)
