"""Load curves (key 6): Switchgrid consent asks and data orders.

Top: the asks with their status (a consent waiting for its signature, accepted with
the date its consents end, refused by the address check). Bottom: the orders placed
from pupitre with the state of their requests. Keys: ``f`` find a contract and ask
for consent; ``c`` copy the highlighted ask's consent link (OSC 52); ``x`` cancel an
ask (revokes every consent of it, after confirmation); ``o`` order data for the ask's
PRMs; ``enter`` on an order follows it (progress, errors, data); ``S`` (sandbox only)
signs the highlighted ask as its signer would.
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable

from rich.markup import escape
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Static

from pupitre.providers.core.errors import ApiError
from pupitre.providers.core.store import OutboxItem
from pupitre.providers.switchgrid import rules
from pupitre.providers.switchgrid.actions import ORDER_ACTION
from pupitre.providers.switchgrid.feeds import FEED, PROVIDER, SwitchgridData, SwitchgridSession
from pupitre.providers.switchgrid.models import Ask, Order
from pupitre.tui.dialogs.confirm import ConfirmScreen
from pupitre.tui.formats import ASK_WORDS, ORDER_WORDS, paris, word_text
from pupitre.tui.screens.base import PupitreScreen
from pupitre.tui.widgets.feed_status import FeedStatus
from pupitre.tui.widgets.footer import PupitreFooter
from pupitre.tui.widgets.header import HeaderBar
from pupitre.tui.widgets.outbox_status import outbox_status

log = logging.getLogger("pupitre.switchgrid.ui")


def session_of(screen: PupitreScreen) -> SwitchgridSession:
    return screen.papp.runtime.connections[PROVIDER].session_as(SwitchgridSession)


def run_api(
    screen: Any, title: str, call: Callable[[], Awaitable[Any]], done: Callable[[Any], object] | None = None
) -> None:
    """Ask the app's runners for a Switchgrid operation (:meth:`pupitre.runners.Runners.operate`:
    it goes on when the operator leaves the screen); an :class:`ApiError` or a rule's refusal
    becomes a visible message; ``done`` gets the result while ``screen`` is still there."""

    def answered(result: Any) -> None:
        if done is not None and screen.is_attached:
            done(result)

    screen.papp.runners.operate(PROVIDER, title, call, answered, expected=(ApiError, rules.RuleError))


def outbox_text(app: Any, item: OutboxItem) -> Text:
    """Where one queued ask or order stands, in the words every screen that sends uses."""
    return Text(f"#{item.id} ").append_text(outbox_status(app, item))


def period_text(body: dict[str, Any] | None) -> str:
    """The period an order was placed for, in Paris dates: ``09/12/24→16/12/24`` (the end is
    exclusive, as sent), ``API default`` where ``since``/``until`` were left out, ``?`` unknown."""
    span = rules.ordered_span(body)
    if span is None:
        return "?"
    since, until = span
    if since is None and until is None:
        return "API default"
    return f"{paris(since, '%d/%m/%y') or '…'}→{paris(until, '%d/%m/%y') or '…'}"


def order_summary(order: Order) -> Text:
    """``2/3 done · ✗ 1 failed`` for a table cell."""
    total = len(order.requests)
    done = sum(r.status in rules.REQUEST_TERMINAL for r in order.requests)
    failed = sum(r.status == "FAILED" for r in order.requests)
    text = Text(f"{done}/{total} done")
    if failed:
        text.append(f" · ✗ {failed} failed", style="bold")
    types = sorted({r.type for r in order.requests})
    text.append(" · " + ", ".join(types), style="dim")
    return text


class LoadCurvesScreen(PupitreScreen):
    FEEDS = (FEED,)
    BINDINGS = [
        Binding("f", "find", "Find contract / ask", id="loadcurves.find"),
        Binding("o", "order", "Order data", id="loadcurves.order"),
        Binding("enter", "open", "Open", id="loadcurves.open"),
        Binding("c", "copy_link", "Copy consent link", id="loadcurves.copy"),
        Binding("x", "cancel_ask", "Cancel ask", id="loadcurves.cancel"),
        Binding("d", "forget_order", "Stop following order", id="loadcurves.forget"),
        Binding("u", "unanswered", "Unanswered order", id="loadcurves.unanswered"),
        Binding("S", "sandbox_sign", "Sign (sandbox)", show=False, id="loadcurves.sandbox_sign"),
    ]

    def compose(self) -> ComposeResult:
        yield HeaderBar("Load curves")
        yield Static("", id="lc-summary", classes="block")
        yield DataTable(id="lc-asks", classes="framed", cursor_type="row", zebra_stripes=True)
        yield DataTable(id="lc-orders", classes="framed fill", cursor_type="row", zebra_stripes=True)
        yield Static("", id="lc-outbox")
        yield Static("", id="lc-detail", classes="block detail")
        yield FeedStatus(FEED, classes="feed-status")
        yield PupitreFooter()

    def on_mount(self) -> None:
        asks = self.query_one("#lc-asks", DataTable)
        for label, key in (
            ("Ask", "status"),
            ("PRM", "prm"),
            ("Holder", "holder"),
            ("Created", "created"),
            ("Consent until", "until"),
            ("Id", "id"),
        ):
            asks.add_column(label, key=key)
        orders = self.query_one("#lc-orders", DataTable)
        for label, key in (
            ("Order", "status"),
            ("Requests", "requests"),
            ("Period", "period"),
            ("Ordered", "ordered"),
            ("PRM", "prm"),
            ("Id", "id"),
        ):
            orders.add_column(label, key=key)
        asks.border_title = "Consent asks"
        orders.border_title = "Data orders"
        asks.focus()
        self.papp.outbox.updated.subscribe(self, lambda _: self.redraw())

    @property
    def session(self) -> SwitchgridSession:
        return session_of(self)

    def data(self) -> SwitchgridData:
        return self.session.current(self.papp.feeds.state(FEED).data)

    # -- drawing -------------------------------------------------------------------------
    def redraw(self) -> None:
        data = self.data()
        now = self.papp.runtime.clock.now()
        asks = self.query_one("#lc-asks", DataTable)
        keep = selected_key(asks)
        asks.clear()
        soon = {
            a.id
            for a, _ in rules.expiring_soon(data.asks, now, self.papp.runtime.settings.switchgrid.expiry_warning_days)
        }
        for ask in sorted(data.asks, key=lambda a: a.createdAt or now, reverse=True):
            until = rules.ask_expires_at(ask)
            until_text = Text(paris(until, "%d/%m/%Y"))
            if ask.id in soon:
                until_text = Text(f"⚠ {paris(until, '%d/%m/%Y')}", style="bold")
            holders = ", ".join(c.nomClientFinalOuDenominationSociale for c in ask.contracts)
            asks.add_row(
                word_text(ASK_WORDS, ask.status),
                ", ".join(ask.prms),
                holders[:28],
                paris(ask.createdAt),
                until_text,
                ask.id[:8],
                key=ask.id,
            )
        restore(asks, keep)
        orders = self.query_one("#lc-orders", DataTable)
        keep = selected_key(orders)
        orders.clear()
        for order_id, order in reversed(list(data.orders.items())):
            prms = sorted({r.prm for r in order.requests if r.prm})
            orders.add_row(
                word_text(ORDER_WORDS, order.status),
                order_summary(order),
                period_text(self.session.body(order_id)),
                paris(rules.placed_at(order), "%d/%m %H:%M") or "—",
                ", ".join(prms)[:30],
                order_id[:8],
                key=order_id,
            )
        restore(orders, keep)
        summary = Text(
            f"{len(data.asks)} ask(s) · {len(data.pending_signature())} to sign · "
            f"{len(data.orders)} order(s) · {len(data.running())} running"
        )
        if data.failed():
            summary.append(f" · ✗ {len(data.failed())} failed", style="bold")
        if self.session.test_env:
            summary.append(" · test env (not billed)", style="dim")
        self.query_one("#lc-summary", Static).update(summary)
        self.draw_outbox()
        self.show_detail()

    def outbox_items(self) -> list[OutboxItem]:
        """Asks and orders still in the outbox (queued, waiting for the API, or held)."""
        return self.papp.runtime.outbox.pending(PROVIDER)

    def held_orders(self) -> list[OutboxItem]:
        return [
            item
            for item in self.outbox_items()
            if item.action == ORDER_ACTION
            and (delivery := self.papp.outbox.last.get(item.id)) is not None
            and delivery.outcome == "held"
        ]

    def draw_outbox(self) -> None:
        handlers = self.papp.runtime.connections[PROVIDER].handlers
        text = Text()
        for item in self.outbox_items():
            text.append(outbox_text(self.papp, item))
            text.append(f"\n   {handlers[(item.provider, item.action)].describe(item.payload)}\n", style="dim")
        if self.held_orders():
            text.append("u: tell pupitre whether the held order exists at Switchgrid", style="bold")
        self.query_one("#lc-outbox", Static).update(text)
        self.query_one("#lc-outbox", Static).display = bool(text.plain)

    def show_detail(self) -> None:
        detail = self.query_one("#lc-detail", Static)
        focused = self.focused
        if isinstance(focused, DataTable) and focused.id == "lc-orders":
            order = self.data().orders.get(selected_key(focused) or "")
            if order is None:
                detail.update(Text("No order yet: highlight an accepted ask and press o.", style="dim"))
                return
            text = Text(f"Order {order.id} · {order.status}\n")
            for request in order.failed()[:2]:
                explanation = rules.explain_error(request.type, request.errorMessage)
                text.append(f"✗ {request.type} {request.prm or ''}: ", style="bold")
                text.append(explanation.title if explanation else (request.errorMessage or "failed"))
                text.append("\n")
            text.append("enter: follow the order, see errors and data", style="dim")
            detail.update(text)
            return
        ask = self.selected_ask()
        if ask is None:
            detail.update(Text("No ask yet: press f to find a contract and ask its holder for consent.", style="dim"))
            return
        text = Text(f"Ask {ask.id} · {ask.status}")
        if ask.user_url:
            text.append("\nconsent link: ")
            text.append(ask.user_url, style="bold")
            text.append("  (c copies it)", style="dim")
        checks = [f"{prm}: {r.status}" for prm, r in ask.addressCheckResults.items() if r.status != "SUCCESS"]
        if checks:
            text.append("\naddress check failed: " + ", ".join(checks), style="bold")
        detail.update(text)

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        self.show_detail()

    def on_descendant_focus(self) -> None:
        self.show_detail()

    def selected_ask(self) -> Ask | None:
        key = selected_key(self.query_one("#lc-asks", DataTable))
        return next((a for a in self.data().asks if a.id == key), None)

    # -- actions ---------------------------------------------------------------------------
    def action_find(self) -> None:
        self.papp.open_screen("contract_search")

    def action_copy_link(self) -> None:
        ask = self.selected_ask()
        if ask is None or not ask.user_url:
            self.notify("Highlight an ask that has a consent link.", severity="warning")
            return
        copy_link(self.app, ask.user_url)

    def action_cancel_ask(self) -> None:
        ask = self.selected_ask()
        if ask is None:
            return
        prms = ", ".join(ask.prms) or "its PRMs"

        def answer(yes: bool | None) -> None:
            if not yes:
                return

            def cancelled(_: object) -> None:
                self.notify(f"Ask {ask.id[:8]} cancelled: its consents are revoked.", title="Switchgrid")
                self.papp.feeds.updated.publish(FEED)
                self.papp.feeds.refresh(FEED, forced=True)

            run_api(self, "Cancel ask", lambda: self.session.cancel_ask(ask.id), cancelled)

        self.app.push_screen(
            ConfirmScreen(
                f"Cancel ask {ask.id[:8]} ({prms})? This revokes EVERY consent of the ask "
                "(Switchgrid cannot revoke only some meters); orders will need a new ask."
            ),
            answer,
        )

    def action_order(self) -> None:
        ask = self.selected_ask()
        prms = ask.prms if ask is not None and ask.status == "ACCEPTED" else []
        if ask is not None and ask.status != "ACCEPTED":
            self.notify(
                "This ask is not signed yet: an order needs an accepted consent for each PRM.",
                severity="warning",
                timeout=6,
            )
        self.papp.open_screen("order_form", prms)

    def action_open(self) -> None:
        focused = self.focused
        if isinstance(focused, DataTable) and focused.id == "lc-orders":
            order_id = selected_key(focused)
            if order_id:
                self.papp.open_screen("order", order_id)
        else:
            self.show_detail()

    def action_forget_order(self) -> None:
        """Stop following an order (e.g. a failed one that was re-ordered): it leaves the list
        and ``pupitre check``; the order itself stays at Switchgrid."""
        table = self.query_one("#lc-orders", DataTable)
        order_id = selected_key(table)
        if order_id is None or self.focused is not table:
            self.notify("Highlight an order in the orders list (tab) first.", severity="warning")
            return

        def answer(yes: bool | None) -> None:
            if yes and self.session.forget_order(order_id):
                self.notify(f"Order {order_id[:8]} no longer followed.", timeout=4)
                self.redraw()

        self.app.push_screen(
            ConfirmScreen(
                f"Stop following order {order_id[:8]}? It leaves this list and the daily check; Switchgrid keeps it."
            ),
            answer,
        )

    def action_unanswered(self) -> None:
        held = self.held_orders()
        if not held:
            self.notify("No order is waiting for you: every order sent got an answer.", timeout=4)
            return
        self.papp.open_screen("held_order", held[0])

    @on(DataTable.RowSelected, "#lc-orders")
    def _order_selected(self) -> None:
        self.action_open()

    def action_sandbox_sign(self) -> None:
        ask = self.selected_ask()
        simulator = self.papp.runtime.ctx.simulators.get(PROVIDER)
        if simulator is None or not self.session.sandboxed or ask is None:
            self.notify("Only a sandbox ask can be signed from here.", severity="warning")
            return
        if ask.id in simulator.asks:
            simulator.accept(ask.id)

            def signed(_: object) -> None:
                self.papp.feeds.updated.publish(FEED)
                self.notify("Sandbox: the ask is signed.")

            run_api(self, "Refresh ask", lambda: self.session.refresh_ask(ask.id), signed)


def copy_link(app: Any, url: str) -> None:
    """OSC 52 copy (works over SSH with most terminals; not macOS Terminal)."""
    app.copy_to_clipboard(url)
    app.notify(escape(f"Consent link copied: {url}"), title="Clipboard", timeout=8)


def selected_key(table: DataTable[Any]) -> str | None:
    if not table.row_count:
        return None
    return str(table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value)


def restore(table: DataTable[Any], key: str | None) -> None:
    if key is not None and key in table.rows:
        table.move_cursor(row=table.get_row_index(key))
