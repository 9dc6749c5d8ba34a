"""The Switchgrid Enedis API v2 simulator, under ``/enedis/v2`` (the documented base path).

Routes: ``GET /search_contract``, ``POST|GET /ask``, ``GET|DELETE /ask/{id}``,
``POST /order``, ``GET /order/{id}``, ``GET /request/{id}/data``.

Checked on every route, in order: bearer token (401), header
``switchgrid-test-env: true`` (400 — our choice: this sandbox only serves dummy data,
so a call without the header is a production profile pointed at the sandbox by
mistake and is refused rather than silently answered), then the body/query (400).
Error body: ``{"code": <status>, "message": "…"}`` (the document gives none).

State on the shared clock:

- asks start ``PENDING_USER_ACTION`` and become ``ACCEPTED`` ``accept_delay`` after
  creation (None: never by themselves) or on :meth:`SwitchgridSimulator.accept`; an
  inline contract whose PRM the sandbox does not know ends ``ADDRESS_CHECK_FAILED``.
  ``DELETE`` removes the ask and revokes its consents (404 afterwards).
- an order needs an accepted consent for each PRM (``consentId``, or ``prms``
  covered by accepted asks; 403 otherwise); one request per (request item, PRM);
  each completes after the document's median latency × ``latency_scale``.
  LOADCURVE/R63 on a meter without load-curve service fails with the document's
  message; with ``enedisRetryAfterLoadcurveActivation: true`` it stays PENDING for
  ``activation_delay`` then succeeds. The order is ``PENDING_REQUESTS`` until every
  request is done, then ``SUCCESS`` or ``SOME_REQUESTS_FAILED``. A successful
  LOADCURVE of ≤ 31 days also carries its curve inline (``loadCurve``).
- load curves: 10-minute mean powers, deterministic per PRM — a residential or
  business daily shape in Paris time, weekly shape, winter-high seasonal level,
  occasional gaps (a run of 1–6 missing steps on ~1 day in 9). ``since``/``until``
  default to the last 7 full UTC days.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import random
import uuid
from typing import Any, Callable

import msgspec
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pupitre.providers.core.api import clean_for, from_data
from pupitre.providers.core.clock import PARIS, UTC, Clock, add, instant
from pupitre.providers.core.errors import PayloadError
from pupitre.providers.core.faults import FaultPlan
from pupitre.providers.core.sandbox import Simulator, SimulatorApp
from pupitre.providers.switchgrid import rules
from pupitre.providers.switchgrid.bodies import AskCreate, ElectricityContract, OrderCreate
from pupitre.providers.switchgrid.models import PROVIDER

BASE_PATH = "/enedis/v2"
# The smallest well-formed PDF: one empty page (the simulated consent proof).
_PROOF_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
SANDBOX_TOKEN = "sbx-switchgrid-sandbox-token-not-a-real-one"
TEST_ENV_HEADER = "switchgrid-test-env"
NO_LOADCURVE_MESSAGE = (
    "La demande ne peut aboutir : aucun service souscrit de courbe de charge n'est present pour la periode demandee"
)
INLINE_MAX = dt.timedelta(days=31)


def error_body(status: int, message: str) -> dict[str, Any]:
    return {"code": status, "message": message}


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse(error_body(status, message), status_code=status)


def _iso(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class SimContract(msgspec.Struct):
    id: str
    prm: str
    name: str
    category: str  # RES | PRO
    lines: dict[str, str]
    kw: float  # typical mean load
    loadcurve_service: bool = True
    solar_kw: float = 0.0

    def result(self) -> dict[str, Any]:
        return {
            "nomClientFinalOuDenominationSociale": self.name,
            "id": self.id,
            "prm": self.prm,
            "categorieClientFinalCode": self.category,
            "adresseInstallationNormalisee": dict(self.lines),
        }


# name, category, ligne4, ligne6, mean kW, load-curve service, solar kWc
_CONTRACTS = (
    ("ST DUPONT", "PRO", "10 RUE DE LA PAIX", "75002 PARIS", 6.0, True, 0.0),
    ("DUPONT Marie", "RES", "70 ALLEE DU BOIS", "84190 BEAUMES DE VENISE", 0.9, True, 3.0),
    ("SARL DUPONT ET FILS", "PRO", "11 IMPASSE DES SENTEURS", "13880 VELAUX", 12.0, True, 0.0),
    ("MARTIN Jeanne", "RES", "27 CHEMIN DES COUSTELLINES", "84220 GORDES", 0.7, False, 0.0),
    ("BOULANGERIE DU MARCHE", "PRO", "4 PLACE DU MARCHE", "69003 LYON", 9.0, True, 0.0),
    ("BERNARD Louis", "RES", "18 RUE VICTOR HUGO", "59260 HELLEMMES LILLE", 1.1, True, 0.0),
    ("SCI LES PLATANES", "PRO", "2 AVENUE DES PLATANES", "33000 BORDEAUX", 18.0, False, 0.0),
    ("LAMBERT Chloe", "RES", "5 RUE DES LILAS", "44000 NANTES", 0.8, True, 6.0),
    ("HOTEL DE LA GARE", "PRO", "1 PLACE DE LA GARE", "21000 DIJON", 35.0, True, 0.0),
    ("GIRAUD Hugo", "RES", "9 CHEMIN DE LA CHABOTT", "83110 SANARY SUR MER", 1.4, True, 0.0),
)


class SimAsk(msgspec.Struct):
    id: str
    created: dt.datetime
    body: dict[str, Any]
    contracts: list[SimContract]
    consent_ids: dict[str, str]
    accepted_at: dt.datetime | None = None
    failed_check: bool = False


class SimRequest(msgspec.Struct):
    id: str
    type: str
    prm: str
    args: dict[str, Any]
    ordered: dt.datetime
    done: dt.datetime
    fails: bool
    since: dt.datetime
    until: dt.datetime


class SimOrder(msgspec.Struct):
    id: str
    requests: list[SimRequest] = msgspec.field(default_factory=list)


class SwitchgridSimulator(Simulator):
    #: Free text in this API's answers: where the ``hostile`` fault switch writes escape sequences.
    TEXT_FIELDS = frozenset(
        (
            "nomClientFinalOuDenominationSociale",
            *(f"ligne{n}" for n in range(1, 8)),
            "street",
            "city",
            "firstName",
            "lastName",
            "name",
            "otherNames",
            "errorMessage",
            "message",
            "userUrl",
            "meter_reading",  # the raw Enedis JSON of R6x/C68 requests, shown as a tree
        )
    )
    error_body = staticmethod(error_body)
    WORLD_FIELDS = ("contracts", "asks", "orders", "requests", "odd_statuses", "training_order", "_rng")

    def __init__(
        self,
        clock: Clock,
        plan: FaultPlan | None = None,
        *,
        token: str = SANDBOX_TOKEN,
        seed: int = 0,
        accept_delay: dt.timedelta | None = dt.timedelta(minutes=5),
        latency_scale: float = 1.0,
        activation_delay: dt.timedelta = dt.timedelta(hours=4),
        require_test_env: bool = True,
        training_day: bool = False,
    ) -> None:
        self.clock = clock
        self.plan = plan if plan is not None else FaultPlan()
        self.token = token
        self.seed = seed
        self.accept_delay = accept_delay
        self.latency_scale = latency_scale
        self.activation_delay = activation_delay
        self.require_test_env = require_test_env
        self._rng = random.Random(seed)
        self.contracts: list[SimContract] = [
            SimContract(
                self._uuid(),
                "00000000000022" if i == 0 else self._prm(),
                name,
                cat,
                {"ligne4": l4, "ligne6": l6},
                kw,
                service,
                solar,
            )
            for i, (name, cat, l4, l6, kw, service, solar) in enumerate(_CONTRACTS)
        ]
        self.asks: dict[str, SimAsk] = {}
        self.orders: dict[str, SimOrder] = {}
        self.requests: dict[str, SimRequest] = {}
        self.posts = 0
        #: A status the document does not list, served for an ask or order id (tests, demos).
        self.odd_statuses: dict[str, str] = {}
        #: The order of the training day (:meth:`seed_training_day`), if any.
        self.training_order: str | None = self.seed_training_day() if training_day else None

    # -- helpers / driving --------------------------------------------------------------------------
    def _uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _prm(self) -> str:
        return "".join(str(self._rng.randint(0, 9)) for _ in range(14))

    def seed_training_day(self) -> str:
        """What an operator finds on a training day: an ask signed yesterday (two PRMs) and
        yesterday's order of their last 7 days of load curves, done. The ids are the same in every process of the
        same seed (their own random stream); returns the order's id."""
        rng = random.Random(f"switchgrid-training:{self.seed}")

        def ident() -> str:
            return str(uuid.UUID(int=rng.getrandbits(128), version=4))

        now = self.clock.now()
        yesterday = dt.datetime.combine(now.date() - dt.timedelta(days=1), dt.time(9, 40), tzinfo=PARIS)
        signed = [self.contracts[1], self.contracts[4]]  # both have the load-curve service
        body = {
            "electricityContracts": [c.id for c in signed],
            "signer": {"firstName": "Marie", "lastName": "DUPONT"},
            "consentCollectionMedium": {"service": "WEB_HOSTED"},
            "consentDuration": "1 year",
        }
        ask = SimAsk(ident(), yesterday, body, signed, {c.prm: ident() for c in signed})
        ask.accepted_at = add(yesterday, dt.timedelta(minutes=25))
        self.asks[ask.id] = ask
        ordered = add(ask.accepted_at, dt.timedelta(minutes=10))
        until = dt.datetime.combine(ordered.astimezone(UTC).date(), dt.time(0), tzinfo=UTC)
        since = until - dt.timedelta(days=7)
        order = SimOrder(ident())
        for contract in signed:
            args = {"type": "LOADCURVE", "prms": [contract.prm]}
            done = add(ordered, dt.timedelta(minutes=20))
            req = SimRequest(ident(), "LOADCURVE", contract.prm, args, ordered, done, False, since, until)
            order.requests.append(req)
            self.requests[req.id] = req
        self.orders[order.id] = order
        return order.id

    def contract(self, prm: str) -> SimContract | None:
        return next((c for c in self.contracts if c.prm == prm), None)

    def accept(self, ask_id: str) -> None:
        """The signer signs the consent form now."""
        self.asks[ask_id].accepted_at = self.clock.now()

    def _ask_status(self, ask: SimAsk) -> tuple[str, dt.datetime | None]:
        if ask.failed_check:
            return "ADDRESS_CHECK_FAILED", None
        now = self.clock.now()
        if (
            ask.accepted_at is None
            and self.accept_delay is not None
            and instant(add(ask.created, self.accept_delay)) <= instant(now)
        ):
            ask.accepted_at = add(ask.created, self.accept_delay)
        if ask.accepted_at is not None and instant(ask.accepted_at) <= instant(now):
            return "ACCEPTED", ask.accepted_at
        return "PENDING_USER_ACTION", None

    def ask_json(self, ask: SimAsk) -> dict[str, Any]:
        status, accepted = self._ask_status(ask)
        status = self.odd_statuses.get(ask.id, status)
        return {
            "id": ask.id,
            "createdAt": _iso(ask.created),
            "status": status,
            "acceptedAt": _iso(accepted),
            "consentCollectionDetails": None
            if ask.failed_check
            else {
                "service": (ask.body.get("consentCollectionMedium") or {}).get("service", "WEB_HOSTED"),
                "userUrl": f"https://app.switchgrid.tech/c/{ask.id[:8]}",
            },
            "createArgs": ask.body,
            "addressCheckResults": {
                c.prm: {"status": "FAILURE" if ask.failed_check else "SUCCESS"} for c in ask.contracts
            },
            "consentIds": {} if ask.failed_check else dict(ask.consent_ids),
            "contracts": [c.result() for c in ask.contracts],
        }

    def _request_status(self, req: SimRequest) -> str:
        if instant(self.clock.now()) < instant(req.done):  # instants: the repeated hour is two hours
            return "PENDING"
        return "FAILED" if req.fails else "SUCCESS"

    def order_json(self, order: SimOrder, base_url: str = "") -> dict[str, Any]:
        items = []
        for req in order.requests:
            status = self._request_status(req)
            item: dict[str, Any] = {
                "id": req.id,
                "type": req.type,
                "status": status,
                "orderedAt": _iso(req.ordered),
                "completedAt": _iso(req.done) if status != "PENDING" else None,
                "dataUrl": None,
                "errorMessage": NO_LOADCURVE_MESSAGE if status == "FAILED" else None,
                "prm": req.prm,
            }
            if status == "SUCCESS":
                item["dataUrl"] = f"{base_url}{BASE_PATH}/request/{req.id}/data"
                if req.type == "LOADCURVE" and req.until - req.since <= INLINE_MAX:
                    item["loadCurve"] = self.curve_json(req)
            items.append(item)
        statuses = {i["status"] for i in items}
        if statuses <= {"SUCCESS"}:
            status = "SUCCESS"
        elif statuses <= {"SUCCESS", "FAILED"}:
            status = "SOME_REQUESTS_FAILED"
        else:
            status = "PENDING_REQUESTS"
        return {"id": order.id, "status": status, "requests": items}

    # -- load curves --------------------------------------------------------------------------------
    def power(self, contract: SimContract, moment: dt.datetime, injection: bool = False) -> float | None:
        """Mean power (W) over the 10 minutes starting at ``moment`` (UTC)."""
        local = moment.astimezone(PARIS)
        day_key = f"{self.seed}:{contract.prm}:{local.date()}"
        digest = hashlib.blake2b(day_key.encode(), digest_size=8).digest()
        if digest[0] % 9 == 0:  # a gap day: 1–6 missing steps from a given step
            first = digest[1] % 138
            index = (local.hour * 60 + local.minute) // 10
            if first <= index < first + 1 + digest[2] % 6:
                return None
        hour = local.hour + local.minute / 60
        doy = local.timetuple().tm_yday
        season = 1 + 0.35 * math.cos(2 * math.pi * (doy - 15) / 365.25)
        noise = 1 + 0.12 * (
            int.from_bytes(hashlib.blake2b(f"{day_key}:{moment.timestamp()}".encode(), digest_size=2).digest(), "big")
            / 65535
            - 0.5
        )
        if injection:
            if not contract.solar_kw:
                return 0.0
            summer = 1 + 0.5 * math.cos(2 * math.pi * (doy - 172) / 365.25)
            sun = max(0.0, math.sin(math.pi * (hour - 6.5) / 13)) if 6.5 < hour < 19.5 else 0.0
            return round(contract.solar_kw * 1000 * 0.6 * summer / 1.5 * sun * noise)
        weekend = local.weekday() >= 5
        if contract.category == "RES":
            shape = 0.45 + 0.9 * math.exp(-(((hour - 7.5) / 1.2) ** 2)) + 1.4 * math.exp(-(((hour - 19.5) / 2) ** 2))
            shape *= 1.15 if weekend else 1.0
        else:
            open_ = 7 <= hour < 19 and local.weekday() < (6 if contract.name.startswith("BOUL") else 5)
            shape = (1.6 if open_ else 0.35) + 0.3 * math.exp(-(((hour - 12.5) / 1.5) ** 2)) * open_
        return round(contract.kw * 1000 * shape * season * noise)

    def curve(self, req: SimRequest) -> list[tuple[dt.datetime, float | None]]:
        contract = self.contract(req.prm)
        assert contract is not None
        injection = req.args.get("direction") == "INJECTION"
        step = rules.STEP_10_MIN
        start = req.since.astimezone(UTC)
        start = start - dt.timedelta(minutes=start.minute % 10, seconds=start.second, microseconds=start.microsecond)
        out = []
        moment = start
        while moment < req.until:
            out.append((moment, self.power(contract, moment, injection)))
            moment += step
        return out

    def curve_json(self, req: SimRequest) -> dict[str, Any]:
        points = self.curve(req)
        end = points[-1][0] + rules.STEP_10_MIN if points else req.until
        return {
            "period": "PT600S",
            "startsAt": _iso(points[0][0] if points else req.since),
            "endsAt": _iso(end),
            "values": [w for _, w in points],
        }

    def curve_csv(self, req: SimRequest) -> str:
        return rules.curve_csv(rules.Point(t, w) for t, w in self.curve(req))

    # -- HTTP ---------------------------------------------------------------------------------------
    def _gate(self, request: Request) -> JSONResponse | None:
        if request.headers.get("authorization", "") != f"Bearer {self.token}":
            return _error(401, "Unauthorized: missing or invalid API token")
        if self.require_test_env and request.headers.get(TEST_ENV_HEADER, "").lower() != "true":
            return _error(
                400, "this sandbox only serves the test environment: send the header switchgrid-test-env: true"
            )
        return None

    async def _search(self, request: Request) -> Response:
        if (refused := self._gate(request)) is not None:
            return refused
        q = request.query_params
        try:
            params = rules.validate_search(q.get("name", ""), q.get("address"), q.get("prm"))
        except rules.RuleError as exc:
            return _error(400, str(exc))
        words = set(_fold(params["name"]).split())
        found = []
        for c in self.contracts:
            if not words <= set(_fold(c.name).split()):
                continue
            if "prm" in params and params["prm"] != c.prm:
                continue
            if "address" in params:
                postcode = rules._POSTCODE.search(params["address"])
                if postcode is None or not c.lines["ligne6"].startswith(postcode.group()):
                    continue
            found.append(c.result())
        return JSONResponse({"results": found})

    async def _post_ask(self, request: Request) -> Response:
        if (refused := self._gate(request)) is not None:
            return refused
        self.posts += 1
        try:
            body = await request.json()
            ask = from_data(body, AskCreate, provider=PROVIDER)
            rules.consent_duration(ask.consentDuration)
        except PayloadError as exc:
            return _error(400, f"invalid ask: {exc.detail[:200]}")
        except (ValueError, rules.RuleError) as exc:
            return _error(400, f"invalid ask: {str(exc).splitlines()[0][:200]}")
        contracts: list[SimContract] = []
        failed = False
        for item in ask.electricityContracts:
            if isinstance(item, str):
                found = next((c for c in self.contracts if c.id == item), None)
                if found is None:
                    return _error(400, f"unknown electricity contract {item}")
            else:
                assert isinstance(item, ElectricityContract)
                found = self.contract(item.prm)
                if found is None:
                    failed = True
                    found = SimContract(self._uuid(), item.prm, "", "RES", {}, 1.0)
            contracts.append(found)
        sim_ask = SimAsk(
            self._uuid(),
            self.clock.now(),
            body,
            contracts,
            {c.prm: self._uuid() for c in contracts},
            failed_check=failed,
        )
        self.asks[sim_ask.id] = sim_ask
        return JSONResponse(self.ask_json(sim_ask))

    async def _list_asks(self, request: Request) -> Response:
        if (refused := self._gate(request)) is not None:
            return refused
        q = request.query_params
        try:
            skip = int(q.get("skip", 0))
            limit = int(q.get("limit", 10))
        except ValueError:
            return _error(400, "skip and limit must be integers")
        if skip < 0 or not 0 <= limit <= 100:
            return _error(400, "skip must be ≥ 0 and limit ≤ 100")
        order_by = q.get("orderBy", "createdAt:asc")
        if order_by not in ("createdAt:asc", "createdAt:desc"):
            return _error(400, f"orderBy {order_by!r} not supported")
        items = [self.ask_json(a) for a in self.asks.values()]
        filters: tuple[tuple[str, Callable[[dict[str, Any]], list[str]]], ...] = (
            ("status", lambda a: [a["status"]]),
            ("prm", lambda a: list(a["addressCheckResults"])),
        )
        for key, get in filters:
            exclude, values = rules.parse_filter(q.get(key))
            if values:
                items = [a for a in items if any(v in values for v in get(a)) != exclude]
        items.sort(key=lambda a: (a["createdAt"], a["id"]), reverse=order_by.endswith("desc"))
        page = items[skip : skip + limit]
        return JSONResponse(
            {
                "skip": skip,
                "limit": limit,
                "totalItemsCount": len(items),
                "returnedItemsCount": len(page),
                "items": page,
            }
        )

    async def _ask(self, request: Request) -> Response:
        if (refused := self._gate(request)) is not None:
            return refused
        ask = self.asks.get(request.path_params["ask_id"])
        if ask is None:
            return _error(404, "Ask not found")
        if request.method == "DELETE":
            del self.asks[ask.id]
            return JSONResponse({"id": ask.id, "deleted": True})
        return JSONResponse(self.ask_json(ask))

    async def _ask_proof(self, request: Request) -> Response:
        """``GET /ask/{askId}/proof`` (OpenAPI ``getAskProof``): the consent proof as a PDF,
        once the ask is accepted; a minimal one-page document here."""
        if (refused := self._gate(request)) is not None:
            return refused
        ask = self.asks.get(request.path_params["ask_id"])
        if ask is None:
            return _error(404, "Ask not found")
        if self._ask_status(ask)[0] != "ACCEPTED":
            return _error(409, "Ask is not accepted: no proof yet")
        return Response(_PROOF_PDF, media_type="application/pdf")

    def _consents(self) -> dict[str, str]:
        """consentId → PRM, for accepted asks."""
        out = {}
        for ask in self.asks.values():
            if self._ask_status(ask)[0] == "ACCEPTED":
                out.update({cid: prm for prm, cid in ask.consent_ids.items()})
        return out

    async def _post_order(self, request: Request) -> Response:
        if (refused := self._gate(request)) is not None:
            return refused
        self.posts += 1
        try:
            body = await request.json()
            from_data(body, OrderCreate, provider=PROVIDER)  # the shape; the content below
            data = rules.validate_order(clean_for(body, OrderCreate))  # a field Switchgrid does not take is refused
        except PayloadError as exc:
            return _error(400, f"invalid order: {exc.detail[:200]}")
        except (ValueError, rules.RuleError) as exc:
            return _error(400, f"invalid order: {str(exc).splitlines()[0][:200]}")
        consents = self._consents()
        now = self.clock.now()
        order = SimOrder(self._uuid())
        for item in data["requests"]:
            if "consentId" in data:
                prm = consents.get(data["consentId"])
                if prm is None:
                    return _error(403, "no accepted consent with this id")
                prms = [prm]
            else:
                prms = item["prms"]
                missing = [p for p in prms if p not in consents.values()]
                if missing:
                    return _error(403, f"no accepted consent for {', '.join(missing)}")
            until = (
                rules.parse_instant(item["until"])
                if "until" in item
                else dt.datetime.combine(now.astimezone(UTC).date(), dt.time(0), tzinfo=UTC)
            )
            since = rules.parse_instant(item["since"]) if "since" in item else until - dt.timedelta(days=7)
            for prm in prms:
                contract = self.contract(prm)
                fails = (
                    item["type"] in rules.LOADCURVE_TYPES and contract is not None and not contract.loadcurve_service
                )
                latency = dt.timedelta(seconds=rules.median_latency(item["type"], since, until) * self.latency_scale)
                if fails and item.get("enedisRetryAfterLoadcurveActivation"):
                    fails, latency = False, self.activation_delay
                    if contract is not None:
                        contract.loadcurve_service = True
                req = SimRequest(self._uuid(), item["type"], prm, item, now, add(now, latency), fails, since, until)
                order.requests.append(req)
                self.requests[req.id] = req
        self.orders[order.id] = order
        return JSONResponse(self.order_json(order, _base(request)))

    async def _order(self, request: Request) -> Response:
        if (refused := self._gate(request)) is not None:
            return refused
        order = self.orders.get(request.path_params["order_id"])
        if order is None:
            return _error(404, "Order not found")
        return JSONResponse(self.order_json(order, _base(request)))

    async def _data(self, request: Request) -> Response:
        if (refused := self._gate(request)) is not None:
            return refused
        req = self.requests.get(request.path_params["request_id"])
        if req is None or self._request_status(req) != "SUCCESS":
            return _error(404, "Request not found or data not (yet) available")
        fmt = request.query_params.get("format", "csv")
        period = request.query_params.get("period", "10min")
        if fmt not in ("csv", "json") or period != "10min":
            return _error(400, "format must be csv or json; the sandbox serves period=10min only")
        if req.type not in ("LOADCURVE",):
            return JSONResponse(
                {
                    "meter_reading": {
                        "usage_point_id": req.prm,
                        "type": req.type,
                        "start": _iso(req.since),
                        "end": _iso(req.until),
                    }
                }
            )
        if fmt == "json":
            return JSONResponse(self.curve_json(req))
        return Response(self.curve_csv(req), media_type="text/csv")

    def routes(self) -> list[Route]:
        return [
            Route(f"{BASE_PATH}/search_contract", self._search, methods=["GET"]),
            Route(f"{BASE_PATH}/ask", self._post_ask, methods=["POST"]),
            Route(f"{BASE_PATH}/ask", self._list_asks, methods=["GET"]),
            Route(f"{BASE_PATH}/ask/{{ask_id}}", self._ask, methods=["GET", "DELETE"]),
            Route(f"{BASE_PATH}/ask/{{ask_id}}/proof", self._ask_proof, methods=["GET"]),
            Route(f"{BASE_PATH}/order", self._post_order, methods=["POST"]),
            Route(f"{BASE_PATH}/order/{{order_id}}", self._order, methods=["GET"]),
            Route(f"{BASE_PATH}/request/{{request_id}}/data", self._data, methods=["GET"]),
        ]

    def starlette(self) -> Starlette:
        return Starlette(routes=self.routes(), exception_handlers={HTTPException: _http_error})


async def _http_error(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 500)
    return _error(status, {404: "Not found", 405: "Method not allowed"}.get(status, "Internal error"))


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _fold(text: str) -> str:
    return rules._fold(text)


def build_app(clock: Clock, plan: FaultPlan, *, seed: int = 0) -> SimulatorApp:
    """The Switchgrid sandbox as an ASGI app (``app.simulator`` is its simulator)."""
    return SwitchgridSimulator(clock, plan, seed=seed).app
