"""Access rights (key 5): every GRDF ADICT access right of the park, at park scale.

The list streams in (rows show while it still arrives), in a virtualised table that
renders only the visible lines. Filters by state, role and proof status are sent as
the ``POST /droits_acces`` search when the API answers, and applied to the stored
copy when it does not; ``/`` searches a PCE or a holder as you type; ``s`` sorts by
any column; ``d`` shows the rights awaiting proofs by deadline (``⚑`` due within 5
working days, ``‼`` past). A stream cut halfway keeps the rows received and shows why.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections import Counter
from itertools import compress
from operator import add
from typing import AbstractSet, Any, Mapping, Sequence

from rich.markup import escape
from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Static
from textual.worker import Worker, get_current_worker

from pupitre.providers.core.clock import format_age, paris
from pupitre.providers.core.columns import CodedColumn
from pupitre.providers.core.search import search_key
from pupitre.providers.core.text import unknown_word
from pupitre.providers.grdf_adict import models as m
from pupitre.providers.grdf_adict.feeds import (
    PROVIDER,
    RIGHTS_FEED,
    AdictSession,
    DeadlineCache,
    RightsLoad,
    RightsTable,
    is_ended,
)
from pupitre.runners import EXPORT_TOPIC
from pupitre.tui.screens.base import PupitreScreen
from pupitre.tui.widgets.feed_status import FeedStatus
from pupitre.tui.widgets.footer import PupitreFooter
from pupitre.tui.widgets.header import HeaderBar
from pupitre.tui.widgets.outbox_status import outbox_status
from pupitre.tui.widgets.rights_panels import FilterPicker, SortPicker
from pupitre.tui.widgets.search_prompt import SearchPrompt
from pupitre.tui.widgets.virtual_table import Column, VirtualTable

COLUMNS = (
    Column("pce", "PCE", 14),
    Column("state", "State", 14),
    Column("proof", "Proof", 11),
    Column("deadline", "Proof due", 12),
    Column("holder", "Holder", 20),
    Column("role", "Role", 10),
    Column("start", "Right from", 10),
    Column("end", "Right to", 10),
    Column("perim_start", "Data from", 10),
    Column("perim_end", "Data to", 10),
    Column("route", "Route", 14),
)
ENDED = "⊣ Ended"  # an Active right past its end date (feeds.is_ended)
STATE_GLYPHS = {m.ACTIVE: "✓", m.TO_VALIDATE: "…", m.REVOKED: "✗", m.TO_RECHECK: "?", m.OBSOLETE: "∅", m.REFUSED: "⊘"}
PROOF_SHORT = {
    m.PROOF_PENDING: "en attente",
    m.PROOF_TO_CHECK: "à vérifier",
    m.PROOF_CHECKING: "en cours",
    m.PROOF_OK: "OK",
    m.PROOF_KO: "KO",
}
ROLE_SHORT = {
    "AUTORISE_CONTRAT_FOURNITURE": "Aut. fourn",
    "DETENTEUR_CONTRAT_FOURNITURE": "Dét. fourn",
    "AUTORISE_CONTRAT_INJECTION": "Aut. inj",
    "DETENTEUR_CONTRAT_INJECTION": "Dét. inj",
}
FILTERS = (("state", "State", m.STATES), ("role", "Role", m.ROLES), ("proof", "Proof status", m.PROOF_STATUSES))
OVERDUE = Style(bold=True, reverse=True)
SOON = Style(bold=True)
LOST = Style(dim=True)
POLL_SECONDS = 0.1
RESORT_SECONDS = 1.0  # while streaming with a sort: re-sort at most this often
RESIZE_SECONDS = 0.5  # while streaming below a full page: resize the table at most this often
FOUND_KEPT = 8  # searches whose rows are kept (typing on narrows them; a backspace finds them)
HAY_CHUNK = 50_000  # rows folded at a time by the background fold (~20 ms: the UI thread gets the GIL between)
_SPACE = re.compile(r"\s")


def _rows_in(column: Sequence[str], wanted: AbstractSet[str], rows: Sequence[int]) -> list[int]:
    """The rows of ``rows`` whose value in ``column`` is one of ``wanted`` (on the codes when
    the column is coded)."""
    if isinstance(column, CodedColumn):
        return column.rows_in(wanted, rows)
    return [i for i in rows if column[i] in wanted]


def _counts(column: Sequence[str], start: int, stop: int) -> dict[str, int]:
    """How many rows of ``start:stop`` hold each value."""
    if isinstance(column, CodedColumn):
        return column.counts(start, stop)
    return dict(Counter(column[start:stop]))


class RightsView:
    """Which rows of a :class:`RightsTable` show, in which order (no Textual here).

    Filters, state counts and sorts run on the coded columns' codes (dates are ISO, so
    their values sort right); sorts are cached per column; typing a longer search
    narrows the previous result instead of scanning the whole park again, and a
    backspace finds the shorter search's rows still there.
    """

    def __init__(self) -> None:
        self.table = RightsTable()
        self.filters: dict[str, set[str]] = {"state": set(), "role": set(), "proof": set()}
        self.search = ""
        self.sort: str | None = None
        self.reverse = False
        self.deadlines = False
        self._hay: list[str] = []
        self._holder_keys: list[str] = []  # "\x00" + search_key of each distinct holder, by code
        self._hay_lock = threading.Lock()  # the search text is also folded in a worker thread
        self._orders: dict[tuple[str, bool], tuple[int, list[int]]] = {}
        self._base: tuple[Any, list[int]] | None = None
        self._found: dict[str, list[int]] = {}  # the rows of recent searches, by folded needle
        self.counts: dict[str, int] = {}
        self._counted = 0
        self.today = ""  # ISO: « Active » rights that ended before it are counted in ``ended``
        self.ended = 0
        self._past: set[int] = set()  # codes of the end dates before ``today``
        self._past_judged = 0  # how many of the end column's distinct values were judged so

    def set_table(self, table: RightsTable) -> None:
        if table is not self.table:
            with self._hay_lock:  # a fold under way in the worker ends its chunk on the old table first
                self.table = table
                self._hay, self._holder_keys = [], []
            self._orders, self._base, self.counts, self._counted = {}, None, {}, 0
            self.ended, self._past, self._past_judged = 0, set(), 0

    def set_today(self, today: dt.date) -> None:
        if today.isoformat() != self.today:
            self.today, self.counts, self._counted, self.ended = today.isoformat(), {}, 0, 0
            self._past, self._past_judged = set(), 0

    @property
    def search_ready(self) -> bool:
        """Whether every row of the table is folded for searching (no keystroke pays a fold)."""
        return len(self._hay) >= len(self.table)

    def fold_search(self, limit: int | None = None) -> bool:
        """Fold for searching the rows arrived since, at most ``limit`` of them; whether all
        are. Safe from a worker thread: the screen folds a complete table in the background
        (:data:`HAY_CHUNK` rows at a time) so the first keystroke does not fold a million rows
        (~1 s); a keystroke before it ends folds the rest itself."""
        with self._hay_lock:
            col = self.table.col
            n = len(self.table)
            start = len(self._hay)
            stop = n if limit is None else min(n, start + limit)
            if start < stop:
                holders = col["holder"]
                if isinstance(holders, CodedColumn):  # each distinct holder folded once
                    keys = self._holder_keys
                    keys.extend("\x00" + search_key(holder) for holder in holders.values[len(keys) :])
                    folded: Any = map(keys.__getitem__, holders.codes[start:stop])
                else:
                    folded = ("\x00" + search_key(holder) for holder in holders[start:stop])
                pces = col["pce"][start:stop]
                joined = "".join(pces)
                # PCEs are ASCII without spaces: folded by str.lower, a C loop (~1 s less a million)
                plain = joined.isascii() and not _SPACE.search(joined)
                self._hay.extend(map(add, map(str.lower if plain else search_key, pces), folded))
            return stop >= n

    def _sync(self) -> None:
        """Extend the state counts to the rows arrived since."""
        col = self.table.col
        n = len(self.table)
        if self._counted < n:
            start, counts = self._counted, self.counts
            states, ends = col["state"], col["end"]
            for state, count in _counts(states, start, n).items():
                counts[state] = counts.get(state, 0) + count
            if isinstance(states, CodedColumn) and isinstance(ends, CodedColumn):
                # « Active » rows whose end is past, counted on the codes (a C loop)
                active, today, values = states.code_of(m.ACTIVE), self.today, ends.values
                # each distinct end date judged once (not again at every poll while rows arrive)
                self._past.update(code for code in range(self._past_judged, len(values)) if "" < values[code] < today)
                self._past_judged = len(values)
                past = self._past
                if active is not None and past:
                    flags = states.flags({active}, start, n)
                    self.ended += sum(map(past.__contains__, compress(ends.codes[start:n], flags)))
            else:
                self.ended += sum(
                    1 for s, e in zip(states[start:n], ends[start:n], strict=True) if is_ended(s, e, self.today)
                )
            self._counted = n

    def _order(self, n: int) -> Sequence[int]:
        if self.deadlines:
            key, reverse = "deadline", False
        elif self.sort is None:
            return range(n)
        else:
            key, reverse = self.sort, self.reverse
        cached = self._orders.get((key, reverse))
        if cached is None or cached[0] != n:
            column = self.table.col[key]
            if isinstance(column, CodedColumn):  # distinct values sorted, rows dealt by code
                order = column.order(n, reverse)
            else:
                keys = column[:n]
                order = sorted(range(n), key=keys.__getitem__, reverse=reverse)
            self._orders[(key, reverse)] = (n, order)
            return order
        return cached[1]

    def compute(self) -> list[int]:
        """The rows to show, as data row numbers in display order."""
        self._sync()
        n = len(self.table)
        signature = (
            n,
            id(self.table),
            tuple((k, tuple(sorted(v))) for k, v in self.filters.items()),
            self.sort,
            self.reverse,
            self.deadlines,
        )
        if self._base is None or self._base[0] != signature:
            self._base = (signature, self._filtered(self._order(n), self.table.col))
            self._found = {}
        rows = self._base[1]
        needle = search_key(self.search)
        if not needle:
            return list(rows)
        self.fold_search()
        found = self._found
        if needle not in found:
            # narrow the longest search typed before that this one extends (typing on);
            # a backspace finds its shorter search still there
            previous = max((k for k in found if needle.startswith(k)), key=len, default="")
            hay = self._hay
            found[needle] = [i for i in found.get(previous, rows) if needle in hay[i]]
            while len(found) > FOUND_KEPT:
                del found[next(iter(found))]
        return list(found[needle])

    def _filtered(self, rows: Sequence[int], col: Mapping[str, Sequence[str]]) -> list[int]:
        out: Sequence[int] = rows
        for name, wanted in self.filters.items():
            if wanted:
                out = _rows_in(col[name], wanted, out)
        if self.deadlines:
            out = _rows_in(col["proof"], {m.PROOF_PENDING}, out)
            deadline = col["deadline"]
            if isinstance(deadline, CodedColumn):
                out = _rows_in(deadline, {day for day in deadline.values if day}, out)
            else:
                out = [i for i in out if deadline[i]]
        return list(out)

    def append(self, view: list[int], start: int) -> list[int] | None:
        """The view with rows ``start…`` appended, or ``None`` when it must be recomputed
        (a sort or the deadlines order puts new rows anywhere)."""
        if self.sort is not None or self.deadlines:
            return None
        self._sync()
        n = len(self.table)
        rows = self._filtered(range(start, n), self.table.col)
        needle = search_key(self.search)
        if needle:
            self.fold_search()
            rows = [i for i in rows if needle in self._hay[i]]
        view.extend(rows)
        self._base = None
        return view

    @property
    def filtered(self) -> bool:
        return any(self.filters.values())

    def describe(self) -> str:
        parts = [f"{label}: {', '.join(sorted(self.filters[key]))}" for key, label, _ in FILTERS if self.filters[key]]
        if self.search.strip():
            parts.append(f"search « {self.search.strip()} »")
        if self.deadlines:
            parts.append("proofs awaited, by deadline")
        elif self.sort:
            label = next(c.label for c in COLUMNS if c.key == self.sort)
            parts.append(f"sorted by {label} {'↓' if self.reverse else '↑'}")
        return " · ".join(parts)


class RightsCells:
    """Cell texts and styles for the visible rows (glyph + word: readable without colour)."""

    def __init__(self, view: RightsView, today: dt.date) -> None:
        self.view = view
        self.deadlines = DeadlineCache(today)

    def cells(self, row: int, columns: Sequence[Column]) -> list[tuple[str, Style | None]]:
        col = self.view.table.col
        out: list[tuple[str, Style | None]] = []
        for column in columns:
            key = column.key
            value = col[key][row]
            style: Style | None = None
            if key == "state":
                style = LOST if value in (m.REVOKED, m.OBSOLETE, m.REFUSED) or value not in STATE_GLYPHS else None
                if is_ended(value, col["end"][row], self.deadlines.today):
                    value, style = ENDED, LOST
                elif not value:
                    value = "—"
                elif value in STATE_GLYPHS:
                    value = f"{STATE_GLYPHS[value]} {value}"
                else:  # a state the document does not list: shown on its row, counted as attention
                    value = unknown_word(value)
            elif key == "proof":
                value = PROOF_SHORT.get(value, value) or "—"
            elif key == "role":
                value = ROLE_SHORT.get(value, value)
            elif key == "deadline" and value:
                value, style = self.deadline_cell(value, col["proof"][row] == m.PROOF_PENDING)
            out.append((value, style))
        return out

    def deadline_cell(self, deadline: str, awaited: bool) -> tuple[str, Style | None]:
        if not awaited:
            return f"  {deadline}", None
        late, soon, _ = self.deadlines(deadline)
        if late:
            return f"‼ {deadline}", OVERDUE
        if soon:
            return f"⚑ {deadline}", SOON
        return f"  {deadline}", None


class AccessRightsScreen(PupitreScreen):
    FEEDS = (RIGHTS_FEED,)
    BINDINGS = [
        # Priority: handled as the key arrives, so the keys typed right behind it (a fast
        # typist, a paste over SSH) already go to the prompt or panel it opens.
        Binding("slash", "search", "Search", id="rights.search", priority=True),
        Binding("n", "declare", "Declare", id="rights.declare"),
        Binding("x", "revoke", "Revoke", id="rights.revoke"),
        Binding("u", "proofs", "Send proofs", id="rights.proofs"),
        Binding("f", "filter", "Filter", id="rights.filter", priority=True),
        Binding("s", "sort", "Sort", id="rights.sort", priority=True),
        Binding("d", "deadlines", "Deadlines", id="rights.deadlines"),
        Binding("c", "clear", "Clear", id="rights.clear"),
        Binding("e", "export", "Export data", id="rights.export"),
        Binding("enter", "detail", "Detail", show=False, id="rights.detail"),
        Binding("escape", "close_search", "Close", show=False, id="rights.close"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.view = RightsView()
        self.search_load: RightsLoad | None = None
        self.rows: list[int] = []
        self._shown: tuple[int, int] = (0, -1)  # (id of the table, rows taken into the view)
        self._resorted = 0.0
        self._resized = 0.0
        self._status_at = 0.0
        self._extended = 0  # rows the table's size accounts for
        self.cells = RightsCells(self.view, dt.date.today())
        self._texts: dict[str, str | None] = {}
        self.exporter: Any = None
        self._folding: Worker[None] | None = None

    def compose(self) -> ComposeResult:
        yield HeaderBar("Access rights")
        yield Static("", id="rights-summary", classes="note")
        yield Static("", id="rights-counts", classes="note")
        yield Static("", id="rights-error", classes="message -error")
        yield Static("", id="rights-actions", classes="note")
        yield Static("", id="rights-export", classes="block")
        yield VirtualTable(COLUMNS, self.cells, id="rights-table", empty_text="No access right to show.")
        yield SortPicker(COLUMNS, id="rights-sort", classes="rights-panel")
        yield FilterPicker(FILTERS, id="rights-filter", classes="rights-panel")
        yield SearchPrompt(
            lambda: self.query_one(VirtualTable), id="rights-search", classes="prompt", placeholder="PCE or holder…"
        )
        yield FeedStatus(RIGHTS_FEED, classes="feed-status")
        yield PupitreFooter()

    def on_mount(self) -> None:
        self.query_one(SortPicker).display = False
        self.query_one(FilterPicker).display = False
        self.query_one("#rights-export").display = False
        self.set_focus(self.query_one(VirtualTable))
        self.set_interval(POLL_SECONDS, self._poll)
        self.papp.outbox.updated.subscribe(self, lambda _: self._actions_line())
        self.papp.feeds.updated.subscribe(self, self._export_updated)
        self._actions_line()
        if self.papp.runners.export is not None:  # an export started earlier goes on, or has ended
            self._export_updated(EXPORT_TOPIC)

    # -- data --------------------------------------------------------------------------
    @property
    def session(self) -> AdictSession:
        return self.papp.runtime.connections[PROVIDER].session_as(AdictSession)

    def stored(self) -> RightsTable | None:
        return self.papp.feeds.state(RIGHTS_FEED).data_as(RightsTable)

    def load_shown(self) -> RightsLoad | None:
        """The streamed read on screen: a search; else the feed's read under way or cut, but
        only while no complete list is stored. With one, a refresh under way, failed or cut
        never replaces it: a partial list never stands for the whole (the line says what
        happened, and the list's age)."""
        if self.search_load is not None:
            return self.search_load
        live = self.session.live
        if live is not None and (live.streaming or live.error) and self.stored() is None:
            return live
        return None

    def feed_load(self) -> RightsLoad | None:
        """The rights feed's read under way or cut, whether or not it is what is shown."""
        live = self.session.live
        return live if self.search_load is None and live is not None and (live.streaming or live.error) else None

    def source(self) -> RightsTable:
        load = self.load_shown()
        if load is not None:
            return load.table
        return self.stored() or RightsTable()

    # -- drawing -----------------------------------------------------------------------
    def redraw(self) -> None:
        today = paris(self.papp.runtime.clock.now()).date()  # rights end on Paris days
        self.cells.deadlines = DeadlineCache(today)
        self.view.set_today(today)
        self._poll(force=True)

    def _poll(self, force: bool = False) -> None:
        """At most every 100 ms: take the rows arrived since into the view, redraw the lines."""
        table = self.source()
        self.view.set_table(table)
        n = len(table)
        widget = self.query_one(VirtualTable)
        if force or self._shown[0] != id(table):
            self._recompute(widget)
        elif self._shown[1] != n:
            now = time.monotonic()
            shown_before = len(widget.view) if widget.view is self.rows else 0
            appended = self.view.append(self.rows, self._shown[1])
            if appended is not None:
                # Below a full page, new rows change only the scrollbar: resize the table at
                # most every RESIZE_SECONDS while streaming (each resize repaints it).
                page_full = shown_before > widget.page_rows + int(widget.scroll_offset.y)
                if not page_full or now - self._resized >= RESIZE_SECONDS or not self._loading():
                    widget.extend_view(appended, self._extended)
                    self._extended, self._resized = len(appended), now
            elif now - self._resorted >= RESORT_SECONDS or not self._loading():
                self._recompute(widget)
            else:
                return
        else:
            if not force:
                self._status()
                self._fold_when_idle()  # rows on screen first: the fold would slow them
            return
        self._shown = (id(table), n)
        if force or not self._loading() or time.monotonic() - self._status_at >= RESIZE_SECONDS:
            self._status()  # while streaming, the counts move at most every RESIZE_SECONDS

    def _fold_when_idle(self) -> None:
        """Once the rows shown are complete and no read runs (its store write is the memory
        peak), fold them for searching in a worker thread, so no keystroke pays it."""
        if self.view.search_ready or self._loading() or self.papp.feeds.state(RIGHTS_FEED).running:
            return
        if self._folding is None or self._folding.is_finished:
            self._folding = self._fold_search()

    @work(thread=True, group="adict-fold", exit_on_error=False)
    def _fold_search(self) -> None:
        worker = get_current_worker()
        while not worker.is_cancelled and not self.view.fold_search(HAY_CHUNK):
            pass

    def _recompute(self, widget: VirtualTable) -> None:
        self.rows = self.view.compute()
        self._resorted = time.monotonic()
        widget.set_view(self.rows)
        self._extended = len(self.rows)

    def _loading(self) -> bool:
        load = self.load_shown()
        return load is not None and load.streaming

    def _status(self) -> None:
        self._status_at = time.monotonic()
        load = self.load_shown()
        table = self.view.table
        text = Text()
        if load is not None and load.kind == "search":
            text.append("Search on GRDF: ", style="bold")
        elif load is not None and load.kind == "local":
            text.append("Offline search on the stored copy: ", style="bold")
        partial = load is not None and load.kind == "all" and load.error is not None
        text.append(f"{len(self.rows):,} shown of {len(table):,} right(s)".replace(",", " "))
        if partial:
            text.append(" received — PARTIAL, not the whole list", style="bold reverse")
        if load is not None and load.streaming:
            text.append(f" · streaming… {len(table):,} loaded".replace(",", " "), style="bold")
        feed_load = self.feed_load()
        if feed_load is not None and feed_load is not load and feed_load.streaming:
            text.append(f" · refreshing… {len(feed_load.table):,} received".replace(",", " "), style="bold")
        described = self.view.describe()
        if described:
            text.append(f" · {described}")
        self._update("#rights-summary", text)
        counts = Text()
        for state in m.STATES:
            if counts:
                counts.append(" · ", style="dim")
            counts.append(f"{STATE_GLYPHS[state]} {state} {self.view.counts.get(state, 0)}")
            if state == m.ACTIVE and self.view.ended:
                counts.append(f" (of which {ENDED.lower()} {self.view.ended})")
        for state, n in sorted(self.view.counts.items()):
            if state and state not in STATE_GLYPHS:  # the row's narrow column may cut the word: told here whole
                counts.append(" · ", style="dim")
                counts.append(f"{unknown_word(state)} {n}", style="bold")
        if partial:
            counts = Text("partial: ", style="bold").append_text(counts)
        self._update("#rights-counts", counts)
        message = load.error if load is not None else None
        if feed_load is not None and feed_load.error and not feed_load.streaming:
            feed = self.papp.feeds.state(RIGHTS_FEED)
            message = f"{feed_load.error} · r retries"
            if feed.data is not None and feed.fetched_at is not None:
                now = self.papp.runtime.clock.now()
                age = format_age((now - feed.fetched_at).total_seconds())
                rights = f"{len(feed.data):,}".replace(",", " ")
                message += (
                    f" · showing the last complete list ({rights} rights, "
                    f"fetched {feed.fetched_at.astimezone(now.tzinfo):%d/%m %H:%M}, {age} old)"
                )
            else:
                message += " · no complete list yet: the rows above are only those received"
        self._update("#rights-error", Text(f"⚠ {message}", style="bold") if message else None)

    def _update(self, selector: str, text: Text | None) -> None:
        """Touch a line only when it changes (this runs every 100 ms while rows arrive)."""
        plain = None if text is None else text.plain
        if self._texts.get(selector, "") == plain:
            return
        self._texts[selector] = plain
        widget = self.query_one(selector, Static)
        widget.display = text is not None
        if text is not None:
            widget.update(text)

    # -- actions -----------------------------------------------------------------------
    def _from_the_table(self) -> None:
        """The priority keys act only from the table; elsewhere (typing in the search, a
        panel open) the key goes on to the focused widget."""
        if not isinstance(self.focused, VirtualTable):
            raise SkipAction()

    def action_search(self) -> None:
        self._from_the_table()
        self.query_one(SearchPrompt).open()

    @on(Input.Changed, "#rights-search")
    def _search_changed(self, event: Input.Changed) -> None:
        self.view.search = event.value
        self._poll(force=True)

    def action_close_search(self) -> None:
        self.query_one(SearchPrompt).clear()

    def action_sort(self) -> None:
        self._from_the_table()
        self.query_one(SortPicker).open(self.view.sort, self.view.reverse)

    @on(SortPicker.OptionSelected)
    def _sort_chosen(self, event: SortPicker.OptionSelected) -> None:
        key = event.option.id
        if key == self.view.sort:
            self.view.reverse = not self.view.reverse
        else:
            self.view.sort, self.view.reverse = key, False
        self.view.deadlines = False
        self._close_panels()
        self._poll(force=True)

    def action_deadlines(self) -> None:
        self.view.deadlines = not self.view.deadlines
        self._poll(force=True)

    def action_filter(self) -> None:
        self._from_the_table()
        self.query_one(FilterPicker).open(self.view.filters)

    @on(FilterPicker.Applied)
    def _filters_chosen(self, event: FilterPicker.Applied) -> None:
        self._close_panels()
        self.apply_filters(event.filters)

    @on(SortPicker.Closed)
    @on(FilterPicker.Closed)
    def _close_panels(self) -> None:
        self.query_one(SortPicker).display = False
        self.query_one(FilterPicker).display = False
        self.set_focus(self.query_one(VirtualTable))

    def apply_filters(self, filters: dict[str, set[str]]) -> None:
        """Online, the filters go to GRDF as the search; offline, onto the stored copy."""
        self.view.filters = {key: set(filters.get(key, ())) for key, _, _ in FILTERS}
        if self.view.filtered:
            load = RightsLoad("search", {k: sorted(v) for k, v in self.view.filters.items() if v})
            self.search_load = load
            self._search(load)
        else:
            self.search_load = None
        self._poll(force=True)

    @work(group="adict-search", exclusive=True, exit_on_error=False)
    async def _search(self, load: RightsLoad) -> None:
        result = await self.session.search(load, self.stored())
        if self.search_load is load:
            self.search_load = result
            self._poll(force=True)

    def action_clear(self) -> None:
        self.view.search, self.view.sort, self.view.reverse, self.view.deadlines = "", None, False, False
        self.query_one(SearchPrompt).clear()
        self.apply_filters({})
        self.set_focus(self.query_one(VirtualTable))

    def current(self) -> dict[str, str] | None:
        row = self.query_one(VirtualTable).current_row
        return None if row is None else self.view.table.row(row)

    @on(VirtualTable.Selected)
    def _selected(self, event: VirtualTable.Selected) -> None:
        self.open_detail(self.view.table.row(event.row))

    def action_detail(self) -> None:
        right = self.current()
        if right is not None:
            self.open_detail(right)

    def open_detail(self, right: dict[str, str]) -> None:
        self.papp.open_screen("pce_detail", right)

    # -- actions (outbox) ----------------------------------------------------------------
    def _actions_line(self) -> None:
        """The last GRDF ADICT action: queued, sent, verified (the state read back), or why not."""
        items = self.papp.runtime.store.outbox(provider=PROVIDER, include_held=True)
        if not items:
            self._update("#rights-actions", None)
            return
        item = items[-1]
        text = Text()
        text.append(f"Last action #{item.id} {item.action}: ", style="bold")
        text.append_text(outbox_status(self.papp, item))
        self._update("#rights-actions", text)

    def _right_model(self) -> Any:
        from pupitre.providers.grdf_adict.feeds import right_row

        row = self.current()
        if row is None:
            self.notify("No access right selected.", severity="warning", timeout=4)
            return None
        return right_row(row)

    def _submit(self, action: str, payload: dict[str, Any], question: str) -> None:
        from pupitre.tui.dialogs.confirm import ConfirmScreen
        from pupitre.tui.outbox import submit_after_confirmation

        def queued(item: int) -> None:
            self.notify(f"#{item} written to the outbox; sending…", timeout=5)
            self._actions_line()

        submit_after_confirmation(self, PROVIDER, action, payload, ConfirmScreen(question), queued)

    def action_declare(self) -> None:
        from pupitre.providers.grdf_adict import actions
        from pupitre.tui.dialogs.rights_actions import DeclareScreen

        row = self.current()
        prefill: dict[str, Any] = {}
        if row is not None and row["state"] in (m.REVOKED, m.OBSOLETE, m.REFUSED):  # a renewal
            prefill = {
                "id_pce": row["pce"],
                "code_postal": row["postcode"],
                "courriel_titulaire": row["email"],
                "role_tiers": row["role"] or m.ROLES[0],
                ("nom_titulaire" if row["person"] else "raison_sociale"): row["holder"],
            }
        now = self.papp.runtime.clock.now()

        def done(payload: dict[str, Any] | None) -> None:
            if payload is not None:
                handler = self.papp.runtime.outbox.handlers[(PROVIDER, actions.DECLARE)]
                self._submit(
                    actions.DECLARE,
                    payload,
                    f"{handler.describe(payload)}?\nGRDF answers with the "
                    "state of the new right (« A valider » until the holder confirms).",
                )

        self.app.push_screen(DeclareScreen(now, prefill), done)

    def action_revoke(self) -> None:
        from pupitre.providers.grdf_adict import actions

        right = self._right_model()
        if right is None:
            return
        form = actions.revocation_form(right, self.papp.runtime.clock.now())
        if not form.ok:
            self.notify(
                escape("Cannot revoke: " + " ".join(form.messages)),
                title="Refused — nothing sent",
                severity="error",
                timeout=15,
            )
            return
        self._submit(actions.REVOKE, form.payload or {}, actions.revocation_confirmation(right))

    def action_proofs(self) -> None:
        from pupitre.providers.grdf_adict import actions, rules
        from pupitre.tui.dialogs.rights_actions import ProofsScreen

        right = self._right_model()
        if right is None:
            return
        problem = rules.proof_status_problem(right.statut_controle_preuve)
        if problem:
            self.notify(escape(problem), title="Refused — nothing sent", severity="error", timeout=15)
            return

        def done(payload: dict[str, Any] | None) -> None:
            if payload is not None:
                names = ", ".join(f["name"] for f in payload["files"])
                self._submit(
                    actions.SEND_PROOFS,
                    payload,
                    f"Send {len(payload['files'])} proof file(s) ({names}) for the right on PCE "
                    f"{right.id_pce} ({right.holder or '?'})?",
                )

        self.app.push_screen(ProofsScreen(right, self.papp.runtime.clock.now()), done)

    # -- export (reads, not outbox actions) ------------------------------------------------
    def action_export(self) -> None:
        """``e``: export the data of the PCEs shown (or cancel the export under way)."""
        self._exporter().start()

    def _exporter(self) -> Any:
        from pupitre.tui.dialogs.rights_export import ExportController

        if self.exporter is None:
            self.exporter = ExportController(self)
        return self.exporter

    def _export_updated(self, topic: str) -> None:
        """The app's export moved on (or ended): its line."""
        if topic == EXPORT_TOPIC:
            self._exporter().draw()
