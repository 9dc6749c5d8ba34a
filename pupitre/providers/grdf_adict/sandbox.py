"""The GRDF ADICT v2 simulator: token endpoint, a generated park, NDJSON streams, actions.

Routes (Swagger 1.6 paths under ``/adict/v2``): ``GET``/``POST /droits_acces``
(NDJSON in chunks, then the ``code_statut_traitement`` trailer),
``PUT /pce/{id_pce}/droit_acces`` (201, state ``A valider``), ``PATCH
/droit_acces/{id}`` (revocation), ``PUT /droit_acces/{id}/preuves`` (multipart,
≤ 3 files of ≤ 4 MB, only when the proof status allows it; the status becomes
``Preuve à vérifier``), and the five ``/pce/{id_pce}/donnees_*`` reads. An unknown
PCE is answered **HTTP 200** with a record whose ``statut_restitution`` carries
the refusal, as GRDF does. Token: ``POST /oauth2/token`` (client secret), 4 h.

Per-second quota enforced in front of everything but the token route: a call in a
full one-second window (``per_second`` calls) is refused 429 and counted in
:attr:`AdictSimulator.quota_refusals`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import json
import random
import time
import uuid
from collections import deque
from typing import Any, AsyncIterator, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from pupitre.providers.core.clock import Clock
from pupitre.providers.core.faults import FaultPlan
from pupitre.providers.core.sandbox import ASGIApp, Receive, Scope, Send, Simulator, TokenIssuer
from pupitre.providers.core.sandbox_oauth import ClientRegistration, token_route
from pupitre.providers.grdf_adict import models as m
from pupitre.providers.grdf_adict import rules

API_PREFIX = "/adict/v2"
TOKEN_PATH = "/oauth2/token"
TOKEN_LIFETIME = dt.timedelta(hours=4)
SANDBOX_CLIENT_ID = "adict-sandbox-pupitre"
SANDBOX_CLIENT_SECRET = "sbx-adict-sandbox-secret-not-a-real-one"
OK = {"code_statut_traitement": m.OK_CODE, "message_retour_traitement": "L'opération s'est déroulée avec succès."}
UNKNOWN_PCE = ("1000006", "Le PCE est inconnu ou aucun droit d'accès n'existe pour ce PCE.")
_NAMES = ("MARTIN", "BERNARD", "DUBOIS", "LAMBERT", "FONTAINE", "GIRAUD", "MERCIER", "FAURE")
_COMPANIES = ("BOULANGERIE DU MARCHE", "SCI LES PLATANES", "GARAGE DES COTEAUX", "HOTEL DE LA GARE")


def adict_error(status: int, message: str) -> dict[str, str]:
    return {"code_statut_traitement": f"{2 if status >= 500 else 1}{status:09d}",
            "message_retour_traitement": message}


class AdictSimulator(Simulator):
    error_body = staticmethod(adict_error)

    def __init__(self, clock: Clock, plan: FaultPlan, *, park_size: int = 300, seed: int = 0,
                 per_second: float = 1.0, chunk_rows: int = 50,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.plan = plan
        self.per_second = per_second
        self.chunk_rows = chunk_rows
        self._monotonic = monotonic
        self._recent: deque[float] = deque()
        self.quota_refusals = 0
        self.calls = 0
        self.rows_sent = 0
        self.finished_streams = 0
        self.issuer = TokenIssuer(clock, TOKEN_LIFETIME)
        self.clients = {SANDBOX_CLIENT_ID: ClientRegistration(SANDBOX_CLIENT_ID, secret=SANDBOX_CLIENT_SECRET)}
        self.rights: dict[str, dict[str, Any]] = {}
        self.proofs: dict[str, list[tuple[str, int]]] = {}
        rng = random.Random(seed)
        today = clock.now().date()
        for n in range(park_size):
            self._generate(rng, n, today)

    # -- data ---------------------------------------------------------------------------------
    def _generate(self, rng: random.Random, n: int, today: dt.date) -> None:
        state = m.STATES[n % len(m.STATES)]
        proof = (None,) + m.PROOF_STATUSES
        proof_status = proof[(n // len(m.STATES)) % len(proof)] if state == m.ACTIVE else None
        pce = f"GI{n:06d}" if n % 2 else f"{n + 10_000_000_000_000:014d}"
        person = n % 3 != 0
        start = today - dt.timedelta(days=rng.randint(10, 900))
        created = dt.datetime.combine(start, dt.time(rng.randint(8, 18), rng.randint(0, 59)))
        right = {
            "id_droit_acces": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "id_pce": pce, "role_tiers": m.ROLES[n % 4] if n % 5 == 0 else m.ROLES[0],
            "raison_sociale_du_tiers": "PUPITRE ENERGIE",
            "nom_titulaire": rng.choice(_NAMES) if person else None,
            "raison_sociale_du_titulaire": None if person else rng.choice(_COMPANIES),
            "courriel_titulaire": f"titulaire{n}@example.com", "code_postal": f"{rng.randint(1, 95):02d}000",
            "numero_telephone_mobile_titulaire": None,
            "perim_donnees_informatives": "Vrai", "perim_donnees_contractuelles": "Vrai",
            "perim_donnees_techniques": "Vrai",
            "perim_donnees_conso_debut": (start - dt.timedelta(days=365)).isoformat(),
            "perim_donnees_conso_fin": (start + dt.timedelta(days=3 * 365)).isoformat(),
            "perim_donnees_inj_debut": None, "perim_donnees_inj_fin": None,
            "perim_donnees_publiees": "Vrai",
            "date_creation": created.strftime("%Y-%m-%d %H:%M:%S"),
            "date_debut_droit_acces": start.isoformat(),
            "date_fin_droit_acces": (start + dt.timedelta(days=3 * 365)).isoformat(),
            "etat_droit_acces": state, "date_revocation": None, "source_revocation": None,
            "date_passage_a_obsolete": None, "source_passage_a_obsolete": None,
            "date_fin_autorisation": None, "date_passage_a_refuse": None, "source_passage_a_refuse": None,
            "parcours": m.ROUTES[n % 2],
            "statut_controle_preuve": proof_status,
            "date_limite_transmission_preuve": ((today + dt.timedelta(days=rng.randint(-5, 28))).isoformat()
                                                if proof_status in (m.PROOF_PENDING, m.PROOF_TO_CHECK) else None),
        }
        if state == m.REVOKED:
            right.update(date_revocation=f"{today - dt.timedelta(days=3)} 10:00:00", source_revocation="Tiers")
        elif state == m.OBSOLETE:
            right.update(date_passage_a_obsolete=f"{today - dt.timedelta(days=9)} 02:00:00",
                         source_passage_a_obsolete="Le client n'est plus titulaire de ce PCE")
        elif state == m.REFUSED:
            right.update(date_passage_a_refuse=f"{today - dt.timedelta(days=1)} 02:54:14",
                         source_passage_a_refuse="La durée de validité de la demande d'accréditation est dépassée.")
        self.rights[right["id_droit_acces"]] = right

    def right_of_pce(self, id_pce: str) -> dict[str, Any] | None:
        return next((r for r in self.rights.values() if r["id_pce"] == id_pce), None)

    # -- HTTP ---------------------------------------------------------------------------------
    def _authorised(self, request: Request) -> bool:
        return self.issuer.check(request.headers.get("authorization")) is not None

    def _stream(self, rows: list[dict[str, Any]]) -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            for i in range(0, len(rows), self.chunk_rows):
                block = rows[i:i + self.chunk_rows]
                self.rows_sent += len(block)
                yield "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in block).encode()
                await asyncio.sleep(0)
            yield (json.dumps(OK, ensure_ascii=False) + "\n").encode()
            self.finished_streams += 1

        return StreamingResponse(body(), media_type=rules_ndjson())

    async def _rights(self, request: Request) -> Response:
        if not self._authorised(request):
            return JSONResponse(adict_error(401, "Jeton absent, invalide ou expiré"), status_code=401)
        rows = list(self.rights.values())
        if request.method == "POST":
            try:
                filters = json.loads(await request.body() or b"{}")
            except ValueError:
                return JSONResponse(adict_error(400, "La forme de la requête est incorrecte."), status_code=400)
            for key in ("role_tiers", "id_pce", "etat_droit_acces", "statut_controle_preuve"):
                wanted = filters.get(key)
                if wanted:
                    rows = [r for r in rows if r.get(key) in wanted]
        return self._stream(rows)

    async def _declare(self, request: Request) -> Response:
        if not self._authorised(request):
            return JSONResponse(adict_error(401, "Jeton absent, invalide ou expiré"), status_code=401)
        pce = request.path_params["id_pce"]
        try:
            body = json.loads(await request.body())
            rules.validate_pce(pce)
        except (ValueError, rules.RuleError):
            return JSONResponse(adict_error(400, "La forme de la requête est incorrecte."), status_code=400)
        if not (body.get("nom_titulaire") or body.get("raison_sociale")):
            return JSONResponse({"code_statut_traitement": "1000000026", "message_retour_traitement":
                                 "Le nom ou la raison sociale du titulaire doit être renseigné."}, status_code=400)
        existing = self.right_of_pce(pce)
        if existing is not None and existing["etat_droit_acces"] in (m.ACTIVE, m.TO_VALIDATE):
            return JSONResponse({"code_statut_traitement": "1000000012",
                                 "message_retour_traitement": "Un droit d'accès existe déjà pour ce PCE."},
                                status_code=409)
        now = self.clock.now()
        right = {"id_droit_acces": str(uuid.uuid4()), "id_pce": pce, "role_tiers": body.get("role_tiers"),
                 "raison_sociale_du_tiers": "PUPITRE ENERGIE", "nom_titulaire": body.get("nom_titulaire"),
                 "raison_sociale_du_titulaire": body.get("raison_sociale"),
                 **{k: v for k, v in body.items() if k.startswith(("perim_", "date_", "code_", "courriel", "numero"))},
                 "date_creation": now.strftime("%Y-%m-%d %H:%M:%S"), "etat_droit_acces": m.TO_VALIDATE,
                 "parcours": "TIERS_DIRECT", "statut_controle_preuve": None,
                 "date_limite_transmission_preuve": None}
        self.rights[right["id_droit_acces"]] = right
        answer = {"code_statut_traitement": "0000000002",
                  "message_retour_traitement": "La demande d'accès est en attente de la validation du titulaire du PCE.",
                  **{k: v for k, v in right.items() if k != "date_creation"},
                  "date_creation_droit_acces": right["date_creation"]}
        return JSONResponse(answer, status_code=201)

    def _right(self, request: Request) -> dict[str, Any] | Response:
        """The access right named in the path, or the refusal to answer (401, 404)."""
        if not self._authorised(request):
            return JSONResponse(adict_error(401, "Jeton absent, invalide ou expiré"), status_code=401)
        right = self.rights.get(request.path_params["id_droit_acces"])
        if right is None:
            return JSONResponse({"code_statut_traitement": "1000000001",
                                 "message_retour_traitement": "Aucun droit d'accès trouvé."}, status_code=404)
        return right

    async def _revoke(self, request: Request) -> Response:
        right = self._right(request)
        if isinstance(right, Response):
            return right
        if rules.revocation_problem(right["etat_droit_acces"], right["role_tiers"]):
            return JSONResponse({"code_statut_traitement": "2000000003",
                                 "message_retour_traitement": "Le demande est incohérente."},
                                status_code=409)
        right.update(etat_droit_acces=m.REVOKED, source_revocation="Tiers",
                     date_revocation=self.clock.now().strftime("%Y-%m-%d %H:%M:%S"))
        return JSONResponse(OK)

    async def _proofs(self, request: Request) -> Response:
        right = self._right(request)
        if isinstance(right, Response):
            return right
        if right["statut_controle_preuve"] not in rules.PROOF_STATUSES_ALLOWED:
            return JSONResponse({"code_statut_traitement": "2000000003",
                                 "message_retour_traitement": "GRDF ne demande pas de preuve sur ce droit d'accès."},
                                status_code=409)
        files = _multipart_files(request.headers.get("content-type", ""), await request.body(), "preuves")
        if rules.proof_problems(files, right["statut_controle_preuve"]):
            return JSONResponse({"code_statut_traitement": "1000000000",
                                 "message_retour_traitement": "La forme de la requête est incorrecte."},
                                status_code=400)
        self.proofs.setdefault(right["id_droit_acces"], []).extend(files)
        right["statut_controle_preuve"] = m.PROOF_TO_CHECK
        return JSONResponse(OK)

    async def _data(self, request: Request) -> Response:
        if not self._authorised(request):
            return JSONResponse(adict_error(401, "Jeton absent, invalide ou expiré"), status_code=401)
        pce, kind = request.path_params["id_pce"], request.path_params["kind"]
        right = self.right_of_pce(pce)
        if right is None:  # 200 with statut_restitution, as GRDF answers
            record = {"pce": {"id_pce": pce}, "periode": None, "releve_debut": None, "releve_fin": None,
                      "consommation": None,
                      "statut_restitution": {"code": UNKNOWN_PCE[0], "message": UNKNOWN_PCE[1]}}
            return Response(json.dumps(record, ensure_ascii=False) + "\n", media_type=rules_ndjson())
        if kind == "donnees_contractuelles":
            rows = [{"pce": {"id_pce": pce}, "donnees_contractuelles": {
                "car": 9426, "cja": 0, "profil": {"profil_type_actuel": "P012"},
                "tarif_acheminement": "T2", "date_mes": "2020-12-07"}, "statut_restitution": None}]
        elif kind == "donnees_techniques":
            rows = [{"pce": {"id_pce": pce}, "donnees_techniques": {
                "situation_compteur": {"numero_rue": "4", "nom_rue": "RUE LAMBDA", "complement_adresse": None,
                                       "code_postal": right["code_postal"], "commune": "LAMBDAVILLE"},
                "caracteristiques_compteur": {"frequence": "JJ" if pce.startswith("GI") else "1M",
                                              "client_sensible_mig": "Non"},
                "pitd": {"identifiant_pitd": "GD9999", "libelle_pitd": "DUMMYVILLE"}}, "statut_restitution": None}]
        else:
            rows = self._readings(pce, kind, request.query_params)
        return self._stream(rows)

    def _readings(self, pce: str, kind: str, query: Any) -> list[dict[str, Any]]:
        if query.get("periode"):
            start, end = rules.parse_periode(query["periode"])
        else:
            start = dt.date.fromisoformat(query.get("date_debut"))
            end = dt.date.fromisoformat(query.get("date_fin"))
        daily = pce.startswith("GI")
        rng = random.Random(pce)
        rows, day, index = [], start, 1000
        block = "injection" if "injection" in kind else "consommation"
        while day < end:
            nxt = day + dt.timedelta(days=1 if daily else 31)
            nxt = min(nxt, end)
            volume = rng.randint(1, 20) * (nxt - day).days
            t0, t1 = f"{day}T06:00:00+01:00", f"{nxt}T06:00:00+01:00"
            rows.append({"pce": {"id_pce": pce}, "periode": {"valeur": query.get("periode"),
                                                              "date_debut": str(start), "date_fin": str(end)},
                         "releve_debut": {"date_releve": t0, "index_brut_debut": {"valeur_index": index,
                                                                                  "horodate_Index": t0}},
                         "releve_fin": {"date_releve": t1, "index_brut_fin": {"valeur_index": index + volume,
                                                                              "horodate_Index": t1}},
                         block: {f"date_debut_{block}": t0, f"date_fin_{block}": t1, "volume_brut": volume,
                                 "energie": round(volume * 11.2), "statut_conso": "Définitive",
                                 "type_conso": "Informative Journalier" if "informatives" in kind else "Publiée"},
                         "statut_restitution": None})
            index += volume
            day = nxt
        return rows

    @functools.cached_property
    def _token(self) -> Route:
        return token_route(TOKEN_PATH, self.issuer, self.clients)

    def routes(self) -> list[Route]:
        return [self._token,
                Route(f"{API_PREFIX}/droits_acces", self._rights, methods=["GET", "POST"]),
                Route(f"{API_PREFIX}/pce/{{id_pce}}/droit_acces", self._declare, methods=["PUT"]),
                Route(f"{API_PREFIX}/droit_acces/{{id_droit_acces}}", self._revoke, methods=["PATCH"]),
                Route(f"{API_PREFIX}/droit_acces/{{id_droit_acces}}/preuves", self._proofs, methods=["PUT"]),
                Route(f"{API_PREFIX}/pce/{{id_pce}}/{{kind:str}}", self._data, methods=["GET"])]

    def wrap(self, app: ASGIApp) -> ASGIApp:
        return _QuotaGate(app, self)


def _multipart_files(content_type: str, body: bytes, field: str) -> list[tuple[str, int]]:
    """(file name, size) of the ``field`` parts (stdlib parser: no python-multipart needed)."""
    import email.parser
    import email.policy

    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body)
    if not message.is_multipart():
        return []
    out = []
    for part in message.iter_parts():  # type: ignore[attr-defined]
        if part.get_param("name", header="content-disposition") == field:
            out.append((part.get_filename() or "", len(part.get_payload(decode=True) or b"")))
    return out


def rules_ndjson() -> str:
    return "application/x-ndjson"


class _QuotaGate:
    """GRDF's gateway: ``per_second`` calls in any one-second window, else 429."""

    def __init__(self, app: ASGIApp, sim: AdictSimulator) -> None:
        self.app, self.sim = app, sim

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == TOKEN_PATH:
            await self.app(scope, receive, send)
            return
        sim = self.sim
        now = sim._monotonic()
        while sim._recent and now - sim._recent[0] >= 1.0:
            sim._recent.popleft()
        if len(sim._recent) >= max(1, int(sim.per_second)):
            sim.quota_refusals += 1
            body = json.dumps(adict_error(429, "Quota d'appels dépassé")).encode()
            await send({"type": "http.response.start", "status": 429,
                        "headers": [(b"content-type", b"application/json"), (b"retry-after", b"1"),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        sim._recent.append(now)
        sim.calls += 1
        await self.app(scope, receive, send)
