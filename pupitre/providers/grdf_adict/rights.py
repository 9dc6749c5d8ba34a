"""GRDF ADICT's vocabulary and an access right as a table row, without the API types.

The words of the document (roles, states, proof statuses, routes), the lenient parsers its
payloads need (``"Vrai"``/``"Faux"``, local date-times, stray spaces) and :class:`RightRow`,
the park-scale row built straight from the API's JSON: what the rights feed, ``pupitre
check`` and the access-rights table need, importable without building the API models of
:mod:`pupitre.providers.grdf_adict.models` (which re-exports every name here).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Mapping, NamedTuple

from pupitre.providers.core.clock import PARIS
from pupitre.providers.core.text import clean_strings

if TYPE_CHECKING:
    from pupitre.providers.grdf_adict.models import AccessRight

#: The provider's name in errors and messages.
PROVIDER = "GRDF ADICT"

# -- vocabularies (document, "Différentes possibilités de filtrage") ------------------------------
ROLES = (
    "AUTORISE_CONTRAT_FOURNITURE",
    "DETENTEUR_CONTRAT_FOURNITURE",
    "AUTORISE_CONTRAT_INJECTION",
    "DETENTEUR_CONTRAT_INJECTION",
)
ACTIVE, TO_VALIDATE, REVOKED, TO_RECHECK, OBSOLETE, REFUSED = (
    "Active",
    "A valider",
    "Révoquée",
    "A revérifier",
    "Obsolète",
    "Refusée",
)
STATES = (ACTIVE, TO_VALIDATE, REVOKED, TO_RECHECK, OBSOLETE, REFUSED)
PROOF_PENDING = "Preuve en attente"
PROOF_TO_CHECK = "Preuve à vérifier"
PROOF_CHECKING = "Preuve en cours de vérification"
PROOF_OK = "Preuve Vérifiée OK"
PROOF_KO = "Preuve Vérifiée KO"
PROOF_STATUSES = (PROOF_PENDING, PROOF_TO_CHECK, PROOF_CHECKING, PROOF_OK, PROOF_KO)
ROUTES = ("TIERS_DIRECT", "CLIENT_CONNECT")
#: The success code of ``code_statut_traitement``; ``0…`` codes are successes
#: (``0000000002``: waiting for the holder), ``1…`` functional and ``2…`` technical errors.
OK_CODE = "0000000000"

_STATE_ALIASES = {
    "a revérifier": TO_RECHECK,
    "a révérifier": TO_RECHECK,
    "a reverifier": TO_RECHECK,
    "à revérifier": TO_RECHECK,
    "à valider": TO_VALIDATE,
    "revoquee": REVOKED,
    "obsolete": OBSOLETE,
    "refusee": REFUSED,
}


def _blank_none(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def parse_bool(value: Any) -> bool | None:
    """``"Vrai"``/``"Faux"`` (also ``true``/``false``, ``"Oui"``/``"Non"``); blank: ``None``."""
    value = _blank_none(value)
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("vrai", "true", "oui", "1"):
        return True
    if text in ("faux", "false", "non", "0"):
        return False
    raise ValueError(f"not a Vrai/Faux boolean: {value!r}")


def parse_datetime(value: Any) -> dt.datetime | None:
    """ISO with offset, or ``YYYY-MM-DD[ HH:MM:SS]`` read as Paris time; exposed in Paris."""
    value = _blank_none(value)
    if value is None or isinstance(value, dt.datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=PARIS)
    parsed = dt.datetime.fromisoformat(str(value).replace(" ", "T", 1) if " " in str(value) else str(value))
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=PARIS)
    return parsed.astimezone(PARIS)


def parse_date(value: Any) -> dt.date | None:
    value = _blank_none(value)
    if value is None or isinstance(value, dt.date):
        return value.date() if isinstance(value, dt.datetime) else value
    text = str(value)
    return dt.date.fromisoformat(text[:10])


def normalise_role(value: Any) -> Any:
    value = _blank_none(value)
    return value.replace(" ", "_").upper() if isinstance(value, str) else value


def normalise_state(value: Any) -> Any:
    value = _blank_none(value)
    if isinstance(value, str):
        return _STATE_ALIASES.get(value.lower(), value)
    return value


_FLAG_WORDS = {
    "vrai": True,
    "true": True,
    "oui": True,
    "1": True,
    "faux": False,
    "false": False,
    "non": False,
    "0": False,
}


def _blank_text(value: Any) -> str | None:
    """What :data:`Text` makes of a value: stripped text, blanks as ``None``."""
    if value is None:
        return None
    return str(value).strip() or None


_DATE_CACHE: dict[Any, dt.date | None] = {None: None, "": None}
_ROW_DATES = (
    "date_debut_droit_acces",
    "date_fin_droit_acces",
    "perim_donnees_conso_debut",
    "perim_donnees_conso_fin",
    "date_limite_transmission_preuve",
)


def _cached_date(value: Any) -> dt.date | None:
    """:func:`parse_date`, remembered for text values (the cache stays bounded)."""
    parsed = parse_date(value)
    if isinstance(value, str):
        if len(_DATE_CACHE) > 50_000:
            _DATE_CACHE.clear()
            _DATE_CACHE.update({None: None, "": None})
        _DATE_CACHE[value] = parsed
    return parsed


_STATE_SET = frozenset(STATES)
_ROLE_SET = frozenset(ROLES)
_PROOF_SET = frozenset(PROOF_STATUSES)
_ROUTE_SET = frozenset(ROUTES)
_CHANGED_AT = {REVOKED: "date_revocation", OBSOLETE: "date_passage_a_obsolete", REFUSED: "date_passage_a_refuse"}


class RightRow(NamedTuple):
    """The columns of one access right for a park-scale table: ~10× lighter than
    :class:`AccessRight` in memory and several times faster to build (100 000 rows; a
    named tuple, built in C, where a frozen dataclass sets each field through Python).
    Same conversions as :class:`AccessRight` (v1/v2 names, blanks, role and state
    spellings); :meth:`from_api` raises ``ValueError`` on what ``AccessRight`` refuses."""

    id_droit_acces: str
    id_pce: str
    role_tiers: str | None
    holder: str
    is_person: bool
    etat_droit_acces: str | None
    statut_controle_preuve: str | None
    date_debut_droit_acces: dt.date | None
    date_fin_droit_acces: dt.date | None
    perim_donnees_conso_debut: dt.date | None
    perim_donnees_conso_fin: dt.date | None
    date_limite_transmission_preuve: dt.date | None
    parcours: str | None
    #: When the state last changed to Révoquée / Obsolète / Refusée (``None`` otherwise).
    state_changed_at: dt.datetime | None

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> "RightRow":
        try:
            return cls._make(clean_strings(cls._from_api(raw)))  # text cleaned for the terminal
        except (TypeError, AttributeError):
            raise ValueError("an access right whose fields are not text") from None

    @classmethod
    def _from_api(cls, raw: Mapping[str, Any]) -> "RightRow":
        get = raw.get
        id_droit_acces, id_pce = get("id_droit_acces"), get("id_pce")
        if not isinstance(id_droit_acces, str) or not isinstance(id_pce, str):
            raise ValueError("an access right without id_droit_acces or id_pce (text)")
        dates, cache = [], _DATE_CACHE
        for key in _ROW_DATES:  # a few thousand distinct days in a park: parsed once each
            value = get(key)
            dates.append(cache[value] if value in cache else _cached_date(value))
        name, company = get("nom_titulaire"), get("raison_sociale_du_titulaire")
        name = name.strip() or None if type(name) is str else _blank_text(name)
        company = company.strip() or None if type(company) is str else _blank_text(company)
        if company is None and "raison_sociale" in raw:
            company = _blank_text(get("raison_sociale"))
        state, role = get("etat_droit_acces"), get("role_tiers")
        state = state if state in _STATE_SET else normalise_state(state)
        role = role if role in _ROLE_SET else normalise_role(role)
        proof, route = get("statut_controle_preuve"), get("parcours")
        proof = proof if proof is None or proof in _PROOF_SET else _blank_text(proof)
        route = route if route is None or route in _ROUTE_SET else _blank_text(route)
        changed = _CHANGED_AT.get(state) if state else None
        return cls(
            id_droit_acces,
            id_pce,
            role,
            name or company or "",
            bool(name) and not company,
            state,
            proof,
            dates[0],
            dates[1],
            dates[2],
            dates[3],
            dates[4],
            route,
            parse_datetime(get(changed)) if changed else None,
        )

    @classmethod
    def of(cls, right: "AccessRight") -> "RightRow":
        """The row of an already parsed right."""
        from pupitre.providers.core.api import to_data

        return cls.from_api(to_data(right))

    @property
    def awaiting_proofs(self) -> bool:
        """Proofs may be sent (``Preuve en attente`` or ``Preuve à vérifier``)."""
        return self.statut_controle_preuve in (PROOF_PENDING, PROOF_TO_CHECK)

    @property
    def proofs_missing(self) -> bool:
        """GRDF waits for a first sending of proofs (``Preuve en attente``)."""
        return self.statut_controle_preuve == PROOF_PENDING
