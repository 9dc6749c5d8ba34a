"""Switchgrid forms: find a contract, ask its holder for consent, order data.

Everything is checked by :mod:`pupitre.providers.switchgrid.rules` before any call;
a refusal is shown under the form, nothing is sent. An ask or an order goes through the
outbox (written before it is sent, never sent twice, see
:mod:`pupitre.providers.switchgrid.actions`); the form shows where it stands until
Switchgrid has it. :class:`HeldOrderScreen` is where the operator tells pupitre whether an
order that got no answer exists at Switchgrid.
"""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Checkbox, DataTable, Input, Select, SelectionList, Static

from pupitre.providers.core.errors import ApiError
from pupitre.providers.core.outbox import ActionRefused
from pupitre.providers.core.store import OutboxItem
from pupitre.providers.switchgrid import rules
from pupitre.providers.switchgrid.actions import (
    ASK_ACTION,
    DASHBOARD,
    ORDER_ACTION,
    ask_payload,
    operator_found,
    order_payload,
)
from pupitre.providers.switchgrid.feeds import FEED, PROVIDER
from pupitre.providers.switchgrid.models import Ask, Contract, Order
from pupitre.tui.forms import KeepsTyping
from pupitre.tui.screens.base import PupitreScreen
from pupitre.tui.screens.load_curves import copy_link, outbox_text, run_api, selected_key, session_of
from pupitre.tui.widgets.footer import PupitreFooter
from pupitre.tui.widgets.header import HeaderBar
from pupitre.tui.widgets.tickbox import TickBox

PURPOSE_LABELS = {
    "ENERGY_PERFORMANCE_STUDY": "Energy performance study",
    "SOLAR_INSTALLATION_SIZING": "Solar installation sizing",
    "DEMAND_RESPONSE": "Demand response / flexibility",
    "ENERGY_BROKERAGE": "Energy brokerage",
    "VEHICLE_CHARGE_DETECTION": "Smart EV charging",
}
DATA_LABELS = {
    "DETAILS_CONTRACTUELS": "Contractual details (C68)",
    "CDC": "Load curve (R63)",
    "IDX": "Daily indexes (R64)",
    "ENERGIE": "Daily energies / billing (R65, R67)",
    "PMAX": "Daily max. powers (R66)",
}
DIRECTION_LABELS = {"SOUTIRAGE": "Consumption (soutirage)", "INJECTION": "Injection", "CONSUMPTION": "Consumption"}


class ContractSearchScreen(PupitreScreen):
    """``GET /search_contract``: the holder's name plus the address or the PRM."""

    FORM = True
    BINDINGS = [
        Binding("space", "tick", "Tick", id="search.tick"),
        Binding("n", "new_ask", "Ask consent", id="search.ask"),
        Binding("escape", "close", "Back", id="search.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.results: list[Contract] = []
        self.ticked: set[str] = set()

    def compose(self) -> ComposeResult:
        yield HeaderBar("Find a contract")
        yield Input(
            placeholder="holder's name (at least 3 characters), e.g. SARL Les Tanneurs",
            id="s-name",
            classes="search-field",
            compact=True,
        )
        yield Input(
            placeholder="meter address: street and postal code, e.g. 1 rue de la paix 75002 Paris",
            id="s-address",
            classes="search-field",
            compact=True,
        )
        yield Input(placeholder="or the PRM (14 digits)", id="s-prm", classes="search-field", compact=True)
        yield Static(
            Text("enter searches · in the results: space ticks, n asks for consent", style="dim"),
            id="s-error",
            classes="block",
        )
        yield DataTable(id="s-results", classes="fill", cursor_type="row", zebra_stripes=True)
        yield PupitreFooter()

    def on_mount(self) -> None:
        table = self.query_one("#s-results", DataTable)
        for label, key in (("", "tick"), ("Holder", "name"), ("PRM", "prm"), ("Kind", "kind"), ("Address", "address")):
            table.add_column(label, key=key)
        self.query_one("#s-name", Input).focus()

    def field(self, name: str) -> str:
        return self.query_one(f"#s-{name}", Input).value

    @on(Input.Submitted)
    def search(self) -> None:
        error = self.query_one("#s-error", Static)
        try:
            rules.validate_search(self.field("name"), self.field("address"), self.field("prm"))
        except rules.RuleError as exc:
            error.update(Text(f"✗ {exc}", style="bold"))
            return
        error.update(Text("Searching…"))
        session = session_of(self)
        run_api(
            self,
            "Search",
            lambda: session.search(self.field("name"), self.field("address"), self.field("prm")),
            self.show_results,
        )

    def show_results(self, results: list[Contract]) -> None:
        self.results = results
        self.ticked &= {c.id or c.prm for c in results}
        self.fill()
        error = self.query_one("#s-error", Static)
        if not results:
            error.update(
                Text(
                    "No contract matches: check the spelling of the name (as on the bill) "
                    "and the postal code, or search by PRM.",
                    style="bold",
                )
            )
            return
        error.update(Text(f"{len(results)} contract(s) · space ticks, n asks the holder for consent", style="dim"))
        self.query_one("#s-results", DataTable).focus()

    def fill(self) -> None:
        table = self.query_one("#s-results", DataTable)
        keep = selected_key(table)
        table.clear()
        for contract in self.results:
            key = contract.id or contract.prm
            table.add_row(
                "☑" if key in self.ticked else "☐",
                contract.nomClientFinalOuDenominationSociale,
                contract.prm,
                contract.categorieClientFinalCode or "",
                str(contract.adresseInstallationNormalisee),
                key=key,
            )
        if keep is not None and keep in table.rows:
            table.move_cursor(row=table.get_row_index(keep))

    def action_tick(self) -> None:
        key = selected_key(self.query_one("#s-results", DataTable))
        if key is None:
            return
        self.ticked ^= {key}
        self.fill()

    def chosen(self) -> list[Contract]:
        key = selected_key(self.query_one("#s-results", DataTable))
        keys = self.ticked or ({key} if key else set())
        return [c for c in self.results if (c.id or c.prm) in keys]

    def action_new_ask(self) -> None:
        contracts = self.chosen()
        if not contracts:
            self.notify("Search, then highlight or tick the contract(s) to ask consent for.", severity="warning")
            return
        missing = [c.prm for c in contracts if not c.id]
        if missing:
            self.notify(f"No Switchgrid id for {', '.join(missing)}: search again.", severity="error")
            return
        self.app.push_screen(AskFormScreen(contracts))

    def action_close(self) -> None:
        self.dismiss()


class AskFormScreen(KeepsTyping, PupitreScreen):
    """``POST /ask``: contracts, signer, purposes, data scopes, consent duration."""

    FORM = True
    FORM_TITLE = "the consent ask"
    BINDINGS = [
        Binding("ctrl+s", "create", "Create ask", id="ask.create"),
        Binding(
            "ctrl+y",
            "copy",
            "Copy link",
            id="ask.copy",
            tooltip="Copy the consent link to the clipboard (OSC 52), from any field",
        ),
        Binding("escape", "close", "Back", id="ask.back"),
    ]

    def __init__(self, contracts: list[Contract]) -> None:
        super().__init__()
        self.contracts = contracts
        self.sending = False  # an ask is in the outbox: a second press does nothing
        self.item_id: int | None = None
        self.ask: Ask | None = None

    def compose(self) -> ComposeResult:
        yield HeaderBar("Ask for consent")
        with VerticalScroll(id="ask-form", classes="form"):
            yield Static(
                Text(
                    "For: " + "; ".join(f"{c.nomClientFinalOuDenominationSociale} ({c.prm})" for c in self.contracts),
                    style="bold",
                )
            )
            with Horizontal(classes="form-row"):
                yield Input(placeholder="signer's first name", id="ask-first", compact=True)
                yield Input(placeholder="signer's last name", id="ask-last", compact=True)
            yield Input(placeholder="signer's e-mail (optional)", id="ask-email", compact=True)
            yield Static("Purposes", classes="form-label")
            yield SelectionList[str](
                *[(label, key, key == "ENERGY_PERFORMANCE_STUDY") for key, label in PURPOSE_LABELS.items()],
                id="ask-purposes",
            )
            yield Static("Data covered by the consent", classes="form-label")
            yield SelectionList[str](
                *[(label, key, key in ("DETAILS_CONTRACTUELS", "CDC")) for key, label in DATA_LABELS.items()],
                id="ask-data",
            )
            yield Static("Directions", classes="form-label")
            yield SelectionList[str](
                *[(DIRECTION_LABELS[d], d, d == "SOUTIRAGE") for d in rules.ENEDIS_DIRECTIONS], id="ask-directions"
            )
            yield Static("Consent duration (from the signature)", classes="form-label")
            yield Select(
                [(d, d) for d in rules.CONSENT_DURATIONS], value="1 year", allow_blank=False, id="ask-duration"
            )
            yield Static("", id="ask-chosen", classes="block")
            with Horizontal(classes="form-row"):
                yield Button("Create ask", id="ask-create", variant="primary")
                yield Button("Copy consent link (ctrl+y)", id="ask-copy", disabled=True)
        # Below the scrolled form, not in it: the consent link stays in view at any size.
        yield Static("", id="ask-result", classes="block")
        yield PupitreFooter()

    def on_mount(self) -> None:
        self.query_one("#ask-first", Input).focus()
        self.show_chosen()
        self.papp.outbox.updated.subscribe(self, lambda _: self.outbox_updated())

    @on(SelectionList.SelectedChanged)
    def show_chosen(self) -> None:
        """What is ticked, in words (the boxes differ only by colour: NO_COLOR)."""
        text = Text()
        for title, selector, labels in (
            ("purposes", "#ask-purposes", PURPOSE_LABELS),
            ("data", "#ask-data", DATA_LABELS),
            ("directions", "#ask-directions", DIRECTION_LABELS),
        ):
            chosen = self.query_one(selector, SelectionList).selected
            text.append(f"{title}: ", style="bold")
            text.append((", ".join(labels[c] for c in chosen) or "none") + "\n")
        self.query_one("#ask-chosen", Static).update(text)

    def body(self) -> dict[str, Any]:
        data = self.query_one("#ask-data", SelectionList).selected
        return rules.build_ask(
            [c.id or "" for c in self.contracts],
            self.query_one("#ask-first", Input).value,
            self.query_one("#ask-last", Input).value,
            purposes=self.query_one("#ask-purposes", SelectionList).selected,
            types=[t for t in data if t in rules.CONSUMPTION_TYPES],
            directions=self.query_one("#ask-directions", SelectionList).selected,
            contractual="DETAILS_CONTRACTUELS" in data,
            duration=str(self.query_one("#ask-duration", Select).value),
            email=self.query_one("#ask-email", Input).value,
        )

    @on(Button.Pressed, "#ask-create")
    def action_create(self) -> None:
        if self.sending or self.ask is not None:
            return
        result = self.query_one("#ask-result", Static)
        try:
            body = self.body()
        except rules.RuleError as exc:
            result.update(Text(f"✗ {exc}", style="bold"))
            return
        payload = ask_payload(body, [c.prm for c in self.contracts], self.papp.runtime.clock.now())
        try:
            self.item_id = self.papp.outbox.submit(PROVIDER, ASK_ACTION, payload)
        except ActionRefused as refusal:
            result.update(Text(f"✗ {refusal}", style="bold"))
            return
        self.sending = True
        self.outbox_updated()

    def outbox_updated(self) -> None:
        """Where the queued ask stands; once Switchgrid has it, its consent link."""
        item = self.papp.runtime.outbox.item(self.item_id) if self.item_id is not None else None
        if item is None or self.ask is not None:
            return
        result = self.query_one("#ask-result", Static)
        if item.status == "delivered":
            ask = session_of(self).sent_ask(item.payload["ref"])
            if ask is not None:
                self.created(ask)
                return
        if item.status in ("failed", "superseded"):
            self.sending = False  # nothing was created: it may be corrected and sent again
        result.update(outbox_text(self.papp, item))

    def created(self, ask: Ask) -> None:
        self.ask = ask
        self.query_one("#ask-create", Button).disabled = True
        text = Text(f"✓ Ask {ask.id} created: {ask.status}.\n", style="bold")
        if ask.user_url:
            text.append("Send this consent link to the signer (ctrl+y copies it):\n")
            text.append(ask.user_url, style="bold")
            copy = self.query_one("#ask-copy", Button)
            copy.disabled = False
            copy.focus()
        self.query_one("#ask-result", Static).update(text)
        self.papp.feeds.refresh(FEED, forced=True)

    @on(Button.Pressed, "#ask-copy")
    def action_copy(self) -> None:
        if self.ask is not None and self.ask.user_url:
            copy_link(self.app, self.ask.user_url)
        else:
            self.notify("No consent link yet: create the ask first (ctrl+s).", timeout=4)

    @property
    def form_done(self) -> bool:
        return self.sending or self.ask is not None

    def action_close(self) -> None:
        self.leave(self.dismiss)


TYPE_CHOICES = [code for code, kind in rules.REQUEST_TYPES.items() if kind.legacy_for is None] + [
    code for code, kind in rules.REQUEST_TYPES.items() if kind.legacy_for is not None
]


def type_label(code: str) -> str:
    kind = rules.REQUEST_TYPES[code]
    words = kind.description.split(" (")[0].split(",")[0]
    return f"{code} · {words}" + (" (legacy)" if kind.legacy_for else "")


class OrderFormScreen(KeepsTyping, PupitreScreen):
    """``POST /order``: one or more requests (type, PRMs, direction, since/until)."""

    FORM = True
    FORM_TITLE = "the order"
    BINDINGS = [
        Binding("ctrl+s", "place", "Place order", id="order.place"),
        Binding("escape", "close", "Back", id="order.back"),
    ]

    def __init__(self, prms: list[str]) -> None:
        super().__init__()
        self.prms = prms
        self.requests: list[dict[str, Any]] = []
        self.sending = False  # an order is in the outbox: a second press does nothing
        self.item_id: int | None = None

    def compose(self) -> ComposeResult:
        yield HeaderBar("Order data")
        with VerticalScroll(id="order-form", classes="form"):
            yield Input(
                ", ".join(self.prms), placeholder="PRM(s), 14 digits, comma-separated", id="o-prms", compact=True
            )
            with Horizontal(classes="form-row"):
                yield Select(
                    [(type_label(c), c) for c in TYPE_CHOICES], value="LOADCURVE", allow_blank=False, id="o-type"
                )
                yield Select([], prompt="direction (default)", id="o-direction")
            with Horizontal(classes="form-row"):
                yield Input(
                    placeholder="since, e.g. 2024-12-10 (Paris) or 2024-12-10T12:00:00Z",
                    id="o-since",
                    compact=True,
                )
                yield Input(
                    placeholder="until (same forms, not in the future; empty = the API's default)",
                    id="o-until",
                    compact=True,
                )
            yield TickBox(
                "auto-retry after load-curve activation",
                id="o-retry",
                tooltip="enedisRetryAfterLoadcurveActivation: true",
            )
            yield Static("", id="o-hint", classes="block")
            with Horizontal(classes="form-row"):
                yield Button("Add request", id="o-add")
                yield Button("Place order", id="o-place", variant="primary")
            yield Static("", id="o-list", classes="block")
            yield Static("", id="o-error", classes="block")
        yield PupitreFooter()

    def on_mount(self) -> None:
        self.type_changed()
        self.query_one("#o-type", Select).focus()
        self.papp.outbox.updated.subscribe(self, lambda _: self.outbox_updated())

    @on(Select.Changed, "#o-type")
    def type_changed(self) -> None:
        code = str(self.query_one("#o-type", Select).value)
        kind = rules.REQUEST_TYPES[code]
        direction = self.query_one("#o-direction", Select)
        direction.set_options([(DIRECTION_LABELS[d], d) for d in kind.directions])
        direction.disabled = not kind.directions
        for name in ("since", "until"):
            self.query_one(f"#o-{name}", Input).disabled = name not in kind.arguments
        self.query_one("#o-retry", Checkbox).disabled = "enedisRetryAfterLoadcurveActivation" not in kind.arguments
        latency = rules.median_latency(code)
        short = rules.median_latency(code, rules.parse_instant("2024-01-01"), rules.parse_instant("2024-01-02"))
        hint = Text(
            f"{code}: {kind.description} · format {kind.data_format} · median latency "
            + (f"{short:g} s (≤ 7 days), {latency:g} s beyond" if short != latency else f"{latency:g} s")
        )
        if kind.legacy_for:
            hint.append(f" · legacy: prefer {kind.legacy_for}", style="bold")
        hint.append(
            "\nDates without Z, an offset or a [zone] are Paris dates (sent as …[Europe/Paris]); "
            "until may not be in the future.",
            style="dim",
        )
        self.query_one("#o-hint", Static).update(hint)

    def current(self) -> dict[str, Any]:
        """The request being edited, checked (``RuleError`` with a sentence otherwise)."""
        code = str(self.query_one("#o-type", Select).value)
        prms = [p for p in self.query_one("#o-prms", Input).value.replace(";", ",").split(",") if p.strip()]
        request: dict[str, Any] = {"type": code, "prms": prms}
        direction = self.query_one("#o-direction", Select).value
        if isinstance(direction, str) and not self.query_one("#o-direction", Select).disabled:
            request["direction"] = direction
        for name in ("since", "until"):
            field = self.query_one(f"#o-{name}", Input)
            if field.value.strip() and not field.disabled:
                request[name] = rules.paris_argument(field.value)
        retry = self.query_one("#o-retry", Checkbox)
        if retry.value and not retry.disabled:
            request["enedisRetryAfterLoadcurveActivation"] = True
        return rules.validate_request(request, now=self.papp.runtime.clock.now())

    def show_list(self) -> None:
        text = Text()
        if self.requests:
            text.append(f"In this order ({len(self.requests)}):\n", style="bold")
            for r in self.requests:
                extra = " ".join(f"{k}={v}" for k, v in r.items() if k not in ("type", "prms"))
                text.append(f"  • {r['type']} {', '.join(r['prms'])} {extra}\n")
        self.query_one("#o-list", Static).update(text)

    @on(Button.Pressed, "#o-add")
    def add(self) -> None:
        error = self.query_one("#o-error", Static)
        try:
            self.requests.append(self.current())
        except rules.RuleError as exc:
            error.update(Text(f"✗ {exc}", style="bold"))
            return
        error.update("")
        self.show_list()

    @on(Button.Pressed, "#o-place")
    def action_place(self) -> None:
        if self.sending:
            return
        error = self.query_one("#o-error", Static)
        try:
            requests = self.requests or [self.current()]
            payload = order_payload({"requests": requests}, self.papp.runtime.clock.now())
            self.item_id = self.papp.outbox.submit(PROVIDER, ORDER_ACTION, payload)
        except (rules.RuleError, ActionRefused) as exc:
            error.update(Text(f"✗ {exc}", style="bold"))
            return
        self.sending = True
        self.outbox_updated()

    def outbox_updated(self) -> None:
        """Where the queued order stands; once Switchgrid has it, its screen (it is followed)."""
        item = self.papp.runtime.outbox.item(self.item_id) if self.item_id is not None else None
        if item is None or not self.is_current:
            return
        if item.status == "delivered":
            order_id = session_of(self).sent_order(item.payload["ref"])
            if order_id is not None:
                self.dismiss()
                self.papp.open_screen("order", order_id)
                return
        if item.status in ("failed", "superseded"):
            self.sending = False
        self.query_one("#o-error", Static).update(outbox_text(self.papp, item))

    @property
    def form_done(self) -> bool:
        return self.sending

    def action_close(self) -> None:
        self.leave(self.dismiss)


class HeldOrderScreen(PupitreScreen):
    """An order that got no answer (killed or timed out while in flight): Switchgrid cannot be
    asked for it without its id, so the operator looks at the orders on Switchgrid's dashboard
    and says which it is (read back and checked against what was sent), or that it is not
    there (then it is sent again). Either answer is audited; nothing is ordered twice."""

    FORM = True
    BINDINGS = [Binding("escape", "close", "Back", id="held.back")]

    def __init__(self, item: OutboxItem) -> None:
        super().__init__()
        self.item = item

    def compose(self) -> ComposeResult:
        describe = self.papp.runtime.connections[PROVIDER].handlers[(PROVIDER, ORDER_ACTION)].describe
        since = self.item.sending_since
        yield HeaderBar(f"Order #{self.item.id}: no answer")
        with VerticalScroll(id="held-form", classes="form"):
            yield Static(
                Text(
                    describe(self.item.payload) + (f", sent {since:%d/%m %H:%M:%S}" if since else ""),
                    style="bold",
                )
                + Text(
                    "\nSwitchgrid did not answer: the order may exist (and be billed). Switchgrid offers no way "
                    f"to look it up without its id. Open the orders on {DASHBOARD}, look for one placed since "
                    "then for these PRMs and request types, and tell pupitre:"
                )
            )
            yield Input(placeholder="the order's id (a UUID), as Switchgrid shows it", id="held-id", compact=True)
            with Horizontal(classes="form-row"):
                yield Button("It is this order", id="held-found", variant="primary")
                yield Button("It is not there: send it again", id="held-absent", variant="warning")
            yield Static("", id="held-result")
        yield PupitreFooter()

    def on_mount(self) -> None:
        self.query_one("#held-id", Input).focus()

    @on(Input.Submitted, "#held-id")
    @on(Button.Pressed, "#held-found")
    def found(self) -> None:
        order_id = self.query_one("#held-id", Input).value.strip()
        result = self.query_one("#held-result", Static)
        try:
            order_id = rules.validate_uuid(order_id, "order id")
        except rules.RuleError as exc:
            result.update(Text(f"✗ {exc}", style="bold"))
            return
        session, item, papp = session_of(self), self.item, self.papp

        def refused(error: Exception) -> None:
            if self.is_attached:
                result.update(Text(f"✗ {error}", style="bold"))
            else:
                papp.notify(escape(f"#{item.id}: {error}"), title="Switchgrid", severity="error", timeout=12)

        def identified(order: Order) -> None:
            papp.notify(f"#{item.id} is order {order.id[:8]}: it is followed.", title="Switchgrid")
            papp.outbox.kick()  # the next attempt finds it: delivered, verified, followed
            if self.is_attached:
                self.dismiss()

        # the runner reads the order and keeps it (audited by the session), even if this closes
        papp.runners.operate(
            PROVIDER,
            "Switchgrid",
            lambda: operator_found(session, item, order_id),
            identified,
            expected=(ApiError, ActionRefused),
            refused=refused,
        )

    @on(Button.Pressed, "#held-absent")
    def absent(self) -> None:
        if self.papp.runtime.outbox.send_again(
            self.item.id, "the operator found no such order at Switchgrid: it is sent again"
        ):
            self.papp.outbox.kick()
            self.notify(f"#{self.item.id} is sent again.", title="Switchgrid")
        else:
            self.notify("Another pupitre process has it, or it was delivered meanwhile.", severity="warning")
        self.dismiss()

    def action_close(self) -> None:
        self.dismiss()
