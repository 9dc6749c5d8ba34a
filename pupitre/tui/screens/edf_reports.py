"""Contracts & reports (key c from Curtailments): EDF OA contracts, acknowledgement and
curtailment reports over a date range, exported to CSV.

- Contracts (§6.1) come from the ``edf_oa.contracts`` feed: id, plant, status in words
  (RG_CON_0020), manager and producer ids only when the account sees them
  (RG_COR_0040/0050).
- Reports (§7.1, §8.1) are fetched on demand, for tomorrow by default (RG_REP_ACK_0030,
  RG_REP_CUR_0030), and shown as the document's hierarchy producers → managers →
  contracts → orders → acknowledgement events or curtailment periods
  (RG_REP_ACK_0010, RG_REP_CUR_0010) in a keyboard-browsable tree.
- ``e`` writes the report shown, one row per leaf, under ``<data dir>/exports``.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any, Literal

import msgspec
from rich.markup import escape
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Input, Static, Tree
from textual.widgets.tree import TreeNode

from pupitre.providers.core import config
from pupitre.providers.core.clock import UTC, paris
from pupitre.providers.core.errors import ApiError, ConfigError
from pupitre.providers.core.files import write_csv
from pupitre.providers.core.typed_dates import typed_date
from pupitre.providers.edf_oa import rules
from pupitre.providers.edf_oa.export import (
    ACK_COLUMNS,
    CURTAILMENT_COLUMNS,
    ack_report_rows,
    curtailment_report_rows,
    report_filename,
)
from pupitre.providers.edf_oa.feeds import CONTRACTS_FEED, PROVIDER, EdfOaSession
from pupitre.providers.edf_oa.models import (
    ACK_SOURCES,
    ACK_TYPES,
    CONTRACT_STATUSES,
    AckReportOrder,
    Contract,
    ContractCurtailment,
    CurtailmentReportOrder,
    Period,
    Report,
    ReportAck,
    ReportContract,
    shown,
)
from pupitre.tui.screens.base import PupitreScreen
from pupitre.tui.widgets.feed_status import FeedStatus
from pupitre.tui.widgets.footer import PupitreFooter
from pupitre.tui.widgets.header import HeaderBar

log = logging.getLogger("pupitre.edf_oa.reports")

ReportKind = Literal["ack", "curtailment"]
KIND_TITLE = {"ack": "Acknowledgement report", "curtailment": "Curtailment report"}
MAX_DAYS = 366
#: Expand every level when the whole tree has at most this many lines; else stop at orders.
EXPAND_ALL_LINES = 60
_RANGE = re.compile(r"\s*(\S+?)\s*(?:\.\.\s*(\S+)\s*)?")


class RangeError(ValueError):
    """A date range typed by the operator is refused; ``str()`` says why, in a sentence."""


def parse_range(text: str) -> tuple[dt.date, dt.date]:
    """``"2026-11-16..2026-11-22"`` (or one day ``"2026-11-16"``) → (start, end)."""
    match = _RANGE.fullmatch(text or "")
    if match is None or not text.strip():
        raise RangeError("type a range as YYYY-MM-DD..YYYY-MM-DD (or one day: YYYY-MM-DD)")
    days = []
    for part in (match[1], match[2] or match[1]):
        try:
            days.append(typed_date(part))
        except ValueError:
            raise RangeError(f"“{part[:20]}” is not a date: use YYYY-MM-DD or DD/MM/YYYY") from None
    start, end = days
    if end < start:
        raise RangeError(f"the end {end.isoformat()} is before the start {start.isoformat()}")
    if (end - start).days + 1 > MAX_DAYS:
        raise RangeError(f"at most {MAX_DAYS} days per report (asked for {(end - start).days + 1})")
    return start, end


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def range_text(start: dt.date, end: dt.date, tomorrow: dt.date) -> str:
    """``Tue 24/11/2026 (tomorrow)``, ``17/11 → 23/11/2026 (7 days)``."""
    if start == end:
        return f"{start:%a %d/%m/%Y}" + (" (tomorrow)" if start == tomorrow else "")
    first = f"{start:%d/%m}" if start.year == end.year else f"{start:%d/%m/%Y}"
    return f"{first} → {end:%d/%m/%Y} ({(end - start).days + 1} days)"


def span_text(start: dt.datetime, end: dt.datetime) -> str:
    """``11:00–15:00``; an end at the next midnight reads ``24:00``."""
    end_text = "24:00" if end.time() == dt.time(0) and end.date() > start.date() else f"{end:%H:%M}"
    return f"{start:%H:%M}–{end_text}"


def duration_text(period: Period) -> str:
    minutes = int(rules.duration(period).total_seconds() // 60)
    return f"{minutes // 60}h{minutes % 60:02d}"


def last_set_ack(order: AckReportOrder) -> ReportAck | None:
    """The acknowledgement EDF OA retains: the day's last ``SET_ACK`` (§5.1.1)."""
    sent = [a for a in order.acknowledgements if a.ack_type == "SET_ACK"]
    return max(sent, key=lambda a: paris(a.ack_date).astimezone(UTC)) if sent else None


def ack_value_text(value: bool | None) -> Text:
    if value is None:
        return Text("—    ", style="dim")
    return Text("✓ true " if value else "✗ false", style="" if value else "bold")


def producer_label(producer: Any) -> Text:
    text = Text()
    text.append("Producer ", style="dim")
    text.append(producer.id, style="bold")
    text.append(f" · {producer.label}")
    return text


def manager_label(manager: Any) -> Text:
    text = Text()
    text.append("Manager ", style="dim")
    text.append(manager.id, style="bold")
    text.append(f" · {manager.label}")
    return text


def contract_label(contract: ReportContract[Any]) -> Text:
    text = Text()
    text.append(contract.id, style="bold")
    text.append(f" · plant {contract.plant_id} · ")
    text.append(shown(contract.status, CONTRACT_STATUSES), style="dim" if contract.status == "EXPIRED" else "")
    count = len(contract.orders)
    text.append(f" · {plural(count, 'order')}" if count else " · no order", style="dim")
    return text


def ack_order_label(order: AckReportOrder) -> Text:
    text = Text(f"{order.application_date:%a %d/%m/%Y} · {order.order_id}")
    text.append(f" · {plural(len(order.acknowledgements), 'event')}", style="dim")
    retained = last_set_ack(order)
    if retained is None:
        text.append(" · no acknowledgement", style="bold")
    else:
        text.append(" · retained ")
        text.append_text(ack_value_text(retained.ack_value))
    return text


def curtailment_order_label(order: CurtailmentReportOrder, contract_id: str, plant_id: str) -> Text:
    text = Text(f"{order.application_date:%a %d/%m/%Y} · {order.order_id} · ")
    spells = rules.curtailment_periods(
        ContractCurtailment(contract_id=contract_id, plant_id=plant_id, data=list(order.curtailment_data.periods))
    )
    if not spells:
        text.append("no curtailment", style="dim")
    else:
        text.append(
            "curtail " + ", ".join(f"{span_text(p.start_date, p.end_date)} ({duration_text(p)})" for p in spells),
            style="bold",
        )
    return text


def ack_label(ack: ReportAck) -> Text:
    """RG_REP_ACK_0060 source, RG_REP_ACK_0050 type, value, date, user."""
    text = Text(f"{shown(ack.ack_source, ACK_SOURCES):<6} {shown(ack.ack_type, ACK_TYPES):<9} ")
    text.append_text(ack_value_text(ack.ack_value))
    text.append(f"  {ack.ack_date:%d/%m %H:%M:%S}  ")
    text.append(ack.user_id, style="dim")
    return text


def period_label(period: Period) -> Text:
    text = Text(f"{span_text(period.start_date, period.end_date):<11}  {duration_text(period):>5}  ")
    if rules.is_curtailment(period):
        text.append(f"CURTAIL ({period.value:g})", style="bold")
    else:
        text.append(f"none ({period.value:g})", style="dim")
    return text


class ShownReport(msgspec.Struct, frozen=True):
    kind: ReportKind
    start: dt.date
    end: dt.date
    report: Report[Any]
    fetched_at: dt.datetime


class EdfReportsScreen(PupitreScreen):
    FEEDS = (CONTRACTS_FEED,)
    BINDINGS = [
        Binding("escape", "back", "Back", id="reports.back"),
        Binding("v", "switch_kind", "Switch", id="reports.switch"),
        # Explained on the report line, to leave the footer room at 80 columns.
        Binding("left_square_bracket", "shift(-1)", "A day earlier", id="reports.earlier", show=False),
        Binding("right_square_bracket", "shift(1)", "A day later", id="reports.later", show=False),
        Binding("left_curly_bracket", "widen", "Widen (start earlier)", id="reports.widen", show=False),
        Binding("right_curly_bracket", "narrow", "Narrow (start later)", id="reports.narrow", show=False),
        Binding("d", "edit_range", "Dates…", id="reports.range"),
        Binding("e", "export", "Export CSV", id="reports.export"),
        Binding("r", "refetch", "Refresh", id="reports.refresh"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.kind: ReportKind = "ack"
        self.start = self.end = dt.date.min
        self.shown: ShownReport | None = None
        self.error: str | None = None
        self.message: Text | None = None  # a refused range, until the next fetch
        self.fetching = False
        self._request = 0

    def compose(self) -> ComposeResult:
        yield HeaderBar("Contracts & reports")
        yield DataTable(id="contracts-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="report-line", classes="line")
        yield Static("", id="report-state", classes="note")
        yield Input(placeholder="YYYY-MM-DD..YYYY-MM-DD", id="range-input", classes="prompt", compact=True)
        yield Tree(Text("report"), id="report-tree", classes="fill")
        yield FeedStatus(CONTRACTS_FEED, classes="feed-status")
        yield PupitreFooter()

    def on_mount(self) -> None:
        self.start = self.end = self.tomorrow
        tree = self.query_one(Tree)
        tree.show_root = False
        tree.guide_depth = 3
        self.query_one("#range-input", Input).display = False
        # No super().on_mount(): Textual dispatches on_mount to every class of the MRO, so
        # PupitreScreen.on_mount runs right after this one (subscriptions, first redraw).
        tree.focus()
        self.request_report()

    @property
    def tomorrow(self) -> dt.date:
        return rules.tomorrow(self.papp.runtime.clock.now())

    # -- contracts -----------------------------------------------------------------------
    def contracts(self) -> list[Contract]:
        return list(self.papp.feeds.state(CONTRACTS_FEED).data or [])

    def redraw(self) -> None:
        """The contracts table (RG_CON_0020 status in words; ids only when visible)."""
        table = self.query_one("#contracts-table", DataTable)
        contracts = self.contracts()
        show_manager = any(c.manager_id for c in contracts)  # RG_COR_0040
        # §6.1.4 names the producer on every contract: a column only when there are several
        show_producer = len({c.producer_id for c in contracts if c.producer_id}) > 1
        selected = (
            table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value if table.row_count else None
        )
        table.clear(columns=True)
        table.add_column("Contract", key="contract")
        table.add_column("Plant", key="plant")
        table.add_column("Status", key="status")
        if show_manager:
            table.add_column("Manager", key="manager")
        if show_producer:
            table.add_column("Producer", key="producer")
        for contract in contracts:
            row: list[Any] = [
                Text(contract.id),
                Text(contract.plant_id),
                Text(shown(contract.status, CONTRACT_STATUSES), style="dim" if contract.status == "EXPIRED" else ""),
            ]
            if show_manager:
                row.append(Text(contract.manager_id) if contract.manager_id else Text("— (producer)", style="dim"))
            if show_producer:
                row.append(Text(contract.producer_id or "—"))
            table.add_row(*row, key=contract.id)
        if selected is not None and selected in table.rows:
            table.move_cursor(row=table.get_row_index(selected))

    # -- the report ------------------------------------------------------------------------
    def request_report(self) -> None:
        """Fetch the report of the current kind and range (a new request cancels the last)."""
        self._request += 1
        self.fetching, self.message = True, None
        self._draw_report_lines()
        self.fetch(self._request, self.kind, self.start, self.end)

    @work(exclusive=True, exit_on_error=False)
    async def fetch(self, request: int, kind: ReportKind, start: dt.date, end: dt.date) -> None:
        shown: ShownReport | None
        failure: str | None
        try:
            client = self.papp.runtime.connections[PROVIDER].session_as(EdfOaSession).client
            if kind == "ack":
                report: Report[Any] = await client.acknowledgements_report(start_date=start, end_date=end)
            else:
                report = await client.curtailments_report(start_date=start, end_date=end)
        except (ApiError, ConfigError) as error:
            shown, failure = None, str(error)
        except Exception as error:  # never a traceback on screen: log it, show a sentence
            log.exception("EDF OA %s report failed", kind)
            shown, failure = None, f"EDF OA: unexpected error ({type(error).__name__}); details in the log"
        else:
            shown, failure = ShownReport(kind, start, end, report, self.papp.runtime.clock.now()), None
        if request != self._request:
            return  # the operator asked for another report meanwhile
        self.shown, self.error, self.fetching = shown, failure, False
        self._draw_tree()
        self._draw_report_lines()

    def _draw_report_lines(self) -> None:
        line = Text()
        line.append(KIND_TITLE[self.kind], style="bold")
        line.append(f" · {range_text(self.start, self.end, self.tomorrow)}")
        line.append("  [ ] day · { } range", style="dim")
        self.query_one("#report-line", Static).update(line)
        state = Text()
        if self.message is not None:
            state.append_text(self.message)
        elif self.fetching:
            state.append(f"Fetching the {KIND_TITLE[self.kind].lower()} from EDF OA…", style="bold")
        elif self.error is not None:
            state.append("Report unavailable:", style="bold reverse")
            state.append(f" {self.error}")
            state.append(" · r: try again", style="dim")
        elif self.shown is not None:
            state.append(self._summary(self.shown))
        self.query_one("#report-state", Static).update(state)

    def _summary(self, shown: ShownReport) -> str:
        rows = shown.report.rows()
        contracts = len(list(shown.report.contracts()))
        if shown.kind == "ack":
            leaves = sum(len(r.order.acknowledgements) for r in rows)
            unacked = sum(1 for r in rows if last_set_ack(r.order) is None)
            what = plural(leaves, "event") + (f" · {unacked} not acknowledged" if unacked else "")
        else:
            curtailed = sum(1 for r in rows if any(rules.is_curtailment(p) for p in r.order.curtailment_data.periods))
            what = f"{curtailed} with curtailment"
        return (
            f"{plural(contracts, 'contract')} · {plural(len(rows), 'order')} · {what} · "
            f"fetched {shown.fetched_at:%H:%M:%S}"
        )

    def _draw_tree(self) -> None:
        """Producers → managers → contracts → orders → leaves (RG_REP_ACK_0010, RG_REP_CUR_0010)."""
        tree: Tree[Any] = self.query_one(Tree)
        tree.clear()
        shown = self.shown
        if shown is None:
            tree.root.add_leaf(Text("No report: see the message above.", style="dim"))
            return
        if not shown.report.producers:
            tree.root.add_leaf(Text("Nothing in this range for this account.", style="dim"))
            return
        rows = shown.report.rows()
        leaves = sum(
            len(r.order.acknowledgements) if shown.kind == "ack" else len(r.order.curtailment_data.periods)
            for r in rows
        )
        expand_orders = len(rows) + leaves + len(list(shown.report.contracts())) <= EXPAND_ALL_LINES
        for producer in shown.report.producers:
            node = tree.root.add(producer_label(producer), data=("producer", producer.id), expand=True)
            for contract in producer.contracts:
                self._add_contract(node, contract, shown.kind, expand_orders)
            for manager in producer.managers:
                child = node.add(manager_label(manager), data=("manager", manager.id), expand=True)
                for contract in manager.contracts:
                    self._add_contract(child, contract, shown.kind, expand_orders)
        tree.root.expand()
        tree.move_cursor(tree.root.children[0] if tree.root.children else None)

    @staticmethod
    def _add_contract(
        parent: TreeNode[Any], contract: ReportContract[Any], kind: ReportKind, expand_orders: bool
    ) -> None:
        if not contract.orders:
            parent.add_leaf(contract_label(contract), data=("contract", contract.id))
            return
        node = parent.add(contract_label(contract), data=("contract", contract.id), expand=True)
        for order in contract.orders:
            if kind == "ack":
                label = ack_order_label(order)
                leaves = [(ack_label(a), ("ack", a)) for a in order.acknowledgements]
            else:
                label = curtailment_order_label(order, contract.id, contract.plant_id)
                leaves = [(period_label(p), ("period", p)) for p in order.curtailment_data.periods]
            data = ("order", (contract.id, order.order_id, order.application_date))
            if not leaves:
                node.add_leaf(label, data=data)
                continue
            child = node.add(label, data=data, expand=expand_orders)
            for leaf_label, leaf_data in leaves:
                child.add_leaf(leaf_label, data=leaf_data)

    # -- actions ---------------------------------------------------------------------------
    def action_back(self) -> None:
        box = self.query_one("#range-input", Input)
        if box.display:
            box.display = False
            self.message = None
            self._draw_report_lines()
            self.query_one(Tree).focus()
            return
        self.app.pop_screen()

    def action_switch_kind(self) -> None:
        self.kind = "curtailment" if self.kind == "ack" else "ack"
        self.request_report()

    def action_shift(self, days: int) -> None:
        step = dt.timedelta(days=days)
        self.start, self.end = self.start + step, self.end + step
        self.request_report()

    def action_widen(self) -> None:
        if (self.end - self.start).days + 1 >= MAX_DAYS:
            self.notify(f"At most {MAX_DAYS} days per report.", severity="warning", timeout=4)
            return
        self.start -= dt.timedelta(days=1)
        self.request_report()

    def action_narrow(self) -> None:
        if self.start == self.end:
            self.notify("The range is already one day.", timeout=3)
            return
        self.start += dt.timedelta(days=1)
        self.request_report()

    def action_edit_range(self) -> None:
        box = self.query_one("#range-input", Input)
        box.value = f"{self.start.isoformat()}..{self.end.isoformat()}"
        box.display = True
        box.focus()

    @on(Input.Submitted, "#range-input")
    def range_submitted(self, event: Input.Submitted) -> None:
        try:
            start, end = parse_range(event.value)
        except RangeError as refusal:
            self.message = Text()
            self.message.append("Range not accepted:", style="bold reverse")
            self.message.append(f" {refusal}. Nothing was fetched; esc cancels.")
            self._draw_report_lines()
            return
        event.input.display = False
        self.start, self.end = start, end
        self.query_one(Tree).focus()
        self.request_report()

    def action_refetch(self) -> None:
        self.papp.feeds.refresh(CONTRACTS_FEED, forced=True)
        self.request_report()

    def action_export(self) -> None:
        shown = self.shown
        if shown is None:
            self.notify("Nothing to export: no report is shown.", severity="warning", timeout=5)
            return
        if shown.kind == "ack":
            rows, columns = ack_report_rows(shown.report), ACK_COLUMNS
        else:
            rows, columns = curtailment_report_rows(shown.report), CURTAILMENT_COLUMNS
        path = config.data_dir() / "exports" / report_filename(shown.kind, shown.start, shown.end)
        try:
            write_csv(rows, path, columns)
        except OSError as error:
            self.notify(escape(f"Export failed: {error}"), title="Export", severity="error", timeout=20)
            return
        self.notify(escape(f"{len(rows)} row(s) written to {path}"), title="Export", timeout=15)
