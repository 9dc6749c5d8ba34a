"""Audit (key 7): the shift handover — every action and operation of this mode's environments,
and the actions an operator must know of, each with what to do.

Two lists, ``a`` switches: the **audit log** (when in Paris time, provider, what, outcome, who,
environment, detail), filtered by provider (``v``), day (``[`` ``]``, ``d`` today / all days),
outcome (``o``) and a search as you type (``/``, the dashboard's one search:
:mod:`pupitre.providers.core.search`); and the **actions** the outbox still holds, pending or
refused lately, each with the sentence of :mod:`pupitre.providers.core.outbox_words` saying what
to do (the same as ``pupitre outbox``). Both are read from the store in a thread worker — on
opening, every :data:`POLL_SECONDS` while shown and when the outbox moves — never on the UI
thread; only the newest :data:`NEWEST` lines are read unless a day is chosen (that whole day).
This screen only reads the audit log: lines are written outside ``tui/`` (a test enforces it).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Sequence

import msgspec
from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Static

from pupitre.providers.core.clock import PARIS
from pupitre.providers.core.environments import label_of
from pupitre.providers.core.outbox_words import needs_operator, state_of, todo_of
from pupitre.providers.core.search import search_key
from pupitre.providers.core.store import AuditEntry, OutboxItem, StoreError
from pupitre.providers.core.text import clean_text
from pupitre.tui.screens.base import PupitreScreen
from pupitre.tui.widgets.footer import PupitreFooter
from pupitre.tui.widgets.header import HeaderBar
from pupitre.tui.widgets.outbox_status import LOUD
from pupitre.tui.widgets.search_prompt import SearchPrompt
from pupitre.tui.widgets.virtual_table import Column, VirtualTable

if TYPE_CHECKING:
    from pupitre.providers.core.store import Store

log = logging.getLogger("pupitre.audit")
#: how many of the newest lines are read when no day is chosen
NEWEST = 5000
#: how often the lists are read again while the screen is shown (seconds)
POLL_SECONDS = 10
#: outcomes an operator taking over must not miss (bold, reversed)
PROBLEMS = frozenset({"failed", "refused", "held", "differs", "given up", "not written", "not started"})
LOUD_STYLE = Style(bold=True, reverse=True)
BOLD = Style(bold=True)

AUDIT_COLUMNS = (
    Column("at", "When (Paris)", 14),
    Column("provider", "Provider", 10),
    Column("action", "What", 16),
    Column("outcome", "Outcome", 11),
    Column("who", "Who", 14),
    Column("detail", "Detail", 60),
    Column("env", "Environment", 24),
)
ACTION_COLUMNS = (
    Column("id", "#", 5),
    Column("state", "State", 12),
    Column("provider", "Provider", 10),
    Column("action", "What", 16),
    Column("todo", "What to do", 70),
    Column("why", "Why", 40),
    Column("queued", "Queued", 11),
)


class AuditLine(msgspec.Struct, frozen=True):
    """One audit line as shown: its instant in Paris time and its folded search text."""

    entry: AuditEntry
    at: dt.datetime | None
    search: str


def audit_line(entry: AuditEntry, titles: dict[str, str], labels: dict[str, str]) -> AuditLine:
    """``entry`` read for the screen: its text cleaned of what a terminal would act on (a
    detail may quote an API), its time in Paris (an unreadable time shown as stored).
    ``labels``: environment labels already made (one per environment, not per line)."""
    texts = (entry.action, entry.outcome, entry.detail, entry.operator)
    cleaned = tuple(clean_text(text) for text in texts)
    if cleaned != texts:
        action, outcome, detail, operator = cleaned
        entry = msgspec.structs.replace(entry, action=action, outcome=outcome, detail=detail, operator=operator)
    try:
        at: dt.datetime | None = dt.datetime.fromisoformat(entry.at).astimezone(PARIS)
    except ValueError:
        at = None
    if entry.env not in labels:
        labels[entry.env] = label_of(entry.env)
    words = (entry.at, titles.get(entry.provider, entry.provider), entry.action, entry.outcome, entry.detail)
    return AuditLine(entry, at, search_key("\x00".join((*words, entry.operator, labels[entry.env]))))


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The instants a Paris day starts and ends (23 or 25 hours on DST days)."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=PARIS)
    return start, dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=PARIS)


def read_audit(store: Store, day: dt.date | None, titles: dict[str, str], after: int | None = None) -> list[AuditLine]:
    """This mode's audit lines, newest first: the whole ``day`` (Paris), else the newest
    :data:`NEWEST` — only those after the line numbered ``after`` when given (what is new)."""
    if day is None:
        entries = store.audit_entries(limit=NEWEST, after=after)
    else:
        since, until = day_bounds(day)
        entries = store.audit_entries(limit=None, since=since, until=until, after=after)
    labels: dict[str, str] = {}
    return [audit_line(entry, titles, labels) for entry in entries]


def read_actions(store: Store, now: dt.datetime) -> list[OutboxItem]:
    """The actions an operator taking over must know of (``pupitre outbox``'s), newest first."""
    items = store.outbox(include_held=True)
    return [item for item in reversed(items) if needs_operator(item, now)]


class AuditCells:
    """The cells of the audit lines (a :class:`~pupitre.tui.widgets.virtual_table.CellSource`)."""

    def __init__(self, titles: dict[str, str]) -> None:
        self.lines: list[AuditLine] = []
        self.titles = titles

    def cells(self, row: int, columns: Sequence[Column]) -> list[tuple[str, Style | None]]:
        line = self.lines[row]
        entry = line.entry
        values = {
            "at": (f"{line.at:%d/%m %H:%M:%S}" if line.at else entry.at[:14], None),
            "provider": (self.titles.get(entry.provider, entry.provider), None),
            "action": (entry.action, None),
            "outcome": (entry.outcome, LOUD_STYLE if entry.outcome in PROBLEMS else None),
            "who": (entry.operator or "-", None),
            "detail": (entry.detail, None),
            "env": (label_of(entry.env), None),
        }
        return [values[column.key] for column in columns]


class ActionCells:
    """The cells of the actions to hand over, each with what to do."""

    def __init__(self, titles: dict[str, str]) -> None:
        self.items: list[OutboxItem] = []
        self.titles = titles

    def cells(self, row: int, columns: Sequence[Column]) -> list[tuple[str, Style | None]]:
        item = self.items[row]
        state = state_of(item)
        values = {
            "id": (f"#{item.id}", None),
            "state": (state.word, LOUD_STYLE if state in LOUD else BOLD),
            "provider": (self.titles.get(item.provider, item.provider), None),
            "action": (item.action, None),
            "todo": (todo_of(item, state), None),
            "why": (clean_text(item.last_error or item.readback_note), None),
            "queued": (f"{item.created_at.astimezone(PARIS):%d/%m %H:%M}", None),
        }
        return [values[column.key] for column in columns]


class AuditScreen(PupitreScreen):
    BINDINGS = [
        Binding("a", "switch_list", "Actions / log", id="audit.actions"),
        Binding("slash", "search", "Search", id="audit.search"),
        Binding("v", "cycle_provider", "Provider", id="audit.provider"),
        Binding("o", "cycle_outcome", "Outcome", id="audit.outcome"),
        Binding("d", "today", "Today / all", id="audit.today"),
        Binding("left_square_bracket", "day(-1)", "Day before", id="audit.earlier"),
        Binding("right_square_bracket", "day(1)", "Day after", id="audit.later"),
        Binding("c", "clear", "Clear filters", id="audit.clear"),
        Binding("escape", "close_search", "Close", show=False, id="audit.close"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.provider: str | None = None
        self.outcome: str | None = None
        self.day: dt.date | None = None
        self.search = ""
        self.showing_actions = False
        self.lines: list[AuditLine] = []  # as read (newest first)
        self.actions: list[OutboxItem] = []
        self.reads = 0  # completed reads (tests wait for them)
        self._since_read = 0

    def compose(self) -> ComposeResult:
        titles = self.titles()
        self.audit_cells = AuditCells(titles)
        self.action_cells = ActionCells(titles)
        yield HeaderBar("Audit")
        yield Static("", id="audit-summary", classes="line")
        yield VirtualTable(AUDIT_COLUMNS, self.audit_cells, id="audit-table", empty_text="No audit line to show.")
        yield VirtualTable(
            ACTION_COLUMNS,
            self.action_cells,
            id="audit-actions",
            empty_text="No held, pending or failed action.",
        )
        yield Static("", id="audit-detail", classes="block")
        yield SearchPrompt(
            lambda: self.query_one("#audit-table", VirtualTable),
            id="audit-search",
            classes="line",
            placeholder="search: what, outcome, who, detail…",
        )
        yield PupitreFooter()

    def on_mount(self) -> None:
        self.query_one("#audit-actions", VirtualTable).display = False
        for table in self.query(VirtualTable):
            self.watch(table, "cursor", lambda _: self._draw_detail(), init=False)
        self.set_focus(self.query_one("#audit-table", VirtualTable))
        self.papp.outbox.updated.subscribe(self, lambda _: self.read())
        self.read()

    def titles(self) -> dict[str, str]:
        return {name: connection.title for name, connection in self.papp.runtime.connections.items()}

    # -- reading (a thread worker) -----------------------------------------------------
    def read(self, *, whole: bool = False) -> None:
        """Read both lists from the store, off the UI thread: the audit lines written since
        the newest shown (all of them when ``whole`` or nothing is shown yet)."""
        after = None if whole or not self.lines else self.lines[0].entry.id
        self._read(self.day, after)

    @work(thread=True, exclusive=True, group="audit-read", exit_on_error=False)
    def _read(self, day: dt.date | None, after: int | None) -> None:
        runtime = self.papp.runtime
        try:
            lines = read_audit(runtime.store, day, self.audit_cells.titles, after)
            actions = read_actions(runtime.store, runtime.clock.now())
        except StoreError as error:  # the team's store does not answer: what is shown stays
            log.warning("Audit: not read again: %s", error)
            return
        self.app.call_from_thread(self._loaded, day, after, lines, actions)

    def _loaded(
        self, day: dt.date | None, after: int | None, lines: list[AuditLine], actions: list[OutboxItem]
    ) -> None:
        if day != self.day:  # the day changed while reading: that read is under way
            return
        if after is None:
            self.lines = lines
        else:  # new lines on top (a read that overlapped another adds nothing twice)
            newest = self.lines[0].entry.id if self.lines else 0
            fresh = [line for line in lines if line.entry.id > newest]
            self.lines = (fresh + self.lines)[:NEWEST] if day is None else fresh + self.lines
        self.actions = actions
        self.reads += 1
        self._since_read = 0
        self.redraw()

    def on_screen_resume(self) -> None:
        """Back on this screen: read again (what happened meanwhile)."""
        super().on_screen_resume()
        if self.is_mounted:
            self.read()

    def tick(self) -> None:
        self._since_read += 1
        if self._since_read >= POLL_SECONDS and self.app.screen is self:
            self._since_read = 0
            self.read()

    # -- filtering ---------------------------------------------------------------------
    def shown_lines(self) -> list[AuditLine]:
        """The lines read, through the provider, outcome and search filters (the day is read)."""
        needle = search_key(self.search)
        return [
            line
            for line in self.lines
            if (self.provider is None or line.entry.provider == self.provider)
            and (self.outcome is None or line.entry.outcome == self.outcome)
            and needle in line.search
        ]

    def shown_actions(self) -> list[OutboxItem]:
        return [item for item in self.actions if self.provider is None or item.provider == self.provider]

    # -- drawing -----------------------------------------------------------------------
    def redraw(self) -> None:
        if not hasattr(self, "audit_cells"):
            return
        lines = self.shown_lines()
        self.audit_cells.lines = lines
        self.query_one("#audit-table", VirtualTable).set_view(range(len(lines)))
        actions = self.shown_actions()
        self.action_cells.items = actions
        self.query_one("#audit-actions", VirtualTable).set_view(range(len(actions)))
        self._draw_summary(len(lines), actions)
        self._draw_detail()

    def _draw_summary(self, shown: int, actions: list[OutboxItem]) -> None:
        """One line, what matters first (it must fit 80 columns): the actions to hand over,
        then how many lines and the filters in force."""
        provider = self.audit_cells.titles.get(self.provider or "", "all providers")
        waiting = sum(1 for item in actions if state_of(item).waiting)
        text = Text()
        if self.showing_actions:
            text.append(f"Actions: {waiting} waiting, {len(actions) - waiting} to check", style="bold")
            text.append(f" · {provider} · a: back to the audit log")
        else:
            if actions:
                text.append(f"⚑ {len(actions)} action(s) to hand over: a", style="bold reverse")
                text.append(" · ")
            text.append(f"{shown}/{len(self.lines)} lines", style="bold")
            day = f"{self.day:%a %d/%m/%Y}" if self.day else f"all days (newest {NEWEST})"
            text.append(f" · {day} · {provider} · {self.outcome or 'all outcomes'}")
            if self.search.strip():
                text.append(f" · search « {self.search.strip()} »")
        self.query_one("#audit-summary", Static).update(text)

    def _draw_detail(self) -> None:
        """The selected line in full under the table (what the narrow columns cut)."""
        detail = self.query_one("#audit-detail", Static)
        if self.showing_actions:
            row = self.query_one("#audit-actions", VirtualTable).current_row
            if row is None or row >= len(self.action_cells.items):
                detail.update("")
                return
            item = self.action_cells.items[row]
            why = clean_text(item.last_error or item.readback_note)
            text = Text(f"#{item.id} {state_of(item).word}", style="bold")
            text.append(f" — {why}" if why else "")
            text.append(f"\n→ {todo_of(item)}")
        else:
            row = self.query_one("#audit-table", VirtualTable).current_row
            if row is None or row >= len(self.audit_cells.lines):
                detail.update("")
                return
            line = self.audit_cells.lines[row]
            entry = line.entry
            when = f"{line.at:%d/%m/%Y %H:%M:%S %Z}" if line.at else entry.at
            text = Text(f"{when} · {entry.operator or '-'} · {label_of(entry.env)}\n", style="dim")
            text.append(f"{entry.action} · {entry.outcome}", style="bold")
            text.append(f" — {entry.detail}" if entry.detail else "")
        detail.update(text)

    # -- actions -----------------------------------------------------------------------
    def _from_a_table(self) -> None:
        """One-letter keys act from the lists; in the search field they are typed."""
        if not isinstance(self.focused, VirtualTable):
            raise SkipAction()

    def action_search(self) -> None:
        self._from_a_table()
        if self.showing_actions:
            self.action_switch_list()
        self.query_one(SearchPrompt).open()

    @on(Input.Changed, "#audit-search")
    def _search_changed(self, event: Input.Changed) -> None:
        self.search = event.value
        self.redraw()

    def action_close_search(self) -> None:
        self.query_one(SearchPrompt).clear()

    def action_cycle_provider(self) -> None:
        self._from_a_table()
        names: list[str | None] = [None, *self.papp.runtime.providers]
        self.provider = names[(names.index(self.provider) + 1) % len(names)] if self.provider in names else None
        self.redraw()

    def action_cycle_outcome(self) -> None:
        self._from_a_table()
        outcomes: list[str | None] = [None, *sorted({line.entry.outcome for line in self.lines})]
        self.outcome = (
            outcomes[(outcomes.index(self.outcome) + 1) % len(outcomes)] if self.outcome in outcomes else None
        )
        self.redraw()

    def _set_day(self, day: dt.date | None) -> None:
        self.day = day
        self.lines = []  # another day's lines: none until they are read
        self.redraw()  # the summary says which day at once; its lines follow
        self.read(whole=True)

    def action_day(self, step: int) -> None:
        self._from_a_table()
        today = self.papp.runtime.clock.now().astimezone(PARIS).date()
        if self.day is None:
            self._set_day(today if step < 0 else None)
        else:
            later = self.day + dt.timedelta(days=step)
            self._set_day(None if later > today else later)

    def action_today(self) -> None:
        self._from_a_table()
        self._set_day(None if self.day is not None else self.papp.runtime.clock.now().astimezone(PARIS).date())

    def action_switch_list(self) -> None:
        self._from_a_table()
        self.showing_actions = not self.showing_actions
        audit = self.query_one("#audit-table", VirtualTable)
        actions = self.query_one("#audit-actions", VirtualTable)
        audit.display, actions.display = not self.showing_actions, self.showing_actions
        self.set_focus(actions if self.showing_actions else audit)
        self.redraw()

    def action_clear(self) -> None:
        self._from_a_table()
        self.provider = self.outcome = None
        self.search = ""
        self.query_one(SearchPrompt).clear()
        self._set_day(None)
