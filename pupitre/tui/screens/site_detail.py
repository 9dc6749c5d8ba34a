"""One GRTgaz site: its three indicators now and next, the gas day so far as a strip per
indicator, and the state changes the store kept (written by whichever process reads the feed)."""

from __future__ import annotations

import datetime as dt

from rich.markup import escape
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static

from pupitre.providers.core.clock import gas_day_of, instant, paris
from pupitre.providers.grtgaz import rules
from pupitre.providers.grtgaz.feeds import INDICATORS_FEED as FEED
from pupitre.providers.grtgaz.feeds import stored_timeline
from pupitre.providers.grtgaz.models import Flex, Indicator, IndicatorStatus, SiteIndicators
from pupitre.providers.grtgaz.sites import site_by_id
from pupitre.tui.formats import FLEX_SHORT, countdown
from pupitre.tui.screens.base import PupitreScreen
from pupitre.tui.screens.flexibility import ANNOUNCED_MARK
from pupitre.tui.widgets.feed_status import FeedStatus
from pupitre.tui.widgets.footer import PupitreFooter
from pupitre.tui.widgets.header import HeaderBar
from pupitre.tui.widgets.indicators import GLYPHS, status_style, status_text

HISTORY_ROWS = 30


def since_label(current: Indicator, timeline: list[rules.StateRow], announced: bool, now: dt.datetime) -> str:
    """When the current value began: the real start from the store's timeline, or, when the
    timeline does not reach back to it, "since at least" the earliest time known."""
    if announced:
        return f"since {paris(current.applicationDateTime):%d/%m %H:%M} (announced, not re-read)"
    start = rules.run_start(timeline, current.status)
    if start is None:
        return f"since at least {paris(rules.state_since(current, now)):%d/%m %H:%M}"
    moment, known = start
    return f"since {'' if known else 'at least '}{paris(moment):%d/%m %H:%M}"


def strip_text(app: App[object], strip: list[IndicatorStatus | None]) -> Text:
    """One glyph per real hour of the gas day (``·`` to come or not recorded)."""
    text = Text()
    for status in strip:
        if status is None:
            text.append("·", style="dim")
        else:
            text.append(GLYPHS[status], style=status_style(app, status))
    return text


def strip_axis(gas_day: dt.date) -> str:
    """The hours under a strip: ``06`` ``12`` ``18`` ``00`` at their real hour's column."""
    hours = rules.day_slots(gas_day).real_hours
    axis = [" "] * (len(hours) + 1)
    for index, hour in enumerate(hours):
        if index % 6 == 0:
            axis[index : index + 2] = f"{hour:%H}"
    return "".join(axis).rstrip()


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
        self._timelines: dict[Flex, list[rules.StateRow]] | None = None

    def compose(self) -> ComposeResult:
        yield HeaderBar("Site detail")
        with VerticalScroll(id="detail-body", classes="fill"):
            yield Static("", id="detail-title", classes="block")
            yield DataTable(id="detail-indicators", cursor_type="none", show_cursor=False)
            yield Static("", id="detail-strips")
            yield Static("State changes kept by the store (newest first)", classes="section-title")
            yield DataTable(id="detail-history", cursor_type="row")
        yield FeedStatus(FEED, classes="feed-status")
        yield PupitreFooter()

    def on_mount(self) -> None:
        indicators = self.query_one("#detail-indicators", DataTable)
        for label in ("Indicator", "Now", "Since", "Next", "Applies at"):
            indicators.add_column(label, key=label)
        history = self.query_one("#detail-history", DataTable)
        for label in ("Since", "Indicator", "From", "To"):
            history.add_column(label, key=label)
        history.focus()

    def site(self) -> SiteIndicators | None:
        for site in self.papp.feeds.state(FEED).data or []:
            if isinstance(site, SiteIndicators) and site.site_id == self.site_id:
                return site
        return None

    def redraw(self) -> None:
        self._timelines = None  # new data: the store's timeline may have grown
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

    def timelines(self) -> dict[Flex, list[rules.StateRow]]:
        """Each indicator's timeline as the store keeps it (every process's reads), read again
        when the feed brings data (:meth:`redraw`), not on every tick."""
        if self._timelines is None:
            store = self.papp.runtime.store
            self._timelines = {flex: stored_timeline(store, self.site_id, flex) for flex in Flex}
        return self._timelines

    def _draw_indicators(self, site: SiteIndicators | None) -> None:
        table = self.query_one("#detail-indicators", DataTable)
        table.clear()
        if site is None:
            return
        now = self.papp.runtime.clock.now()
        applied = rules.as_applied(site, now)  # an announced change shows from its time (§3.2.2.1)
        timelines = self.timelines()
        for flex in Flex:
            current = applied.site.currentIndicator.indicator(flex)
            upcoming = applied.site.nextIndicator.indicator(flex) if applied.site.nextIndicator else None
            now_cell = status_text(self.app, current.status)
            if flex in applied.announced:
                now_cell.append(ANNOUNCED_MARK)
            row: list[object] = [
                flex.value,
                now_cell,
                since_label(current, timelines[flex], flex in applied.announced, now),
            ]
            if upcoming is not None and upcoming.status != current.status:
                row += [
                    status_text(self.app, upcoming.status),
                    f"{paris(upcoming.applicationDateTime):%H:%M} (in {countdown(now, upcoming.applicationDateTime)})",
                ]
            else:
                row += ["—", ""]
            table.add_row(*row, key=flex.name)
        self._draw_strips(timelines, now)

    def _draw_strips(self, timelines: dict[Flex, list[rules.StateRow]], now: dt.datetime) -> None:
        """The gas day so far, one glyph per real hour and indicator (the store's timeline)."""
        day = gas_day_of(now)
        text = Text(f"Gas day {day:%d/%m} ({rules.day_slots(day).length_hours} h), hour by hour:\n", style="bold")
        for flex in Flex:
            text.append(f"{FLEX_SHORT[flex]:<6}")
            text.append_text(strip_text(self.app, rules.day_strip(timelines[flex], day, now)))
            text.append("\n")
        text.append(f"{'':<6}{strip_axis(day)}", style="dim")
        self.query_one("#detail-strips", Static).update(text)

    def _draw_history(self) -> None:
        table = self.query_one("#detail-history", DataTable)
        table.clear()
        rows = [(flex, row, before) for flex, timeline in self.timelines().items() for before, row in _pairs(timeline)]
        rows.sort(key=lambda item: instant(item[1].since), reverse=True)
        if not rows:
            table.add_row("no change recorded yet", "", "", "")
        for flex, row, before in rows[:HISTORY_ROWS]:
            table.add_row(
                f"{paris(row.since):%d/%m %H:%M}",
                Text(flex.value),
                Text(before.status.word if before else "—"),
                Text(row.status.word),
            )

    def tick(self) -> None:
        self._draw_indicators(self.site())

    def action_programs(self) -> None:
        self.papp.open_screen("programs", self.site_id)


def _pairs(timeline: list[rules.StateRow]) -> list[tuple[rules.StateRow | None, rules.StateRow]]:
    """Each row with the one before it (``None`` for the first on record)."""
    return [(timeline[i - 1] if i else None, row) for i, row in enumerate(timeline)]
