"""Alerts (key !): every alert of this session's environments, open ones first, with its
history — when it was raised, who saw it and when, when its cause went away. Enter or ``s``
acknowledges the highlighted alert: *seen*, recorded in the store with the operator's name
(every console and ``pupitre agent`` see it); it stays open until its cause goes away."""

from __future__ import annotations

import datetime as dt

from rich.markup import escape
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from pupitre.providers.core.alerts import WORDS, Alert, rank
from pupitre.providers.core.clock import paris
from pupitre.tui.screens.base import PupitreScreen
from pupitre.tui.widgets.attention import MARKS
from pupitre.tui.widgets.footer import PupitreFooter
from pupitre.tui.widgets.header import HeaderBar

HISTORY = 500


def when(moment: dt.datetime | None, now: dt.datetime) -> str:
    """``14:02`` today (Paris), ``05/12 14:02`` another day, ``—`` never."""
    if moment is None:
        return "—"
    local = paris(moment)
    return f"{local:%H:%M}" if local.date() == paris(now).date() else f"{local:%d/%m %H:%M}"


def ordered(alerts: list[Alert]) -> list[Alert]:
    """Open alerts first, the worst and newest of them on top; then the cleared, newest first."""
    return sorted(alerts, key=lambda a: (a.open, rank(a.severity) if a.open else 0, a.raised_at, a.id), reverse=True)


class AlertsScreen(PupitreScreen):
    AUTO_FOCUS = "#alerts-table"  # focused as the screen is shown, so the first frame is drawn focused
    BINDINGS = [
        Binding("enter,s", "seen", "Seen", id="alerts.seen", tooltip="Acknowledge the alert: seen, with your name"),
    ]

    def compose(self) -> ComposeResult:
        yield HeaderBar("Alerts")
        yield Static("", id="alerts-summary", classes="line")
        yield DataTable(id="alerts-table", classes="fill", cursor_type="row", zebra_stripes=True)
        yield Static("", id="alerts-detail", classes="message")
        yield PupitreFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label, key in (
            ("", "mark"),
            ("State", "state"),
            ("Raised", "raised"),
            ("Provider", "provider"),
            ("Alert", "message"),
            ("Seen", "seen"),
            ("Cleared", "cleared"),
        ):
            table.add_column(label, key=key)
        self.papp.alerts.updated.subscribe(self, lambda _: self._redraw_kept())

    def alerts(self) -> list[Alert]:
        return ordered(self.papp.runtime.store.alert_history(HISTORY))

    def redraw(self) -> None:
        table = self.query_one(DataTable)
        selected = self.selected_id()
        table.clear()
        now = self.papp.runtime.clock.now()
        titles = {name: c.title for name, c in self.papp.runtime.connections.items()}
        alerts = self.alerts()
        for alert in alerts:
            word = WORDS.get(alert.severity, alert.severity.upper())
            loud = alert.open and alert.seen_at is None
            state = Text(
                f"{word}" if alert.open else "cleared",
                style="bold reverse" if loud else "bold" if alert.open else "dim",
            )
            seen = f"{when(alert.seen_at, now)} {alert.seen_by.split('@')[0]}" if alert.seen_at else "—"
            table.add_row(
                MARKS.get(alert.severity, "!") if alert.open else "✓",
                state,
                when(alert.raised_at, now),
                titles.get(alert.provider, alert.provider),
                Text(alert.message),
                seen,
                when(alert.cleared_at, now) if alert.cleared_at else "",
                key=str(alert.id),
            )
        if selected is not None and str(selected) in table.rows:
            table.move_cursor(row=table.get_row_index(str(selected)))
        opened = [a for a in alerts if a.open]
        unseen = sum(1 for a in opened if a.seen_at is None)
        summary = f"{len(opened)} open, {unseen} not seen · {len(alerts) - len(opened)} cleared (latest {HISTORY})"
        self.query_one("#alerts-summary", Static).update(Text(summary))
        self._detail()

    def selected_id(self) -> int | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return int(key) if key else None

    def selected(self) -> Alert | None:
        alert_id = self.selected_id()
        return None if alert_id is None else self.papp.runtime.store.alert(alert_id)

    def on_data_table_row_selected(self, _: DataTable.RowSelected) -> None:
        """Enter on a row (the table takes the key before the screen): seen."""
        self.action_seen()

    def on_data_table_row_highlighted(self, _: DataTable.RowHighlighted) -> None:
        self._detail()

    def _detail(self) -> None:
        """The highlighted alert in full (the table cuts long messages)."""
        alert = self.selected()
        line = self.query_one("#alerts-detail", Static)
        if alert is None:
            line.update(Text("No alert so far."))
            return
        now = self.papp.runtime.clock.now()
        seen = f"seen by {alert.seen_by} at {when(alert.seen_at, now)}" if alert.seen_at else "not seen yet"
        title = self.papp.alerts.engine.title(alert.provider)
        line.update(Text(f"{title} · raised {when(alert.raised_at, now)} · {seen}\n{alert.message}"))

    def action_seen(self) -> None:
        alert = self.selected()
        if alert is None:
            return
        if alert.seen_at is not None:
            at = when(alert.seen_at, self.papp.runtime.clock.now())
            self.notify(escape(f"Already seen by {alert.seen_by} at {at}."))
            return
        self.papp.alerts.acknowledge(alert)
        self.redraw()
