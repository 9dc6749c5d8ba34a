"""Switchgrid wiring: settings → bearer token, the lazily built client, the asks-and-orders feed.

The feed reads every ask (``GET /ask``, page after page) and every followed order that
is not finished yet (an order placed from pupitre is followed: its id is kept in the
store's watch-list, its body in a snapshot so that it can be re-ordered). A finished
order keeps its last read. An order just placed is also followed at once by
:meth:`SwitchgridSession.follow` (polling with the settings' backoff), whose reads
show through :meth:`SwitchgridSession.current` before the next feed run.

Asks and orders (``POST /ask``, ``POST /order``) go through the outbox
(:mod:`pupitre.providers.switchgrid.actions`): written before they are sent, never sent
twice, the id Switchgrid answers kept at once under pupitre's reference of the action.
``DELETE /ask`` is sent once and audited.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Iterator

import msgspec

from pupitre.providers.core.api import from_data, to_data
from pupitre.providers.core.checks import Finding
from pupitre.providers.core.clock import PARIS, instant, paris
from pupitre.providers.core.context import Connection, ProviderContext
from pupitre.providers.core.environments import Environment, real
from pupitre.providers.core.errors import ApiError, BadRequestError
from pupitre.providers.core.feeds import Change, Feed, Severity, fixed_interval
from pupitre.providers.core.outbox_words import OutboxState
from pupitre.providers.core.store import OUTBOX_PENDING
from pupitre.providers.core.text import unknown_word
from pupitre.providers.switchgrid import rules
from pupitre.providers.switchgrid.actions import ASK_ACTION, ORDER_ACTION, AskHandler, OrderHandler
from pupitre.providers.switchgrid.models import PROVIDER as API
from pupitre.providers.switchgrid.models import Ask, Contract, Order, OrderRequest
from pupitre.settings import SwitchgridSettings

if TYPE_CHECKING:
    from pupitre.providers.core.sandbox import SimulatorApp
    from pupitre.providers.switchgrid.client import SwitchgridClient

log = logging.getLogger("pupitre.switchgrid")

PROVIDER = "switchgrid"
TITLE = "Switchgrid"
FEED = "switchgrid.asks_orders"
ORDERS_LIST = "switchgrid.orders"  # watch-list of followed order ids
BODIES = "switchgrid.order_bodies"  # snapshot: order id -> the POST /order body sent
SENT = "switchgrid.sent."  # snapshot per outbox action (+ its ref): the ask or order Switchgrid answered
SANDBOX_HOST = "switchgrid.sandbox.invalid"
SANDBOX_BASE_URL = f"http://{SANDBOX_HOST}/enedis/v2"
TOKEN_SECRET = "api_token"
SANDBOX_ACCEPT_DELAY = dt.timedelta(seconds=90)  # the sandbox's signer signs after this
SANDBOX_LATENCY_SCALE = 0.1  # the document's median latencies, ten times faster


#: The secrets the real API needs (looked for in the environment, the keyring, the credentials file).
SECRETS = (TOKEN_SECRET,)


def sandbox_app(settings: SwitchgridSettings, ctx: ProviderContext) -> SimulatorApp:
    from pupitre.providers.switchgrid.sandbox import SwitchgridSimulator

    return SwitchgridSimulator(
        ctx.clock,
        ctx.faults,
        accept_delay=SANDBOX_ACCEPT_DELAY,
        latency_scale=SANDBOX_LATENCY_SCALE,
        training_day=ctx.training_day,
    ).app


def sandbox_seed(simulator: Any, ctx: ProviderContext) -> None:
    """A store's first use of the sandbox on a training day: follow the simulator's order."""
    if simulator.training_order is not None:
        ctx.store.watch_add(ORDERS_LIST, [simulator.training_order], ctx.clock.now())


#: Settings ``pupitre sandbox serve`` prints for this simulator: it is a test environment.
SERVE_SETTINGS = {"test_env": True}


def serve_notes(simulator: Any) -> list[str]:
    """For ``pupitre sandbox serve``: the sandbox's API token (not a real one)."""
    return ["API token of this sandbox:", f"  export PUPITRE_SWITCHGRID_API_TOKEN={simulator.token}"]


# -- the feed's data -----------------------------------------------------------------------------


class SwitchgridData(msgspec.Struct):
    asks: list[Ask] = msgspec.field(default_factory=list)
    orders: dict[str, Order] = msgspec.field(default_factory=dict)  # followed orders, oldest first
    errors: dict[str, str] = msgspec.field(default_factory=dict)  # order id -> why its last read failed

    def pending_signature(self) -> list[Ask]:
        return [a for a in self.asks if a.status == "PENDING_USER_ACTION"]

    def running(self) -> list[Order]:
        return [o for o in self.orders.values() if not rules.order_done(o.status)]

    def failed(self) -> list[Order]:
        return [o for o in self.orders.values() if o.status in rules.ORDER_FAILED]

    def unknown_statuses(self) -> list[str]:
        """Asks, orders and requests in a status the document does not list, one line each
        (``ask 1a2b3c4d ? unknown (PURPLE)``): shown and counted as attention."""
        out = [f"ask {a.id[:8]} {unknown_word(a.status)}" for a in self.asks if a.status not in rules.ASK_STATUSES]
        for order in self.orders.values():
            if order.status not in rules.ORDER_STATUSES:
                out.append(f"order {order.id[:8]} {unknown_word(order.status)}")
            out += [
                f"order {order.id[:8]} request {r.type} {unknown_word(r.status)}"
                for r in order.requests
                if r.status not in rules.REQUEST_STATUSES
            ]
        return out


def dump(data: SwitchgridData) -> dict[str, Any]:
    return {
        "asks": to_data(data.asks),
        "orders": to_data(data.orders),
        "errors": dict(data.errors),
    }


def load(payload: dict[str, Any]) -> SwitchgridData:
    return SwitchgridData(
        from_data(payload.get("asks", []), list[Ask], provider=API),
        from_data(payload.get("orders", {}), dict[str, Order], provider=API),
        dict(payload.get("errors", {})),
    )


def changes(old: SwitchgridData | None, new: SwitchgridData) -> list[Change]:
    """An ask signed, an order finished or failed: history rows and notifications."""
    if old is None:
        return []
    out = []
    before = {a.id: a.status for a in old.asks}
    for ask in new.asks:
        was = before.get(ask.id)
        if was is not None and was != ask.status:
            severity: Severity = "info" if ask.status == "ACCEPTED" else "attention"
            out.append(
                Change(
                    f"ask:{ask.id}",
                    was,
                    ask.status,
                    f"{was} → {ask.status}",
                    severity,
                    f"Ask {ask.id[:8]} ({', '.join(ask.prms) or '?'}): {ask.status}",
                )
            )
    for order_id, order in new.orders.items():
        previous = old.orders.get(order_id)
        if previous is not None and previous.status != order.status and rules.order_done(order.status):
            severity = "attention" if order.status in rules.ORDER_FAILED else "info"
            out.append(
                Change(
                    f"order:{order_id}",
                    previous.status,
                    order.status,
                    f"{previous.status} → {order.status}",
                    severity,
                    f"Order {order_id[:8]}: {order.status}",
                )
            )
    return out


# -- the session ---------------------------------------------------------------------------------


class SwitchgridSession(msgspec.Struct, dict=True):
    settings: SwitchgridSettings
    ctx: ProviderContext
    sandboxed: bool
    live: dict[str, Order] = msgspec.field(default_factory=dict)  # orders read by follow() since the feed ran
    following: set[str] = msgspec.field(default_factory=set)
    curves: dict[str, rules.LoadCurve] = msgspec.field(default_factory=dict)  # request id -> curve
    last: SwitchgridData | None = None

    def __post_init__(self) -> None:
        # runtime state, not fields (out of the constructor, the repr and equality)
        self._client: SwitchgridClient | None = None

    @property
    def test_env(self) -> bool:
        return True if self.sandboxed else self.settings.test_env

    @property
    def client(self) -> "SwitchgridClient":
        if self._client is None:
            from pupitre.providers.switchgrid.client import SwitchgridClient, switchgrid_auth

            if self.sandboxed:
                from pupitre.providers.switchgrid.sandbox import SANDBOX_TOKEN

                base, token = SANDBOX_BASE_URL, SANDBOX_TOKEN
            else:
                base = self.settings.base_url
                token = self.ctx.connect_real(PROVIDER, TITLE, self.settings, TOKEN_SECRET) or ""
            self._client = SwitchgridClient(
                self.ctx.client(), base, switchgrid_auth(token), test_env=self.test_env, retry=self.ctx.retry
            )
        return self._client

    def poll_delays(self) -> Iterator[float]:
        s = self.settings
        return rules.poll_delays(s.poll_first_seconds, s.poll_factor, s.poll_max_seconds)

    # -- followed orders and their bodies ----------------------------------------------------
    def followed(self) -> list[str]:
        return [key for key, _ in self.ctx.store.watch_list(ORDERS_LIST)]

    def bodies(self) -> dict[str, Any]:
        snapshot = self.ctx.store.load_snapshot(BODIES)
        return dict(snapshot.payload) if snapshot is not None and isinstance(snapshot.payload, dict) else {}

    def body(self, order_id: str) -> dict[str, Any] | None:
        return self.bodies().get(order_id)

    def previous(self) -> SwitchgridData:
        if self.last is not None:
            return self.last
        snapshot = self.ctx.store.load_snapshot(FEED)
        try:
            return load(snapshot.payload) if snapshot is not None else SwitchgridData()
        except Exception:
            return SwitchgridData()

    def current(self, data: SwitchgridData | None) -> SwitchgridData:
        """The latest known state: this session's last read (with its own writes since),
        else the feed's data (e.g. from the store at start-up); overlaid with the orders
        read since by :meth:`follow`; only the followed orders."""
        if self.last is not None:  # this session's own latest reads and writes
            base = self.last
        else:
            base = data if data is not None else self.previous()
        orders = dict(base.orders)
        orders.update(self.live)
        return SwitchgridData(base.asks, {k: orders[k] for k in self.followed() if k in orders}, base.errors)

    async def refresh(self) -> SwitchgridData:
        previous = self.current(None)
        asks = await self.client.all_asks()
        orders: dict[str, Order] = {}
        errors: dict[str, str] = {}
        for order_id in self.followed():
            old = previous.orders.get(order_id)
            if old is not None and rules.order_done(old.status):
                orders[order_id] = old
                continue
            try:
                orders[order_id] = await self.client.get_order(order_id)
            except ApiError as error:
                errors[order_id] = str(error)
                if old is not None:
                    orders[order_id] = old
        self.last = SwitchgridData(asks, orders, errors)
        for order_id, order in orders.items():
            if order_id in self.live and (rules.order_done(order.status) or order_id not in self.following):
                self.live.pop(order_id, None)
        return self.last

    # -- operations ---------------------------------------------------------------------
    def audit(self, action: str, outcome: str, detail: str) -> None:
        self.ctx.store.audit(PROVIDER, action, outcome, self.ctx.clock.now(), detail)

    async def search(self, name: str, address: str = "", prm: str = "") -> list[Contract]:
        return await self.client.search_contract(name, address or None, prm or None)

    # What Switchgrid answered to an outbox action, kept under the action's reference the
    # moment the answer arrives: after a crash, the outbox finds the action by it.
    def _sent(self, ref: str) -> dict[str, Any]:
        snapshot = self.ctx.store.load_snapshot(SENT + ref)
        return dict(snapshot.payload) if snapshot is not None and isinstance(snapshot.payload, dict) else {}

    def sent_ask(self, ref: str) -> Ask | None:
        kept = self._sent(ref).get("ask")
        return from_data(kept, Ask, provider=API) if kept else None

    def sent_order(self, ref: str) -> str | None:
        kept = self._sent(ref).get("order")
        return str(kept) if kept else None

    def remember_ask(self, ref: str, ask: Ask) -> None:
        self.ctx.store.save_snapshot(SENT + ref, {"ask": to_data(ask)}, self.ctx.clock.now())
        if self.last is not None and all(a.id != ask.id for a in self.last.asks):
            self.last = SwitchgridData([*self.last.asks, ask], self.last.orders, self.last.errors)

    def remember_order(self, ref: str | None, order: Order, body: dict[str, Any]) -> None:
        """Keep the order's id under the action's reference, then follow it (watch-list, body)."""
        now = self.ctx.clock.now()
        if ref is not None:
            self.ctx.store.save_snapshot(SENT + ref, {"order": order.id}, now)
        self.ctx.store.watch_add(ORDERS_LIST, [order.id], now)
        bodies = self.bodies()
        bodies[order.id] = body
        self.ctx.store.save_snapshot(BODIES, bodies, now)
        self.live[order.id] = order

    async def create_ask(self, body: dict[str, Any], *, ref: str | None = None) -> Ask:
        """``POST /ask``, once (the outbox's :class:`~pupitre.providers.switchgrid.actions.AskHandler`
        calls it; ``ref`` keeps the answer under the action's reference)."""
        ask = await self.client.post_ask(body)
        if ref is not None:
            self.remember_ask(ref, ask)
        elif self.last is not None:
            self.last = SwitchgridData([*self.last.asks, ask], self.last.orders, self.last.errors)
        return ask

    async def refresh_ask(self, ask_id: str) -> Ask:
        ask = await self.client.get_ask(ask_id)
        if self.last is not None:
            self.last = SwitchgridData(
                [ask if a.id == ask.id else a for a in self.last.asks], self.last.orders, self.last.errors
            )
        return ask

    async def cancel_ask(self, ask_id: str) -> None:
        """``DELETE /ask/{id}``: revokes every consent of the ask (no partial revocation)."""
        try:
            await self.client.delete_ask(ask_id)
        except ApiError as error:
            self.audit("ask cancel", "failed", f"{ask_id}: {error}")
            raise
        self.audit("ask cancel", "ok", ask_id)
        if self.last is not None:
            self.last = SwitchgridData(
                [a for a in self.last.asks if a.id != ask_id], self.last.orders, self.last.errors
            )

    async def place_order(self, body: dict[str, Any], *, ref: str | None = None) -> Order:
        """``POST /order`` (checked first), once (the outbox's
        :class:`~pupitre.providers.switchgrid.actions.OrderHandler` calls it); the order's id
        is kept under ``ref`` at once, then the order is followed and its body kept."""
        checked = rules.validate_order(body)
        order = await self.client.post_order(checked)
        self.remember_order(ref, order, checked)
        return order

    def reorder_body(self, order_id: str) -> dict[str, Any]:
        """The failed LOADCURVE requests of an order again, with
        ``enedisRetryAfterLoadcurveActivation: true`` (the document's advice)."""
        body = self.body(order_id)
        if body is None:
            raise BadRequestError(
                "this order was not placed from pupitre: its arguments are unknown, order the load curve again by hand",
                provider=TITLE,
            )
        try:
            return rules.reorder_with_activation(body)
        except rules.RuleError as exc:
            raise BadRequestError(str(exc), provider=TITLE) from exc

    async def follow(
        self,
        order_id: str,
        on_update: Callable[[Order], None] | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> Order:
        """Poll the order with the settings' backoff until it is done."""

        def seen(order: Order) -> None:
            self.live[order_id] = order
            if on_update is not None:
                on_update(order)

        self.following.add(order_id)
        try:
            kwargs: dict[str, Any] = {"delays": self.poll_delays(), "on_update": seen}
            if sleep is not None:
                kwargs["sleep"] = sleep
            return await self.client.wait_order(order_id, **kwargs)
        finally:
            self.following.discard(order_id)

    def awaits_order(self, order_id: str) -> bool:
        """Whether ``order_id`` is followed and its end not settled yet (:meth:`settle_order`)."""
        return dict(self.ctx.store.watch_list(ORDERS_LIST)).get(order_id, "") is None

    def settle_order(self, order_id: str, status: str) -> bool:
        """Record a followed order's end, once: of several processes following it, only the
        one that gets ``True`` tells the operator."""
        return self.ctx.store.watch_settle(ORDERS_LIST, order_id, status)

    def forget_order(self, order_id: str) -> bool:
        """Stop following an order (it stays at Switchgrid), audited (``order forget``);
        ``False`` when it was not followed."""
        self.live.pop(order_id, None)
        removed = self.ctx.store.watch_remove(ORDERS_LIST, order_id)
        if self.last is not None:
            self.last.orders.pop(order_id, None)
        if removed:
            self.audit("order forget", "ok", order_id)
        return removed

    # -- data ------------------------------------------------------------------------------
    async def curve(self, request: OrderRequest) -> rules.LoadCurve:
        """A LOADCURVE request's curve: inline when the order carries it, else
        ``GET /request/{id}/data`` in the configured format (cached per request)."""
        key = request.id or ""
        if key in self.curves:
            return self.curves[key]
        if request.loadCurve is not None:
            curve = rules.parse_json_curve(request.loadCurve)
        else:
            if not request.id:
                raise BadRequestError("this request has no id: its data cannot be downloaded", provider=TITLE)
            curve = await self.client.request_data(request.id, self.settings.data_format)
        if key:
            self.curves[key] = curve
        return curve

    async def raw(self, request: OrderRequest) -> Any:
        if not request.id:
            raise BadRequestError("this request has no id: its data cannot be downloaded", provider=TITLE)
        return await self.client.request_raw(request.id)


def environment(settings: SwitchgridSettings) -> Environment:
    """The real endpoint's data world: the base URL (token-only), and whether it is the test
    environment (``test_env``: dummy data, another data world)."""
    return real(settings.base_url, mode="test" if settings.test_env else "")


def connect(settings: SwitchgridSettings, ctx: ProviderContext, *, sandboxed: bool) -> Connection:
    session = SwitchgridSession(settings, ctx, sandboxed)
    feed: Feed[Any] = Feed(
        FEED,
        PROVIDER,
        "Switchgrid asks & orders",
        session.refresh,
        dump,
        load,
        fixed_interval(settings.refresh_seconds),
        changes,
    )
    return Connection(
        PROVIDER,
        TITLE,
        [feed],
        lambda results, now: findings(settings, results, now) + unanswered(session),
        {(PROVIDER, ASK_ACTION): AskHandler(session), (PROVIDER, ORDER_ACTION): OrderHandler(session)},
        session=session,
        items=lambda results, now: items(results),
    )


def items(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each ask and followed order behind the findings (``pupitre check --json``), with its status."""
    data: SwitchgridData | None = results.get(FEED)
    if data is None:
        return []
    asks = [{"key": a.id, "kind": "ask", "state": a.status, "prms": list(a.prms)} for a in data.asks]
    orders = [
        {"key": o.id, "kind": "order", "state": o.status, "error": data.errors.get(k)} for k, o in data.orders.items()
    ]
    return asks + orders


def unanswered(session: SwitchgridSession) -> list[Finding]:
    """Orders sent without an answer that pupitre has no id for: they may exist at Switchgrid
    (billed), which cannot be asked for them; the operator must look (``pupitre check``, the
    Overview, screen 6)."""
    return [
        Finding(
            TITLE,
            "attention",
            f"order #{item.id} {OutboxState.HELD.word} — sent {paris(item.sending_since):%d/%m %H:%M}, got no "
            "answer: it may exist at Switchgrid (billed) — look at its orders, then tell pupitre (screen 6, key u)",
            "order-unanswered",
            str(item.id),
        )
        for item in session.ctx.store.outbox(provider=PROVIDER, status=OUTBOX_PENDING)
        if item.action == ORDER_ACTION
        and item.sending_since is not None
        and session.sent_order(item.payload["ref"]) is None
    ]


def request_problem(request: OrderRequest) -> str:
    """One line: the request's error, explained when we know it."""
    explanation = rules.explain_error(request.type, request.errorMessage)
    who = f"{request.type}" + (f" {request.prm}" if request.prm else "")
    if explanation is None:
        return f"{who}: {request.status}"
    return f"{who}: {explanation.title}"


def findings(settings: SwitchgridSettings, results: dict[str, Any], now: dt.datetime) -> list[Finding]:
    data: SwitchgridData | None = results.get(FEED)
    if data is None:
        return []
    out = []
    for order in data.failed():
        problems = "; ".join(request_problem(r) for r in order.failed()[:3]) or order.status
        out.append(Finding(TITLE, "attention", f"order {order.id[:8]} {order.status}: {problems}", "order", order.id))
    for ask, end in rules.expiring_soon(data.asks, now, settings.expiry_warning_days):
        when = "expired" if instant(end) <= instant(now) else f"expires {end.astimezone(PARIS):%d/%m/%Y}"
        out.append(
            Finding(
                TITLE,
                "attention",
                f"consent of ask {ask.id[:8]} ({', '.join(ask.prms)}) {when}: create a new ask before ordering again",
                "consent",
                ask.id,
            )
        )
    unknown = data.unknown_statuses()
    if unknown:
        out.append(
            Finding(TITLE, "attention", "; ".join(unknown[:3]) + (" …" if len(unknown) > 3 else ""), "unknown-values")
        )
    if data.errors:
        out.append(
            Finding(
                TITLE,
                "attention",
                f"{len(data.errors)} order(s) could not be read: "
                + "; ".join(f"{k[:8]}: {v}" for k, v in list(data.errors.items())[:3]),
                "unreadable",
            )
        )
    if not out:
        out.append(
            Finding(
                TITLE,
                "ok",
                f"{len(data.asks)} ask(s), {len(data.pending_signature())} awaiting "
                f"signature; {len(data.orders)} order(s) followed, {len(data.running())} running",
            )
        )
    return out
