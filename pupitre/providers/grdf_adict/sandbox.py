"""The GRDF ADICT v2 simulator: token endpoint, a generated park, NDJSON streams, actions.

Routes (Swagger 1.6 paths under ``/adict/v2``): ``GET``/``POST /droits_acces``
(NDJSON in chunks of many lines, then the ``code_statut_traitement`` trailer; the
``POST`` search filters are applied here), ``PUT /pce/{id_pce}/droit_acces`` (201,
state ``A valider``), ``PATCH /droit_acces/{id}`` (revocation), ``PUT
/droit_acces/{id}/preuves`` (multipart, ≤ 3 files of ≤ 4 MB, only when the proof
status allows it; the status becomes ``Preuve à vérifier``), and the five
``/pce/{id_pce}/donnees_*`` reads. Refusals on data (no right, right revoked,
obsolete, expired, outside the perimeter, no data) are answered **HTTP 200** with a
record whose ``statut_restitution`` carries GRDF's message, as the Swagger says;
malformed parameters get HTTP 400 with the same record shape. Token: ``POST
/oauth2/token`` (client secret), valid 4 h.

The park is generated lazily: right *n* is a pure function of *n* and the seed, so a
park of 100 000 rights costs nothing until it is streamed, and streaming starts at
once. A right is materialised (kept in memory) when something touches it: an action,
``sim.rights[id]``, a test. Rights made by ``PUT`` are kept apart.

Lifecycle (document, "Parcours Tiers Direct" and "Types de contrôles"), driven by the
injected clock and applied whenever a right is read:

- ``A valider``: a natural person has 3 days to validate (no answer → ``Refusée``), a
  legal entity 2 days (no answer → ``Active``); either may validate (→ ``Active``) or
  refuse (→ ``Refusée``) before; :meth:`AdictSimulator.holder_answers` makes them answer;
- some active rights become ``Obsolète`` (the holder moved out) or ``Révoquée`` (by the
  holder) on a planned day;
- awaited proofs of the park are due in the future (within 5 working days for some),
  unless ``overdue_proofs`` puts some past their deadline;
- proof campaigns (:meth:`AdictSimulator.start_proof_campaign`): ``Preuve en attente`` with
  ``date_limite_transmission_preuve`` 20 working days ahead; proofs sent → ``Preuve à
  vérifier``, 2 days later ``Preuve en cours de vérification``, 5 days later ``Preuve
  Vérifiée OK`` — or ``KO`` (then the right is ``A revérifier``; a simulator assumption,
  the document does not say what follows a KO).

Quotas: the document's table by park size (or ``per_second`` / ``per_day``), enforced in
front of everything but the token route: 429 when a one-second window or the day is full.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import json
import math
import time
import uuid
import zlib
from collections import deque
from typing import AbstractSet, Any, AsyncIterator, Callable, Iterable, Iterator, Mapping, MutableMapping, Sequence

import msgspec
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from pupitre.providers.core.clock import PARIS, Clock, instant
from pupitre.providers.core.faults import FaultPlan
from pupitre.providers.core.sandbox import ASGIApp, Receive, Scope, Send, Simulator, TokenIssuer
from pupitre.providers.core.sandbox_oauth import ClientRegistration, token_route
from pupitre.providers.grdf_adict import models as m
from pupitre.providers.grdf_adict import rules
from pupitre.providers.grdf_adict.rules import SANDBOX_CLIENT_ID as SANDBOX_CLIENT_ID
from pupitre.providers.grdf_adict.rules import SANDBOX_CLIENT_SECRET as SANDBOX_CLIENT_SECRET

API_PREFIX = "/adict/v2"
TOKEN_PATH = "/oauth2/token"
TOKEN_LIFETIME = dt.timedelta(hours=4)
OK = {"code_statut_traitement": m.OK_CODE, "message_retour_traitement": "L'opération s'est déroulée avec succès."}
NONE_FOUND = {"code_statut_traitement": m.OK_CODE, "message_retour_traitement": "Aucun droit d’accès trouvé."}
THIRD_PARTY = "PUPITRE ENERGIE"
_NAMES = (
    "MARTIN",
    "BERNARD",
    "DUBOIS",
    "LAMBERT",
    "FONTAINE",
    "GIRAUD",
    "MERCIER",
    "FAURE",
    "M. CHAPEAU JEAN CHARLES",
    "MME PREVOT ELODIE",
)
_COMPANIES = (
    "BOULANGERIE DU MARCHE",
    "SCI LES PLATANES",
    "GARAGE DES COTEAUX",
    "HOTEL DE LA GARE",
    "SARL LA MENAGERE",
    "METHA'VALLEE SAS",
)
_TOWNS = (
    ("75009", "PARIS", "GD1057"),
    ("34000", "MONTPELLIER", "GD0511"),
    ("59100", "ROUBAIX", "GD0991"),
    ("37000", "TOURS", "GD0370"),
    ("77900", "MELUN", "GD0770"),
    ("69003", "LYON", "GD0690"),
)
_STREETS = ("RUE CONDORCET", "ALLEE PIERRE AUGUSTE RENOIR", "AVENUE DE LA GARE", "CHEMIN DES VIGNES")

# GRDF's messages (Swagger 1.6 answer descriptions), with the codes used here.
NO_RIGHT = ("1000006", "Aucun droit d'accès pour tous les PCE en entrée.")
#: Kept for callers of the first simulator: an unknown PCE gets :data:`NO_RIGHT`.
UNKNOWN_PCE = NO_RIGHT
NOT_AUTHORISED = ("1000007", "Vous n'êtes pas ou plus autorisé à consulter les données de ce PCE.")
MOVED_OUT = (
    "1000008",
    "Le client semble avoir déménagé et n'est plus titulaire de ce PCE, vous ne pouvez "
    "donc plus accéder à ses données.",
)
OBSOLETE_BY_GRDF = ("1000009", "GRDF a passé le droit d'accès à l'état obsolète.")
EXPIRED = (
    "1000010",
    "Votre droit d’accès sur ce PCE a expiré. Pour continuer à accéder aux données, vous "
    "devez faire une nouvelle demande d'accès et, le cas échéant, renouveler le consentement "
    "du titulaire.",
)
BAD_PROOF = ("1000011", "La preuve de consentement fournie lors du contrôle opéré par GRDF n’est pas valide.")
REVOKED_BY_HOLDER = (
    "1000012",
    "Le client titulaire a révoqué son consentement, vous ne pouvez plus accéder aux données de ce PCE.",
)
REVOKED_BY_YOU = ("1000013", "Vous avez révoqué votre droit d’accès aux données de ce PCE.")
NO_DATA = ("1000014", "Il n'y a pas de données correspondant à ce PCE sur la période demandée.")
OUT_OF_PERIMETER = (
    "1000015",
    "Le périmètre des données auxquelles vous avez accès pour ce PCE ne couvre pas les données {what}.",
)
STREAM_ERROR = (
    "2000000",
    "Le serveur a rencontré une erreur lors de l'exécution de la requête. Veuillez "
    "retenter votre appel sur la période mentionnée ci-dessus.",
)
BAD_PCE = ("1000005", "L'identifiant du PCE n'est pas correctement formaté (GI+6 chiffres ou 14 chiffres).")
MOVED_SOURCE = "Le client n'est plus titulaire de ce PCE"
REFUSED_TIMEOUT = "La durée de validité de la demande d'accréditation est dépassée."
REFUSED_BY_HOLDER = "Le titulaire a refusé la demande d'accès."

_KINDS = {
    "donnees_consos_publiees": ("perim_donnees_publiees", "de consommations publiées"),
    "donnees_consos_informatives": ("perim_donnees_informatives", "de consommations informatives"),
    "donnees_injections_publiees": (None, "d'injections publiées"),
    "donnees_contractuelles": ("perim_donnees_contractuelles", "contractuelles"),
    "donnees_techniques": ("perim_donnees_techniques", "techniques"),
}
_PCE_BASE = 21_000_000_000_000  # 14-digit PCEs of the park: this + n (n even)
_DAY_SPAN = 2200  # days around the epoch whose ISO date is precomputed
_PERIOD_KINDS = ("donnees_consos_publiees", "donnees_consos_informatives", "donnees_injections_publiees")


def _q(value: str | None) -> str:
    """A JSON string (or ``null``) for the generated line; plain text needs no escaping."""
    if value is None:
        return "null"
    if '"' in value or "\\" in value:
        return json.dumps(value, ensure_ascii=False)
    return '"' + value + '"'


_Q = {value: _q(value) for value in (*m.ROLES, *m.STATES)}
_QNAMES = [_q(name) for name in _NAMES]
_QCOMPANIES = [_q(name) for name in _COMPANIES]
_NULLS6 = ("null",) * 6
_NO_EVENTS: list["Event"] = []
_STATES = m.STATES
_ACTIVE, _TO_VALIDATE, _REVOKED, _REFUSED, _OBSOLETE = m.ACTIVE, m.TO_VALIDATE, m.REVOKED, m.REFUSED, m.OBSOLETE
_INJ_ROLES = ("AUTORISE_CONTRAT_INJECTION", "DETENTEUR_CONTRAT_INJECTION")
_SUPPLY_ROLES = ("AUTORISE_CONTRAT_FOURNITURE", "DETENTEUR_CONTRAT_FOURNITURE")  # index: 1 in 8 is DETENTEUR
_QPROOF = {status: _q(status) for status in m.PROOF_STATUSES}
_QREFUSED_TIMEOUT, _QREFUSED_BY_HOLDER, _QMOVED = _q(REFUSED_TIMEOUT), _q(REFUSED_BY_HOLDER), _q(MOVED_SOURCE)
_POSTCODES = tuple(town[0] for town in _TOWNS)
_QTHIRD_PARTY = _q(THIRD_PARTY)
#: Zero-padded decimal and hexadecimal pieces for the generated lines: a table lookup is
#: ~4× cheaper than a ``%02d`` / ``%03x`` conversion, on the hot path of a million rights.
_DEC2 = tuple("%02d" % i for i in range(100))
_HEX2 = tuple("%02x" % i for i in range(1 << 8))
_HEX3 = tuple("%03x" % i for i in range(1 << 12))
_MASK64 = 0xFFFFFFFFFFFFFFFF
_QTRUE, _QFALSE, _QDIRECT, _QCONNECT = '"Vrai"', '"Faux"', '"TIERS_DIRECT"', '"CLIENT_CONNECT"'


def adict_error(status: int, message: str) -> dict[str, str]:
    return {"code_statut_traitement": f"{2 if status >= 500 else 1}{status:09d}", "message_retour_traitement": message}


def _status(code: str, message: str, status: int) -> JSONResponse:
    return JSONResponse({"code_statut_traitement": code, "message_retour_traitement": message}, status_code=status)


def _mix(n: int, seed: int) -> int:
    """splitmix64: a well-spread 64-bit hash of (n, seed), fast and deterministic."""
    z = (n * 0x9E3779B97F4A7C15 + seed * 0xBF58476D1CE4E5B9 + 0x632BE59BD9B4E019) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return z ^ (z >> 31)


def _stable(text: str) -> int:
    """A hash of a string that is the same in every process (``hash()`` is salted)."""
    return zlib.crc32(text.encode())


def _stamp(moment: dt.datetime) -> str:
    """GRDF's ``date_*`` form: Paris wall time, no zone."""
    return moment.astimezone(PARIS).strftime("%Y-%m-%d %H:%M:%S")


class Event(msgspec.Struct, frozen=True):
    """A planned change of a right: at ``when``, if its state is one of ``states``."""

    when: dt.datetime
    states: tuple[str, ...]
    changes: Mapping[str, Any]
    #: Events that schedule more events when they happen (proof checking steps).
    then: tuple["Event", ...] = ()


class _Rights(MutableMapping[str, dict[str, Any]]):
    """``sim.rights``: every right by id, materialised (and kept) when looked up. It behaves
    as the dict it replaces: ``del``, assignment and ``clear()`` change the park."""

    def __init__(self, sim: "AdictSimulator") -> None:
        self.sim = sim

    def __getitem__(self, key: str) -> dict[str, Any]:
        right = self.sim.lookup(key)
        if right is None:
            raise KeyError(key)
        return right

    def __setitem__(self, key: str, right: dict[str, Any]) -> None:
        n = self.sim._index(key)
        right = dict(right, id_droit_acces=key)
        if n is None:
            self.sim.declared[key] = right
        else:
            self.sim.removed.discard(n)
            self.sim.touched[n] = right
        self.sim.events.pop(key, None)

    def __delitem__(self, key: str) -> None:
        if key in self.sim.declared:
            del self.sim.declared[key]
        else:
            n = self.sim._index(key)
            if n is None:
                raise KeyError(key)
            self.sim.removed.add(n)
            self.sim.touched.pop(n, None)
        self.sim.events.pop(key, None)

    def __iter__(self) -> Iterator[str]:
        return self.sim.ids()

    def __len__(self) -> int:
        return self.sim.park_size - len(self.sim.removed) + len(self.sim.declared)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.sim.lookup(key, touch=False) is not None

    def clear(self) -> None:
        """An empty park (fast, whatever its size)."""
        self.sim.set_park_size(0)


class _TableDefault:
    """A quota limit of the simulator: the value set, else the document's table by park size."""

    def __init__(self, index: int) -> None:
        self.index = index

    def __set_name__(self, owner: type, name: str) -> None:
        self.attr = "_" + name

    def __get__(self, sim: Any, owner: type | None = None) -> Any:
        return getattr(sim, self.attr) or rules.quota_for_park(sim.park_size)[self.index]

    def __set__(self, sim: Any, value: float | None) -> None:
        setattr(sim, self.attr, value)


class AdictSimulator(Simulator):
    #: Free text in this API's answers: where the ``hostile`` fault switch writes escape sequences.
    TEXT_FIELDS = frozenset(
        (
            "nom_titulaire",
            "raison_sociale_du_titulaire",
            "raison_sociale_du_tiers",
            "raison_sociale",
            "courriel_titulaire",
            "source_revocation",
            "source_passage_a_obsolete",
            "source_passage_a_refuse",
            "message_retour_traitement",
            "message",
            "libelle_raison_releve",
            "nom_rue",
            "complement_adresse",
            "commune",
            "libelle_pitd",
        )
    )
    error_body = staticmethod(adict_error)
    WORLD_FIELDS = (
        "park_size",
        "epoch",
        "touched",
        "removed",
        "declared",
        "events",
        "proofs",
        "proof_verdicts",
        "stream_failures",
        "unknown_pces",
        "issuer.tokens",
    )

    def __init__(
        self,
        clock: Clock,
        plan: FaultPlan,
        *,
        park_size: int = 300,
        seed: int = 0,
        per_second: float | None = None,
        per_day: int | None = None,
        chunk_rows: int = 100,
        monotonic: Callable[[], float] = time.monotonic,
        overdue_proofs: bool = False,
    ) -> None:
        self.clock = clock
        #: Whether some rights' proofs are already past their deadline at the epoch (a
        #: scenario, tests); by default every awaited proof is due in the future.
        self.overdue_proofs = overdue_proofs
        self.plan = plan
        self.seed = seed
        self.chunk_rows = chunk_rows
        self._per_second = per_second
        self._per_day = per_day
        self._monotonic = monotonic
        self._recent: deque[float] = deque()
        self.day_calls: dict[dt.date, int] = {}
        self.quota_refusals = 0
        self.calls = 0
        self.rows_sent = 0
        self.finished_streams = 0
        self.issuer = TokenIssuer(clock, TOKEN_LIFETIME)
        self.clients = {SANDBOX_CLIENT_ID: ClientRegistration(SANDBOX_CLIENT_ID, secret=SANDBOX_CLIENT_SECRET)}
        self.rights: MutableMapping[str, dict[str, Any]] = _Rights(self)
        self.proofs: dict[str, list[tuple[str, int]]] = {}
        #: PCEs GRDF does not know (``PUT`` answers 404 "Le PCE est inconnu.").
        self.unknown_pces: set[str] = {"GI000404", "00000000000404"}
        #: Proof verdicts to come: id → False makes the check end ``Preuve Vérifiée KO``.
        self.proof_verdicts: dict[str, bool] = {}
        #: The next data read of a PCE fails after that many records with GRDF's in-stream
        #: technical error (a ``2…`` ``statut_restitution``, "Veuillez retenter…"), once.
        self.stream_failures: dict[str, int] = {}
        self.set_park_size(park_size)

    # -- controls (tests, demos) --------------------------------------------------------------
    def set_park_size(self, park_size: int) -> None:
        """A new park of ``park_size`` rights generated from now (actions and touched rights
        are forgotten). Instant at any size: rights are generated when read."""
        if not 0 <= park_size <= 1_000_000:
            raise ValueError("the simulated park holds 0 to 1 000 000 rights")
        self.park_size = park_size
        self.epoch = self.clock.now()
        self.touched: dict[int, dict[str, Any]] = {}
        self.removed: set[int] = set()
        self.declared: dict[str, dict[str, Any]] = {}
        self.events: dict[str, list[Event]] = {}
        self.world_loaded()

    def world_loaded(self) -> None:
        """The caches derived from the seed and the epoch (after :meth:`set_park_size`, or
        once another process's park was loaded: :mod:`~pupitre.providers.core.sandbox_world`)."""
        self._id_prefix = f"{_mix(-1, self.seed) & 0xFFFFFFFF:08x}"
        self._mix_base = self.seed * 0xBF58476D1CE4E5B9 + 0x632BE59BD9B4E019  # _mix's seed part
        self._fixed_cache: dict[tuple[str, int], str] = {}
        self._holder_cache: dict[tuple[int, bool, int], tuple[str, int, list[Event]]] = {}
        first = self.epoch.date() - dt.timedelta(days=_DAY_SPAN)
        #: ISO dates of the days around the epoch, by offset + ``_DAY_SPAN`` (hot path).
        self._dates = [(first + dt.timedelta(days=i)).isoformat() for i in range(2 * _DAY_SPAN + 1)]
        self._qdates = ['"' + day + '"' for day in self._dates]

    #: GRDF's limits: as given, else the document's table for the park size.
    per_second = _TableDefault(0)
    per_day = _TableDefault(1)

    def advance_lifecycle(self, **delta: float) -> list[tuple[str, str, str | None, str | None]]:
        """Move the (manual) clock by ``delta`` (``days=``, ``hours=`` …) and return what
        changed: ``(id_droit_acces, id_pce, state before, state after)`` for every right
        whose state changed. Without ``delta`` it only applies what is due. Only rights
        with planned events can change, so a park of 100 000 is not read whole."""

        def movable() -> Iterator[tuple[str, dict[str, Any]]]:
            for n in range(self.park_size):
                if n not in self.removed and (n in self.touched or self._has_events(n)):
                    right = self._at(n)
                    yield right["id_droit_acces"], right
            for key in list(self.declared):
                yield key, self._current(key, self.declared[key])

        before = {key: (right["id_pce"], right["etat_droit_acces"]) for key, right in movable()}
        if delta:
            advance = getattr(self.clock, "advance", None)
            if advance is None:
                raise TypeError("advance_lifecycle(delta) needs a ManualClock")
            advance(**delta)
        changes = []
        for key, right in movable():
            pce, old = before.get(key, (right["id_pce"], None))
            if right["etat_droit_acces"] != old:
                changes.append((key, pce, old, right["etat_droit_acces"]))
        return changes

    @staticmethod
    def _has_events(n: int) -> bool:
        """Whether generated right ``n`` has planned events (see :meth:`_generated`): every
        « A valider » right, and the active ones whose holder moves out or revokes."""
        state = m.STATES[(n // 2) % len(m.STATES)]
        return state == m.TO_VALIDATE or (state == m.ACTIVE and n % 2 == 1 and (n // 12) % 12 in (1, 2))

    def holder_answers(self, id_droit_acces: str, accept: bool) -> dict[str, Any]:
        """The holder validates (``accept``) or refuses a right ``A valider``, now."""
        right = self.rights[id_droit_acces]
        if right["etat_droit_acces"] != m.TO_VALIDATE:
            raise ValueError(f"the right is {right['etat_droit_acces']}, not A valider")
        now = self.clock.now()
        if accept:
            right.update(etat_droit_acces=m.ACTIVE)
        else:
            right.update(
                etat_droit_acces=m.REFUSED, date_passage_a_refuse=_stamp(now), source_passage_a_refuse=REFUSED_BY_HOLDER
            )
        return right

    def start_proof_campaign(
        self, ids: Iterable[str] | None = None, *, count: int = 10, working_days: int = rules.PROOF_ANSWER_WORKING_DAYS
    ) -> list[str]:
        """GRDF launches a control: the given rights (else the first ``count`` active rights
        without a pending control) become ``Preuve en attente`` with a deadline
        ``working_days`` working days ahead. Returns their ids."""
        if ids is None:
            chosen = []
            for right in self.iter_rights():
                if right["etat_droit_acces"] == m.ACTIVE and right["statut_controle_preuve"] is None:
                    chosen.append(right["id_droit_acces"])
                    if len(chosen) >= count:
                        break
            ids = chosen
        deadline = rules.add_working_days(self.clock.now().date(), working_days).isoformat()
        out = []
        for key in ids:
            self.rights[key].update(statut_controle_preuve=m.PROOF_PENDING, date_limite_transmission_preuve=deadline)
            out.append(key)
        return out

    # -- the park -----------------------------------------------------------------------------
    def _id(self, n: int, h: int | None = None) -> str:
        """A UUID-shaped id whose last group is ``n`` (so an id finds its right at once);
        ``h`` is ``_mix(n, seed)`` when the caller has it already."""
        if h is None:
            h = _mix(n, self.seed)
        return "%s-%04x-4%03x-a%03x-%012x" % (self._id_prefix, h >> 48, (h >> 52) & 0xFFF, (h >> 40) & 0xFFF, n)

    def _index(self, key: str) -> int | None:
        try:
            n = int(key[-12:], 16)
        except ValueError:
            return None
        return n if n < self.park_size and self._id(n) == key else None

    @staticmethod
    def pce_of(n: int) -> str:
        """PCE of right ``n``: odd rights have a ``GI`` PCE (MM/JJ meters), even ones a
        14-digit PCE (6M/1M meters); injection sites are ``GI`` PCEs."""
        return "GI%06d" % n if n % 2 else "%014d" % (_PCE_BASE + n)

    @staticmethod
    def index_of_pce(id_pce: str) -> int | None:
        if id_pce.startswith("GI") and id_pce[2:].isdigit():
            n = int(id_pce[2:])
            return n if n % 2 else None
        if len(id_pce) == 14 and id_pce.isdigit():
            n = int(id_pce) - _PCE_BASE
            return n if 0 <= n and n % 2 == 0 else None
        return None

    def frequency(self, id_pce: str) -> str:
        """The meter frequency of a PCE (6M / 1M for 14 digits, MM / JJ for GI)."""
        h = (
            _mix(_stable(id_pce), self.seed + 7)
            if self.index_of_pce(id_pce) is None
            else _mix(self.index_of_pce(id_pce) or 0, self.seed + 7)
        )
        if id_pce.startswith("GI"):
            return "JJ" if h % 4 == 0 or self._injection(id_pce) else "MM"
        return "1M" if h % 3 == 0 else "6M"

    def _injection(self, id_pce: str) -> bool:
        right = self.right_of_pce(id_pce, touch=False)
        return bool(right and "INJECTION" in (right.get("role_tiers") or ""))

    def _day(self, days: int) -> str:
        if -_DAY_SPAN <= days <= _DAY_SPAN:
            return self._dates[days + _DAY_SPAN]
        key = ("d", days)
        cached = self._fixed_cache.get(key)
        if cached is None:
            cached = self._fixed_cache[key] = (self.epoch.date() + dt.timedelta(days=days)).isoformat()
        return cached

    def _working(self, days: int) -> str:
        key = ("w", days)
        cached = self._fixed_cache.get(key)
        if cached is None:
            cached = self._fixed_cache[key] = rules.add_working_days(self.epoch.date(), days).isoformat()
        return cached

    def _generated(self, n: int) -> tuple[str, list[Event], tuple[str, str, str | None]]:
        """Right ``n`` as generated at the epoch: its NDJSON line, its planned events, and
        (state, role, proof status) for the search filters. The hot path of a park of a
        million rights: the line is one f-string of precomputed, already-quoted pieces
        (dates as offsets from the epoch, zero-padded numbers from tables), without a dict,
        the JSON encoder or a ``%`` conversion (~3× faster than a ``%`` template)."""
        # _mix(n, seed), inlined: the seed's part is added once per park
        z = (n * 0x9E3779B97F4A7C15 + self._mix_base) & _MASK64
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
        h = z ^ (z >> 31)
        # Every state has the same share (rights 2k and 2k+1 share one), so a small park shows
        # them all and a filter on one state keeps a sixth; ``k`` varies the case inside a state.
        state = _STATES[(n >> 1) % 6]
        odd = n & 1
        slot = n // 12
        k = slot % 12
        injection = odd and slot % 7 == 3  # a biomethane site (a GI PCE), injection role
        if injection:
            role = _INJ_ROLES[(h >> 3) & 1]
        else:
            role = _SUPPLY_ROLES[(h >> 4) % 8 == 0]
        person = (h >> 7) % 3 != 0 and not injection
        dates, qdates, span = self._dates, self._qdates, _DAY_SPAN
        start_off = -30 - (h >> 12) % 900  # the right started (and was created) that day
        dec2 = _DEC2
        created = f"{dates[span + start_off]} {dec2[8 + (h >> 22) % 10]}:{dec2[(h >> 26) % 60]}:{dec2[(h >> 32) % 60]}"
        proof: str | None = None  # the proof status, set by every state below
        qproof = qdeadline = "null"
        changes = _NULLS6
        events: list[Event] = _NO_EVENTS
        soon = 1 + (h >> 24) % 5
        if state is _ACTIVE:
            proof = None
            if odd and k == 1:  # the holder moves out in a few days
                events = [
                    Event(
                        self.epoch + dt.timedelta(days=soon),
                        (m.ACTIVE,),
                        {
                            "etat_droit_acces": m.OBSOLETE,
                            "date_passage_a_obsolete": None,
                            "source_passage_a_obsolete": MOVED_SOURCE,
                        },
                    )
                ]
            elif odd and k == 2:  # the holder revokes in a few days
                events = [
                    Event(
                        self.epoch + dt.timedelta(days=soon),
                        (m.ACTIVE,),
                        {"etat_droit_acces": m.REVOKED, "date_revocation": None, "source_revocation": "Titulaire"},
                    )
                ]
            elif k >= 5:
                if k in (5, 11):  # due within 5 working days
                    proof, qdeadline = m.PROOF_PENDING, _q(self._working(soon))
                elif k == 6 and self.overdue_proofs:  # overdue
                    proof, qdeadline = m.PROOF_PENDING, qdates[span - soon - (h >> 27) % 6]
                elif k == 6:  # due next week or the one after
                    proof, qdeadline = m.PROOF_PENDING, _q(self._working(6 + soon + (h >> 27) % 6))
                elif k == 7:
                    proof, qdeadline = m.PROOF_PENDING, _q(self._working(6 + (h >> 27) % 14))
                elif k == 8:
                    proof, qdeadline = m.PROOF_TO_CHECK, _q(self._working(3 + (h >> 27) % 14))
                elif k == 9:
                    proof = m.PROOF_CHECKING
                else:
                    proof = m.PROOF_OK
                qproof = _QPROOF[proof]
        elif state is _TO_VALIDATE:
            proof = None
            created, start_off, events = self._awaiting_holder((h >> 24) % 20, person, k % 3)
        elif state is _REVOKED:
            proof = None
            changes = (
                f'"{dates[span - k % 4]} 07:{dec2[k]}:00"',
                '"Titulaire"' if k % 2 else '"Tiers"',
                "null",
                "null",
                "null",
                "null",
            )
        elif state is _REFUSED:
            proof = None
            start_off = -4 - k
            created = f"{dates[span + start_off]} 10:{dec2[k]}:00"
            changes = (
                "null",
                "null",
                "null",
                "null",
                f'"{dates[span + start_off + 3]} 02:54:14"',
                _QREFUSED_TIMEOUT if person else _QREFUSED_BY_HOLDER,
            )
        elif state is _OBSOLETE:
            proof = None
            changes = ("null", "null", f'"{dates[span - k % 3]} 05:{dec2[k]}:00"', _QMOVED, "null", "null")
        else:  # A revérifier: the proofs checked were not valid
            proof, qproof = m.PROOF_KO, _QPROOF[m.PROOF_KO]
        end_off = start_off + 365 * (1 + (h >> 30) % 5)
        if state is _ACTIVE and k == 3 and not odd:  # an expired right: data refused
            end_off = -1 - (h >> 24) % 20
        end = dates[span + end_off]
        qend = qdates[span + end_off]
        hex2, hex3 = _HEX2, _HEX3
        # the id's last group is n in 12 hex digits (tables up to 2**24 rights, a park's maximum)
        tail = f"000000{hex3[n >> 12]}{hex3[n & 0xFFF]}" if n < 1 << 24 else "%012x" % n
        pce = ("GI" + str(n).rjust(6, "0")) if odd else str(_PCE_BASE + n).rjust(14, "0")
        phone = f'"06{str((h >> 40) % 100_000_000).rjust(8, "0")}"' if (h >> 2) & 1 else "null"
        line = (
            f'{{"id_droit_acces": "{self._id_prefix}-{hex2[h >> 56]}{hex2[(h >> 48) & 0xFF]}-4{hex3[(h >> 52) & 0xFFF]}'
            f'-a{hex3[(h >> 40) & 0xFFF]}-{tail}", "id_pce": "{pce}", "role_tiers": {_Q[role]}, '
            f'"raison_sociale_du_tiers": {_QTHIRD_PARTY}, '
            f'"nom_titulaire": {_QNAMES[(h >> 36) % len(_NAMES)] if person else "null"}, '
            f'"raison_sociale_du_titulaire": {"null" if person else _QCOMPANIES[(h >> 36) % len(_COMPANIES)]}, '
            f'"courriel_titulaire": "titulaire{n}@example.com", '
            f'"code_postal": "{_POSTCODES[(h >> 9) % len(_POSTCODES)]}", '
            f'"numero_telephone_mobile_titulaire": {phone}, "date_debut_droit_acces": "{dates[span + start_off]}", '
            f'"date_fin_droit_acces": "{end}", '
            f'"perim_donnees_conso_debut": {"null" if injection else qdates[span + start_off - 1095]}, '
            f'"perim_donnees_conso_fin": {"null" if injection else qend}, '
            f'"perim_donnees_inj_debut": {qdates[span + start_off - 365] if injection else "null"}, '
            f'"perim_donnees_inj_fin": {qend if injection else "null"}, "perim_donnees_techniques": "Vrai", '
            f'"perim_donnees_contractuelles": {_QTRUE if (h >> 45) % 11 else _QFALSE}, '
            f'"perim_donnees_informatives": {_QFALSE if injection or not (h >> 33) % 9 else _QTRUE}, '
            f'"perim_donnees_publiees": {_QFALSE if injection else _QTRUE}, "date_creation": "{created}", '
            f'"etat_droit_acces": {_Q[state]}, "date_revocation": {changes[0]}, "source_revocation": {changes[1]}, '
            f'"date_passage_a_obsolete": {changes[2]}, "source_passage_a_obsolete": {changes[3]}, '
            f'"date_fin_autorisation": "{end} 00:00:00", "date_passage_a_refuse": {changes[4]}, '
            f'"source_passage_a_refuse": {changes[5]}, '
            f'"parcours": {_QDIRECT if (h >> 50) % 4 or state is _TO_VALIDATE else _QCONNECT}, '
            f'"statut_controle_preuve": {qproof}, "date_limite_transmission_preuve": {qdeadline}}}'
        )
        return line, events, (state, role, proof)

    def _awaiting_holder(self, hours: int, person: bool, answer: int) -> tuple[str, int, list[Event]]:
        """(date_creation, start offset, events) of a right « A valider » created ``hours`` + 1
        hours before the epoch; cached (a few dozen combinations)."""
        key = (hours, person, answer)
        cached = self._holder_cache.get(key)
        if cached is None:
            moment = self.epoch - dt.timedelta(hours=1 + hours)
            cached = self._holder_cache[key] = (
                _stamp(moment),
                (moment.date() - self.epoch.date()).days,
                self._validation_events(moment, person, answer),
            )
        return cached[0], cached[1], list(cached[2])

    def _base(self, n: int) -> tuple[dict[str, Any], list[Event]]:
        """Right ``n`` as generated at the epoch (a fresh dict), and its planned events."""
        line, events, _ = self._generated(n)
        return json.loads(line), events

    def _validation_events(self, created: dt.datetime, person: bool, answer: int) -> list[Event]:
        """Document, "Parcours Tiers Direct": person 3 days (silence → refused), legal entity
        2 days (silence → active); ``answer`` 0 validates after a day, 1 refuses, 2 is silent."""
        if answer == 0:
            return [Event(created + dt.timedelta(days=1), (m.TO_VALIDATE,), {"etat_droit_acces": m.ACTIVE})]
        if answer == 1:
            when = created + dt.timedelta(days=1)
            return [
                Event(
                    when,
                    (m.TO_VALIDATE,),
                    {
                        "etat_droit_acces": m.REFUSED,
                        "date_passage_a_refuse": None,
                        "source_passage_a_refuse": REFUSED_BY_HOLDER,
                    },
                )
            ]
        if person:
            return [
                Event(
                    created + dt.timedelta(days=3),
                    (m.TO_VALIDATE,),
                    {
                        "etat_droit_acces": m.REFUSED,
                        "date_passage_a_refuse": None,
                        "source_passage_a_refuse": REFUSED_TIMEOUT,
                    },
                )
            ]
        return [Event(created + dt.timedelta(days=2), (m.TO_VALIDATE,), {"etat_droit_acces": m.ACTIVE})]

    def _apply(self, right: dict[str, Any], events: list[Event], now: dt.datetime) -> list[Event]:
        """Apply the due events in time order (those whose state guard fails are dropped);
        return the events still to come. ``None`` dates in ``changes`` take the event time."""
        pending = sorted(events, key=lambda e: instant(e.when))
        while pending and instant(pending[0].when) <= instant(now):  # instants: DST-safe
            event = pending.pop(0)
            if right["etat_droit_acces"] in event.states or (not event.states):
                right.update(
                    {
                        k: (_stamp(event.when) if v is None and k.startswith("date_") else v)
                        for k, v in event.changes.items()
                    }
                )
                if event.then:
                    pending = sorted(pending + list(event.then), key=lambda e: e.when)
        return pending

    def _current(self, key: str, right: dict[str, Any]) -> dict[str, Any]:
        events = self.events.get(key)
        if events:
            self.events[key] = self._apply(right, events, self.clock.now())
        return right

    def lookup(self, key: str, *, touch: bool = True) -> dict[str, Any] | None:
        """The right with this id, lifecycle applied; materialised (kept) when ``touch``."""
        if key in self.declared:
            return self._current(key, self.declared[key])
        n = self._index(key)
        if n is None or n in self.removed:
            return None
        if n in self.touched:
            return self._current(key, self.touched[n])
        right, events = self._base(n)
        if touch:
            self.touched[n] = right
            self.events[key] = events
            return self._current(key, right)
        self._apply(right, events, self.clock.now())
        return right

    def _at(self, n: int) -> dict[str, Any]:
        if n in self.touched:
            return self._current(self.touched[n]["id_droit_acces"], self.touched[n])
        right, events = self._base(n)
        if events:
            self._apply(right, events, self.clock.now())
        return right

    def ids(self) -> Iterator[str]:
        removed = self.removed
        for n in range(self.park_size):
            if n not in removed:
                yield self._id(n)
        yield from list(self.declared)

    def iter_rights(self) -> Iterator[dict[str, Any]]:
        """Every right, current state, without materialising untouched ones."""
        removed = self.removed
        for n in range(self.park_size):
            if n not in removed:
                yield self._at(n)
        for key in list(self.declared):
            yield self._current(key, self.declared[key])

    _FILTER_PLACE = {"etat_droit_acces": 0, "role_tiers": 1, "statut_controle_preuve": 2}

    def _park_lines(self, checks: Sequence[tuple[str, AbstractSet[str | None]]] = ()) -> Iterator[str | dict[str, Any]]:
        """The park for a stream, filtered: generated rights as ready NDJSON lines (the fast
        path), touched ones and those with a due lifecycle event as dicts."""
        now = self.clock.now()
        moment = instant(now)
        removed, touched, generated = self.removed, self.touched, self._generated
        places = [(self._FILTER_PLACE[key], wanted) for key, wanted in checks]
        # each planned time turned into an instant once (a sixth of a park has events, at a
        # few dozen distinct times); keyed with ``fold``, which equality ignores
        instants: dict[tuple[dt.datetime, int], dt.datetime] = {}

        def due(events: list[Event]) -> bool:
            for event in events:
                key = (event.when, event.when.fold)
                at = instants.get(key)
                if at is None:
                    at = instants[key] = instant(event.when)
                if at <= moment:
                    return True
            return False

        for n in range(self.park_size):
            if n in removed:
                continue
            if n in touched:
                row = self._at(n)
                if all(row.get(key) in wanted for key, wanted in checks):
                    yield row
                continue
            line, events, summary = generated(n)
            if events and due(events):
                row = json.loads(line)
                self._apply(row, events, now)
                if all(row.get(key) in wanted for key, wanted in checks):
                    yield row
            elif not places or all(summary[place] in wanted for place, wanted in places):
                yield line
        for key in list(self.declared):
            row = self._current(key, self.declared[key])
            if all(row.get(k) in wanted for k, wanted in checks):
                yield row

    def rights_of_pce(self, id_pce: str, *, touch: bool = True) -> list[dict[str, Any]]:
        out = []
        n = self.index_of_pce(id_pce)
        if n is not None and n < self.park_size and n not in self.removed:
            if touch:
                found = self.lookup(self._id(n))
                if found is not None:
                    out.append(found)
            else:
                out.append(self._at(n))
        out.extend(self._current(k, r) for k, r in self.declared.items() if r["id_pce"] == id_pce)
        return out

    def right_of_pce(self, id_pce: str, *, touch: bool = True) -> dict[str, Any] | None:
        """The latest right of a PCE (a declared one wins over the generated one)."""
        found = self.rights_of_pce(id_pce, touch=touch)
        return found[-1] if found else None

    # -- HTTP ---------------------------------------------------------------------------------
    def _authorised(self, request: Request) -> bool:
        return self.issuer.check(request.headers.get("authorization")) is not None

    def _stream(self, rows: Iterable[dict[str, Any] | str], *, trailer: bool = True) -> StreamingResponse:
        """NDJSON in chunks of :attr:`chunk_rows` lines, rows (dicts, or lines already
        encoded) generated while streaming, then (rights lists) the ``code_statut_traitement``
        trailer line."""
        size = self.chunk_rows

        async def body() -> AsyncIterator[bytes]:
            block: list[str] = []
            sent = 0
            dumps = json.JSONEncoder(ensure_ascii=False).encode
            for row in rows:
                block.append(row if type(row) is str else dumps(row))
                if len(block) >= size:
                    sent += len(block)
                    self.rows_sent += len(block)
                    yield ("\n".join(block) + "\n").encode()
                    block = []
                    await asyncio.sleep(0)
            if block:
                sent += len(block)
                self.rows_sent += len(block)
                yield ("\n".join(block) + "\n").encode()
            if trailer:
                yield (json.dumps(OK if sent else NONE_FOUND, ensure_ascii=False) + "\n").encode()
            self.finished_streams += 1

        return StreamingResponse(body(), media_type=rules_ndjson())

    def _refuse_401(self) -> JSONResponse:
        return JSONResponse(adict_error(401, "Une erreur technique est survenue."), status_code=401)

    async def _rights(self, request: Request) -> Response:
        if not self._authorised(request):
            return self._refuse_401()
        if request.method == "GET":
            return self._stream(self._park_lines())
        try:
            filters = json.loads(await request.body() or b"{}")
            if not isinstance(filters, dict):
                raise ValueError
        except ValueError:
            return JSONResponse(adict_error(400, "Une erreur technique est survenue."), status_code=400)
        wanted: dict[str, set[str]] = {}
        for key in rules.SEARCH_KEYS:
            value = filters.get(key)
            values = [value] if isinstance(value, str) else value or []
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                return JSONResponse(adict_error(400, "Une erreur technique est survenue."), status_code=400)
            if key == "etat_droit_acces":
                values = [m.normalise_state(v) for v in values]
            if values:
                wanted[key] = set(values)
        checks = [(k, v) for k, v in wanted.items() if k != "id_pce"]
        if "id_pce" not in wanted:
            return self._stream(self._park_lines(checks))
        rows = [r for pce in sorted(wanted["id_pce"]) for r in self.rights_of_pce(pce, touch=False)]
        return self._stream(r for r in rows if all(r.get(k) in v for k, v in checks))

    _DECLARE_FIELD_ERRORS = {
        "role_tiers": (400, "1000000020", "Votre rôle dans la demande d'accès n'est pas renseigné."),
        "code_postal": (400, "1000000021", "Le format du code postal est incorrect."),
        "courriel_titulaire": (400, "1000000022", "Le format du courriel du titulaire est incorrect."),
        "numero_telephone_mobile_titulaire": (
            400,
            "1000000023",
            "Le numéro de téléphone mobile du titulaire renseigné n'est pas correctement formaté.",
        ),
        "date_debut_droit_acces": (
            409,
            "1000000030",
            "La date de début du droit d’accès doit être inférieure ou égale à la date du jour.",
        ),
        "date_fin_droit_acces": (
            409,
            "1000000031",
            "La date de fin du droit d’accès doit être supérieure ou égale à la date du jour.",
        ),
        "perim_donnees_conso_debut": (
            400,
            "1000000024",
            "La date de début du périmètre relatif aux données de "
            "consommation est obligatoire et doit être renseignée "
            "au format YYYY-MM-DD.",
        ),
        "perim_donnees_conso_fin": (
            409,
            "1000000032",
            "La date de fin du périmètre relatif aux données de "
            "consommation doit être inférieure ou égale à la date de "
            "fin du droit d’accès.",
        ),
        "perim_donnees_contractuelles": (
            400,
            "1000000033",
            "Le périmètre d'accès aux données contractuelles doit être renseigné à Vrai ou Faux.",
        ),
        "perim_donnees_techniques": (
            400,
            "1000000034",
            "Le périmètre d'accès aux données techniques doit être renseigné à Vrai ou Faux.",
        ),
        "perim_donnees_informatives": (
            400,
            "1000000035",
            "Le périmètre d'accès aux données informatives doit être renseigné à Vrai ou Faux.",
        ),
        "perim_donnees_publiees": (400, "1000000025", "Le périmètre d'accès doit être renseigné."),
    }

    async def _declare(self, request: Request) -> Response:
        if not self._authorised(request):
            return self._refuse_401()
        pce = request.path_params["id_pce"]
        try:
            body = json.loads(await request.body())
            if not isinstance(body, dict):
                raise ValueError
        except ValueError:
            return _status("1000000000", "La forme de la requête est incorrecte.", 400)
        try:
            rules.validate_pce(pce)
        except rules.RuleError:
            return _status("1000000027", "Le format du PCE est incorrect.", 400)
        name, company = body.get("nom_titulaire"), body.get("raison_sociale")
        if not (name or company):
            return _status("1000000026", "Le nom ou la raison sociale du titulaire doit être renseigné.", 400)
        if name and company:
            return _status("1000000028", "Seul le nom ou la raison sociale du titulaire doit être renseigné.", 400)
        fields = dict(body)
        for key in rules.PERIMETER_FLAGS:
            try:
                fields[key] = m.parse_bool(body.get(key))
            except ValueError:
                return _status("1000000029", "Le périmètre d'accès doit être renseigné.", 400)
        now = self.clock.now()
        problems = rules.declaration_field_problems(fields, now.date())
        for key, (status, code, message) in self._DECLARE_FIELD_ERRORS.items():
            if key in problems:
                return _status(code, message, status)
        if problems:
            return _status("1000000000", "La demande d'accès est incohérente.", 409)
        if pce in self.unknown_pces:
            return _status("1000000404", "Le PCE est inconnu.", 404)
        existing = self.right_of_pce(pce, touch=False)
        if existing is not None:
            state = existing["etat_droit_acces"]
            if state == m.TO_VALIDATE:
                return _status(
                    "1000000011", "La demande d'accès est en attente de la validation du titulaire du PCE.", 409
                )
            if state in (m.ACTIVE, m.TO_RECHECK):
                return _status("1000000012", "Un droit d'accès existe déjà.", 409)
            if existing.get("code_postal") and existing["code_postal"] != body.get("code_postal"):
                return _status("1000000014", "Le code postal ne correspond pas à l'adresse du PCE.", 409)
        key = str(uuid.uuid4())
        right = {
            "id_droit_acces": key,
            "id_pce": pce,
            "role_tiers": body.get("role_tiers"),
            "raison_sociale_du_tiers": THIRD_PARTY,
            "nom_titulaire": name or None,
            "raison_sociale_du_titulaire": company or None,
            "courriel_titulaire": body.get("courriel_titulaire"),
            "code_postal": body.get("code_postal"),
            "numero_telephone_mobile_titulaire": body.get("numero_telephone_mobile_titulaire"),
            "date_debut_droit_acces": body.get("date_debut_droit_acces"),
            "date_fin_droit_acces": body.get("date_fin_droit_acces"),
            **{
                k: body.get(k)
                for k in (
                    "perim_donnees_conso_debut",
                    "perim_donnees_conso_fin",
                    "perim_donnees_inj_debut",
                    "perim_donnees_inj_fin",
                )
            },
            **{k: "Vrai" if fields[k] else "Faux" for k in rules.PERIMETER_FLAGS},
            "date_creation": _stamp(now),
            "etat_droit_acces": m.TO_VALIDATE,
            "date_revocation": None,
            "source_revocation": None,
            "date_passage_a_obsolete": None,
            "source_passage_a_obsolete": None,
            "date_fin_autorisation": f"{body.get('date_fin_droit_acces')} 00:00:00",
            "date_passage_a_refuse": None,
            "source_passage_a_refuse": None,
            "parcours": "TIERS_DIRECT",
            "statut_controle_preuve": None,
            "date_limite_transmission_preuve": None,
        }
        self.declared[key] = right
        self.events[key] = self._validation_events(now, bool(name), answer=2)
        answer = {
            "code_statut_traitement": "0000000002",
            "message_retour_traitement": "La demande d'accès est en attente de la validation du titulaire du PCE.",
            **{
                k: v
                for k, v in right.items()
                if k not in ("date_creation", "raison_sociale_du_tiers")
                and not k.startswith(("date_passage", "source_", "date_revocation", "statut_", "date_limite"))
            },
            "date_creation_droit_acces": right["date_creation"],
        }
        return JSONResponse(answer, status_code=201)

    def _right(self, request: Request) -> dict[str, Any] | Response:
        """The access right named in the path, or the refusal to answer (401, 404)."""
        if not self._authorised(request):
            return self._refuse_401()
        right = self.lookup(request.path_params["id_droit_acces"])
        if right is None:
            return _status("1000000001", "Aucun droit d’accès trouvé.", 404)
        return right

    async def _revoke(self, request: Request) -> Response:
        right = self._right(request)
        if isinstance(right, Response):
            return right
        if rules.revocation_problem(right["etat_droit_acces"], right["role_tiers"]):
            return _status("2000000003", "Le demande est incohérente.", 409)
        right.update(etat_droit_acces=m.REVOKED, source_revocation="Tiers", date_revocation=_stamp(self.clock.now()))
        self.events.pop(right["id_droit_acces"], None)
        return JSONResponse(OK)

    async def _proofs(self, request: Request) -> Response:
        right = self._right(request)
        if isinstance(right, Response):
            return right
        if right["statut_controle_preuve"] not in rules.PROOF_STATUSES_ALLOWED:
            return _status("2000000003", "GRDF ne demande pas de preuve sur ce droit d'accès.", 409)
        files = _multipart_files(request.headers.get("content-type", ""), await request.body(), "preuves")
        if not files:
            return _status("1000000000", "La forme de la requête est incorrecte.", 400)
        if len(files) > rules.MAX_PROOF_FILES:
            return _status("1000000040", "Le nombre maximal autorisé de 3 preuves est dépassé.", 409)
        if any(rules.proof_extension(name) not in rules.PROOF_TYPES for name, _ in files):
            return _status("1000000041", "Une ou plusieurs preuves ne possèdent pas un format autorisé.", 409)
        if any(size > rules.MAX_PROOF_BYTES for _, size in files):
            return _status(
                "1000000042", "La taille maximale autorisée de 4Mo d’une ou plusieurs preuves est dépassée.", 409
            )
        key = right["id_droit_acces"]
        self.proofs.setdefault(key, []).extend(files)
        right["statut_controle_preuve"] = m.PROOF_TO_CHECK
        now = self.clock.now()
        good = self.proof_verdicts.get(key, True)
        verdict = Event(
            now + dt.timedelta(days=7),
            (),
            {
                "statut_controle_preuve": m.PROOF_OK if good else m.PROOF_KO,
                **({} if good else {"etat_droit_acces": m.TO_RECHECK}),
            },
        )
        checking = Event(now + dt.timedelta(days=2), (), {"statut_controle_preuve": m.PROOF_CHECKING}, (verdict,))
        self.events[key] = [e for e in self.events.get(key, []) if "statut_controle_preuve" not in e.changes]
        self.events[key].append(checking)
        return JSONResponse(OK)

    # -- data -----------------------------------------------------------------------------------
    def _restitution(self, pce: str, code_message: tuple[str, str], status: int = 200, what: str = "") -> Response:
        code, message = code_message
        record = {
            "pce": {"id_pce": pce},
            "periode": None,
            "releve_debut": "null",
            "releve_fin": "null",
            "consommation": "null",
            "statut_restitution": {"code": code, "message": message.format(what=what)},
        }
        return Response(json.dumps(record, ensure_ascii=False) + "\n", status_code=status, media_type=rules_ndjson())

    def _access_refusal(self, right: dict[str, Any] | None, kind: str, today: dt.date) -> tuple[str, str] | None:
        if right is None:
            return NO_RIGHT
        state = right["etat_droit_acces"]
        if state == m.REVOKED:
            return REVOKED_BY_YOU if right.get("source_revocation") == "Tiers" else REVOKED_BY_HOLDER
        if state == m.OBSOLETE:
            return MOVED_OUT if right.get("source_passage_a_obsolete") == MOVED_SOURCE else OBSOLETE_BY_GRDF
        if state == m.TO_RECHECK:
            return BAD_PROOF
        if state != m.ACTIVE:
            return NOT_AUTHORISED
        end = m.parse_date(right.get("date_fin_droit_acces"))
        if end is not None and end < today:
            return EXPIRED
        flag = _KINDS[kind][0]
        if flag is None:  # injections (no perimeter flag): the right's role says it
            if "INJECTION" not in (right.get("role_tiers") or ""):
                return OUT_OF_PERIMETER
        elif m.parse_bool(right.get(flag)) is not True:
            return OUT_OF_PERIMETER
        return None

    def _period(self, query: Mapping[str, str], kind: str, today: dt.date) -> tuple[dt.date, dt.date] | str:
        """The asked period, or GRDF's 400 message."""
        periode, start, end = query.get("periode"), query.get("date_debut"), query.get("date_fin")
        if periode and (start or end):
            return "Seul le paramètre 'periode' ou les paramètres 'date_debut' / 'date_fin' doivent être renseignés."
        if periode:
            try:
                first, last = rules.parse_periode(periode)
            except rules.RuleError:
                return (
                    "Le format du paramètre 'periode' n’est pas à un format attendu valide (YYYY, YYYY-NN, "
                    "YYYY-WNN, YYYY-NNN, PN-YYYY, PN-YYYY-NN, PN-YYYY-WNN, PN-YYYY-WMM-N)."
                )
            last = min(last, today)
        elif start or end:
            if not start:
                return "Le paramètre 'date_debut' est obligatoire et doit être renseigné au format YYYY-MM-DD."
            if not end:
                return "Le paramètre 'date_fin' est obligatoire et doit être renseigné au format YYYY-MM-DD."
            try:
                first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
            except ValueError:
                return "Le format du paramètre 'date_debut' et / ou 'date_fin' n’est pas au format YYYY-MM-DD."
        else:
            return "Le paramètre 'periode' ou les paramètres 'date_debut' / 'date_fin' doivent être renseignés."
        if first > last:
            return "La date de début renseignée doit être antérieure à la date de fin."
        if last > today:
            return "Le paramètre 'date_fin' doit être inférieur ou égal à la date du jour."
        years = rules.INFORMATIVE_YEARS if kind == "donnees_consos_informatives" else rules.PUBLISHED_YEARS
        if rules.period_problems(first, last, today, informative=years == rules.INFORMATIVE_YEARS):
            return f"Le paramètre 'date_debut' ne doit pas être antérieur à la date du jour - {years} ans."
        return first, last

    async def _data(self, request: Request) -> Response:
        if not self._authorised(request):
            return self._refuse_401()
        pce, kind = request.path_params["id_pce"], request.path_params["kind"]
        if kind not in _KINDS:
            return JSONResponse(adict_error(404, "Ressource inconnue."), status_code=404)
        try:
            rules.validate_pce(pce)
            if pce != pce.strip().upper() or " " in pce:
                raise rules.RuleError([])
        except rules.RuleError:
            return self._restitution(pce, BAD_PCE, status=400)
        today = self.clock.now().date()
        period: tuple[dt.date, dt.date] | str | None = None
        if kind in _PERIOD_KINDS:
            period = self._period(request.query_params, kind, today)
            if isinstance(period, str):
                return self._restitution(pce, ("1000001", period), status=400)
        right = self.right_of_pce(pce, touch=False)
        refusal = self._access_refusal(right, kind, today)
        if refusal is not None:
            return self._restitution(pce, refusal, what=_KINDS[kind][1])
        assert right is not None
        if kind == "donnees_contractuelles":
            filters = request.query_params.getlist("filtre")
            if any(f not in rules.CONTRACT_FILTERS for f in filters):
                return self._restitution(pce, ("1000002", "Le filtre spécifié n'est pas valide."), status=400)
            return self._stream([self._contractual(pce, right)], trailer=False)
        if kind == "donnees_techniques":
            return self._stream([self._technical(pce, right)], trailer=False)
        assert isinstance(period, tuple)
        rows = list(self._readings(pce, kind, right, period, today, request.query_params.get("periode")))
        if pce in self.stream_failures:
            rows = rows[: self.stream_failures.pop(pce)]
            rows.append(
                {
                    "pce": {"id_pce": pce},
                    "periode": {"valeur": None, "date_debut": period[0].isoformat(), "date_fin": period[1].isoformat()},
                    "releve_debut": "null",
                    "releve_fin": "null",
                    "consommation": "null",
                    "statut_restitution": {"code": STREAM_ERROR[0], "message": STREAM_ERROR[1]},
                }
            )
        if not rows:
            return self._restitution(pce, NO_DATA)
        return self._stream(rows, trailer=False)

    def _contractual(self, pce: str, right: dict[str, Any]) -> dict[str, Any]:
        h = _mix(_stable(pce), self.seed + 3)
        car = 3000 + h % 40000
        mes = (m.parse_date(right["date_debut_droit_acces"]) or self.epoch.date()) - dt.timedelta(days=400 + h % 3000)
        data: dict[str, Any] = {
            "date_mes": mes.isoformat(),
            "tarif_acheminement": ("T1", "T2", "T3", "T4")[h % 4],
            "date_publication": (self.epoch.date() - dt.timedelta(days=h % 60)).isoformat(),
            "consommation_journaliere_plafond": None,
        }
        if pce.startswith("GI"):  # Swagger 1.6 shape: numbers
            data.update(car=car, cja=0, profil={"profil_type_actuel": "P01" + str(2 + h % 3)})
        else:  # document (v1.7+) shape: blocks, numbers as strings
            data.update(
                car={"car_actuelle": str(car), "car_future": str(car - 200)},
                cja={"cja": None, "cja_journaliere": None, "cja_mensuelle": None},
                profil={
                    "date_debut_profil_type_actuel": "2023-04-14",
                    "date_fin_profil_type_actuel": "9999-12-31",
                    "profil_type_actuel": "P011",
                    "profil_type_futur": None,
                },
                modulation={"modulation_n_1": None, "modulation_n_2": None, "modulation_n_3": None, "assiette": None},
            )
        return {"pce": {"id_pce": pce}, "donnees_contractuelles": data, "statut_restitution": None}

    def _technical(self, pce: str, right: dict[str, Any]) -> dict[str, Any]:
        h = _mix(_stable(pce), self.seed + 5)
        town = next((t for t in _TOWNS if t[0] == right.get("code_postal")), _TOWNS[0])
        return {
            "pce": {"id_pce": pce},
            "donnees_techniques": {
                "situation_compteur": {
                    "numero_rue": str(1 + h % 120),
                    "nom_rue": _STREETS[h % len(_STREETS)],
                    "complement_adresse": None,
                    "code_postal": town[0],
                    "commune": town[1],
                },
                "caracteristiques_compteur": {
                    "frequence": self.frequency(pce),
                    "client_sensible_mig": "Non",
                    "code_calibre": ("G4", "G6", "G16", "G65")[h % 4],
                    "code_debit": str(6 + h % 20),
                    "code_debit_normalise": None,
                    "pression_livraison": "0.021",
                    "matricule_compteur": str(100 + h % 900),
                },
                "pitd": {"identifiant_pitd": town[2], "libelle_pitd": town[1]},
                "regime_propriete": {
                    "regime_propriete_compteur": "Faisant partie intégrante du Réseau de Distribution",
                    "regime_propriete_convertisseur": None,
                    "regime_propriete_poste": None,
                    "regime_propriete_enregistreur": None,
                },
            },
            "statut_restitution": None,
        }

    def _readings(
        self,
        pce: str,
        kind: str,
        right: dict[str, Any],
        period: tuple[dt.date, dt.date],
        today: dt.date,
        periode: str | None,
    ) -> Iterator[dict[str, Any]]:
        """The series of a PCE for a period, per its meter frequency (document's table):
        published 6M by half-year, 1M and MM by month, JJ by gas day (up to D-1);
        informative daily data for 1M (up to D-3) and MM (up to D-2) only; injection
        (biomethane) by gas day. Clipped to the right's data perimeter."""
        frequency = self.frequency(pce)
        injection = kind == "donnees_injections_publiees"
        first, last = period
        perim = (
            ("perim_donnees_inj_debut", "perim_donnees_inj_fin")
            if injection
            else ("perim_donnees_conso_debut", "perim_donnees_conso_fin")
        )
        lo, hi = m.parse_date(right.get(perim[0])), m.parse_date(right.get(perim[1]))
        if lo:
            first = max(first, lo)
        if hi:
            last = min(last, hi)
        if injection:
            step, until = ("day" if frequency == "JJ" else "month"), today - dt.timedelta(days=1)
        elif kind == "donnees_consos_informatives":
            if frequency not in rules.INFORMATIVE_DELAY_DAYS:
                return
            step, until = "day", today - dt.timedelta(days=rules.INFORMATIVE_DELAY_DAYS[frequency])
        else:
            step = rules.PUBLISHED_STEP[frequency]
            until = today - dt.timedelta(days=1)
        last = min(last, until)
        if first > last:
            return
        h = _mix(_stable(pce), self.seed + 11)
        base = 3 + h % 60  # m³ per day in winter
        coeff = 11.0 + (h % 40) / 100
        index = 1000 + h % 50000
        block = "injection" if injection else "consommation"
        suffix = "injection" if injection else "conso"
        for start, end in _steps(first, last, step):
            days = (end - start).days
            volume = round(sum(_seasonal(start + dt.timedelta(days=d), base) for d in range(days)))
            t0 = dt.datetime.combine(start, dt.time(6), tzinfo=PARIS).isoformat()
            t1 = dt.datetime.combine(end, dt.time(6), tzinfo=PARIS).isoformat()
            estimated = (h >> (start.toordinal() % 40)) & 15 == 0
            current_month = (today.year, today.month) == (start.year, start.month)
            published = kind != "donnees_consos_informatives"
            coeffs = (
                {"coeff_pta": None, "valeur_pcs": None, "coeff_conversion": coeff}
                if frequency == "1M"
                else {"coeff_pta": 1.0, "valeur_pcs": coeff, "coeff_conversion": None}
            )
            record: dict[str, Any] = {
                "pce": {"id_pce": pce},
                "periode": {"valeur": periode, "date_debut": period[0].isoformat(), "date_fin": period[1].isoformat()},
                "releve_debut": {
                    "date_releve": t0,
                    "raison_releve": None,
                    "libelle_raison_releve": None,
                    "qualite_releve": "Estimation" if estimated else "Mesure",
                    "statut_releve": "Normal",
                    "index_brut_debut": {"valeur_index": index, "horodate_Index": t0},
                    "index_converti_debut": {"valeur_index": None, "horodate_Index": None},
                },
                "releve_fin": {
                    "date_releve": t1,
                    "raison_releve": "RNO",
                    "libelle_raison_releve": "Relevé normal",
                    "qualite_releve": "Mesure",
                    "statut_releve": "Normal",
                    "index_brut_fin": {"valeur_index": index + volume, "horodate_Index": t1},
                    "index_converti_fin": {"valeur_index": None, "horodate_Index": None},
                },
                block: {
                    f"date_debut_{block}": t0,
                    f"date_fin_{block}": t1,
                    "flag_retour_zero": False,
                    "volume_brut": volume,
                    "coeff_calcul": coeffs,
                    "volume_converti": None,
                    "energie": round(volume * coeff),
                    f"type_qualif_{suffix}": "Estimé" if estimated else "Mesuré",
                    "sens_flux_gaz": "Production" if injection else "Consommation",
                    f"statut_{suffix}": "Provisoire"
                    if (not published or (step == "day" and current_month))
                    else "Définitive",
                    "journee_gaziere": start.isoformat() if step == "day" else None,
                    f"type_{suffix}": "Publiée" if published else "Informative Journalier",
                },
                "statut_restitution": None,
            }
            if published:
                record["bordereau_publication"] = {
                    "date_debut_bordereau": None,
                    "date_fin_bordereau": None,
                    "nb_jour_gazier": days if step != "day" else None,
                }
            index += volume
            yield record

    @functools.cached_property
    def _token(self) -> Route:
        return token_route(TOKEN_PATH, self.issuer, self.clients)

    def routes(self) -> list[Route]:
        return [
            self._token,
            Route(f"{API_PREFIX}/droits_acces", self._rights, methods=["GET", "POST"]),
            Route(f"{API_PREFIX}/pce/{{id_pce}}/droit_acces", self._declare, methods=["PUT"]),
            Route(f"{API_PREFIX}/droit_acces/{{id_droit_acces}}", self._revoke, methods=["PATCH"]),
            Route(f"{API_PREFIX}/droit_acces/{{id_droit_acces}}/preuves", self._proofs, methods=["PUT"]),
            Route(f"{API_PREFIX}/pce/{{id_pce}}/{{kind:str}}", self._data, methods=["GET"]),
        ]

    def wrap(self, app: ASGIApp) -> ASGIApp:
        return _QuotaGate(app, self)


def _seasonal(day: dt.date, base: float) -> float:
    """m³ on a gas day: a winter peak in mid-January, a summer floor (cooking, hot water)."""
    angle = 2 * math.pi * (day.timetuple().tm_yday - 15) / 365.25
    return base * (0.55 + 0.45 * math.cos(angle))


def _next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def _steps(first: dt.date, last: dt.date, step: str) -> Iterator[tuple[dt.date, dt.date]]:
    """(start, end) gas days, ``end`` exclusive, covering ``first``..``last`` inclusive:
    whole days, calendar months, or half-years (January and July), clipped to the period."""
    day = first
    stop = last + dt.timedelta(days=1)
    while day < stop:
        if step == "day":
            nxt = day + dt.timedelta(days=1)
        elif step == "month":
            nxt = _next_month(day)
        else:
            nxt = dt.date(day.year, 7, 1) if day.month < 7 else dt.date(day.year + 1, 1, 1)
        yield day, min(nxt, stop)
        day = nxt


def _multipart_files(content_type: str, body: bytes, field: str) -> list[tuple[str, int]]:
    """(file name, size) of the ``field`` parts (stdlib parser: no python-multipart needed)."""
    import email.parser
    import email.policy

    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        return []
    out = []
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == field:
            out.append((part.get_filename() or "", len(part.get_payload(decode=True) or b"")))
    return out


def rules_ndjson() -> str:
    return "application/x-ndjson"


class _QuotaGate:
    """GRDF's gateway: ``per_second`` calls in any one-second window and ``per_day`` calls
    per Paris day, all APIs together; beyond, 429."""

    def __init__(self, app: ASGIApp, sim: AdictSimulator) -> None:
        self.app, self.sim = app, sim

    async def _refuse(self, send: Send, message: str, retry_after: str) -> None:
        self.sim.quota_refusals += 1
        body = json.dumps(adict_error(429, message), ensure_ascii=False).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"retry-after", retry_after.encode()),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == TOKEN_PATH:
            await self.app(scope, receive, send)
            return
        sim = self.sim
        day = sim.clock.now().date()
        if sim.day_calls.get(day, 0) >= sim.per_day:
            await self._refuse(send, "Quota d'appels journalier dépassé", "3600")
            return
        now = sim._monotonic()
        while sim._recent and now - sim._recent[0] >= 1.0:
            sim._recent.popleft()
        if len(sim._recent) >= max(1, int(sim.per_second)):
            await self._refuse(send, "Quota d'appels dépassé", "1")
            return
        sim._recent.append(now)
        sim.day_calls[day] = sim.day_calls.get(day, 0) + 1
        sim.calls += 1
        await self.app(scope, receive, send)
