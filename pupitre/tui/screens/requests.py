"""Requests (key 4): the watch-list of GRDF OMEGA requests, read at the quota's pace.

Add a number (validated, duplicates refused), import many from a text/CSV file, remove
one; a request whose status changed since the operator last looked is marked `●` until
its detail is opened. One request that fails shows its error in its row.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from rich.markup import escape
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Input, Static

from pupitre.providers.core.clock import format_age
from pupitre.providers.core.imports import MAX_IMPORT_BYTES, read_import
from pupitre.providers.core.search import search_key
from pupitre.providers.grdf_omega import rules
from pupitre.providers.grdf_omega.feeds import PROVIDER, REQUESTS_FEED, OmegaSession, Tracked, unseen
from pupitre.tui.dialogs.confirm import ConfirmScreen
from pupitre.tui.screens.base import PupitreScreen
from pupitre.tui.widgets.feed_status import FeedStatus
from pupitre.tui.widgets.footer import PupitreFooter
from pupitre.tui.widgets.header import HeaderBar

SORTS = ("added", "status", "changed", "type")
WIDE = 110  # from this width the type's label shows beside its code
TYPE_LABEL_WIDTH = 28


def read_watch_file(path_text: str) -> tuple[list[str], list[Any], str | None]:
    """Numbers, per-line errors and a note on the encoding from a text/CSV file
    (:mod:`pupitre.providers.core.imports`); ``ValueError`` with a sentence if unreadable."""
    imported = read_import(path_text, MAX_IMPORT_BYTES)
    return (*rules.parse_watch_file(imported.text), imported.note)


class RequestsScreen(PupitreScreen):
    AUTO_FOCUS = "#req-table"  # focused as the screen is shown, so the first frame is drawn focused
    FEEDS = (REQUESTS_FEED,)
    BINDINGS = [
        Binding("plus,a", "add", "Add", id="requests.add"),
        Binding("i", "import_file", "Import", id="requests.import"),
        Binding("d,delete", "remove", "Remove", id="requests.remove"),
        Binding("slash", "filter", "Filter", id="requests.filter"),
        Binding("s", "cycle_sort", "Sort", id="requests.sort"),
        Binding("enter", "detail", "Detail", id="requests.detail"),
        Binding("escape", "close_prompt", "Close", show=False, id="requests.close"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.sort = "added"
        self.filter_text = ""
        self.prompt_mode = ""

    def compose(self) -> ComposeResult:
        yield HeaderBar("Requests")
        with Horizontal(id="req-toolbar", classes="toolbar"):
            yield Static("", id="req-summary", classes="summary")
            yield Input(id="req-prompt", compact=True)
        yield DataTable(id="req-table", classes="fill", cursor_type="row", zebra_stripes=True)
        yield Static("", id="req-progress", classes="note")
        yield FeedStatus(REQUESTS_FEED, classes="feed-status")
        yield PupitreFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label, key in (
            ("", "mark"),
            ("Request", "numero"),
            ("Type", "type"),
            ("Status", "status"),
            ("Changed", "changed"),
            ("Created", "created"),
            ("Mode", "mode"),
            ("RDV", "rdv"),
        ):
            table.add_column(label, key=key)
        self.query_one("#req-prompt", Input).display = False

    # -- data --------------------------------------------------------------------------
    @property
    def session(self) -> OmegaSession:
        return self.papp.runtime.connections[PROVIDER].session_as(OmegaSession)

    def tracked(self) -> dict[str, Tracked]:
        """The last refresh, overlaid with the last one's errors when every read failed (each
        row keeps its last good data and read time) and with what the refresh under way has
        read so far."""
        tracked = dict(self.papp.feeds.state(REQUESTS_FEED).data or {})
        tracked.update(self.session.failed_run)
        tracked.update(self.session.progress.results)
        return tracked

    def rows(self) -> list[tuple[str, Tracked | None]]:
        """Every watched number, with what was last read of it (``None`` if never)."""
        tracked = self.tracked()
        rows = [(numero, tracked.get(numero)) for numero in self.session.watched()]
        if self.filter_text:
            needle = search_key(self.filter_text)
            rows = [(n, t) for n, t in rows if needle in search_text(n, t)]
        if self.sort == "status":
            rows.sort(key=lambda r: status_code(r[1]))
        elif self.sort == "changed":
            rows.sort(key=lambda r: changed_on(r[1]), reverse=True)
        elif self.sort == "type":
            rows.sort(key=lambda r: type_code(r[1]))
        return rows

    # -- drawing -----------------------------------------------------------------------
    def redraw(self) -> None:
        table = self.query_one(DataTable)
        selected = self.selected()
        table.clear()
        seen = dict(self.papp.runtime.store.watch_list(PROVIDER))
        marked = set(unseen(self.tracked(), seen))
        wide = self.size.width >= WIDE
        if wide and "read" not in table.columns:
            table.add_column("Read", key="read")
        elif not wide and "read" in table.columns:
            table.remove_column("read")
        now = self.papp.runtime.clock.now()
        for numero, tracked in self.rows():
            table.add_row(*row_cells(numero, tracked, numero in marked, wide=wide, now=now), key=numero)
        if selected is not None and selected in table.rows:
            table.move_cursor(row=table.get_row_index(selected))
        total = len(self.session.watched())
        summary = f"{total} watched · {len(marked)} changed · sort: {self.sort}"
        if self.filter_text:
            summary += f" · filter “{self.filter_text}”"
        self.query_one("#req-summary", Static).update(Text(summary))
        self.tick()

    def tick(self) -> None:
        progress = self.session.progress
        line = self.query_one("#req-progress", Static)
        if progress.running:
            if progress.done != getattr(self, "_drawn_done", None):
                self._drawn_done = progress.done
                self.redraw()  # rows fill in as they are read
                return
            eta = progress.eta_seconds(self.papp.runtime.settings.grdf_omega.per_second)
            line.update(
                Text(
                    f"Reading {progress.done}/{progress.total} · ETA {eta:.0f} s "
                    f"(quota {self.papp.runtime.settings.grdf_omega.per_second:g} call/s)"
                    + (f" · {progress.covers}" if progress.covers else ""),
                    style="bold",
                )
            )
        else:
            selected = self.tracked().get(self.selected() or "")
            if selected is not None and selected.error:
                now = self.papp.runtime.clock.now()
                read = (
                    f"last read {selected.read_at.astimezone(now.tzinfo):%d/%m %H:%M:%S} "
                    f"({format_age((now - selected.read_at).total_seconds())} ago)"
                    if selected.read_at
                    else "never read"
                )
                line.update(Text(f"{selected.numero}: {selected.error} — {read}", style="bold"))
            else:
                line.update(Text("a: add · i: import a file · d: remove · enter: detail", style="dim"))

    @on(DataTable.RowHighlighted, "#req-table")
    def _row_changed(self) -> None:
        self.tick()

    def selected(self) -> str | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value)

    # -- prompt (add / import / filter) --------------------------------------------------
    def open_prompt(self, mode: str, placeholder: str, value: str = "") -> None:
        self.prompt_mode = mode
        prompt = self.query_one("#req-prompt", Input)
        prompt.placeholder, prompt.value, prompt.display = placeholder, value, True
        prompt.focus()

    def action_add(self) -> None:
        self.open_prompt("add", "request number, e.g. WD0004MX — enter adds")

    def action_import_file(self) -> None:
        self.open_prompt("import", "path of a text or CSV file — enter imports")

    def action_filter(self) -> None:
        self.open_prompt("filter", "filter: number, type, status…", self.filter_text)

    def action_close_prompt(self) -> None:
        prompt = self.query_one("#req-prompt", Input)
        if self.prompt_mode == "filter":
            self.filter_text = ""
            self.redraw()
        prompt.display, self.prompt_mode = False, ""
        self.query_one(DataTable).focus()

    @on(Input.Changed, "#req-prompt")
    def prompt_changed(self, event: Input.Changed) -> None:
        if self.prompt_mode == "filter":
            self.filter_text = event.value.strip()
            self.redraw()

    @on(Input.Submitted, "#req-prompt")
    def prompt_submitted(self, event: Input.Submitted) -> None:
        mode, value = self.prompt_mode, event.value
        if mode == "add" and self.add_numbers([value], single=True):
            self.action_close_prompt()
        elif mode == "import":
            try:
                numbers, errors, note = read_watch_file(value)
            except ValueError as error:
                self.notify(escape(str(error)), title="Import", severity="error", timeout=10)
                return
            if note:
                self.notify(escape(note[:1].upper() + note[1:] + "."), title="Import", severity="warning", timeout=15)
            self.add_numbers(numbers, errors=errors)
            self.action_close_prompt()
        elif mode == "filter":
            self.prompt_mode = ""
            self.query_one("#req-prompt", Input).display = False
            self.query_one(DataTable).focus()

    def add_numbers(self, texts: list[str], *, single: bool = False, errors: list[Any] | None = None) -> bool:
        """Validate and add; say what was added, refused as a duplicate, or invalid."""
        numbers, bad = [], [str(error) for error in errors or []]
        for text in texts:
            try:
                numbers.append(rules.validate_numero(text))
            except rules.NumeroError as error:
                bad.append(str(error))
        added = self.session.watch(numbers)
        duplicates = len(numbers) - len(added)
        if single and bad:
            self.notify(escape(bad[0]), title="Not added", severity="error", timeout=8)
            return False
        if single and duplicates:
            self.notify(f"{numbers[0]} is already watched.", title="Not added", severity="warning")
            return False
        message = f"Added {len(added)} request(s)"
        if duplicates:
            message += f", {duplicates} already watched"
        if bad:  # every refused line, in a list that scrolls
            from pupitre.tui.dialogs.refused_lines import RefusedLinesScreen

            message += f", {len(bad)} refused"
            self.app.push_screen(RefusedLinesScreen("Import into the watch-list", message + ".", bad))
        self.notify(escape(message), title="Watch-list", severity="warning" if bad else "information", timeout=10)
        if added:
            self.papp.feeds.refresh(REQUESTS_FEED, forced=True)
        self.redraw()
        return True

    def action_remove(self) -> None:
        numero = self.selected()
        if numero is None:
            return

        def done(yes: bool | None) -> None:
            if yes and self.session.unwatch(numero):
                self.notify(f"{numero} removed from the watch-list.", timeout=4)
                self.redraw()

        self.app.push_screen(ConfirmScreen(f"Remove {numero} from the watch-list?"), done)

    def action_cycle_sort(self) -> None:
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        self.redraw()

    @on(DataTable.RowSelected, "#req-table")
    def row_selected(self) -> None:
        self.action_detail()

    def action_detail(self) -> None:
        numero = self.selected()
        if numero is None:
            return
        self.papp.open_screen("request_detail", numero)


# -- row helpers ------------------------------------------------------------------------------


def status_code(tracked: Tracked | None) -> str:
    return tracked.demande.statut_externe_demande.code if tracked and tracked.demande else "~"


def type_code(tracked: Tracked | None) -> str:
    return tracked.demande.type_demande.code if tracked and tracked.demande else "~"


def changed_on(tracked: Tracked | None) -> str:
    demande = tracked.demande if tracked else None
    day = demande.date_dernier_changement_statut_externe if demande else None
    return day.isoformat() if day else ""


def search_text(numero: str, tracked: Tracked | None) -> str:
    words = [numero]
    if tracked and tracked.demande:
        d = tracked.demande
        words += [
            d.type_demande.code,
            rules.type_label(d.type_demande.code, d.type_demande.libelle),
            d.statut_externe_demande.code,
            d.statut_externe_demande.libelle or "",
            *_block_words(d.blocks()),  # the PCE, the client's name and address…
        ]
    if tracked and tracked.error:
        words.append(tracked.error)
    return search_key("\x00".join(words))


def _block_words(value: Any) -> list[str]:
    """Every text and number of the detail's blocks (their fields vary with the request type)."""
    if isinstance(value, dict):
        return [word for item in value.values() for word in _block_words(item)]
    if isinstance(value, (list, tuple)):
        return [word for item in value for word in _block_words(item)]
    return [str(value)] if isinstance(value, (str, int)) and not isinstance(value, bool) else []


def read_when(tracked: Tracked | None, now: dt.datetime | None) -> str:
    """When the row was last read successfully: ``10:02`` today, ``22/11 10:02`` before,
    ``never`` (a time, not an age: it stays true between two redraws)."""
    if tracked is None or tracked.read_at is None or now is None:
        return "never" if tracked is not None else ""
    read = tracked.read_at.astimezone(now.tzinfo)
    return f"{read:%H:%M}" if read.date() == now.date() else f"{read:%d/%m %H:%M}"


def row_cells(
    numero: str, tracked: Tracked | None, changed: bool, *, wide: bool = False, now: dt.datetime | None = None
) -> list[Any]:
    """One row; ``wide`` adds the type's label and the "Read" column (when the row was last read
    successfully). Narrow, a row whose read failed shows that time in its status (``⚠ 10:00``)
    instead of the error's kind (the cause is in the line below the table for the selected row)."""
    mark = Text("●", style="bold") if changed else Text(" ")
    read = [read_when(tracked, now)] if wide else []
    if tracked is None or tracked.demande is None:
        status = Text(
            f"⚠ {tracked.error_short or 'error'}" if tracked and tracked.error else "not read yet",
            style="bold" if tracked and tracked.error else "dim",
        )
        return [mark, Text(numero), "", status, "", "", "", "", *read]
    d = tracked.demande
    status = Text(d.statut_externe_demande.libelle or d.statut_externe_demande.code, style="bold" if changed else "")
    if tracked.error:
        failed = tracked.error_short or "error"
        status.append(f" ⚠ {failed if wide else read_when(tracked, now)}", style="bold")
    changed_day = d.date_dernier_changement_statut_externe
    kind = Text(d.type_demande.code)
    if wide:
        label = rules.type_label(d.type_demande.code, d.type_demande.libelle)
        kind.append(
            " " + (label if len(label) <= TYPE_LABEL_WIDTH else label[: TYPE_LABEL_WIDTH - 1] + "…"), style="dim"
        )
    return [
        mark,
        Text(numero),
        kind,
        status,
        f"{changed_day:%d/%m/%y}" if changed_day else "",
        f"{d.cree_le:%d/%m/%y}",
        Text(d.mode_traitement.libelle or d.mode_traitement.code) if d.mode_traitement else "",
        "yes" if d.fournisseur_peut_prendre_rdv else "no" if d.fournisseur_peut_prendre_rdv is False else "",
        *read,
    ]
