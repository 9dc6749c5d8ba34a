"""Overview (key 1): what needs action, one tile per provider, each with age and errors."""

from __future__ import annotations

import datetime as dt

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Footer, Static

from pupitre.check import unavailable
from pupitre.providers.core.checks import Finding
from pupitre.providers.edf_oa import feeds as edf_oa
from pupitre.providers.edf_oa import rules as edf_oa_rules
from pupitre.providers.grdf_adict import feeds as adict
from pupitre.providers.grdf_omega import feeds as omega
from pupitre.providers.grtgaz import rules
from pupitre.providers.grtgaz.models import IndicatorStatus
from pupitre.providers.switchgrid import feeds as switchgrid
from pupitre.tui import registry
from pupitre.tui.formats import FLEX_SHORT, countdown
from pupitre.tui.screens.base import PupitreScreen
from pupitre.tui.screens.flexibility import FEED as GRTGAZ_FEED
from pupitre.tui.screens.flexibility import status_counts
from pupitre.tui.widgets.feed_status import FeedStatus
from pupitre.tui.widgets.header import HeaderBar
from pupitre.tui.widgets.indicators import GLYPHS, WORDS, status_style, status_text

MAX_ATTENTION_LINES = 4


class Tile(Vertical, can_focus=True):
    """A focusable tile; Enter opens the screen it summarises."""

    DEFAULT_CSS = """
    Tile {
        height: auto;
        padding: 0 1;
        border: round $foreground 30%;
    }
    Tile:focus {
        border: round $border;
    }
    Tile > .tile-body {
        height: auto;
    }
    """

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


LEVEL_MARK = {"ok": "✓", "attention": "!", "unknown": "?", "critical": "‼"}


#: tile id -> the provider whose findings it shows
TILES = {
    "tile-grtgaz": "grtgaz",
    "tile-edf-oa": "edf_oa",
    "tile-omega": "grdf_omega",
    "tile-adict": "grdf_adict",
    "tile-switchgrid": "switchgrid",
}
FINDING_STYLE = {"ok": "", "attention": "bold", "unknown": "bold reverse", "critical": "bold reverse"}


def findings_text(findings: list[Finding], limit: int = MAX_ATTENTION_LINES, key: str = "") -> Text:
    """Findings as ``pupitre check`` words them, one line each with its level's mark (never
    colour alone); beyond ``limit``, how many more and the key of their screen."""
    text = Text()
    for finding in findings[:limit]:
        text.append(f"{LEVEL_MARK[finding.level]} {finding.message}\n", style=FINDING_STYLE[finding.level])
    if len(findings) > limit:
        text.append(f"  … and {len(findings) - limit} more (press {key})\n", style="dim")
    text.rstrip()
    return text


class OverviewScreen(PupitreScreen):
    """One tile per provider: its findings computed by the same function as ``pupitre check``
    (:meth:`provider_findings`), with what moves with time (countdowns) on top. Findings
    and everything read from the store are computed when a feed, the outbox or a follow-up
    reports (:meth:`redraw`), never on the one-second tick (:meth:`tick` repaints from memory)."""

    FEEDS = (
        GRTGAZ_FEED,
        edf_oa.CURTAILMENTS_FEED,
        edf_oa.ACKS_FEED,
        edf_oa.TOKEN_FEED,
        omega.REQUESTS_FEED,
        adict.RIGHTS_FEED,
        switchgrid.FEED,
    )

    def __init__(self) -> None:
        super().__init__()
        #: per provider: what its findings were computed from, and the lines drawn from them
        self._computed: dict[str, tuple[tuple[object, ...], Text]] = {}
        self._edf_deadline: dt.datetime | None = None
        #: per tile: its lines computed at the last report (the tick repaints from these)
        self._tiles: dict[str, Text] = {}
        #: the GRTgaz announced changes already applied when the findings were last computed
        self._due: tuple[tuple[str, str], ...] = ()

    def compose(self) -> ComposeResult:
        yield HeaderBar("Overview")
        with VerticalScroll(id="tiles", classes="fill"):
            for entry, tile in registry.tiles():
                yield Tile(f"{tile.title}  [{entry.key}]", entry.name, tile.feed, id=tile.id)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#tile-grtgaz").focus()
        self.papp.outbox.updated.subscribe(self, lambda _: self._outbox_changed())

    def _on_feed_updated(self, name: str) -> None:
        """A feed reported, maybe with the same data (e.g. EDF OA's values adopted): its
        provider's findings are computed again (not when a run starts: nothing changed yet)."""
        if name in self.papp.feeds.states and not self.papp.feeds.state(name).running:
            for provider, connection in self.papp.runtime.connections.items():
                if any(feed.name == name for feed in connection.feeds):
                    self._computed.pop(provider, None)
        super()._on_feed_updated(name)

    def _outbox_changed(self) -> None:
        """An action moved on (e.g. a Switchgrid order held or identified): findings again."""
        self._computed.clear()
        self.redraw()

    # -- the findings, as `pupitre check` computes them ------------------------------------------
    def provider_findings(self, provider: str) -> list[Finding]:
        """``provider``'s findings: each failed feed as ``data unavailable`` (unknown), then
        the provider's own findings on the data of the feeds that did not fail — what
        :func:`pupitre.check.run_checks` computes, with the same functions."""
        runtime, feeds = self.papp.runtime, self.papp.feeds
        connection = runtime.connections[provider]
        out: list[Finding] = []
        results: dict[str, object] = {}
        for feed in connection.feeds:
            state = feeds.state(feed.name)
            if state.error is not None:
                out.append(unavailable(connection.title, str(state.error), state.fetched_at))
            elif state.has_data:
                results[feed.name] = state.data
        return out + connection.findings(results, runtime.clock.now())

    def _findings_lines(self, provider: str, key: str, *, problems_only: bool = False) -> Text:
        """The provider's findings as lines, computed again only when its feeds' data, their
        errors or the day changed (a GRDF ADICT park may hold 100,000 rights);
        ``problems_only`` leaves out the "ok" lines (the tile says the same otherwise)."""
        feeds = self.papp.feeds
        states = [feeds.state(f.name) for f in self.papp.runtime.connections[provider].feeds]
        signature: tuple[object, ...] = (
            *[(id(s.data), s.fetched_at, str(s.error)) for s in states],
            self.papp.runtime.clock.now().date(),
            problems_only,
        )
        cached = self._computed.get(provider)
        if cached is None or cached[0] != signature:
            findings = self.provider_findings(provider)
            if problems_only:
                findings = [f for f in findings if f.level != "ok"]
            cached = (signature, findings_text(findings, key=key))
            self._computed[provider] = cached
        return cached[1]

    # -- drawing ---------------------------------------------------------------------------------
    def redraw(self) -> None:
        """A feed, the outbox or a follow-up reported: findings and store reads again."""
        omega_counts = self.omega_counts()
        switchgrid_problems = self._findings_lines("switchgrid", "6", problems_only=True)
        self._tiles = {
            "tile-grtgaz": self._findings_lines("grtgaz", "2"),
            "tile-edf-oa": self._findings_lines("edf_oa", "3"),
            # nothing watched: the way to add one says it all
            "tile-omega": omega_counts.append_text(
                self._findings_lines(
                    "grdf_omega", "4", problems_only=not self.papp.runtime.store.watch_list(omega.PROVIDER)
                )
            ),
            "tile-adict": self._findings_lines("grdf_adict", "5"),
            # all fine: the "ok" finding has the counts
            "tile-switchgrid": self.switchgrid_counts().append_text(switchgrid_problems)
            if switchgrid_problems.plain
            else self._findings_lines("switchgrid", "6"),
        }
        for body in self._tiles.values():
            body.rstrip()
        self._edf_deadline = self.edf_oa_deadline()
        self.tick()

    def tick(self) -> None:
        """Repaint what moves with time, from memory only (no store read here). An announced
        GRTgaz change whose time has come is applied at once, paused or not (§3.2.2.1)."""
        tiles = self._tiles
        if not tiles:
            return
        now = self.papp.runtime.clock.now()
        due = self.announced_due(now)
        if due != self._due:
            self._due = due
            self._computed.pop("grtgaz", None)
            self.redraw()  # draws the tiles and ticks again
            return
        bodies = dict(tiles)
        bodies["tile-grtgaz"] = self.grtgaz_header(now).append_text(tiles["tile-grtgaz"])
        if self._edf_deadline is not None:
            bodies["tile-edf-oa"] = (
                tiles["tile-edf-oa"]
                .copy()
                .append(f"\n  deadline {self._edf_deadline:%H:%M} in {countdown(now, self._edf_deadline)}")
            )
        for tile, body in bodies.items():
            self.query_one(f"#{tile} .tile-body", Static).update(body)

    def announced_due(self, now: dt.datetime) -> tuple[tuple[str, str], ...]:
        """GRTgaz's announced changes already applied at ``now`` (pure and cheap: 13 sites)."""
        sites = list(self.papp.feeds.state(GRTGAZ_FEED).data or [])
        return tuple(
            sorted((a.site.site_id, str(flex)) for a in rules.applied_sites(sites, now) for flex in a.announced)
        )

    def grtgaz_header(self, now: dt.datetime) -> Text:
        """The worst colour now and the next announced change, counted down (§3.2.2.1)."""
        state = self.papp.feeds.state(GRTGAZ_FEED)
        sites = list(state.data or [])
        text = Text()
        if not sites:
            text.append("No indicator data yet.\n" if state.error is None else "No indicator data.\n", style="bold")
            return text
        # announced changes count from their application time, even paused or stale (§3.2.2.1)
        sites = [applied.site for applied in rules.applied_sites(sites, now)]
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
        return text

    def edf_oa_deadline(self) -> dt.datetime | None:
        """The acknowledgement deadline, while acknowledgements are missing and it has not passed."""
        feeds = self.papp.feeds
        order = feeds.state(edf_oa.CURTAILMENTS_FEED).data
        if order is None:
            return None
        settings = self.papp.runtime.settings.edf_oa
        summary = edf_oa_rules.ack_summary(
            order,
            feeds.state(edf_oa.ACKS_FEED).data,
            self.papp.runtime.clock.now(),
            edf_oa_rules.parse_hhmm(settings.ack_deadline),
        )
        return summary.deadline if summary.missing and summary.level != "critical" else None

    def omega_counts(self) -> Text:
        """Counts by status (the watch-list is read from the store here, on events)."""
        store = self.papp.runtime.store
        watched = store.watch_list(omega.PROVIDER)
        tracked = self.papp.feeds.state(omega.REQUESTS_FEED).data or {}
        text = Text()
        if not watched:
            return text.append("No request watched yet: press 4, then a to add one.\n", style="dim")
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
        return text

    def switchgrid_counts(self) -> Text:
        """Asks waiting for their signature, orders running or failed."""
        session = self.papp.runtime.connections[switchgrid.PROVIDER].session_as(switchgrid.SwitchgridSession)
        state = self.papp.feeds.state(switchgrid.FEED)
        text = Text()
        if not state.has_data and not session.followed():
            return text.append("No Switchgrid data yet.\n" if state.error is None else "", style="bold")
        data = session.current(state.data)
        pending, running, failed = data.pending_signature(), data.running(), data.failed()
        text.append(f"{len(pending)} ask(s) awaiting signature", style="bold" if pending else "")
        text.append(f" · {len(running)} order(s) running")
        if failed:
            text.append(f" · ✗ {len(failed)} failed", style="bold")
        return text.append("\n")
