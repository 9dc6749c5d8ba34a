"""EDF OA wiring: settings → auth, client, feeds, the acknowledge action and the token session.

The acknowledgement goes through the outbox (written before it is sent, retried on
network errors and 5xx — safe, since EDF OA keeps the last acknowledgement of the day,
§5.1.1 — never on a 4xx) and is verified by reading ``GET /acknowledgements`` back.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any, Callable

import msgspec

from pupitre.providers.core.api import from_data, to_data
from pupitre.providers.core.checks import Finding, Level
from pupitre.providers.core.clock import paris
from pupitre.providers.core.context import Connection, ProviderContext
from pupitre.providers.core.environments import Environment, real
from pupitre.providers.core.errors import ApiError, NotFoundError
from pupitre.providers.core.feeds import Change, Feed, fixed_interval
from pupitre.providers.core.outbox import ActionRefused
from pupitre.providers.core.store import OUTBOX_DELIVERED, Store
from pupitre.providers.edf_oa import rules
from pupitre.providers.edf_oa.models import (
    ACK_SOURCES,
    API_NAME,
    CONTRACT_STATUSES,
    AcknowledgementRequest,
    AcknowledgementsState,
    Contract,
    CurtailmentOrder,
    TokenStatus,
    shown,
)
from pupitre.settings import EdfOaSettings

if TYPE_CHECKING:
    from pupitre.providers.core.auth import StaticBearer
    from pupitre.providers.core.sandbox import SimulatorApp
    from pupitre.providers.edf_oa.client import EdfOaClient

log = logging.getLogger("pupitre.edf_oa")

PROVIDER = "edf_oa"
TITLE = "EDF OA"
ACK_ACTION = "acknowledge"
CURTAILMENTS_FEED = "edf_oa.curtailments"
ACKS_FEED = "edf_oa.acknowledgements"
CONTRACTS_FEED = "edf_oa.contracts"
TOKEN_FEED = "edf_oa.token"
SANDBOX_HOST = "edf-oa.sandbox.invalid"
SANDBOX_BASE_URL = f"http://{SANDBOX_HOST}/api"
TOKEN_SECRET = "api_token"
#: The store's record of EDF OA's values adopted by the operator (a snapshot row, not a feed).
ADOPTED_RECORD = "edf_oa.adopted"
SLOW_FEED_SECONDS = 3600.0
#: How far EDF OA's clock may be behind ours when an earlier attempt's acknowledgement is looked for.
CLOCK_SKEW = dt.timedelta(minutes=2)


#: The secrets the real API needs (looked for in the environment, the keyring, the credentials file).
SECRETS = (TOKEN_SECRET,)


def sandbox_app(settings: EdfOaSettings, ctx: ProviderContext) -> SimulatorApp:
    from pupitre.providers.edf_oa.sandbox import EdfOaSimulator

    return EdfOaSimulator(
        ctx.clock,
        ctx.faults,
        account_type=settings.account_type,
        training_day=ctx.training_day,
        seeded=PROVIDER not in ctx.world_held,
    ).app


def serve_notes(simulator: Any) -> list[str]:
    """For ``pupitre sandbox serve``: the sandbox's API token (a sandbox secret, not a real one)."""
    return [
        "API token of this sandbox (rotations change it):",
        f"  export PUPITRE_EDF_OA_API_TOKEN={simulator.current_token}",
    ]


# -- the session: one client, one token ----------------------------------------------------


class RotationResult(msgspec.Struct):
    """What a token rotation did. ``unsaved_token`` is set only when saving failed: the
    operator must see it once, since the old token no longer works (RG_TOK_NEW_0010)."""

    saved_to: str
    expires_at: dt.datetime
    confirmed: bool
    unsaved_token: str | None = None
    save_error: str = ""
    #: The environment variable read before where the token was saved: the operator must put
    #: the new token there (``unsaved_token`` then holds it, to be shown once).
    shadowed_by: str | None = None


class EdfOaSession(msgspec.Struct, dict=True):
    settings: EdfOaSettings
    ctx: ProviderContext
    sandboxed: bool

    def __post_init__(self) -> None:
        # runtime state, not fields (out of the constructor, the repr and equality)
        self.save_token: Callable[[str], str] = self._save_in_memory if self.sandboxed else self._save_in_secret_store
        self._client: EdfOaClient | None = None
        self._auth: StaticBearer | None = None

    def _save_in_memory(self, token: str) -> str:
        return "memory (sandbox)"

    def _save_in_secret_store(self, token: str) -> str:
        return self.ctx.secrets.set(PROVIDER, TOKEN_SECRET, token)

    def token_shadowed_by(self) -> str | None:
        """The environment variable the token is read from, which pupitre cannot change: a
        rotated token saved elsewhere would not be read next (``None`` in the sandbox)."""
        return None if self.sandboxed else self.ctx.secrets.shadowing(PROVIDER, TOKEN_SECRET)

    @property
    def client(self) -> "EdfOaClient":
        """Built on first use (after the first paint)."""
        if self._client is None:
            from pupitre.providers.core.auth import StaticBearer
            from pupitre.providers.edf_oa.client import EdfOaClient

            http = self.ctx.client()
            if self.sandboxed:
                token = self.ctx.simulators[PROVIDER].current_token
                base_url = SANDBOX_BASE_URL
            else:
                token = self.ctx.connect_real(PROVIDER, TITLE, self.settings, TOKEN_SECRET) or ""
                base_url = self.settings.base_url
            self._auth = StaticBearer(
                token, header=self.settings.token_header, scheme=self.settings.token_scheme or None
            )
            self._client = EdfOaClient(
                http, base_url, self._auth, api_version=self.settings.api_version, retry=self.ctx.retry
            )
        return self._client

    async def fetch_order(self) -> CurtailmentOrder | None:
        """Tomorrow's whole order (RG_COR_0010), or ``None`` while none is published.

        Never filtered by contract: an acknowledgement leaving a contract out refuses it
        (RG_ACK_0030), so the operator must see and decide every contract of the account.
        """
        try:
            return await self.client.curtailments()
        except NotFoundError:
            return None

    async def fetch_acks(self) -> AcknowledgementsState | None:
        try:
            return await self.client.acknowledgements()
        except NotFoundError:
            return None

    async def rotate_token(self) -> RotationResult:
        """RG_TOK_NEW_0010: the new token replaces the old one at once. It is saved the
        moment it arrives, before anything else; if saving fails it is returned for the
        operator to copy, rather than lost. Then a status call confirms it."""
        new = await self.client.new_token()
        token = new.client_token.reveal()
        result = RotationResult("", new.expires_at, False, shadowed_by=self.token_shadowed_by())
        try:
            result.saved_to = self.save_token(token)
        except Exception as error:  # keyring down, disk full…: never lose the token
            result.unsaved_token, result.save_error = token, f"{type(error).__name__}: {error}"
        if result.shadowed_by:  # saved, but not where it is read next: show it once
            result.unsaved_token = token
        assert self._auth is not None
        self._auth.replace(token)
        self.ctx.store.audit(
            PROVIDER,
            "rotate token",
            "saved" if result.saved_to else "NOT SAVED",
            self.ctx.clock.now(),
            f"new token expires {new.expires_at:%Y-%m-%d %H:%M}; "
            f"saved to {result.saved_to or 'nowhere: ' + result.save_error}"
            + (f"; {result.shadowed_by} must be changed: it is read first" if result.shadowed_by else ""),
        )
        try:
            status = await self.client.token_status()
            result.confirmed = True
            result.expires_at = status.expires_at
        except ApiError as error:
            log.warning("token status after rotation failed: %s", error)
        return result


# -- the acknowledge action ---------------------------------------------------------------


def ack_payload(order: CurtailmentOrder, choices: rules.AckChoices, now: dt.datetime) -> dict[str, Any]:
    """What goes into the outbox: the request, and what EDF OA will retain for each contract."""
    request = rules.build_request(order, choices)
    return {
        "order_id": order.order_id,
        "application_date": order.application_date.isoformat(),
        "request": to_data(request),
        "left_out": rules.left_out(order, choices),
        "queued_at": now.isoformat(),
    }


class AcknowledgeHandler:
    """POST /acknowledgements through the outbox, verified by GET /acknowledgements."""

    def __init__(self, session: EdfOaSession) -> None:
        self.session = session

    def key(self, payload: dict[str, Any]) -> str:
        return str(payload["order_id"])

    def received_order(self) -> tuple[str, dt.date] | None:
        """The order id last received from GET /curtailments, and the day it was received."""
        snapshot = self.session.ctx.store.load_snapshot(CURTAILMENTS_FEED)
        if snapshot is None or not snapshot.payload:
            return None
        received_on = snapshot.fetched_at.astimezone(self.session.ctx.clock.now().tzinfo).date()
        return str(snapshot.payload["order_id"]), received_on

    def check(self, payload: dict[str, Any], now: dt.datetime) -> None:
        """RG_ACK_0010: the order id must be the one received today from GET /curtailments."""
        received = self.received_order()
        if received is None:
            raise ActionRefused("no curtailment order has been received: refresh the curtailments first")
        if received[0] != payload["order_id"]:
            raise ActionRefused(
                f"order {payload['order_id']} is not the order last received "
                f"({received[0]}): refresh and acknowledge the current order (RG_ACK_0010)"
            )
        try:
            rules.check_order_id(payload["order_id"], received, now.date())
        except rules.AckRuleError as error:
            raise ActionRefused(str(error)) from None

    def describe(self, payload: dict[str, Any]) -> str:
        sent = ", ".join(
            f"{a['contract_id']}={'true' if a['ack_value'] else 'false'}"
            for a in payload["request"]["acknowledgements"]
        )
        left = payload["left_out"]
        refused = f"; left out, counted as refused (RG_ACK_0030): {', '.join(left)}" if left else ""
        return f"order {payload['order_id']}: {sent}{refused}"

    async def find(self, payload: dict[str, Any], since: dt.datetime) -> str | None:
        """This action's own earlier delivery, after an attempt that got no answer: in
        ``GET /acknowledgements``, one acknowledgement via API made since ``since`` (less
        :data:`CLOCK_SKEW`) giving every contract sent exactly the value sent. Such an
        acknowledgement is this action's (an identical one from elsewhere would be the same
        decision: EDF OA keeps the last, §5.1.1); anything else is someone else's."""
        state = await self.session.fetch_acks()
        if state is None or state.order_id != payload["order_id"]:
            return None
        sent = {a["contract_id"]: a["ack_value"] for a in payload["request"]["acknowledgements"]}
        from_ = _utc(since) - CLOCK_SKEW
        dates: dict[dt.datetime, dict[str, bool]] = {}  # one POST: one ack_date for every contract
        for contract in state.acknowledgements:
            for entry in contract.ack_list:
                if entry.ack_source == "API" and _utc(entry.ack_date) >= from_:
                    dates.setdefault(_utc(entry.ack_date), {})[contract.contract_id] = entry.ack_value
        for when, values in sorted(dates.items()):
            if all(values.get(contract) == value for contract, value in sent.items()):
                return (
                    f"EDF OA shows this acknowledgement (via API at {paris(when):%H:%M:%S}): {self.describe(payload)}"
                )
        return None

    async def send(self, payload: dict[str, Any]) -> str:
        """Send once — unless someone acknowledged this order since it was queued (e.g. on
        the PORTAL): EDF OA keeps the last acknowledgement (§5.1.1), so a delayed send
        would overwrite a newer human decision; the operator must review it instead."""
        await self._refuse_if_overtaken(payload)
        request = from_data(payload["request"], AcknowledgementRequest, provider=API_NAME)
        await self.session.client.post_acknowledgements(request)
        return f"accepted by EDF OA: {self.describe(payload)}"

    async def _refuse_if_overtaken(self, payload: dict[str, Any]) -> None:
        queued_at = dt.datetime.fromisoformat(payload["queued_at"])
        state = await self.session.fetch_acks()
        if state is None or state.order_id != payload["order_id"]:
            return
        newer = [
            f"{contract} by {entry.user_id} via {entry.ack_source} at {entry.ack_date:%H:%M:%S}"
            for contract, entry in rules.latest_acks(state).items()
            if entry.ack_date > queued_at
        ]
        if newer:
            raise ActionRefused(
                f"not sent: acknowledged meanwhile ({'; '.join(newer)}); review the order and send again if needed"
            )

    async def verify(self, payload: dict[str, Any]) -> str:
        """Read back: the latest acknowledgement of each contract must be what was sent
        (and ``false`` for those left out, RG_ACK_0030)."""
        state = await self.session.client.acknowledgements()
        latest = rules.latest_acks(state)
        expected = {a["contract_id"]: a["ack_value"] for a in payload["request"]["acknowledgements"]}
        expected.update({contract: False for contract in payload["left_out"]})
        wrong = [
            f"{contract} reads {_word(latest.get(contract))}, sent {_bool(value)}"
            for contract, value in expected.items()
            if contract not in latest or latest[contract].ack_value != value
        ]
        if state.order_id != payload["order_id"]:
            wrong.insert(0, f"EDF OA shows order {state.order_id}, not {payload['order_id']}")
        if wrong:
            raise ActionRefused("; ".join(wrong))
        return "read back from EDF OA: " + ", ".join(f"{c} {_bool(v)}" for c, v in expected.items())


def _utc(moment: dt.datetime) -> dt.datetime:
    return paris(moment).astimezone(dt.timezone.utc)


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _word(entry: Any) -> str:
    return "nothing" if entry is None else _bool(entry.ack_value)


# -- what we made EDF OA retain, and what changed since ---------------------------------------


def sent_ack(store: Store, order_id: str) -> rules.SentAck | None:
    """Our reference for ``order_id``: the latest of our delivered acknowledgements of it
    (from the outbox, whichever process sent it) and EDF OA's values adopted since
    (:func:`adopt`). ``None`` when we never acknowledged this order."""
    delivered = [
        item
        for item in store.outbox(provider=PROVIDER)
        if item.action == ACK_ACTION and item.status == OUTBOX_DELIVERED and item.payload.get("order_id") == order_id
    ]
    ours: rules.SentAck | None = None
    if delivered:
        item = max(delivered, key=lambda i: (_utc(i.updated_at), i.id))
        values = {a["contract_id"]: bool(a["ack_value"]) for a in item.payload["request"]["acknowledgements"]}
        values.update({cid: False for cid in item.payload["left_out"]})
        ours = rules.SentAck(order_id, values, list(item.payload["left_out"]), item.updated_at, f"#{item.id}", item.id)
    record = store.load_snapshot(ADOPTED_RECORD)
    if record is not None and record.payload.get("order_id") == order_id:
        if ours is None or _utc(record.fetched_at) >= _utc(ours.at):
            values = {cid: bool(v) for cid, v in record.payload["values"].items()}
            # what our last acknowledgement left out stays an omission (RG_ACK_0030) until changed
            left_out, sent_at = (ours.left_out, ours.at) if ours is not None else ([], None)
            ours = rules.SentAck(order_id, values, left_out, record.fetched_at, "adopted", sent_at=sent_at)
    return ours


def adopt(store: Store, state: AcknowledgementsState, now: dt.datetime) -> dict[str, bool]:
    """The operator takes what EDF OA retains now as ours: recorded (so the changes stop
    being shown as overrides, in every process) and audited. Returns the values adopted."""
    values = {cid: entry.ack_value for cid, entry in rules.latest_acks(state).items()}
    with store.batch():
        store.save_snapshot(ADOPTED_RECORD, {"order_id": state.order_id, "values": values}, now)
        store.audit(
            PROVIDER,
            "adopt EDF OA's values",
            "adopted",
            now,
            f"order {state.order_id}: " + ", ".join(f"{cid}={_bool(v)}" for cid, v in values.items()),
        )
    return values


def override_changes(
    old: AcknowledgementsState | None, new: AcknowledgementsState, ours: rules.SentAck | None
) -> list[Change]:
    """One :class:`Change` per contract whose retained value became someone else's since
    the last read (after our acknowledgement ``ours``): a history row and a notification."""
    before = {(o.contract_id, o.entry.ack_date, o.entry.ack_value) for o in rules.overrides(old, ours)}
    return [
        Change(
            override.contract_id,
            _bool(override.ours),
            _bool(override.entry.ack_value),
            f"overridden after {ours.origin}" if ours else "overridden",
            "attention",
            f"EDF OA's acknowledgement changed after ours: {override.sentence()}. "
            "Screen 3: k adopts EDF OA's values, o re-sends ours",
        )
        for override in rules.overrides(new, ours)
        if (override.contract_id, override.entry.ack_date, override.entry.ack_value) not in before
    ]


# -- feeds and findings ----------------------------------------------------------------------


def order_changes(old: CurtailmentOrder | None, new: CurtailmentOrder | None) -> list[Change]:
    """A new order, or a changed ``updated_at``, is worth a notification."""
    if new is None:
        return []
    if old is None or old.order_id != new.order_id:
        count = sum(1 for c in new.curtailments if rules.has_curtailment(c))
        return [
            Change(
                new.order_id,
                old.order_id if old else None,
                new.updated_at.isoformat(),
                "new order",
                "attention",
                f"New curtailment order for {new.application_date:%a %d/%m}: "
                f"{count} contract(s) to curtail — acknowledge before the deadline",
            )
        ]
    if old.updated_at != new.updated_at:
        return [
            Change(
                new.order_id,
                old.updated_at.isoformat(),
                new.updated_at.isoformat(),
                "order updated",
                "attention",
                f"Curtailment order {new.order_id} was UPDATED at {new.updated_at:%H:%M}: "
                "check the periods and acknowledge again",
            )
        ]
    return []


def _dump(value: Any) -> Any:
    return None if value is None else to_data(value)


def _loader(kind: Any) -> Callable[[Any], Any]:
    return lambda payload: None if payload is None else from_data(payload, kind, provider=API_NAME)


def environment(settings: EdfOaSettings) -> Environment:
    """The real endpoint's data world: the base URL (token-only: the token is a secret)."""
    return real(settings.base_url)


def connect(settings: EdfOaSettings, ctx: ProviderContext, *, sandboxed: bool) -> Connection:
    session = EdfOaSession(settings, ctx, sandboxed)
    start, end = rules.parse_hhmm(settings.publication_time), rules.parse_hhmm(settings.window_end)

    def window_interval(now: dt.datetime) -> float:
        return rules.poll_interval(now, start, end, settings.window_refresh_seconds, settings.refresh_seconds)

    async def contracts() -> list[Contract]:
        return await session.client.contracts()

    async def token() -> TokenStatus:
        return await session.client.token_status()

    feeds: list[Feed[Any]] = [
        Feed(
            CURTAILMENTS_FEED,
            PROVIDER,
            "EDF OA curtailments",
            session.fetch_order,
            _dump,
            _loader(CurtailmentOrder),
            window_interval,
            order_changes,
        ),
        Feed(
            ACKS_FEED,
            PROVIDER,
            "EDF OA acknowledgements",
            session.fetch_acks,
            _dump,
            _loader(AcknowledgementsState),
            window_interval,
            lambda old, new: [] if new is None else override_changes(old, new, sent_ack(ctx.store, new.order_id)),
        ),
        Feed(
            CONTRACTS_FEED,
            PROVIDER,
            "EDF OA contracts",
            contracts,
            _dump,
            _loader(list[Contract]),
            fixed_interval(SLOW_FEED_SECONDS),
        ),
        Feed(
            TOKEN_FEED, PROVIDER, "EDF OA token", token, _dump, _loader(TokenStatus), fixed_interval(SLOW_FEED_SECONDS)
        ),
    ]
    return Connection(
        PROVIDER,
        TITLE,
        feeds,
        lambda results, now: findings(settings, results, now, ctx.store),
        {(PROVIDER, ACK_ACTION): AcknowledgeHandler(session)},
        session,
        items=lambda results, now: items(settings, results, now),
        timed=lambda results, now: deadline_findings(settings, results, now, ctx.store),
    )


#: The EDF OA deadline's alerts: (minutes before it, cause, level), latest stage first.
DEADLINE_STAGES: tuple[tuple[int, str, Level], ...] = (
    (0, "deadline-passed", "critical"),
    (10, "deadline-10", "critical"),
    (30, "deadline-30", "attention"),
)


def deadline_findings(
    settings: EdfOaSettings, results: dict[str, Any], now: dt.datetime, store: Store | None = None
) -> tuple[list[Finding], dt.datetime | None]:
    """Tomorrow's order with contracts to curtail still unacknowledged: one finding from
    30 minutes before the deadline (attention), then 10 minutes before (critical), then once it
    has passed (critical, RG_ACK_0030: a contract left out counts as refused) — the stage now,
    keyed by the order's application date — and the next stage's instant. Counted in real
    time (UTC), so a 23- or 25-hour day moves nothing."""
    order = results.get(CURTAILMENTS_FEED)
    if order is None:
        return [], None
    ours = sent_ack(store, order.order_id) if store is not None else None
    summary = rules.ack_summary(order, results.get(ACKS_FEED), now, rules.parse_hhmm(settings.ack_deadline), ours)
    missing = summary.missing
    if not summary.is_current or not missing:
        return [], None
    deadline = summary.deadline.astimezone(dt.timezone.utc)
    at = now.astimezone(dt.timezone.utc)
    later = [deadline - dt.timedelta(minutes=m) for m, _, _ in DEADLINE_STAGES]
    upcoming = min((t for t in later if t > at), default=None)
    for minutes, cause, level in DEADLINE_STAGES:
        if at >= deadline - dt.timedelta(minutes=minutes):
            when = "PASSED" if minutes == 0 else f"in {minutes} min"
            refused = ": a contract left out counts as refused (RG_ACK_0030)" if minutes == 0 else ""
            text = (
                f"acknowledgement deadline {summary.deadline:%H:%M} {when}{refused} — {len(missing)} contract(s) "
                f"of order {order.order_id} for {order.application_date:%d/%m} not acknowledged "
                f"({', '.join(missing)}): screen 3"
            )
            return [Finding(TITLE, level, text, cause, order.application_date.isoformat())], upcoming
    return [], upcoming


def items(settings: EdfOaSettings, results: dict[str, Any], now: dt.datetime) -> list[dict[str, Any]]:
    """Each contract of tomorrow's order behind the findings (``pupitre check --json``): whether
    it is curtailed (RG_COR_0030) and its retained acknowledgement (§5.1.1: the last of the day;
    a contract left out counts as refused, RG_ACK_0030)."""
    order = results.get(CURTAILMENTS_FEED)
    if order is None:
        return []
    summary = rules.ack_summary(order, results.get(ACKS_FEED), now, rules.parse_hhmm(settings.ack_deadline))
    out = []
    for cid in order.contract_ids:
        entry = summary.latest.get(cid)
        state = "not acknowledged" if entry is None else "acknowledged" if entry.ack_value else "refused"
        out.append(
            {
                "key": cid,
                "state": state,
                "order_id": order.order_id,
                "curtailed": cid in summary.needing,
                "acknowledged_at": entry.ack_date.isoformat() if entry is not None else None,
                "by": entry.user_id if entry is not None else None,
                "before_update": cid in summary.acked_before_update,
            }
        )
    return out


def findings(
    settings: EdfOaSettings, results: dict[str, Any], now: dt.datetime, store: Store | None = None
) -> list[Finding]:
    """The daily check: tomorrow's order acknowledged before the deadline (will respect, will
    not, refused by omission counted apart), no value changed behind our back since our
    acknowledgement (``store`` holds it), token not expiring."""
    out: list[Finding] = []
    start = rules.parse_hhmm(settings.window_start)
    if CURTAILMENTS_FEED in results:
        order = results[CURTAILMENTS_FEED]
        if order is None:
            level: Level = "attention" if now.time() >= start else "ok"
            out.append(
                Finding(
                    TITLE,
                    level,
                    f"no curtailment order for tomorrow yet "
                    f"(published around 13:00, call window from {settings.window_start})",
                    "no-order",
                )
            )
        else:
            ours = sent_ack(store, order.order_id) if store is not None else None
            summary = rules.ack_summary(
                order, results.get(ACKS_FEED), now, rules.parse_hhmm(settings.ack_deadline), ours
            )
            level = summary.level
            if level == "ok" and any(c in summary.needing for c in summary.acked_before_update):
                level = "attention"  # the periods changed after the acknowledgement
            out.append(Finding(TITLE, level, summary_sentence(order, summary), "ack", order.order_id))
            if summary.overridden:
                out.append(
                    Finding(TITLE, "attention", override_sentence(summary.overridden), "overridden", order.order_id)
                )
    odd = unknown_values(results)
    if odd:
        out.append(Finding(TITLE, "attention", "; ".join(odd[:3]) + (" …" if len(odd) > 3 else ""), "unknown-values"))
    if results.get(TOKEN_FEED) is not None:
        status = results[TOKEN_FEED]
        level = rules.token_level(status, now, settings.token_warning_days)
        days = rules.token_days_left(status, now)
        if level != "ok":
            out.append(
                Finding(
                    TITLE,
                    level,
                    f"API token expires {status.expires_at:%d/%m/%Y %H:%M} "
                    f"({days:.0f} day(s) left): rotate it (screen 3, key t)",
                    "token",
                )
            )
    return out


def unknown_values(results: dict[str, Any]) -> list[str]:
    """Values the document does not list (contract status, acknowledgement source), one
    line each (``contract BOA0001 ? unknown (SUSPENDED)``): shown and counted as attention."""
    out = []
    for contract in results.get(CONTRACTS_FEED) or []:
        if contract.status not in CONTRACT_STATUSES:
            out.append(f"contract {contract.id} {shown(contract.status, CONTRACT_STATUSES)}")
    acks = results.get(ACKS_FEED)
    for item in acks.acknowledgements if acks is not None else []:
        out += [
            f"acknowledgement of {item.contract_id} via {shown(entry.ack_source, ACK_SOURCES)}"
            for entry in item.ack_list
            if entry.ack_source not in ACK_SOURCES
        ]
    return out


def override_sentence(overridden: list[rules.Override]) -> str:
    """The overrides as one line of the Overview and ``pupitre check``."""
    return (
        "⚠ EDF OA's values changed after our acknowledgement: "
        + "; ".join(o.sentence() for o in overridden)
        + " — screen 3: k adopts EDF OA's, o re-sends ours"
    )


def summary_sentence(order: CurtailmentOrder, summary: rules.AckSummary) -> str:
    """Tomorrow's order in one line: the contracts to curtail counted apart — will respect,
    will not, refused by omission (RG_ACK_0030), not acknowledged — never lumped as "acknowledged"."""
    head = f"order {order.order_id} for {order.application_date:%d/%m}"
    if not summary.needing:
        return f"{head}: no curtailment"
    stale = [c for c in summary.acked_before_update if c in summary.needing]
    before_update = (
        (f"; acknowledged BEFORE the order was updated at {order.updated_at:%H:%M}: {', '.join(stale)}")
        if stale
        else ""
    )
    parts = [f"{len(summary.will_respect)} will respect", f"{len(summary.will_not)} will not"]
    if summary.by_omission:
        parts.append(f"{len(summary.by_omission)} refused by omission ({', '.join(summary.by_omission)}, RG_ACK_0030)")
    missing = summary.missing
    if missing:
        parts.append(f"{len(missing)} not acknowledged ({', '.join(missing)}); deadline {summary.deadline:%H:%M}")
    late = "PAST THE DEADLINE — " if summary.level == "critical" else ""
    return f"{late}{head}, {len(summary.needing)} to curtail: {', '.join(parts)}{before_update}"
