"""The EDF OA « SMART OA » simulator: orders, acknowledgements, contracts, reports, token.

Routes, base path ``/api/v1`` (§4-§9), all answering the §3.3 envelope
``{data, meta, errors}``; errors carry ``errors: [{"code": <HTTP status>, "message": …}]``:

- ``GET /curtailments`` (§4.1): tomorrow's order (RG_COR_0010). The order of day J
  is published at J-1 13:00 Paris (the SPOT results, §4.1.2); before that the route
  answers **404** "no curtailment order published yet for J" — the document does
  not say what happens before publication, this is our choice. Each first
  retrieval of a version of the order by the user records a ``GET_ORDER`` report
  event per contract (RG_REP_ACK_0050).
- ``POST /acknowledgements`` (§5.1): 400 for a malformed body, a contract listed
  twice or a contract not in the account's order; 409 when ``order_id`` is not
  the current order for tomorrow (RG_ACK_0010); 403 for an account type not
  allowed (all three are, RG_ACK_0040). On success every listed contract gets an
  ``API`` entry, every other contract of the account's order an entry ``false``
  (RG_ACK_0030), each a ``SET_ACK`` report event; the answer is 200 with
  ``{data: null, meta: {}, errors: []}``.
- ``GET /acknowledgements`` (§5.2): the state of tomorrow's order with each
  contract's acknowledgements of the day (all contracts of the order, possibly
  with an empty ``ack_list``), oldest first; 404 before publication.
- ``GET /contracts`` (§6.1); ``GET /acknowledgements/report`` (§7.1) and
  ``GET /curtailments/report`` (§8.1) filtered by ``user_id`` (the producer or
  manager holding the contracts), ``contract_ids``, ``start_date``/``end_date`` on
  the application date, J+1 when no date is given (RG_REP_ACK_0030,
  RG_REP_CUR_0030), as producers → managers → contracts (RG_REP_ACK_0010).
- ``GET /vault/approle/token/status`` and ``GET /vault/approle/token`` (§9): one
  token at a time (RG_TOK_NEW_0010), living 90 days on the shared clock.

Account visibility (one account per simulator, ``account_type``): a producer sees
all its contracts and ``manager_id``; a manager only its contracts and neither id;
an admin everything and both ids (RG_COR_0020/0040/0050, RG_ACK_5010/5020/5030,
RG_CON_0010, RG_REP_ACK_0040, RG_REP_CUR_0040) — except on ``GET /contracts``, where
§6.1.4 makes both ids mandatory for every account (``manager_id`` is left out only for
a contract its producer manages itself).

With ``training_day`` every order curtails (BOA0001 at least).

Scenarios: ``"default"`` — ~30 past days of acknowledgements (deterministic from
the seed) and, for tomorrow's order, a manager's PORTAL acknowledgement at 13:40;
``"calm"`` — orders only, no acknowledgement at all.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import secrets
from itertools import pairwise
from typing import Any, Iterable, Literal, Mapping, Sequence

import msgspec
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from pupitre.providers.core.api import from_data
from pupitre.providers.core.clock import PARIS, UTC, Clock, add, paris
from pupitre.providers.core.errors import PayloadError
from pupitre.providers.core.faults import FaultPlan
from pupitre.providers.core.sandbox import IssuedToken, Simulator, SimulatorApp, TokenIssuer
from pupitre.providers.edf_oa import rules
from pupitre.providers.edf_oa.models import (
    API_NAME,
    AckEntry,
    AcknowledgementRequest,
    AcknowledgementsState,
    AckReportOrder,
    Contract,
    ContractAcks,
    ContractCurtailment,
    CurtailmentData,
    CurtailmentOrder,
    CurtailmentReportOrder,
    Period,
    ReportAck,
    ReportContract,
    ReportManager,
    ReportProducer,
    format_utc_timestamp,
    to_document,
)

BASE_PATH = "/api/v1"
TOKEN_LIFETIME = dt.timedelta(days=90)
PUBLICATION_TIME = dt.time(13, 0)
INITIAL_TOKEN = "sbx-edf-oa-initial-token"
ACK_ACCOUNT_TYPES = frozenset({"producer", "manager", "admin"})  # RG_ACK_0040

AccountType = Literal["producer", "manager", "admin"]
Spell = tuple[dt.datetime, dt.datetime]


class Party(msgspec.Struct, frozen=True):
    id: str
    label: str


PRODUCER = Party("PROD-0042", "Solaire du Midi SAS")
MANAGERS = (Party("MGR-0101", "Gestion Sud"), Party("MGR-0102", "Énergie Ouest"))
ADMIN_USER = "ADMIN-EDF"


def eic_check_char(code15: str) -> str:
    """The 16th (check) character of an ENTSO-E EIC code from its first 15."""
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-"
    total = sum(alphabet.index(char) * (16 - i) for i, char in enumerate(code15.upper()))
    return alphabet[36 - (total - 1) % 37]


def _ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(PARIS)


class SandboxContract(msgspec.Struct, frozen=True):
    """A contract of the sandbox: PRM (14 digits, Enedis) or RTE EIC (16 characters) plant."""

    id: str
    plant_id: str
    manager_id: str | None
    status: Literal["ACTIVE", "EXPIRED"]
    created_at: dt.datetime
    updated_at: dt.datetime
    producer_id: str = PRODUCER.id


CONTRACTS: tuple[SandboxContract, ...] = (
    SandboxContract(
        "BOA0001", "30001234567890", None, "ACTIVE", _ts("2023-04-03T10:12:00+02:00"), _ts("2024-11-18T09:30:00+01:00")
    ),
    SandboxContract(
        "BOA0002",
        "17W100P100P0345B",
        None,
        "ACTIVE",
        _ts("2023-04-03T10:15:00+02:00"),
        _ts("2025-01-07T14:02:00+01:00"),
    ),
    SandboxContract(
        "BOA0003",
        "30002345678901",
        "MGR-0101",
        "ACTIVE",
        _ts("2023-06-12T08:40:00+02:00"),
        _ts("2025-03-21T11:11:00+01:00"),
    ),
    SandboxContract(
        "BOA0004",
        "17W100P100P0378" + eic_check_char("17W100P100P0378"),
        "MGR-0101",
        "ACTIVE",
        _ts("2023-06-12T08:44:00+02:00"),
        _ts("2025-03-21T11:12:00+01:00"),
    ),
    SandboxContract(
        "BOA0005",
        "30003456789012",
        "MGR-0102",
        "ACTIVE",
        _ts("2024-02-01T16:20:00+01:00"),
        _ts("2025-06-30T10:00:00+02:00"),
    ),
    SandboxContract(
        "BOA0006",
        "30004567890123",
        "MGR-0102",
        "EXPIRED",
        _ts("2021-09-15T09:00:00+02:00"),
        _ts("2024-09-15T00:05:00+02:00"),
    ),
)


def error_body(status: int, message: str) -> dict[str, Any]:
    """The §3.3 envelope of an error (§3.4.2): ``errors: [{code, message}]``."""
    return {"data": None, "meta": {}, "errors": [{"code": status, "message": message}]}


def _clip(text: str, size: int = 40) -> str:
    return re.sub(r"[^\w.:-]", "?", text[:size])


def _utc(moment: dt.datetime) -> dt.datetime:
    return paris(moment).astimezone(UTC)


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=PARIS)


class SimOrder(msgspec.Struct):
    """The simulator's order of one application day: curtailment spells per contract."""

    order_id: str
    application_date: dt.date
    published_at: dt.datetime
    updated_at: dt.datetime
    step_minutes: int
    spells: dict[str, list[Spell]]
    forced: bool = False

    def periods(self, contract_id: str) -> list[Period]:
        """Periods tiling the local day in ``step_minutes`` steps (cut at spell edges):
        1.0 inside a curtailment spell, 0.0 elsewhere (RG_COR_0030)."""
        day = self.application_date
        start = _utc(_at(day, 0))
        stop = _utc(_at(day + dt.timedelta(days=1), 0))
        edges = set()
        moment = start
        while moment < stop:
            edges.add(moment)
            moment += dt.timedelta(minutes=self.step_minutes)
        spells = [(_utc(s), _utc(e)) for s, e in self.spells.get(contract_id, [])]
        edges.update(t for spell in spells for t in spell if start < t < stop)
        bounds = sorted(edges) + [stop]
        return [
            Period(
                start_date=a.astimezone(PARIS),
                end_date=b.astimezone(PARIS),
                value=rules.CURTAIL if any(s <= a < e for s, e in spells) else rules.NO_CURTAIL,
            )
            for a, b in pairwise(bounds)
        ]


class _DayLog(msgspec.Struct):
    """Acknowledgements and report events of one application day, per contract."""

    acks: dict[str, list[AckEntry]] = msgspec.field(default_factory=dict)
    events: dict[str, list[ReportAck]] = msgspec.field(default_factory=dict)
    fetched: set[tuple[str, str, dt.datetime]] = msgspec.field(default_factory=set)


class EdfOaSimulator(Simulator):
    """Holds the simulated state; tests drive it, :attr:`app` serves it (with ``plan``)."""

    #: Free text in this API's answers: where the ``hostile`` fault switch writes escape sequences.
    TEXT_FIELDS = frozenset(("label", "message", "field", "user_id"))
    WORLD_FIELDS = ("_orders", "_logs", "first_day", "issuer.tokens")

    error_body = staticmethod(error_body)

    def __init__(
        self,
        clock: Clock,
        plan: FaultPlan | None = None,
        *,
        account_type: AccountType = "producer",
        seed: int = 0,
        initial_token: str = INITIAL_TOKEN,
        manager_id: str = MANAGERS[0].id,
        scenario: Literal["default", "calm"] = "default",
        history_days: int = 30,
        training_day: bool = False,
        seeded: bool = True,
    ) -> None:
        """``seeded=False``: the past days' fetches and acknowledgements are not built (a shared
        world's state replaces them: :attr:`ProviderContext.world_held`)."""
        if account_type not in ("producer", "manager", "admin"):
            raise ValueError(f"unknown account type {account_type!r}: producer, manager or admin")
        if scenario not in ("default", "calm"):
            raise ValueError(f"unknown EDF OA sandbox scenario {scenario!r}: use 'default' or 'calm'")
        if manager_id not in {m.id for m in MANAGERS}:
            raise ValueError(f"unknown sandbox manager {manager_id!r}")
        self.clock = clock
        self.plan = plan if plan is not None else FaultPlan()
        #: Every order curtails (a training day always has something to acknowledge).
        self.training_day = training_day
        self.account_type: AccountType = account_type
        self.manager_id = manager_id
        self.seed = seed
        self.contracts = CONTRACTS
        self.ack_account_types = set(ACK_ACCOUNT_TYPES)
        self.issuer = TokenIssuer(clock, TOKEN_LIFETIME)
        self.requests: list[tuple[str, str]] = []
        self._orders: dict[dt.date, SimOrder] = {}
        self._logs: dict[dt.date, _DayLog] = {}
        today = paris(clock.now()).date()
        self.first_day = today - dt.timedelta(days=max(0, history_days))
        self.issuer.tokens[initial_token] = IssuedToken(initial_token, add(clock.now(), TOKEN_LIFETIME), self.user_id)
        if scenario == "default" and seeded:
            self._history(today)
            self._portal_demo(today + dt.timedelta(days=1))

    # -- accounts -----------------------------------------------------------------------------
    @property
    def user_id(self) -> str:
        """The account's user id: ``PROD-0042``, the manager's id, or ``ADMIN-EDF``."""
        return {"producer": PRODUCER.id, "manager": self.manager_id, "admin": ADMIN_USER}[self.account_type]

    def visible(self, contract: SandboxContract) -> bool:
        """RG_COR_0020, RG_ACK_5010, RG_CON_0010: a manager sees only its contracts."""
        if self.account_type == "manager":
            return contract.manager_id == self.manager_id
        return True

    def _ids(self, contract: SandboxContract) -> dict[str, str | None]:
        """RG_COR_0040/0050, RG_ACK_5020/5030: manager_id for producer and admin,
        producer_id for admin only."""
        return {
            "producer_id": contract.producer_id if self.account_type == "admin" else None,
            "manager_id": contract.manager_id if self.account_type != "manager" else None,
        }

    def contract(self, contract_id: str) -> SandboxContract:
        for contract in self.contracts:
            if contract.id == contract_id:
                return contract
        raise KeyError(f"unknown sandbox contract {contract_id!r}")

    # -- token (§9) -----------------------------------------------------------------------------
    @property
    def current_token(self) -> str:
        """The one active token (RG_TOK_NEW_0010)."""
        return next(iter(self.issuer.tokens))

    def token(self) -> IssuedToken:
        return next(iter(self.issuer.tokens.values()))

    def expire_token(self) -> None:
        """Make the current token expire now (401 from now on)."""
        self.token().expires_at = self.clock.now()

    def rotate_token(self) -> IssuedToken:
        """A new token; the previous one is invalid at once (RG_TOK_NEW_0010)."""
        token = IssuedToken(
            "sbx-edf-oa-" + secrets.token_urlsafe(24), add(self.clock.now(), TOKEN_LIFETIME), self.user_id
        )
        self.issuer.tokens = {token.value: token}
        return token

    # -- orders (§4.1) --------------------------------------------------------------------------
    def order_state(self, day: dt.date) -> SimOrder:
        """The order of application day ``day`` (generated from the seed on first use)."""
        if day not in self._orders:
            self._orders[day] = self._generate(day)
        return self._orders[day]

    def _generate(self, day: dt.date) -> SimOrder:
        rng = random.Random(f"edf-oa:{self.seed}:{day.isoformat()}")
        order_id = f"OA-{day:%Y%m%d}-{rng.getrandbits(16):04X}"
        step = rng.choice((30, 60))
        spells: list[tuple[int, int]] = []  # minutes after local midnight
        sunny = rng.random() < 0.75  # drawn in every case: the same orders from the same seed
        if sunny or self.training_day:  # a sunny day with negative midday prices
            start = rng.randrange(10 * 60, 13 * 60 + 1, step)
            end = min(start + rng.choice((120, 180, 240)), 17 * 60)
            spells.append((start, end))
            if rng.random() < 0.3 and end <= 15 * 60:
                second = end + rng.choice((60, 90, 120)) // step * step
                spells.append((second, min(second + 60, 18 * 60)))
        per_contract: dict[str, list[Spell]] = {}
        for contract in self.contracts:
            if contract.status != "ACTIVE":
                continue  # an expired contract is never in an order
            curtailed = bool(spells) and (rng.random() < 0.75 or (self.training_day and contract.id == "BOA0001"))
            shift = rng.choice((0, 0, step))
            per_contract[contract.id] = (
                [
                    (_at(day, 0) + dt.timedelta(minutes=s + shift), _at(day, 0) + dt.timedelta(minutes=e))
                    for s, e in spells
                    if s + shift < e
                ]
                if curtailed
                else []
            )
        published = _at(day - dt.timedelta(days=1), PUBLICATION_TIME.hour, PUBLICATION_TIME.minute)
        return SimOrder(order_id, day, published, published, step, per_contract)

    def is_published(self, day: dt.date, now: dt.datetime | None = None) -> bool:
        order = self.order_state(day)
        now = now if now is not None else self.clock.now()
        return order.forced or _utc(now) >= _utc(order.published_at)

    def publish(self, day: dt.date | None = None) -> CurtailmentOrder:
        """Publish the order of ``day`` (default: tomorrow) now if not yet published."""
        day = day or rules.tomorrow(self.clock.now())
        order = self.order_state(day)
        if not self.is_published(day):
            order.published_at = order.updated_at = self.clock.now()
        order.forced = True
        return self.order(day)

    def update_order(
        self, curtailments: Mapping[str, Sequence[Spell]], *, day: dt.date | None = None, at: dt.datetime | None = None
    ) -> CurtailmentOrder:
        """Change the curtailment spells of some contracts (``[]``: no curtailment): a new
        ``updated_at`` (``at``, default now), the same ``order_id``."""
        day = day or rules.tomorrow(self.clock.now())
        order = self.order_state(day)
        unknown = [cid for cid in curtailments if cid not in order.spells]
        if unknown:
            raise KeyError(f"not in the order of {day}: {', '.join(unknown)}")
        for cid, spells in curtailments.items():
            order.spells[cid] = [(paris(s), paris(e)) for s, e in spells]
        order.updated_at = paris(at) if at is not None else self.clock.now()
        return self.order(day)

    def order(
        self, day: dt.date | None = None, *, contract_ids: Iterable[str] | None = None, full: bool = True
    ) -> CurtailmentOrder:
        """The order of ``day`` (default tomorrow) as the API shows it; ``full``: as an
        admin sees it, else as the account sees it."""
        day = day or rules.tomorrow(self.clock.now())
        order = self.order_state(day)
        wanted = set(contract_ids) if contract_ids is not None else None
        items = []
        for contract in self.contracts:
            if contract.id not in order.spells or (wanted is not None and contract.id not in wanted):
                continue
            if not full and not self.visible(contract):
                continue
            ids = (
                {"producer_id": contract.producer_id, "manager_id": contract.manager_id}
                if full
                else self._ids(contract)
            )
            items.append(
                ContractCurtailment(
                    **ids, contract_id=contract.id, plant_id=contract.plant_id, data=order.periods(contract.id)
                )
            )
        return CurtailmentOrder(
            order_id=order.order_id, updated_at=order.updated_at, application_date=day, curtailments=items
        )

    # -- acknowledgements (§5) ------------------------------------------------------------------
    def _log(self, day: dt.date) -> _DayLog:
        return self._logs.setdefault(day, _DayLog())

    def _record_fetch(self, day: dt.date, user_id: str, contract_ids: Iterable[str], at: dt.datetime) -> None:
        """RG_REP_ACK_0050 ``GET_ORDER``: once per user, contract and version of the order."""
        log = self._log(day)
        version = self.order_state(day).updated_at
        for cid in contract_ids:
            key = (user_id, cid, version)
            if key not in log.fetched:
                log.fetched.add(key)
                log.events.setdefault(cid, []).append(
                    ReportAck(ack_source="API", ack_type="GET_ORDER", ack_value=None, ack_date=at, user_id=user_id)
                )

    def _append(
        self,
        day: dt.date,
        contract_id: str,
        value: bool,
        user_id: str,
        at: dt.datetime,
        source: Literal["API", "PORTAL"],
    ) -> None:
        log = self._log(day)
        log.acks.setdefault(contract_id, []).append(
            AckEntry(user_id=user_id, ack_value=value, ack_date=at, ack_source=source)
        )
        log.events.setdefault(contract_id, []).append(
            ReportAck(ack_source=source, ack_type="SET_ACK", ack_value=value, ack_date=at, user_id=user_id)
        )

    def acknowledge(
        self, day: dt.date, values: Mapping[str, bool], *, user_id: str, scope: Iterable[str], at: dt.datetime
    ) -> None:
        """An API acknowledgement: ``values`` as sent, every other contract of ``scope``
        recorded ``false`` (RG_ACK_0030)."""
        for cid in scope:
            self._append(day, cid, values.get(cid, False), user_id, at, "API")

    def portal_acknowledge(
        self,
        contract_id: str,
        value: bool,
        user_id: str | None = None,
        at: dt.datetime | None = None,
        *,
        day: dt.date | None = None,
    ) -> AckEntry:
        """An acknowledgement made on the SMART OA portal (``PORTAL``) for one contract."""
        at = paris(at) if at is not None else self.clock.now()
        day = day or rules.tomorrow(at)
        contract = self.contract(contract_id)
        user_id = user_id or contract.manager_id or contract.producer_id
        self._append(day, contract_id, value, user_id, at, "PORTAL")
        return self._log(day).acks[contract_id][-1]

    def acks(self, day: dt.date | None = None, now: dt.datetime | None = None) -> dict[str, list[AckEntry]]:
        """Every contract's acknowledgements made by ``now`` for ``day``, oldest first."""
        now = now or self.clock.now()
        day = day or rules.tomorrow(now)
        return {
            cid: sorted((e for e in entries if _utc(e.ack_date) <= _utc(now)), key=lambda e: _utc(e.ack_date))
            for cid, entries in self._log(day).acks.items()
        }

    def retained(self, day: dt.date | None = None) -> dict[str, bool]:
        """What EDF OA retains per contract: the last acknowledgement of the day (§5.1.1)."""
        return {cid: entries[-1].ack_value for cid, entries in self.acks(day).items() if entries}

    # -- scenario -------------------------------------------------------------------------------
    def _history(self, today: dt.date) -> None:
        """~30 past days of fetches and acknowledgements, deterministic from the seed."""
        day = self.first_day
        while day <= today:
            rng = random.Random(f"edf-oa-acks:{self.seed}:{day.isoformat()}")
            call_day = day - dt.timedelta(days=1)
            order = self.order_state(day)
            ids = list(order.spells)
            fetched = _at(call_day, 13, rng.randint(30, 50))
            self._record_fetch(day, PRODUCER.id, ids, fetched)
            if rng.random() < 0.3:
                manager = self.contract("BOA0003").manager_id or PRODUCER.id
                self._record_fetch(day, manager, ["BOA0003", "BOA0004"], add(fetched, dt.timedelta(minutes=3)))
                self.portal_acknowledge("BOA0003", True, manager, add(fetched, dt.timedelta(minutes=8)), day=day)
            sent = add(fetched, dt.timedelta(minutes=rng.randint(5, 90)))
            values = {cid: rng.random() > 0.05 for cid in ids if rng.random() > 0.1}
            if rng.random() < 0.15:  # a first answer corrected later in the day
                self.acknowledge(day, {cid: False for cid in ids}, user_id=PRODUCER.id, scope=ids, at=sent)
                sent = add(sent, dt.timedelta(minutes=rng.randint(5, 30)))
            self.acknowledge(day, values, user_id=PRODUCER.id, scope=ids, at=sent)
            day += dt.timedelta(days=1)

    def _portal_demo(self, day: dt.date) -> None:
        """Tomorrow's order: one manager acknowledges one contract on the portal at 13:40."""
        order = self.order_state(day)
        mine = [c.id for c in self.contracts if c.manager_id == MANAGERS[0].id and c.id in order.spells]
        curtailed = [cid for cid in mine if order.spells[cid]]
        target = (curtailed or mine)[0]
        self.portal_acknowledge(target, True, MANAGERS[0].id, _at(day - dt.timedelta(days=1), 13, 40), day=day)

    # -- HTTP helpers ---------------------------------------------------------------------------
    def _json(self, data: Any, status: int = 200) -> JSONResponse:
        return JSONResponse({"data": data, "meta": {}, "errors": []}, status_code=status)

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
        return JSONResponse(error_body(status, message), status_code=status, headers=headers)

    def _unauthorised(self, request: Request) -> JSONResponse | None:
        self.requests.append((request.method, request.url.path))
        if self.issuer.check(request.headers.get("authorization")) is not None:
            return None
        return self._error(
            401,
            "authentication required: missing, invalid or expired API token",
            {"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )

    @staticmethod
    def _id_list(request: Request) -> set[str] | None:
        raw = request.query_params.get("contract_ids")
        if raw is None or not raw.strip():
            return None
        return {part.strip() for part in raw.split(",") if part.strip()}

    def _not_published(self, day: dt.date) -> JSONResponse:
        return self._error(404, f"no curtailment order published yet for {day.isoformat()}")

    def _scope(self, day: dt.date, wanted: set[str] | None = None) -> list[SandboxContract]:
        order = self.order_state(day)
        return [
            c for c in self.contracts if c.id in order.spells and self.visible(c) and (wanted is None or c.id in wanted)
        ]

    # -- routes ---------------------------------------------------------------------------------
    async def _curtailments(self, request: Request) -> JSONResponse:
        if (refused := self._unauthorised(request)) is not None:
            return refused
        now = self.clock.now()
        day = rules.tomorrow(now)
        if not self.is_published(day, now):
            return self._not_published(day)
        scope = self._scope(day, self._id_list(request))
        self._record_fetch(day, self.user_id, [c.id for c in scope], now)
        order = self.order(day, contract_ids=[c.id for c in scope], full=False)
        return self._json(to_document(order))

    async def _post_acknowledgements(self, request: Request) -> JSONResponse:
        if (refused := self._unauthorised(request)) is not None:
            return refused
        if self.account_type not in self.ack_account_types:
            return self._error(403, f"acknowledgements are not allowed for {self.account_type} accounts")
        try:
            body = json.loads(await request.body())
            ack = from_data(body, AcknowledgementRequest, provider=API_NAME)
        except (ValueError, PayloadError) as exc:
            return self._error(400, _invalid(exc))
        ids = [item.contract_id for item in ack.acknowledgements]
        twice = sorted({cid for cid in ids if ids.count(cid) > 1})
        if twice:
            return self._error(400, f"contract listed more than once: {', '.join(_clip(c) for c in twice)}")
        now = self.clock.now()
        day = rules.tomorrow(now)
        current = self.order_state(day)
        if not self.is_published(day, now) or ack.order_id != current.order_id:
            return self._error(
                409,
                f"order_id {_clip(ack.order_id)} is not the current curtailment "
                "order: fetch GET /curtailments again today and acknowledge "
                "that order",
            )
        scope = [c.id for c in self._scope(day)]
        foreign = [cid for cid in ids if cid not in scope]
        if foreign:
            return self._error(400, "contract not in your curtailment order: " + ", ".join(_clip(c) for c in foreign))
        self.acknowledge(
            day,
            {item.contract_id: item.ack_value for item in ack.acknowledgements},
            user_id=self.user_id,
            scope=scope,
            at=now,
        )
        return self._json(None)

    async def _get_acknowledgements(self, request: Request) -> JSONResponse:
        if (refused := self._unauthorised(request)) is not None:
            return refused
        now = self.clock.now()
        day = rules.tomorrow(now)
        if not self.is_published(day, now):
            return self._not_published(day)
        order = self.order_state(day)
        made = self.acks(day, now)
        items = [
            ContractAcks(**self._ids(c), contract_id=c.id, ack_list=made.get(c.id, []))
            for c in self._scope(day, self._id_list(request))
        ]
        dates = [order.updated_at] + [e.ack_date for item in items for e in item.ack_list]
        state = AcknowledgementsState(
            order_id=order.order_id, updated_at=max(dates, key=_utc), application_date=day, acknowledgements=items
        )
        return self._json(to_document(state))

    async def _contracts(self, request: Request) -> JSONResponse:
        if (refused := self._unauthorised(request)) is not None:
            return refused
        items = [
            Contract(
                id=c.id,
                created_at=c.created_at,
                updated_at=c.updated_at,
                # §6.1.4: both ids are mandatory (card. 1) for every account type, with no visibility
                # rule (§6.1.5); a contract its producer manages itself has no manager to name.
                producer_id=c.producer_id,
                manager_id=c.manager_id,
                plant_id=c.plant_id,
                status=c.status,
            )
            for c in self.contracts
            if self.visible(c)
        ]
        return self._json(to_document(items))

    def _report_days(self, request: Request) -> list[dt.date]:
        now = self.clock.now()
        start, end = (_query_date(request, "start_date"), _query_date(request, "end_date"))
        if start is None and end is None:
            start = end = rules.tomorrow(now)  # RG_REP_ACK_0030, RG_REP_CUR_0030
        if start is not None and end is not None and start > end:
            raise ValueError("start_date is after end_date")
        first = max(start or self.first_day, self.first_day)
        last = min(end or rules.tomorrow(now), rules.tomorrow(now))
        days = []
        while first <= last:
            if self.is_published(first, now):
                days.append(first)
            first += dt.timedelta(days=1)
        return days

    def _report_contracts(self, request: Request) -> list[SandboxContract]:
        wanted = self._id_list(request)
        user_id = request.query_params.get("user_id") or None
        chosen = []
        for contract in self.contracts:
            if not self.visible(contract) or (wanted is not None and contract.id not in wanted):
                continue
            if user_id is not None and user_id not in (contract.producer_id, contract.manager_id):
                continue
            chosen.append(contract)
        return chosen

    def _hierarchy(self, contracts: list[SandboxContract], orders_of: Any) -> list[ReportProducer[Any]]:
        """RG_REP_ACK_0010 / RG_REP_CUR_0010: producers → managers → contracts → orders."""

        def item(c: SandboxContract) -> ReportContract[Any]:
            return ReportContract[Any](id=c.id, plant_id=c.plant_id, status=c.status, orders=orders_of(c))

        if not contracts:
            return []
        managers = [
            ReportManager[Any](id=m.id, label=m.label, contracts=[item(c) for c in contracts if c.manager_id == m.id])
            for m in MANAGERS
            if any(c.manager_id == m.id for c in contracts)
        ]
        return [
            ReportProducer[Any](
                id=PRODUCER.id,
                label=PRODUCER.label,
                contracts=[item(c) for c in contracts if c.manager_id is None],
                managers=managers,
            )
        ]

    async def _report(self, request: Request, kind: Literal["ack", "curtailment"]) -> JSONResponse:
        if (refused := self._unauthorised(request)) is not None:
            return refused
        try:
            days = self._report_days(request)
        except ValueError as exc:
            return self._error(400, str(exc))
        now = self.clock.now()

        def ack_orders(c: SandboxContract) -> list[AckReportOrder]:
            out = []
            for day in days:
                order = self.order_state(day)
                if c.id in order.spells:
                    events = sorted(
                        (e for e in self._log(day).events.get(c.id, []) if _utc(e.ack_date) <= _utc(now)),
                        key=lambda e: _utc(e.ack_date),
                    )
                    out.append(AckReportOrder(application_date=day, order_id=order.order_id, acknowledgements=events))
            return out

        def curtailment_orders(c: SandboxContract) -> list[CurtailmentReportOrder]:
            return [
                CurtailmentReportOrder(
                    application_date=day,
                    order_id=self.order_state(day).order_id,
                    curtailment_data=CurtailmentData(periods=self.order_state(day).periods(c.id)),
                )
                for day in days
                if c.id in self.order_state(day).spells
            ]

        from pupitre.providers.edf_oa.reports import AckReport, CurtailmentReport

        contracts = self._report_contracts(request)
        if kind == "ack":
            report: Any = AckReport(producers=self._hierarchy(contracts, ack_orders))
        else:
            report = CurtailmentReport(producers=self._hierarchy(contracts, curtailment_orders))
        return self._json(to_document(report))

    async def _ack_report(self, request: Request) -> JSONResponse:
        return await self._report(request, "ack")

    async def _curtailment_report(self, request: Request) -> JSONResponse:
        return await self._report(request, "curtailment")

    async def _token_status(self, request: Request) -> JSONResponse:
        if (refused := self._unauthorised(request)) is not None:
            return refused
        return self._json({"expires_at": format_utc_timestamp(self.token().expires_at)})

    async def _new_token(self, request: Request) -> JSONResponse:
        if (refused := self._unauthorised(request)) is not None:
            return refused
        token = self.rotate_token()
        return self._json(
            {
                "client_token": token.value,
                "expires_at": format_utc_timestamp(token.expires_at),
                "lease_duration": int(TOKEN_LIFETIME.total_seconds()),
                "renewable": True,
            }
        )

    def routes(self) -> list[Route]:
        return [
            Route(f"{BASE_PATH}/curtailments", self._curtailments, methods=["GET"]),
            Route(f"{BASE_PATH}/curtailments/report", self._curtailment_report, methods=["GET"]),
            Route(f"{BASE_PATH}/acknowledgements", self._post_acknowledgements, methods=["POST"]),
            Route(f"{BASE_PATH}/acknowledgements", self._get_acknowledgements, methods=["GET"]),
            Route(f"{BASE_PATH}/acknowledgements/report", self._ack_report, methods=["GET"]),
            Route(f"{BASE_PATH}/contracts", self._contracts, methods=["GET"]),
            Route(f"{BASE_PATH}/vault/approle/token/status", self._token_status, methods=["GET"]),
            Route(f"{BASE_PATH}/vault/approle/token", self._new_token, methods=["GET"]),
        ]


def _query_date(request: Request, name: str) -> dt.date | None:
    raw = request.query_params.get(name)
    if raw is None or not raw.strip():
        return None
    try:
        return dt.date.fromisoformat(raw.strip())
    except ValueError:
        raise ValueError(f"{name} must be a date YYYY-MM-DD, not {_clip(raw, 20)!r}") from None


def _invalid(exc: ValueError | PayloadError) -> str:
    if isinstance(exc, PayloadError):
        return f"invalid acknowledgement request: {exc.detail}"
    return "invalid acknowledgement request: the body is not valid JSON"


def build_app(
    clock: Clock,
    plan: FaultPlan,
    *,
    account_type: AccountType = "producer",
    seed: int = 0,
    initial_token: str = INITIAL_TOKEN,
    scenario: Literal["default", "calm"] = "default",
) -> SimulatorApp:
    """The EDF OA sandbox as an ASGI app (``app.simulator`` is its :class:`EdfOaSimulator`)."""
    return EdfOaSimulator(
        clock, plan, account_type=account_type, seed=seed, initial_token=initial_token, scenario=scenario
    ).app
