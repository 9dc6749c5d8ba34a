"""The GRDF OMEGA « Suivi demande » simulator: OKTA token, one resource, the quota.

Routes:

- ``POST /oauth2/default/v1/token`` — OKTA (§1.4, Annex B): ``client_credentials``
  with a client secret (``core.sandbox_oauth.token_endpoint``), scope ``suivi_demande``
  required (400 ``invalid_scope`` otherwise, after client authentication, as OKTA
  does); the answer adds ``"scope": "suivi_demande"``; tokens live 1 hour on the
  shared clock.
- ``GET /fournisseur/demande/v1/demandes/{numero_demande}/externe?code_cdgf=…``
  (§1.3, §2.2.1), checked in this order: bearer token (401), header
  ``x-user-login`` (400 "Paramètre de requête manquant"), ``code_cdgf`` present
  (400, same label) and the simulator's own (403 "L'utilisateur n'a pas accès à
  cette ressource"), the number known (404 "La ressource demandée est
  introuvable") and this supplier's (403). Success: the §2.2.2 JSON.

Error bodies: the document gives none; we answer ``{"code": <HTTP status>,
"message": "<Annex A label>"}`` (also for unknown paths, 404, and other verbs, 405).

Quota (§1.3): "chaque fournisseur est soumis à un quota d'un appel par seconde",
enforced here like GRDF's API management, *before* the service and the fault plan:
for each supplier (the token's client), a call less than one second (a sliding
window on ``monotonic``, real time by default since tests freeze the app's clock)
after the last accepted one is refused — 429 ``{"code": 429, "message": "quota
dépassé"}`` with ``Retry-After: 1`` — and counted in :attr:`OmegaSimulator.quota_refusals`;
accepted calls are counted in :attr:`OmegaSimulator.calls`. ``quota_leeway``
(50 ms) stands for the jitter a real gateway tolerates between the client's pacing
and the arrival of its requests. Calls without a valid token are not counted (the
gateway cannot tell whose they are), nor are calls answered 401 (a token refused
before the quota is counted).

Data (deterministic from ``seed``): the document's example ``WD00053H`` verbatim
(status moved only by :meth:`OmegaSimulator.set_status`), ~80 requests of all 23
types (§1.2) numbered ``WD`` + 6 base-36 characters, with invented clients,
addresses, 14-digit PCE numbers and per-type blocks (the field names of the
blocks are ours: the document's mapping annex is not available), and a few
requests of another supplier (403), among them ``WD0004MX`` of the screenshot's
``A04000000X``. Statuses progress with the shared clock — ``ENCOURS`` → ``ATTRDV``
→ ``PLANIF`` → ``REAL`` for interventions, ``ENCOURS`` → ``PLANIF`` → ``REAL``
for contractual changes, ``ENCOURS`` → ``TRAITEE`` for analyses, some ending
``ANNUL`` or ``REJET`` — with ``date_dernier_changement_statut_externe`` following;
a handful change within the first hour after start, so a demo sees it happen.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import random
import time
from typing import Any, Awaitable, Callable
from urllib.parse import parse_qsl

import msgspec
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pupitre.providers.core.clock import PARIS, Clock, add, paris
from pupitre.providers.core.faults import FaultPlan
from pupitre.providers.core.sandbox import ASGIApp, Receive, Scope, Send, Simulator, SimulatorApp, TokenIssuer
from pupitre.providers.core.sandbox_oauth import ClientRegistration, token_endpoint
from pupitre.providers.grdf_omega import rules

API_PREFIX = "/fournisseur"
DEMANDES_PATH = f"{API_PREFIX}/demande/v1/demandes"
DEMANDE_ROUTE = DEMANDES_PATH + "/{numero_demande}/externe"
TOKEN_PATH = "/oauth2/default/v1/token"
TOKEN_LIFETIME = dt.timedelta(hours=1)
SCOPE = "suivi_demande"
SANDBOX_CLIENT_ID = "0oa0sandboxpupitre0m"  # fake, shaped like an OKTA client id
SANDBOX_CLIENT_SECRET = "sbx-omega-sandbox-secret-not-a-real-one"
DEFAULT_CDGF = "A04000010"
DEFAULT_CDGF_LABEL = "ELECTRICITE DE FRANCE"
QUOTA_MESSAGE = "quota dépassé"

# Annex A labels used by the simulator.
MISSING_PARAMETER = "Paramètre de requête manquant"
FORBIDDEN = "L'utilisateur n'a pas accès à cette ressource"
NOT_FOUND = "La ressource demandée est introuvable"
METHOD_NOT_ALLOWED = "Le verbe http utilisé n'est pas pris en charge"
UNAUTHORISED = "Jeton d'accès absent, invalide ou expiré"  # not in Annex A (OKTA / API management)

#: The §2.2.2 example, verbatim.
DOCUMENT_EXAMPLE: dict[str, Any] = {
    "numero_demande": "WD00053H",
    "type_demande": {"code": "CHF", "libelle": "Demande de changement de fournisseur"},
    "cdgf": {"code": "A04000010", "libelle": "ELECTRICITE DE FRANCE"},
    "statut_externe_demande": {"code": "ATTRDV", "libelle": "En attente RDV"},
    "cree_le": "2025-03-05T15:25:35.932464+01:00",
    "mode_traitement": {"code": "NONPASSANT", "libelle": "Non Passant"},
    "est_demande_fournisseur": True,
    "cree_par": "DN6473",
    "cree_automatiquement": False,
    "date_effet_contractuel": "2024-01-01",
    "date_dernier_changement_statut_externe": "2025-03-05",
    "derniere_date_demandee": "2025-03-06",
    "fournisseur_peut_prendre_rdv": True,
    "est_digitalisable": False,
    "presence_pj": False,
    "commentaire_soumission_analyse": "testcomanalyse",
    "cdgf_erreur_pce": {},
    "informations_fournisseur": {},
    "informations_contractuelles": {},
    "informations_realisation": {},
    "informations_client": {},
}
EXAMPLE_NUMBER = "WD00053H"
#: The §2.2.1 screenshot: ``WD0004MX`` with ``code_cdgf=A04000000X`` — another supplier here.
OTHER_CDGF = ("A04000000X", "FOURNISSEUR EXEMPLE SUD")
OTHER_EXAMPLE_NUMBER = "WD0004MX"

# -- external statuses (invented codes except ATTRDV, which the example shows) -----------------
ENCOURS = ("ENCOURS", "En cours d'analyse")
ATTRDV = ("ATTRDV", "En attente RDV")
PLANIF = ("PLANIF", "Planifiée")
REAL = ("REAL", "Réalisée")
TRAITEE = ("TRAITEE", "Traitée")
ANNUL = ("ANNUL", "Annulée")
REJET = ("REJET", "Rejetée")
STATUSES = dict([ENCOURS, ATTRDV, PLANIF, REAL, TRAITEE, ANNUL, REJET])

#: Types needing a technician on site (appointment, ``informations_intervention``).
INTERVENTION_TYPES = frozenset({"CHF", "COUP", "DIT", "MES", "MHS", "RAD", "RETB", "SMNT", "SPNS"})
#: Types answered by a study or an answer, not an operation.
ANALYSIS_TYPES = frozenset({"DAN", "DIST", "ERREUR_PCE", "QSR"})
#: Types whose answer carries a ``date_effet_contractuel``.
_EFFECTIVE_DATE_TYPES = frozenset({"CHF", "CHT", "CHFR", "MES", "MODIF_CAR_PRO", "DPM", "CJA", "RGR_DGR"})

_BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_SURNAMES = (
    "MARTIN",
    "BERNARD",
    "DUBOIS",
    "LAMBERT",
    "FONTAINE",
    "CHEVALIER",
    "GIRAUD",
    "MERCIER",
    "BLANCHARD",
    "GUERIN",
    "BOYER",
    "GARNIER",
    "FAURE",
    "ROUSSEL",
    "PERRIN",
    "MOREL",
)
_FIRST_NAMES = (
    "Camille",
    "Louis",
    "Chloé",
    "Hugo",
    "Léa",
    "Jules",
    "Manon",
    "Arthur",
    "Inès",
    "Paul",
    "Zoé",
    "Nathan",
    "Elise",
    "Victor",
)
_COMPANIES = (
    "BOULANGERIE DU MARCHE",
    "SCI LES PLATANES",
    "GARAGE DES COTEAUX",
    "RESTAURANT LE RELAIS",
    "HOTEL DE LA GARE",
    "LAVERIE DES LILAS",
    "CABINET DENTAIRE DU PARC",
    "ATELIER MECA 21",
)
_STREETS = (
    "RUE DES LILAS",
    "AVENUE JEAN JAURES",
    "BOULEVARD VICTOR HUGO",
    "RUE DE LA REPUBLIQUE",
    "CHEMIN DES VIGNES",
    "IMPASSE DES TILLEULS",
    "RUE PASTEUR",
    "ALLEE DES CHENES",
    "PLACE DU MARCHE",
    "RUE DU MOULIN",
)
_TOWNS = (
    ("75011", "PARIS"),
    ("69003", "LYON"),
    ("13005", "MARSEILLE"),
    ("31400", "TOULOUSE"),
    ("44000", "NANTES"),
    ("59000", "LILLE"),
    ("67000", "STRASBOURG"),
    ("33000", "BORDEAUX"),
    ("35000", "RENNES"),
    ("21000", "DIJON"),
    ("37000", "TOURS"),
    ("63000", "CLERMONT-FERRAND"),
)
_SLOTS = ("08h00-12h00", "13h30-17h30", "08h00-10h00", "10h00-12h00", "14h00-16h00")
_TARIFFS = ("T1", "T2", "T3", "T4")
_PROFILES = ("P011", "P012", "P013", "P014", "P015", "P016")
_FREQUENCIES = ("SEMESTRIELLE", "MENSUELLE", "JOURNALIERE")
_OTHER_SUPPLIERS = (("A04000022", "GAZ ET SERVICES EXEMPLE"), ("A04000031", "ENERGIES DU VAL EXEMPLE"))

Timeline = list[tuple[dt.datetime, str, str]]


def error_body(status: int, message: str) -> dict[str, Any]:
    """Our reading of GRDF's error body (the document gives none): ``{code, message}``."""
    return {"code": status, "message": message}


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(status, message), status_code=status, headers=headers)


class SimDemande(msgspec.Struct):
    """A request of the sandbox: its fixed JSON (without status) and its status timeline."""

    numero: str
    cdgf: str
    document: dict[str, Any]
    timeline: Timeline
    realisation: dict[str, Any] = msgspec.field(default_factory=dict)  # merged in once REAL

    def status_at(self, now: dt.datetime) -> tuple[dt.datetime, str, str]:
        """The last status reached at ``now`` (the first one before it)."""
        current = self.timeline[0]
        for entry in self.timeline:
            if entry[0].timestamp() <= now.timestamp():
                current = entry
        return current


class _ApiManagement:
    """GRDF's API management in front of the service: the §1.3 quota per supplier."""

    def __init__(self, app: ASGIApp, simulator: "OmegaSimulator") -> None:
        self.app = app
        self.sim = simulator
        self.plan = getattr(app, "plan", None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        sim = self.sim
        if scope["type"] != "http" or not scope["path"].startswith(DEMANDES_PATH) or not sim.quota_per_second:
            await self.app(scope, receive, send)
            return
        authorization = next(
            (value.decode("latin-1") for key, value in scope.get("headers", []) if key.lower() == b"authorization"),
            None,
        )
        token = sim.issuer.check(authorization)
        if token is None:  # no valid token: not attributable to a supplier, not counted
            await self.app(scope, receive, send)
            return
        now = sim.monotonic()
        last = sim._last_call.get(token.subject)
        period = 1.0 / sim.quota_per_second
        if last is not None and now - last < period - sim.quota_leeway:
            sim.quota_refusals += 1
            body = json.dumps(error_body(429, QUOTA_MESSAGE)).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 429,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                        (b"retry-after", b"1"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        sim._last_call[token.subject] = now
        sim.calls += 1
        status: list[int] = []

        async def watch(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        await self.app(scope, receive, watch)
        if status and status[0] == 401 and sim._last_call.get(token.subject) == now:
            sim.calls -= 1  # refused on its token before the quota was counted
            if last is None:
                sim._last_call.pop(token.subject, None)
            else:
                sim._last_call[token.subject] = last


class OmegaSimulator(Simulator):
    """Holds the simulated state; tests drive it, :attr:`app` serves it (with ``plan``)."""

    #: Free text in this API's answers: where the ``hostile`` fault switch writes escape sequences.
    TEXT_FIELDS = frozenset(
        (
            "libelle",
            "cree_par",
            "commentaire_soumission_analyse",
            "message",
            # blocks shown as they are (every string beneath)
            "informations_fournisseur",
            "informations_contractuelles",
            "informations_realisation",
            "informations_intervention",
            "informations_client",
        )
    )

    error_body = staticmethod(error_body)
    WORLD_FIELDS = ("_demandes", "fresh", "issuer.tokens")

    def __init__(
        self,
        clock: Clock,
        plan: FaultPlan | None = None,
        *,
        code_cdgf: str = DEFAULT_CDGF,
        cdgf_label: str = DEFAULT_CDGF_LABEL,
        seed: int = 0,
        client_id: str = SANDBOX_CLIENT_ID,
        client_secret: str = SANDBOX_CLIENT_SECRET,
        count: int = 80,
        quota_per_second: float | None = 1.0,
        quota_leeway: float = 0.05,
        monotonic: Callable[[], float] = time.monotonic,
        seeded: bool = True,
    ) -> None:
        """``seeded=False``: the ``count`` requests are not generated (a shared world's state
        replaces them: :attr:`ProviderContext.world_held`)."""
        self.clock = clock
        self.plan = plan if plan is not None else FaultPlan()
        self.code_cdgf = code_cdgf
        self.cdgf_label = cdgf_label
        self.seed = seed
        self.issuer = TokenIssuer(clock, TOKEN_LIFETIME)
        self.clients: dict[str, ClientRegistration] = {}
        self.register_client(client_id, client_secret)
        self.quota_per_second = quota_per_second
        self.quota_leeway = quota_leeway
        self.monotonic = monotonic
        self.calls = 0
        self.quota_refusals = 0
        self.seen: list[dict[str, str | None]] = []
        self._last_call: dict[str, float] = {}
        self._demandes: dict[str, SimDemande] = {}
        #: The requests whose status changes within the first hour after start (a demo sees it).
        self.fresh: list[str] = []
        if seeded:
            self._generate(count)

    # -- driving --------------------------------------------------------------------------------
    def register_client(self, client_id: str, client_secret: str) -> ClientRegistration:
        """Accept this OKTA client (a supplier) at the token endpoint."""
        registration = ClientRegistration(client_id, secret=client_secret)
        self.clients[client_id] = registration
        return registration

    def numbers(self, *, foreign: bool = False) -> list[str]:
        """This supplier's request numbers (``foreign=True``: the other suppliers')."""
        return [n for n, d in self._demandes.items() if (d.cdgf != self.code_cdgf) == foreign]

    def training_watch_list(self) -> list[str]:
        """A watch-list for a training day: the document's example and two requests whose
        status moves within the hour (kept short: each costs a second of quota, §1.3)."""
        return [EXAMPLE_NUMBER, *self.fresh[:2]]

    def _get(self, numero: str) -> SimDemande:
        try:
            return self._demandes[numero]
        except KeyError:
            raise KeyError(f"unknown sandbox request {numero!r}") from None

    def status(self, numero: str, now: dt.datetime | None = None) -> tuple[str, str]:
        """``(code, libelle)`` of the request's external status at ``now`` (default: the clock)."""
        _, code, label = self._get(numero).status_at(now or self.clock.now())
        return code, label

    def set_status(self, numero: str, code: str, label: str | None = None, at: dt.datetime | None = None) -> None:
        """Force the status from ``at`` (default now) on; later scripted steps are dropped."""
        demande = self._get(numero)
        at = paris(at) if at is not None else self.clock.now()
        label = label if label is not None else STATUSES.get(code, code)
        demande.timeline = [e for e in demande.timeline if e[0].timestamp() < at.timestamp()]
        demande.timeline.append((at, code, label))

    def document(self, numero: str, now: dt.datetime | None = None) -> dict[str, Any]:
        """The §2.2.2 JSON of a request at ``now`` (default: the clock)."""
        demande = self._get(numero)
        since, code, label = demande.status_at(now or self.clock.now())
        doc = copy.deepcopy(demande.document)
        doc["statut_externe_demande"] = {"code": code, "libelle": label}
        doc["date_dernier_changement_statut_externe"] = paris(since).date().isoformat()
        if code == REAL[0] and demande.realisation:
            doc.setdefault("informations_realisation", {}).update(copy.deepcopy(demande.realisation))
            doc["informations_realisation"]["date_realisation"] = paris(since).date().isoformat()
        return doc

    # -- data -----------------------------------------------------------------------------------
    def _generate(self, count: int) -> None:
        rng = random.Random(f"grdf-omega:{self.seed}")
        example = copy.deepcopy(DOCUMENT_EXAMPLE)
        example["cdgf"] = {"code": self.code_cdgf, "libelle": self.cdgf_label}
        created = dt.datetime.fromisoformat(example["cree_le"]).astimezone(PARIS)
        self._demandes[EXAMPLE_NUMBER] = SimDemande(EXAMPLE_NUMBER, self.code_cdgf, example, [(created, *ATTRDV)])
        taken = {EXAMPLE_NUMBER, OTHER_EXAMPLE_NUMBER}
        codes = list(rules.REQUEST_TYPES)
        types = [codes[i % len(codes)] for i in range(count)]
        now = self.clock.now()
        for index, type_code in enumerate(types):
            numero = self._number(rng, taken)
            fresh = index % 10 == 3  # about one in ten changes within the first hour
            self._add(rng, numero, type_code, self.code_cdgf, self.cdgf_label, now, fresh)
            if fresh:
                self.fresh.append(numero)
        self._add(rng, OTHER_EXAMPLE_NUMBER, "MES", *OTHER_CDGF, now, False)
        for type_code in ("CHF", "COUP", "DAN"):
            self._add(rng, self._number(rng, taken), type_code, *OTHER_CDGF, now, False)

    @staticmethod
    def _number(rng: random.Random, taken: set[str]) -> str:
        while True:
            numero = "WD" + "".join(rng.choice(_BASE36) for _ in range(6))
            if numero not in taken:
                taken.add(numero)
                return numero

    def _timeline(self, rng: random.Random, type_code: str, now: dt.datetime, fresh: bool) -> Timeline:
        if type_code in INTERVENTION_TYPES:
            path = [ENCOURS, ATTRDV, PLANIF, REAL]
        elif type_code in ANALYSIS_TYPES:
            path = [ENCOURS, TRAITEE]
        else:
            path = [ENCOURS, PLANIF, REAL]
        ending = rng.random()
        if ending < 0.12:
            path = path[: rng.randint(1, len(path) - 1)] + [ANNUL]
        elif ending < 0.2 and type_code in ANALYSIS_TYPES | {"CHF", "CHT", "MODIF_CAR_PRO"}:
            path = path[:1] + [REJET]
        if fresh:
            start = add(now, dt.timedelta(minutes=-rng.randint(20, 40)))
            steps = [dt.timedelta(minutes=rng.randint(8, 25)) for _ in path[1:]]
        else:
            start = add(now, dt.timedelta(hours=-rng.uniform(2, 45 * 24)))
            steps = [dt.timedelta(hours=rng.uniform(1, 120)) for _ in path[1:]]
        start = start.replace(microsecond=rng.randrange(1_000_000))
        timeline: Timeline = [(start, *path[0])]
        moment = start
        for step, status in zip(steps, path[1:], strict=True):
            moment = add(moment, step)
            timeline.append((moment, *status))
        return timeline

    def _add(
        self, rng: random.Random, numero: str, type_code: str, cdgf: str, cdgf_label: str, now: dt.datetime, fresh: bool
    ) -> None:
        timeline = self._timeline(rng, type_code, now, fresh)
        created = timeline[0][0]
        planned = next((t for t, code, _ in timeline if code == REAL[0]), add(created, dt.timedelta(days=5)))
        asked = paris(planned).date()
        intervention = type_code in INTERVENTION_TYPES
        pce = _digits(rng, 14)
        client = _client(rng)
        other = rng.choice(_OTHER_SUPPLIERS)
        comment = rng.choice(
            (
                "consommation anormalement élevée",
                "index contesté par le client",
                "écart entre index relevé et auto-relevé",
            )
        )
        root: dict[str, Any] = {  # the §2.2.2 root, in the example's order; None: left out
            "numero_demande": numero,
            "type_demande": {"code": type_code, "libelle": rules.REQUEST_TYPES[type_code]},
            "cdgf": {"code": cdgf, "libelle": cdgf_label},
            "statut_externe_demande": None,  # set at each answer (the timeline)
            "cree_le": paris(created).isoformat(timespec="microseconds"),
            "mode_traitement": (
                {"code": "NONPASSANT", "libelle": "Non Passant"}
                if intervention
                else {"code": "PASSANT", "libelle": "Passant"}
            ),
            "est_demande_fournisseur": rng.random() < 0.9,
            "cree_par": f"{rng.choice('ABDEGLMNRST')}{rng.choice('ABDEGLMNRST')}{rng.randint(1000, 9999)}",
            "cree_automatiquement": rng.random() < 0.3,
            "date_effet_contractuel": asked.isoformat() if type_code in _EFFECTIVE_DATE_TYPES else None,
            "date_dernier_changement_statut_externe": None,  # set at each answer
            "derniere_date_demandee": asked.isoformat(),
            "fournisseur_peut_prendre_rdv": intervention,
            "est_digitalisable": rng.random() < 0.4,
            "presence_pj": type_code in ANALYSIS_TYPES and rng.random() < 0.5,
            "commentaire_soumission_analyse": comment if type_code == "DAN" else None,
            "cdgf_erreur_pce": ({"code": other[0], "libelle": other[1]} if type_code == "ERREUR_PCE" else {}),
        }
        doc = {
            key: value
            for key, value in root.items()
            if value is not None or key in ("statut_externe_demande", "date_dernier_changement_statut_externe")
        }
        doc["informations_fournisseur"] = {
            "reference_demande_fournisseur": f"REF-{created:%Y%m%d}-{rng.randint(1000, 9999)}",
            "interlocuteur": {
                "nom": "Service clients gaz",
                "telephone": _phone(rng),
                "email": "suivi-gaz@fournisseur.example",
            },
        }
        doc["informations_contractuelles"] = {"numero_pce": pce, **_contractual(rng, type_code, asked)}
        doc["informations_realisation"] = {
            "numero_pce": pce,
            "date_realisation": None,
            "compteur": {
                "numero_compteur": f"{rng.choice('ABGJ')}{_digits(rng, 9)}",
                "calibre": rng.choice(("G4", "G6", "G10", "G16")),
            },
        }
        if intervention:
            doc["informations_intervention"] = {
                "date_rdv": asked.isoformat(),
                "creneau_horaire": rng.choice(_SLOTS),
                "presence_client_requise": rng.random() < 0.6,
                "acces_compteur": rng.choice(("ACCESSIBLE", "ACCESSIBLE", "NON_ACCESSIBLE")),
            }
        doc["informations_client"] = client
        realisation = {"index_releve_m3": rng.randint(100, 99999)} if REAL[0] in (c for _, c, _ in timeline) else {}
        self._demandes[numero] = SimDemande(numero, cdgf, doc, timeline, realisation)

    # -- HTTP -----------------------------------------------------------------------------------
    async def _token(self, request: Request) -> Response:
        """OKTA: the shared client-credentials route, plus the ``suivi_demande`` scope (§1.4)."""
        response = await self._inner_token(request)
        if response.status_code != 200:
            return response
        data = json.loads(bytes(response.body))
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        scopes = form.get("scope", "").split()
        if not scopes or any(scope.lower() != SCOPE for scope in scopes):
            self.issuer.revoke(data["access_token"])
            return JSONResponse(
                {
                    "error": "invalid_scope",
                    "error_description": "The requested scope is invalid, unknown, or "
                    f"malformed: request the scope {SCOPE}.",
                },
                status_code=400,
                headers={"Cache-Control": "no-store"},
            )
        data["scope"] = SCOPE
        return JSONResponse(data, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    async def _demande(self, request: Request) -> JSONResponse:
        if self.issuer.check(request.headers.get("authorization")) is None:
            return _error(401, UNAUTHORISED, {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        login = request.headers.get("x-user-login")
        cdgf = request.query_params.get("code_cdgf")
        numero = request.path_params["numero_demande"]
        self.seen.append({"numero_demande": numero, "code_cdgf": cdgf, "x-user-login": login})
        if not (login or "").strip() or not (cdgf or "").strip():
            return _error(400, MISSING_PARAMETER)
        if cdgf != self.code_cdgf:
            return _error(403, FORBIDDEN)
        demande = self._demandes.get(numero)
        if demande is None:
            return _error(404, NOT_FOUND)
        if demande.cdgf != self.code_cdgf:
            return _error(403, FORBIDDEN)
        return JSONResponse(self.document(numero))

    @functools.cached_property
    def _inner_token(self) -> Callable[[Request], Awaitable[JSONResponse]]:
        return token_endpoint(self.issuer, self.clients)

    def routes(self) -> list[Route]:
        return [Route(DEMANDE_ROUTE, self._demande, methods=["GET"]), Route(TOKEN_PATH, self._token, methods=["POST"])]

    def starlette(self) -> Starlette:
        return Starlette(routes=self.routes(), exception_handlers={HTTPException: _http_error})

    def wrap(self, app: ASGIApp) -> ASGIApp:
        """The API management's quota gate sits in front of everything (§1.3)."""
        return _ApiManagement(app, self)


async def _http_error(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 500)
    message = {404: NOT_FOUND, 405: METHOD_NOT_ALLOWED}.get(status, "Erreur interne du serveur")
    return _error(status, message)


def _digits(rng: random.Random, size: int) -> str:
    return str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(size - 1))


def _phone(rng: random.Random) -> str:
    """A number of the ARCEP range reserved for fiction (01 99 00 xx xx)."""
    return f"01 99 00 {rng.randint(0, 99):02d} {rng.randint(0, 99):02d}"


def _address(rng: random.Random) -> dict[str, str]:
    postcode, town = rng.choice(_TOWNS)
    return {
        "numero_voie": str(rng.randint(1, 180)),
        "libelle_voie": rng.choice(_STREETS),
        "code_postal": postcode,
        "commune": town,
    }


def _client(rng: random.Random) -> dict[str, Any]:
    if rng.random() < 0.25:
        return {
            "raison_sociale": rng.choice(_COMPANIES),
            "siret": _digits(rng, 14),
            "adresse": _address(rng),
            "telephone": _phone(rng),
        }
    return {
        "civilite": rng.choice(("M", "MME")),
        "nom": rng.choice(_SURNAMES),
        "prenom": rng.choice(_FIRST_NAMES),
        "adresse": _address(rng),
        "telephone": _phone(rng),
    }


def _contractual(rng: random.Random, type_code: str, asked: dt.date) -> dict[str, Any]:
    """The type-specific part of ``informations_contractuelles`` (invented field names)."""
    tariff, frequency = rng.choice(_TARIFFS), rng.choice(_FREQUENCIES)
    base: dict[str, Any] = {
        "tarif_acheminement": tariff,
        "profil_consommation": rng.choice(_PROFILES),
        "car_kwh": rng.randrange(3000, 400000, 500),
        "frequence_releve": frequency,
    }
    extras: dict[str, dict[str, Any]] = {
        "ARLV": {"index_auto_releve_m3": rng.randint(100, 50000), "date_auto_releve": asked.isoformat()},
        "CHADR": {"nouvelle_adresse": _address(rng)},
        "CHF": {"fournisseur_sortant": dict(zip(("code", "libelle"), rng.choice(_OTHER_SUPPLIERS), strict=True))},
        "CHFR": {"frequence_demandee": rng.choice([f for f in _FREQUENCIES if f != frequency])},
        "CHT": {"tarif_demande": rng.choice([t for t in _TARIFFS if t != tariff])},
        "COUP": {"motif": "IMPAYE"},
        "DIST": {"distance_reseau_m": rng.randint(5, 400)},
        "DIT": {"nature_intervention": rng.choice(("VERIFICATION_COMPTEUR", "CONTROLE_ETANCHEITE"))},
        "DPM": {"jour_publication_demande": rng.randint(1, 28)},
        "ERREUR_PCE": {"motif_contestation": rng.choice(("PCE_ERRONE", "SOUSCRIPTION_NON_SOLLICITEE"))},
        "CJA": {"capacite_journaliere_kwh": rng.randrange(1000, 90000, 100)},
        "MCFU": {"modification": rng.choice(("RAISON_SOCIALE", "TELEPHONE", "NOM"))},
        "MES": {"motif": rng.choice(("EMMENAGEMENT", "NOUVEAU_BRANCHEMENT"))},
        "MHS": {"motif": rng.choice(("DEMENAGEMENT", "RESILIATION"))},
        "MODIF_CAR_PRO": {
            "car_demandee_kwh": rng.randrange(3000, 400000, 500),
            "profil_demande": rng.choice(_PROFILES),
        },
        "QSR": {
            "question": "index publié différent de l'index lu par le client",
            "date_releve_contestee": asked.isoformat(),
        },
        "RAD": {"date_releve_demandee": asked.isoformat()},
        "RETB": {"motif": "REGULARISATION_IMPAYE"},
        "RGR_DGR": {
            "operation": rng.choice(("REGROUPEMENT", "DEGROUPEMENT")),
            "pce_concernes": [_digits(rng, 14) for _ in range(rng.randint(2, 4))],
        },
        "SMNT": {"prestation": rng.choice(("MAINTENANCE_POSTE", "VISITE_PERIODIQUE"))},
        "SPNS": {"pression_demandee_bar": rng.choice((0.3, 1.0, 4.0))},
        "DAN": {"objet_analyse": rng.choice(("CONSOMMATION", "INDEX"))},
        "TJDC": {
            "periode_debut": (asked - dt.timedelta(days=30)).isoformat(),
            "periode_fin": asked.isoformat(),
            "format": "CSV",
        },
    }
    return {**base, **extras[type_code]}


def build_app(clock: Clock, plan: FaultPlan, *, code_cdgf: str = DEFAULT_CDGF, seed: int = 0) -> SimulatorApp:
    """The GRDF OMEGA sandbox as an ASGI app (``app.simulator`` is its :class:`OmegaSimulator`)."""
    return OmegaSimulator(clock, plan, code_cdgf=code_cdgf, seed=seed).app
