"""One Switchgrid order (pushed from Load curves): its progress, each request's status and
error, and its data — a LOADCURVE as a plot, the other types (C68, R64/R65/R66 SYNC,
R67…) as a browsable JSON tree.

The order is followed by polling with backoff until it is done. A request refused for
"aucun service souscrit de courbe de charge" is explained with the document's advice,
and ``R`` re-orders it with ``enedisRetryAfterLoadcurveActivation: true``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static, Tree

from pupitre.providers.core.errors import ApiError
from pupitre.providers.core.outbox import ActionRefused
from pupitre.providers.switchgrid import rules
from pupitre.providers.switchgrid.actions import ORDER_ACTION, order_payload
from pupitre.providers.switchgrid.feeds import FEED, PROVIDER
from pupitre.providers.switchgrid.models import Order, OrderRequest
from pupitre.tui.curve_view import Trace
from pupitre.tui.dialogs.confirm import ConfirmScreen
from pupitre.tui.formats import ORDER_WORDS, REQUEST_WORDS, paris, word_text
from pupitre.tui.screens.base import PupitreScreen
from pupitre.tui.screens.load_curves import outbox_text, period_text, run_api, selected_key, session_of
from pupitre.tui.widgets.footer import PupitreFooter
from pupitre.tui.widgets.header import HeaderBar

BAR = 20


def progress_bar(done: int, total: int) -> str:
    filled = round(BAR * done / total) if total else 0
    return "█" * filled + "░" * (BAR - filled)


class OrderScreen(PupitreScreen):
    FEEDS = (FEED,)
    BINDINGS = [
        Binding("enter", "open_data", "Data", id="order.data"),
        Binding(
            "R",
            "reorder",
            "Re-order with retry…",
            id="order.reorder",
            tooltip="A new order (billed), after a confirmation, with enedisRetryAfterLoadcurveActivation: true",
        ),
        Binding("escape", "close", "Back", id="order.back"),
    ]

    def __init__(self, order_id: str) -> None:
        super().__init__()
        self.order_id = order_id
        self.reorder_item: int | None = None  # the re-order's outbox id

    def compose(self) -> ComposeResult:
        yield HeaderBar(f"Order {self.order_id[:8]}")
        yield Static("", id="ord-status", classes="block")
        yield DataTable(id="ord-requests", classes="fill", cursor_type="row", zebra_stripes=True)
        yield Static("", id="ord-detail", classes="block detail")
        yield PupitreFooter()

    def on_mount(self) -> None:
        table = self.query_one("#ord-requests", DataTable)
        for label, key in (
            ("Type", "type"),
            ("PRM", "prm"),
            ("Status", "status"),
            ("Ordered", "ordered"),
            ("Completed", "completed"),
            ("Error", "error"),
        ):
            table.add_column(label, key=key)
        table.focus()
        self.papp.outbox.updated.subscribe(self, lambda _: self.reordered())
        order = self.order()
        if order is None or not rules.order_done(order.status):
            self.papp.runners.follow_order(self.order_id)

    def order(self) -> Order | None:
        session = session_of(self)
        return session.current(self.papp.feeds.state(FEED).data).orders.get(self.order_id) or session.live.get(
            self.order_id
        )

    def request_key(self, index: int, request: OrderRequest) -> str:
        return request.id or f"#{index}"

    def redraw(self) -> None:
        order = self.order()
        status = self.query_one("#ord-status", Static)
        table = self.query_one("#ord-requests", DataTable)
        if order is None:
            status.update(Text("Reading the order…"))
            return
        done = sum(r.status in rules.REQUEST_TERMINAL for r in order.requests)
        total = len(order.requests)
        text = Text(f"Order {order.id} · ")
        text.append_text(word_text(ORDER_WORDS, order.status))
        placed = rules.placed_at(order)
        text.append(
            f" · placed {paris(placed, '%d/%m/%Y %H:%M') if placed else '—'}"
            f" · period {period_text(session_of(self).body(self.order_id))}"
        )
        text.append(f"\n{progress_bar(done, total)} {done}/{total} request(s) done")
        if not rules.order_done(order.status):
            following = self.order_id in session_of(self).following
            text.append(" · followed (polling with backoff)" if following else " · not followed", style="dim")
        status.update(text)
        keep = selected_key(table)
        table.clear()
        for index, request in enumerate(order.requests):
            explanation = rules.explain_error(request.type, request.errorMessage)
            table.add_row(
                request.type,
                request.prm or "",
                word_text(REQUEST_WORDS, request.status),
                paris(request.orderedAt, "%d/%m %H:%M:%S"),
                paris(request.completedAt, "%d/%m %H:%M:%S"),
                Text(explanation.title[:40] if explanation else "", style="bold"),
                key=self.request_key(index, request),
            )
        if keep is not None and keep in table.rows:
            table.move_cursor(row=table.get_row_index(keep))
        self.show_detail()

    def selected(self) -> OrderRequest | None:
        order = self.order()
        key = selected_key(self.query_one("#ord-requests", DataTable))
        if order is None or key is None:
            return None
        return next((r for i, r in enumerate(order.requests) if self.request_key(i, r) == key), None)

    @on(DataTable.RowHighlighted, "#ord-requests")
    def show_detail(self) -> None:
        detail = self.query_one("#ord-detail", Static)
        request = self.selected()
        if request is None:
            detail.update("")
            return
        text = Text(f"{request.type} {request.prm or ''} · {request.status}\n", style="bold")
        explanation = rules.explain_error(request.type, request.errorMessage)
        if explanation is not None:
            text.append(f"✗ {explanation.title}\n", style="bold")
            text.append(f"Enedis said: {request.errorMessage}\n")
            if explanation.advice != request.errorMessage:
                text.append(f"{explanation.advice}\n")
            if explanation.reorder_with_activation:
                text.append(
                    "R: re-order now with automatic retry after activation "
                    "(enedisRetryAfterLoadcurveActivation: true)\n",
                    style="bold",
                )
        elif request.status == "SUCCESS":
            kind = "the load curve (plot)" if request.type in rules.LOADCURVE_TYPES else "the data (JSON tree)"
            text.append(f"enter: open {kind}", style="dim")
        elif request.status not in rules.REQUEST_TERMINAL:
            latency = rules.median_latency(request.type, *period_of(session_of(self).body(self.order_id), request))
            text.append(f"waiting for Enedis (median latency of {request.type}: {latency:g} s)", style="dim")
        detail.update(text)

    @on(DataTable.RowSelected, "#ord-requests")
    def _request_selected(self) -> None:
        self.action_open_data()

    # -- actions ---------------------------------------------------------------------------
    def action_open_data(self) -> None:
        request = self.selected()
        order = self.order()
        if request is None or order is None:
            return
        if request.status != "SUCCESS":
            self.notify("This request has no data (yet).", severity="warning")
            return
        session = session_of(self)
        if request.type in rules.LOADCURVE_TYPES and request.type == "LOADCURVE":
            others = [r for r in order.requests if r.type == "LOADCURVE" and r.status == "SUCCESS" and r is not request]

            async def load() -> tuple[Trace, list[Trace]]:
                async def trace(r: OrderRequest) -> Trace:  # arrays built off the event loop
                    return await asyncio.to_thread(Trace.of, await session.curve(r), r.prm or r.type)

                primary = await trace(request)
                traces = [await trace(other) for other in others]
                return primary, [t for t in traces if t.ts]

            def show(result: tuple[Trace, list[Trace]]) -> None:
                primary, extra = result
                if not primary.ts:
                    self.notify("The load curve is empty for this period.", severity="warning")
                    return
                self.papp.open_screen(
                    "plot",
                    primary,
                    others=extra,
                    subtitle=direction_of(session.body(self.order_id), request),
                    export_dir=export_dir(self),
                )

            run_api(self, "Load curve", load, show)
        else:
            run_api(
                self,
                "Data",
                lambda: session.raw(request),
                lambda data: self.app.push_screen(RawDataScreen(f"{request.type} {request.prm or ''}", data)),
            )

    @work(exclusive=True, group="reorder", exit_on_error=False)
    async def action_reorder(self) -> None:
        """Ask first: a re-order is a new order, billed by Switchgrid (not in its test environment)."""
        request = self.selected()
        explanation = rules.explain_error(request.type, request.errorMessage) if request else None
        if explanation is None or not explanation.reorder_with_activation:
            self.notify(
                "Only a LOADCURVE refused for lack of load-curve service can be re-ordered with automatic retry.",
                severity="warning",
                timeout=6,
            )
            return
        if self.reorder_item is not None:
            return  # already in the outbox
        session = session_of(self)
        billed = (
            "In Switchgrid's test environment it is not billed."
            if session.test_env
            else "It is a NEW order: Switchgrid BILLS it, like the first one."
        )
        question = (
            f"Re-order {request.type if request else ''} {request.prm if request else ''} with automatic retry "
            f"after the load curve's activation (enedisRetryAfterLoadcurveActivation: true)?\n\n{billed}"
        )
        if not await self.app.push_screen_wait(ConfirmScreen(question)):
            self.notify("Nothing was ordered.", timeout=4)
            return
        try:
            body = session.reorder_body(self.order_id)
            payload = order_payload(body, self.papp.runtime.clock.now(), reorder_of=self.order_id)
            self.reorder_item = self.papp.outbox.submit(PROVIDER, ORDER_ACTION, payload)
        except (ApiError, ActionRefused, rules.RuleError) as error:
            self.notify(escape(str(error)), title="Re-order", severity="error", timeout=12)
            return
        self.reordered()

    def reordered(self) -> None:
        """Once Switchgrid has the re-order: its screen instead of this one."""
        item = self.papp.runtime.outbox.item(self.reorder_item) if self.reorder_item is not None else None
        if item is None or not self.is_current:
            return
        order_id = session_of(self).sent_order(item.payload["ref"]) if item.status == "delivered" else None
        if order_id is None:
            if item.status != "pending":
                self.reorder_item = None
            self.notify(escape(outbox_text(self.papp, item).plain), title="Re-order", timeout=8)
            return
        self.notify(
            f"Re-ordered as {order_id[:8]}: Enedis activates the load curve, the request "
            "completes by itself afterwards (often a few hours).",
            title="Switchgrid",
            timeout=12,
        )
        self.dismiss()
        self.app.push_screen(OrderScreen(order_id))

    def action_close(self) -> None:
        self.dismiss()


def ordered_item(body: dict[str, Any] | None, request: OrderRequest) -> dict[str, Any]:
    """The ``requests[]`` item of the order body this request came from ({} if unknown)."""
    for item in (body or {}).get("requests", []):
        if item.get("type") == request.type and (not item.get("prms") or request.prm in item.get("prms", [])):
            return dict(item)
    return {}


def direction_of(body: dict[str, Any] | None, request: OrderRequest) -> str:
    return str(ordered_item(body, request).get("direction") or "CONSUMPTION").lower()


def period_of(body: dict[str, Any] | None, request: OrderRequest) -> tuple[Any, Any]:
    """The ``since``/``until`` this request was ordered with (UTC instants), if known."""
    item = ordered_item(body, request)
    try:
        return (
            rules.parse_instant(item["since"]) if "since" in item else None,
            rules.parse_instant(item["until"]) if "until" in item else None,
        )
    except rules.RuleError:
        return None, None


def export_dir(screen: PupitreScreen) -> Path:
    from pupitre.providers.core.files import export_dir as configured_dir

    return configured_dir(screen.papp.runtime.settings.switchgrid.export_dir, screen.papp.runtime.ctx.data_dir)


class RawDataScreen(PupitreScreen):
    """Raw Enedis JSON (C68, R64/R65/R66 SYNC, R67…) as a tree: enter/space open a node."""

    BINDINGS = [
        Binding("E", "expand_all", "Expand all", id="raw.expand"),
        Binding("escape", "close", "Back", id="raw.back"),
    ]

    def __init__(self, title: str, data: Any) -> None:
        super().__init__()
        self.title_text = title
        self.data = data

    def compose(self) -> ComposeResult:
        yield HeaderBar(f"Data · {self.title_text}")
        yield Tree(self.title_text, id="raw-tree", classes="fill")
        yield PupitreFooter()

    def on_mount(self) -> None:
        tree = self.query_one("#raw-tree", Tree)
        add_json(tree.root, self.data)
        tree.root.expand()
        for child in tree.root.children:
            child.expand()
        tree.focus()

    def action_expand_all(self) -> None:
        self.query_one("#raw-tree", Tree).root.expand_all()

    def action_close(self) -> None:
        self.dismiss()


MAX_TREE_NODES = 20_000  # beyond, the rest is summarised (a huge R67 stays browsable)


def add_json(root: Any, data: Any) -> None:
    """``data`` under ``root``: objects and arrays as branches (with their sizes), scalars
    as ``key = value`` leaves. Labels are plain text (no markup from the API is interpreted)."""
    budget = [MAX_TREE_NODES]

    def add(node: Any, name: str, value: Any) -> None:
        if budget[0] <= 0:
            return
        budget[0] -= 1
        if isinstance(value, dict):
            branch = node.add(Text.assemble((name, "bold"), f" {{{len(value)}}}"))
            for key, item in value.items():
                add(branch, str(key), item)
        elif isinstance(value, list):
            branch = node.add(Text.assemble((name, "bold"), f" [{len(value)}]"))
            for index, item in enumerate(value):
                add(branch, str(index), item)
        else:
            node.add_leaf(
                Text.assemble(
                    (name, "bold"),
                    " = ",
                    "null" if value is None else repr(value) if isinstance(value, str) else str(value),
                )
            )

    if isinstance(data, dict):
        for key, item in data.items():
            add(root, str(key), item)
    elif isinstance(data, list):
        for index, item in enumerate(data):
            add(root, str(index), item)
    else:
        add(root, "value", data)
    if budget[0] <= 0:
        root.add_leaf(Text(f"… more than {MAX_TREE_NODES} entries: the rest is not shown", style="bold"))
