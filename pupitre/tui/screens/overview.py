"""Overview (key 1): what needs action, one tile per provider, each with age and errors."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Footer, Static

from pupitre.providers.edf_oa import feeds as edf_oa
from pupitre.providers.edf_oa import rules as edf_oa_rules
from pupitre.providers.grdf_adict import feeds as adict
from pupitre.providers.grdf_omega import feeds as omega
from pupitre.providers.grtgaz import rules
from pupitre.providers.grtgaz.models import IndicatorStatus
from pupitre.providers.switchgrid import feeds as switchgrid
from pupitre.tui import registry
from pupitre.tui.screens.base import PupitreScreen
from pupitre.tui.screens.flexibility import FEED as GRTGAZ_FEED
from pupitre.tui.screens.flexibility import FLEX_SHORT, countdown, status_counts
from pupitre.tui.widgets.feed_status import FeedStatus
from pupitre.tui.widgets.header import HeaderBar
from pupitre.tui.widgets.indicators import GLYPHS, WORDS, status_style, status_text

MAX_ATTENTION_LINES = 4


class Tile(Vertical, can_focus=True):
    """A focusable tile; Enter opens the screen it summarises."""

    BINDINGS = [Binding("enter", "open", "Open", id="overview.open")]

    def __init__(
        self,
        title: str,
        mode: str,
        feed: str,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.border_title = title
        self.mode = mode
        self.feed = feed

    def compose(self) -> ComposeResult:
        yield Static("", classes="tile-body")
        yield FeedStatus(self.feed, classes="feed-status")

    def action_open(self) -> None:
        self.app.switch_mode(self.mode)


LEVEL_MARK = {"ok": "✓", "attention": "!", "critical": "‼"}


class OverviewScreen(PupitreScreen):
    FEEDS = (
        GRTGAZ_FEED,
        edf_oa.CURTAILMENTS_FEED,
        edf_oa.ACKS_FEED,
        edf_oa.TOKEN_FEED,
        omega.REQUESTS_FEED,
        adict.RIGHTS_FEED,
        switchgrid.FEED,
    )

    def compose(self) -> ComposeResult:
        yield HeaderBar("Overview")
        with VerticalScroll(id="tiles"):
            for entry, tile in registry.tiles():
                yield Tile(f"{tile.title}  [{entry.key}]", entry.name, tile.feed, id=tile.id)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#tile-grtgaz").focus()

    def redraw(self) -> None:
        self.query_one("#tile-grtgaz .tile-body", Static).update(self.grtgaz_body())
        self.query_one("#tile-edf-oa .tile-body", Static).update(self.edf_oa_body())
        self.query_one("#tile-omega .tile-body", Static).update(self.omega_body())
        self.query_one("#tile-adict .tile-body", Static).update(self.adict_body())
        self.query_one("#tile-switchgrid .tile-body", Static).update(self.switchgrid_body())

    _adict_cache: tuple[tuple[object, ...], Text] | None = None

    def adict_body(self) -> Text:
        """Proofs awaited (critical past a deadline) and rights lost since yesterday: the
        words of ``pupitre check``; computed once per copy and day (a park may be 100k rights)."""
        state = self.papp.feeds.state(adict.RIGHTS_FEED)
        table = state.data
        if table is None:
            return Text("No access-rights data yet." if state.error is None else "No access-rights data.", style="bold")
        now = self.papp.runtime.clock.now()
        key = (id(table), len(table), now.date(), state.fetched_at)
        if self._adict_cache is None or self._adict_cache[0] != key:
            summary = adict.summarise(table, now.date(), adict.recent_lost_ids(self.papp.runtime.ctx, now))
            text = Text()
            for finding in adict.summary_findings(summary, table):
                style = {"ok": "", "attention": "bold", "critical": "bold reverse"}[finding.level]
                text.append(f"{LEVEL_MARK[finding.level]} {finding.message}\n", style=style)
            text.rstrip()
            self._adict_cache = (key, text)
        return self._adict_cache[1]

    def omega_body(self) -> Text:
        """Counts by status, changes today, changed-and-not-yet-seen, unreadable requests."""
        store = self.papp.runtime.store
        watched = store.watch_list(omega.PROVIDER)
        tracked = self.papp.feeds.state(omega.REQUESTS_FEED).data or {}
        text = Text()
        if not watched:
            text.append("No request watched yet: press 4, then a to add one.", style="dim")
            return text
        counts: dict[str, int] = {}
        for item in tracked.values():
            if item.demande is not None:
                label = item.demande.statut_externe_demande.libelle or item.demande.statut_externe_demande.code
                counts[label] = counts.get(label, 0) + 1
        text.append(
            f"{len(watched)} watched: "
            + ", ".join(f"{n} {label}" for label, n in sorted(counts.items(), key=lambda kv: -kv[1])[:4])
            + "\n"
        )
        today = self.papp.runtime.clock.now().date()
        changes_today = [
            h
            for h in store.history(omega.REQUESTS_FEED, limit=500)
            if h.at.astimezone(self.papp.runtime.clock.now().tzinfo).date() == today
        ]
        changed = omega.unseen(tracked, dict(watched))
        failing = [n for n, t in tracked.items() if t.error]
        text.append(f"{len(changes_today)} status change(s) today", style="bold" if changes_today else "")
        if changed:
            text.append(f" · ● {len(changed)} not yet looked at", style="bold")
        if failing:
            text.append(f" · ⚠ {len(failing)} unreadable", style="bold")
        return text

    def switchgrid_body(self) -> Text:
        """Asks waiting for their signature, orders running or failed, consents ending soon."""
        session = self.papp.runtime.connections[switchgrid.PROVIDER].session_as(switchgrid.SwitchgridSession)
        state = self.papp.feeds.state(switchgrid.FEED)
        text = Text()
        if not state.has_data and not session.followed():
            text.append("No Switchgrid data yet." if state.error is None else "No Switchgrid data.", style="bold")
            return text
        data = session.current(state.data)
        pending, running, failed = data.pending_signature(), data.running(), data.failed()
        text.append(f"{len(pending)} ask(s) awaiting signature", style="bold" if pending else "")
        text.append(f" · {len(running)} order(s) running")
        if failed:
            text.append(f" · ✗ {len(failed)} failed", style="bold")
        now = self.papp.runtime.clock.now()
        problems = [
            f
            for f in switchgrid.findings(self.papp.runtime.settings.switchgrid, {switchgrid.FEED: data}, now)
            + switchgrid.unanswered(session)
            if f.level != "ok"
        ]
        for finding in problems[:MAX_ATTENTION_LINES]:
            text.append(f"\n{LEVEL_MARK[finding.level]} {finding.message}", style="bold")
        if len(problems) > MAX_ATTENTION_LINES:
            text.append(f"\n  … and {len(problems) - MAX_ATTENTION_LINES} more (press 6)", style="dim")
        return text

    def edf_oa_body(self) -> Text:
        """The provider's daily-check findings (the words of ``pupitre check``), with the
        deadline countdown while acknowledgements are missing."""
        feeds = self.papp.feeds
        results = {
            name: feeds.state(name).data
            for name in (edf_oa.CURTAILMENTS_FEED, edf_oa.ACKS_FEED, edf_oa.TOKEN_FEED)
            if feeds.state(name).has_data
        }
        text = Text()
        if edf_oa.CURTAILMENTS_FEED not in results:
            text.append("No curtailment data yet.", style="bold")
            return text
        now = self.papp.runtime.clock.now()
        settings = self.papp.runtime.settings.edf_oa
        for finding in edf_oa.findings(settings, results, now):
            style = {"ok": "", "attention": "bold", "critical": "bold reverse"}[finding.level]
            text.append(f"{LEVEL_MARK[finding.level]} {finding.message}\n", style=style)
        order = results.get(edf_oa.CURTAILMENTS_FEED)
        if order is not None:
            summary = edf_oa_rules.ack_summary(
                order, results.get(edf_oa.ACKS_FEED), now, edf_oa_rules.parse_hhmm(settings.ack_deadline)
            )
            if summary.missing and summary.level != "critical":
                text.append(f"  deadline {summary.deadline:%H:%M} in {countdown(now, summary.deadline)}\n")
        text.rstrip()
        return text

    def tick(self) -> None:
        self.redraw()

    def grtgaz_body(self) -> Text:
        state = self.papp.feeds.state(GRTGAZ_FEED)
        sites = list(state.data or [])
        text = Text()
        if not sites:
            text.append("No indicator data yet." if state.error is None else "No indicator data.", style="bold")
            return text
        now = self.papp.runtime.clock.now()
        worst = rules.worst_status_across(sites)
        counts = status_counts(sites)
        text.append("Worst now: ")
        text.append_text(status_text(self.app, worst or IndicatorStatus.GREEN))
        text.append(
            f"   {counts[IndicatorStatus.RED]} red · {counts[IndicatorStatus.GREY]} grey of {len(sites)} sites\n"
        )
        upcoming = rules.upcoming_changes(sites, now)
        if upcoming:
            first = upcoming[0]
            text.append("Next: ")
            text.append(f"{GLYPHS[first.next]} {WORDS[first.next]}", style=status_style(self.app, first.next))
            more = f"  (+{len(upcoming) - 1} more)" if len(upcoming) > 1 else ""
            text.append(
                f" {FLEX_SHORT[first.flex]} {first.site_label} at {first.applies_at:%H:%M} "
                f"(in {countdown(now, first.applies_at)}){more}\n"
            )
        else:
            text.append("Next: no change announced\n", style="dim")
        attention = [s for s in sites if rules.site_worst_status(s) is not IndicatorStatus.GREEN]
        for site in attention[:MAX_ATTENTION_LINES]:
            bad = [flex for flex, ind in site.currentIndicator.indicators() if ind.status is not IndicatorStatus.GREEN]
            status = rules.site_worst_status(site)
            text.append(f"  {GLYPHS[status]} {WORDS[status]} ", style=status_style(self.app, status))
            text.append(f"{site.site_label} ({site.mesh_label}): {', '.join(FLEX_SHORT[f] for f in bad)}\n")
        if len(attention) > MAX_ATTENTION_LINES:
            text.append(f"  … and {len(attention) - MAX_ATTENTION_LINES} more (press 2)\n", style="dim")
        text.rstrip()
        return text
