"""One GRTgaz site: its three indicators now and next, and its recent state changes."""

from __future__ import annotations

from rich.markup import escape
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Footer, Static

from pupitre.providers.grtgaz.models import Flex, SiteIndicators
from pupitre.providers.grtgaz.sites import site_by_id
from pupitre.tui.screens.base import PupitreScreen
from pupitre.tui.screens.flexibility import FEED, countdown, since_or_from
from pupitre.tui.widgets.feed_status import FeedStatus
from pupitre.tui.widgets.header import HeaderBar
from pupitre.tui.widgets.indicators import status_text

HISTORY_ROWS = 30


class SiteDetailScreen(PupitreScreen):
    FEEDS = (FEED,)
    BINDINGS = [
        Binding("escape,backspace", "app.pop_screen", "Back", id="detail.back"),
        Binding(
            "g",
            "programs",
            "Programs",
            id="detail.programs",
            tooltip="This site's programs: rebuilt, declared, and the editor",
        ),
    ]

    def __init__(self, site_id: str) -> None:
        super().__init__()
        self.site_id = site_id

    def compose(self) -> ComposeResult:
        yield HeaderBar("Site detail")
        with VerticalScroll(id="detail-body"):
            yield Static("", id="detail-title")
            yield DataTable(id="detail-indicators", cursor_type="none", show_cursor=False)
            yield Static("Recent state changes (newest first)", classes="section-title")
            yield DataTable(id="detail-history", cursor_type="row")
        yield FeedStatus(FEED, classes="feed-status")
        yield Footer()

    def on_mount(self) -> None:
        indicators = self.query_one("#detail-indicators", DataTable)
        for label in ("Indicator", "Now", "Application", "Next", "Applies at"):
            indicators.add_column(label, key=label)
        history = self.query_one("#detail-history", DataTable)
        for label in ("When", "Indicator", "From", "To"):
            history.add_column(label, key=label)
        history.focus()

    def site(self) -> SiteIndicators | None:
        for site in self.papp.feeds.state(FEED).data or []:
            if isinstance(site, SiteIndicators) and site.site_id == self.site_id:
                return site
        return None

    def redraw(self) -> None:
        site = self.site()
        known = site_by_id(self.site_id)
        title = self.query_one("#detail-title", Static)
        if site is None:
            title.update(f"Site {escape(self.site_id)}: no data for this site in the last result.")
        else:
            extra = f" · client {known.client} · {known.tranches} tranche(s)" if known else ""
            title.update(
                Text(
                    f"{site.site_label} ({site.site_id}) · mesh {site.mesh_label} ({site.mesh_code}){extra}",
                    style="bold",
                )
            )
        self._draw_indicators(site)
        self._draw_history()

    def _draw_indicators(self, site: SiteIndicators | None) -> None:
        table = self.query_one("#detail-indicators", DataTable)
        table.clear()
        if site is None:
            return
        now = self.papp.runtime.clock.now()
        for flex in Flex:
            current = site.currentIndicator.indicator(flex)
            upcoming = site.nextIndicator.indicator(flex) if site.nextIndicator else None
            row: list[object] = [
                flex.value,
                status_text(self.app, current.status),
                since_or_from(now, current.applicationDateTime),
            ]
            if upcoming is not None and upcoming.status != current.status:
                row += [
                    status_text(self.app, upcoming.status),
                    f"{upcoming.applicationDateTime:%H:%M} (in {countdown(now, upcoming.applicationDateTime)})",
                ]
            else:
                row += ["—", ""]
            table.add_row(*row, key=flex.name)

    def _draw_history(self) -> None:
        table = self.query_one("#detail-history", DataTable)
        table.clear()
        entries = self.papp.runtime.store.history(FEED, self.site_id, limit=HISTORY_ROWS)
        if not entries:
            table.add_row("no change recorded yet", "", "", "")
        for entry in entries:
            table.add_row(
                f"{entry.at.astimezone(self.papp.runtime.clock.now().tzinfo):%d/%m %H:%M:%S}",
                Text(entry.detail),
                Text(entry.old or "—"),
                Text(entry.new),
            )

    def tick(self) -> None:
        self._draw_indicators(self.site())

    def action_programs(self) -> None:
        self.papp.open_screen("programs", self.site_id)
