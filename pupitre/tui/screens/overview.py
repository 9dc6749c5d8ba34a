"""Overview (key 1): what needs action. One line per provider, worst first (its level, worst
finding and data age: all five fit at 80×24), then one tile per provider with every finding."""

from __future__ import annotations

import datetime as dt

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Static

from pupitre.check import LABELS, unavailable
from pupitre.providers.core.checks import LEVELS, Finding, overall
from pupitre.providers.core.clock import format_age
from pupitre.providers.core.store import StoreUnreachable
from pupitre.providers.edf_oa import feeds as edf_oa
from pupitre.providers.edf_oa import rules as edf_oa_rules
from pupitre.providers.grdf_adict import feeds as adict
from pupitre.providers.grdf_omega import feeds as omega
from pupitre.providers.grtgaz import rules
from pupitre.providers.grtgaz.feeds import INDICATORS_FEED as GRTGAZ_FEED
from pupitre.providers.grtgaz.models import IndicatorStatus
from pupitre.providers.switchgrid import feeds as switchgrid
from pupitre.tui import registry
from pupitre.tui.feeds import FeedState
from pupitre.tui.formats import FLEX_SHORT, countdown
from pupitre.tui.screens.base import PupitreScreen
from pupitre.tui.widgets.feed_status import FeedStatus
from pupitre.tui.widgets.footer import PupitreFooter
from pupitre.tui.widgets.header import HeaderBar
from pupitre.tui.widgets.indicators import GLYPHS, WORDS, status_style, status_text

MAX_ATTENTION_LINES = 4


class Tile(Vertical):
    """One provider's findings in full, with its feed's status (below the provider lines)."""

    DEFAULT_CSS = """
    Tile {
        height: auto;
        padding: 0 1;
        border: round $foreground 30%;
    }
    Tile > .tile-body {
        height: auto;
    }
    """

    def __init__(
        self,
        title: str,
        feed: str,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.border_title = title
        self.feed = feed

    def compose(self) -> ComposeResult:
        yield Static("", classes="tile-body")
        yield FeedStatus(self.feed, classes="feed-status")


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


def worst_first(findings: list[Finding]) -> list[Finding]:
    """``findings`` from the worst level to the best, in their order within a level."""
    return sorted(findings, key=lambda finding: -LEVELS.index(finding.level))


def data_age(state: FeedState, now: dt.datetime) -> str:
    """A feed's data age in a few characters: ``12s``, ``stale 3h05`` (from the store), ``no data``."""
    if state.fetched_at is None:
        return "no data"
    age = format_age((now - state.fetched_at).total_seconds())
    return f"stale {age}" if state.from_store else age


def provider_line(title: str, key: str, findings: list[Finding], age: str, width: int) -> Text:
    """One provider in one line of ``width`` cells: its level's mark and word, its name, its
    worst finding (cut with "…" to fit; how many more), the data age and its screen's key."""
    level = overall(findings)
    ordered = worst_first(findings)
    message = ordered[0].message if ordered else "no finding yet"
    more = f" +{len(ordered) - 1}" if len(ordered) > 1 else ""
    head = Text(f"{LEVEL_MARK[level]} {LABELS[level]:<9}", style=FINDING_STYLE[level] or "bold")
    head.append(f" {title:<10} ")
    tail = Text(f"{more} {age:>6} {key}")
    room = max(width - head.cell_len - tail.cell_len, 1)
    body = Text(" ".join(message.split()), style=FINDING_STYLE[level])
    body.truncate(room, overflow="ellipsis", pad=True)
    return head.append_text(body).append_text(tail)


class ProviderLine(Widget, can_focus=True):
    """A provider in one line (:func:`provider_line`, drawn at the widget's width); Enter opens
    its screen, up and down move between the lines."""

    DEFAULT_CSS = """
    ProviderLine {
        height: 1;
        padding: 0 1;
    }
    ProviderLine:focus {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
    }
    """
    BINDINGS = [
        Binding("enter", "open", "Open", id="overview.open"),
        Binding("down", "move(1)", "Next", show=False),
        Binding("up", "move(-1)", "Previous", show=False),
    ]
    moved = False
    """True once the operator moved between the lines (until then the worst line has the focus)."""

    def __init__(self, provider: str, title: str, mode: str, key: str, tile: str, feed: str, order: int) -> None:
        super().__init__(id=f"line-{provider}")
        self.provider = provider
        self.tile_id = tile
        self.feed = feed
        self.order = order  # its place in the registry: the order within a level
        self.title = title
        self.mode = mode
        self.key = key
        self.findings: list[Finding] = []
        self.age = ""

    @property
    def level_rank(self) -> int:
        """How bad its worst finding is (0: all fine)."""
        return LEVELS.index(overall(self.findings))

    def show(self, findings: list[Finding], age: str) -> None:
        if (findings, age) != (self.findings, self.age):
            self.findings, self.age = findings, age
            self.refresh()

    def render(self) -> Text:
        return provider_line(self.title, f"[{self.key}]", self.findings, self.age, self.content_size.width)

    def action_open(self) -> None:
        self.app.switch_mode(self.mode)

    def action_move(self, step: int) -> None:
        """The next line (``step`` 1) or the previous one (-1), wrapping; the operator's choice
        then stays where it is when the lines are ordered again."""
        lines = list(self.screen.query(ProviderLine))
        lines[(lines.index(self) + step) % len(lines)].focus()
        self.moved = True

    def on_focus(self) -> None:
        """Once the operator moves between the lines, the focused line's tile comes into view
        (until then the worst line has the focus and its tile is the first: nothing scrolls)."""
        if any(line.moved for line in self.screen.query(ProviderLine)):
            self.call_after_refresh(self.show_tile)

    def show_tile(self) -> None:
        """Its tile (every finding) comes into view below the lines, at the top."""
        tiles = self.screen.query(f"#tiles #{self.tile_id}")
        if tiles:
            self.screen.query_one("#tiles", VerticalScroll).scroll_to_widget(tiles.first(), top=True, animate=False)


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
    """One line per provider, worst first, then one tile per provider in the same order: its
    findings computed by the same function as ``pupitre check`` (:meth:`provider_findings`),
    with what moves with time (countdowns) on top. Findings
    and everything read from the store are computed when a feed, the outbox or a follow-up
    reports (:meth:`redraw`), never on the one-second tick (:meth:`tick` repaints from memory)."""

    AUTO_FOCUS = "ProviderLine"  # focused as the screen is shown, so the first frame is drawn focused

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
        #: per provider: what its findings were computed from, and the findings
        self._computed: dict[str, tuple[tuple[object, ...], list[Finding]]] = {}
        self._edf_deadline: dt.datetime | None = None
        #: per tile: its lines computed at the last report (the tick repaints from these)
        self._tiles: dict[str, Text] = {}
        #: the GRTgaz announced changes already applied when the findings were last computed
        self._due: tuple[tuple[str, str], ...] = ()

    def compose(self) -> ComposeResult:
        yield HeaderBar("Overview")
        with Vertical(id="provider-lines"):
            for order, (entry, tile) in enumerate(registry.tiles()):
                title = self.papp.runtime.connections[tile.provider].title
                yield ProviderLine(tile.provider, title, entry.name, entry.key or "", tile.id, tile.feed, order)
        with VerticalScroll(id="tiles", classes="fill", can_focus=False):
            for entry, tile in registry.tiles():
                yield Tile(f"{tile.title}  [{entry.key}]", tile.feed, id=tile.id)
        yield PupitreFooter()

    def on_mount(self) -> None:
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

    def _findings(self, provider: str) -> list[Finding]:
        """The provider's findings, computed again only when its feeds' data, their errors or
        the day changed (a GRDF ADICT park may hold 100,000 rights)."""
        feeds = self.papp.feeds
        states = [feeds.state(f.name) for f in self.papp.runtime.connections[provider].feeds]
        signature: tuple[object, ...] = (
            *[(id(s.data), s.fetched_at, str(s.error)) for s in states],
            self.papp.runtime.clock.now().date(),
        )
        cached = self._computed.get(provider)
        if cached is None or cached[0] != signature:
            cached = (signature, self.provider_findings(provider))
            self._computed[provider] = cached
        return cached[1]

    def _findings_lines(self, provider: str, key: str, *, problems_only: bool = False) -> Text:
        """The provider's findings as lines, worst first; ``problems_only`` leaves out the "ok"
        lines (the tile says the same otherwise)."""
        findings = worst_first(self._findings(provider))
        if problems_only:
            findings = [f for f in findings if f.level != "ok"]
        return findings_text(findings, key=key)

    # -- drawing ---------------------------------------------------------------------------------
    def redraw(self) -> None:
        """A feed, the outbox or a follow-up reported: findings and store reads again."""
        watched = self.watched()
        omega_counts = self.omega_counts(watched)
        switchgrid_problems = self._findings_lines("switchgrid", "6", problems_only=True)
        self._tiles = {
            "tile-grtgaz": self._findings_lines("grtgaz", "2"),
            "tile-edf-oa": self._findings_lines("edf_oa", "3"),
            # nothing watched: the way to add one says it all
            "tile-omega": omega_counts.append_text(self._findings_lines("grdf_omega", "4", problems_only=not watched)),
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
        self._draw_lines(now)

    def _draw_lines(self, now: dt.datetime) -> None:
        """The provider lines (and the tiles below them) worst first, the registry's order
        within a level; each line's age from its tile's feed."""
        lines = list(self.query(ProviderLine))
        for line in lines:
            line.show(self._findings(line.provider), data_age(self.papp.feeds.state(line.feed), now))
        ordered = sorted(lines, key=lambda line: (-line.level_rank, line.order))
        if not any(line.moved for line in lines) and self.focused in lines:
            ordered[0].focus()  # the worst first, until the operator moves
        if ordered != lines:
            box, tiles = self.query_one("#provider-lines"), self.query_one("#tiles")
            for line in ordered:
                box.move_child(line, after=len(box.children) - 1)
                tiles.move_child(tiles.query_one(f"#{line.tile_id}"), after=len(tiles.children) - 1)
            if any(line.moved for line in lines) and isinstance(self.focused, ProviderLine):
                self.call_after_refresh(self.focused.show_tile)  # its tile moved
            else:
                tiles.scroll_home(animate=False)  # the worst line's tile, now the first

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
        counts = rules.status_counts(sites)
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

    def watched(self) -> list[str]:
        """The watch-list, read from the store here, on events; while the team's store does not
        answer (a console's start, a loss), the requests of the last result shown."""
        try:
            return [key for key, _ in self.papp.runtime.store.watch_list(omega.PROVIDER)]
        except StoreUnreachable:
            return list(self.papp.feeds.state(omega.REQUESTS_FEED).data or {})

    def omega_counts(self, watched: list[str]) -> Text:
        """Counts by status of the ``watched`` requests."""
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
