"""Switchgrid asks and orders through the outbox: written before they are sent, never sent twice.

Each action carries pupitre's own reference (``ref``, a random id made when it is queued).
The moment Switchgrid answers, the ask or order id it gave is kept in the store under that
reference (:meth:`SwitchgridSession.sent`), before anything else happens.

What Switchgrid offers to recognise an earlier attempt that got no answer (document 004 and
its OpenAPI of 2024-11-13): no idempotency key, no client reference (``POST /order`` allows
no other field), webhooks only to a public address (and only with ids), ``GET /ask`` as a
list filtered by PRM with ``createdAt`` and the ``createArgs`` sent, and **no list of
orders** (``GET /order/{orderId}`` only). Hence:

- ``ask`` — found by ``GET /ask?prm=…&orderBy=createdAt:desc``: an ask for the same PRMs
  and the same signer, created since the unanswered attempt began (less
  :data:`CLOCK_SKEW`). Found → delivered, not sent again; not found → sent.
- ``order`` — when the answer reached pupitre (a crash after it), the kept id is the
  identity. When it did not (killed or timed out while in flight), Switchgrid gives no way
  to find the order, and ordering again would bill it twice: the order is **held** (never
  sent again by itself) until the operator, having looked at the orders on Switchgrid's
  dashboard, gives its id (read back with ``GET /order/{id}`` and checked against what was
  sent) or confirms it is not there (then it is sent again). Both are audited.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import TYPE_CHECKING, Any

from pupitre.providers.core.api import from_data
from pupitre.providers.core.clock import paris
from pupitre.providers.core.errors import PayloadError
from pupitre.providers.core.outbox import ActionHeld, ActionRefused
from pupitre.providers.core.store import OutboxItem
from pupitre.providers.switchgrid import rules
from pupitre.providers.switchgrid.models import PROVIDER, Ask, Order

if TYPE_CHECKING:
    from pupitre.providers.switchgrid.feeds import SwitchgridSession

ASK_ACTION = "ask"
ORDER_ACTION = "order"
#: How far Switchgrid's clock may be behind ours when an earlier attempt's ask is looked for.
CLOCK_SKEW = dt.timedelta(minutes=2)
DASHBOARD = "https://app.switchgrid.tech"


def new_ref() -> str:
    """pupitre's reference of one ask or order (it never leaves pupitre: Switchgrid has no field for it)."""
    return secrets.token_hex(8)


def ask_payload(body: dict[str, Any], prms: list[str], now: dt.datetime) -> dict[str, Any]:
    """An ask as the outbox keeps it: the ``POST /ask`` body and the PRMs it covers."""
    return {"ref": new_ref(), "body": body, "prms": sorted(prms), "queued_at": now.isoformat()}


def order_payload(body: dict[str, Any], now: dt.datetime, *, reorder_of: str | None = None) -> dict[str, Any]:
    """An order as the outbox keeps it: the checked ``POST /order`` body (and, for a re-order,
    the failed order it replaces)."""
    payload = {"ref": new_ref(), "body": rules.validate_order(body), "queued_at": now.isoformat()}
    if reorder_of:
        payload["reorder_of"] = reorder_of
    return payload


def _signer(args: dict[str, Any]) -> tuple[str, str, str]:
    signer = args.get("signer") or {}

    def field(name: str) -> str:
        return str(signer.get(name) or "").strip().casefold()

    return field("lastName"), field("firstName"), field("email")


def order_lines(body: dict[str, Any]) -> str:
    """``LOADCURVE 00000000000022 (2024-12-09 → 2024-12-16); C68 …`` for the audit and the screen."""
    parts = []
    for request in body.get("requests", []):
        prms = ", ".join(request.get("prms") or []) or "consent " + str(body.get("consentId", "?"))[:8]
        period = f" ({request['since']} → {request.get('until', '…')})" if request.get("since") else ""
        parts.append(f"{request['type']} {prms}{period}")
    return "; ".join(parts)


class AskHandler:
    """``POST /ask`` through the outbox, read back with ``GET /ask/{id}``."""

    def __init__(self, session: "SwitchgridSession") -> None:
        self.session = session

    def key(self, payload: dict[str, Any]) -> str:
        return str(payload["ref"])  # every ask is its own decision: none supersedes another

    def check(self, payload: dict[str, Any], now: dt.datetime) -> None:
        from pupitre.providers.switchgrid.bodies import AskCreate

        try:
            ask = from_data(payload["body"], AskCreate, provider=PROVIDER)
            rules.consent_duration(ask.consentDuration)
        except PayloadError as error:
            raise ActionRefused(f"not sent: the ask is incomplete ({error.detail})") from None
        except (KeyError, rules.RuleError) as error:
            raise ActionRefused(f"not sent: the ask is incomplete ({str(error).splitlines()[0]})") from None

    def describe(self, payload: dict[str, Any]) -> str:
        signer = payload["body"].get("signer") or {}
        who = " ".join(str(signer.get(k) or "") for k in ("firstName", "lastName")).strip() or "?"
        return f"consent ask for PRM {', '.join(payload.get('prms') or []) or '?'}, signed by {who}"

    def _answer(self, ask: Ask) -> str:
        return f"ask {ask.id} {ask.status}" + (f"; consent link {ask.user_url}" if ask.user_url else "")

    async def find(self, payload: dict[str, Any], since: dt.datetime) -> str | None:
        """The ask's id kept when the answer came; else ``GET /ask`` for the same PRMs and
        signer, created since the unanswered attempt began (oldest first)."""
        kept = self.session.sent_ask(payload["ref"])
        if kept is not None:
            return "answered before the interruption: " + self._answer(kept)
        prms = sorted(payload.get("prms") or [])
        if not prms:
            raise ActionHeld(
                "this ask names no PRM, so Switchgrid cannot be searched for it: check the asks on "
                f"{DASHBOARD} and cancel a duplicate if there is one"
            )
        from pupitre.providers.switchgrid.client import MAX_PAGE  # httpx loads with the first action

        page = await self.session.client.list_asks(prm=prms, order_by="createdAt:desc", limit=MAX_PAGE)
        from_ = paris(since) - CLOCK_SKEW
        mine = [
            ask
            for ask in page.items
            if ask.createdAt is not None
            and ask.createdAt >= from_
            and sorted(ask.prms) == prms
            and _signer(ask.createArgs) == _signer(payload["body"])
        ]
        if not mine:
            return None
        ask = min(mine, key=lambda a: a.createdAt or from_)
        self.session.remember_ask(payload["ref"], ask)
        return f"Switchgrid shows it (created {paris(ask.createdAt or from_):%d/%m %H:%M:%S}): " + self._answer(ask)

    async def send(self, payload: dict[str, Any]) -> str:
        ask = await self.session.create_ask(payload["body"], ref=payload["ref"])
        return "created: " + self._answer(ask)

    async def verify(self, payload: dict[str, Any]) -> str:
        kept = self.session.sent_ask(payload["ref"])
        if kept is None:
            raise ActionRefused("pupitre kept no ask id for this action")
        ask = await self.session.refresh_ask(kept.id)
        if sorted(ask.prms) != sorted(payload.get("prms") or ask.prms):
            raise ActionRefused(f"ask {ask.id} covers PRM {', '.join(ask.prms)}, not {', '.join(payload['prms'])}")
        return f"read back: ask {ask.id} {ask.status}"


class OrderHandler:
    """``POST /order`` through the outbox, read back with ``GET /order/{id}``; then followed."""

    def __init__(self, session: "SwitchgridSession") -> None:
        self.session = session

    def key(self, payload: dict[str, Any]) -> str:
        return str(payload["ref"])

    def check(self, payload: dict[str, Any], now: dt.datetime) -> None:
        try:
            rules.validate_order(payload["body"])
        except (KeyError, rules.RuleError) as error:
            raise ActionRefused(f"not sent: {error}") from None

    def describe(self, payload: dict[str, Any]) -> str:
        again = f" (again, for failed order {payload['reorder_of'][:8]})" if payload.get("reorder_of") else ""
        return f"order {order_lines(payload['body'])}{again}"

    async def find(self, payload: dict[str, Any], since: dt.datetime) -> str | None:
        """The order id kept when the answer came, or given by the operator; else held: the
        API cannot find an order without its id (module docstring)."""
        kept = self.session.sent_order(payload["ref"])
        if kept is not None:
            return f"order {kept} (its id was kept before the interruption, or given by the operator)"
        raise ActionHeld(
            f"NO ANSWER to the order sent at {paris(since):%d/%m %H:%M:%S}: it may exist at Switchgrid "
            "(billed), and Switchgrid cannot be asked for it without its id. Look at the orders on "
            f"{DASHBOARD} since then, then on screen 6 press u: give its id, or confirm it is not there "
            "to send it again"
        )

    async def send(self, payload: dict[str, Any]) -> str:
        order = await self.session.place_order(payload["body"], ref=payload["ref"])
        return f"placed: order {order.id} {order.status}, {len(order.requests)} request(s)"

    async def verify(self, payload: dict[str, Any]) -> str:
        order_id = self.session.sent_order(payload["ref"])
        if order_id is None:
            raise ActionRefused("pupitre kept no order id for this action")
        order = await self.session.client.get_order(order_id)
        self.session.live[order_id] = order
        problem = order_mismatch(order, payload["body"])
        if problem:
            raise ActionRefused(problem)
        done = sum(r.status in rules.REQUEST_TERMINAL for r in order.requests)
        return f"read back: order {order.id} {order.status}, {done}/{len(order.requests)} request(s) done"


def order_mismatch(order: Order, body: dict[str, Any]) -> str:
    """What differs between an order read from Switchgrid and the body sent ("" when it matches):
    the request types, and the PRMs where Switchgrid gives them."""
    sent_types = sorted({r["type"] for r in body.get("requests", [])})
    read_types = sorted({r.type for r in order.requests})
    if read_types != sent_types:
        return f"order {order.id} has {', '.join(read_types) or 'no request'}, not {', '.join(sent_types)}"
    sent_prms = {p for r in body.get("requests", []) for p in r.get("prms") or []}
    read_prms = {r.prm for r in order.requests if r.prm}
    if sent_prms and read_prms and read_prms != sent_prms:
        return f"order {order.id} is for PRM {', '.join(sorted(read_prms))}, not {', '.join(sorted(sent_prms))}"
    return ""


async def operator_found(session: "SwitchgridSession", item: OutboxItem, order_id: str) -> Order:
    """The operator says the held order ``item`` is ``order_id`` at Switchgrid: read it and
    check it against what was sent before keeping it (an ``ApiError`` when it cannot be read,
    :class:`ActionRefused` when it differs). The outbox's next attempt then finds it."""
    order = await session.client.get_order(order_id)
    problem = order_mismatch(order, item.payload["body"])
    if problem:
        raise ActionRefused(problem + ": not this order")
    session.remember_order(item.payload["ref"], order, item.payload["body"])
    session.audit(ORDER_ACTION, "identified", f"#{item.id} the operator identified it at Switchgrid: order {order.id}")
    return order
