"""The types of GRDF ADICT v2 (Swagger ``adict-b2b-v2`` 1.6 and the ADICT document).

Quirks tolerated, all seen in real or fixture payloads:

- booleans are the strings ``"Vrai"`` / ``"Faux"`` (``""`` reads as unknown);
- ``date_creation`` / ``date_passage_a_*`` are ``"YYYY-MM-DD HH:MM:SS"`` without a zone:
  read as Paris local time; ``""`` and ``null`` both mean absent; dates may carry
  stray spaces (``" 2018-07-05 "`` in the document);
- access rights come with v1 field names (``perim_donnees_techniques_et_contractuelles``,
  ``perim_historique_de_donnees``, ``perim_flux_de_donnees``) or v2 ones
  (``perim_donnees_techniques``, ``perim_donnees_contractuelles``, conso/inj dates);
  the v1 technical-and-contractual flag fills both v2 flags when they are absent;
- the fixture key typo ``"perim_donnees_techniques:"`` (with a colon) is read as
  ``perim_donnees_techniques``;
- roles written with spaces (``"AUTORISE CONTRAT FOURNITURE"``) are normalised.

They are :class:`~pupitre.providers.core.api.ApiStruct` s (frozen; unknown fields ignored, so
an additive change of the API never breaks the dashboard). Data from outside is read with
:func:`read` (:func:`~pupitre.providers.core.api.from_data`): each type's quirks first
(:class:`~pupitre.providers.core.api.Before` on a field, ``before`` on a whole object), then
text cleaned, converted, a mismatch as one :class:`~pupitre.providers.core.errors.PayloadError`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, TypeVar

import msgspec

from pupitre.providers.core.api import ApiBody, ApiStruct, Before, from_data
from pupitre.providers.grdf_adict import rights
from pupitre.providers.grdf_adict.rights import PROVIDER, _blank_none

T = TypeVar("T")

# The vocabulary and the row live in :mod:`rights` (no API types: the rights feed and ``pupitre
# check`` import them alone); here as well for the readers of the API types.
ROLES, STATES, PROOF_STATUSES, ROUTES, OK_CODE = (
    rights.ROLES,
    rights.STATES,
    rights.PROOF_STATUSES,
    rights.ROUTES,
    rights.OK_CODE,
)
ACTIVE, TO_VALIDATE, REVOKED, TO_RECHECK, OBSOLETE, REFUSED = (
    rights.ACTIVE,
    rights.TO_VALIDATE,
    rights.REVOKED,
    rights.TO_RECHECK,
    rights.OBSOLETE,
    rights.REFUSED,
)
PROOF_PENDING, PROOF_TO_CHECK, PROOF_CHECKING, PROOF_OK, PROOF_KO = (
    rights.PROOF_PENDING,
    rights.PROOF_TO_CHECK,
    rights.PROOF_CHECKING,
    rights.PROOF_OK,
    rights.PROOF_KO,
)
RightRow = rights.RightRow
normalise_role, normalise_state = rights.normalise_role, rights.normalise_state
parse_bool, parse_date, parse_datetime = rights.parse_bool, rights.parse_date, rights.parse_datetime


Flag = Annotated[bool | None, Before(parse_bool)]
LooseDatetime = Annotated[dt.datetime | None, Before(parse_datetime)]
LooseDate = Annotated[dt.date | None, Before(parse_date)]
Text = Annotated[str | None, Before(_blank_none)]


def read(data: object, kind: type[T]) -> T:
    """Raw ADICT data (an answer, a stored payload, a body the sandbox receives) as ``kind``
    — a type of this module or a list of them —, quirks applied, text cleaned; a mismatch
    or a refused value raises :class:`~pupitre.providers.core.errors.PayloadError` saying where."""
    return from_data(data, kind, provider=PROVIDER)


class StatusLine(ApiStruct, frozen=True, kw_only=True):
    """``{"code_statut_traitement", "message_retour_traitement"}``: the NDJSON trailer and
    the body of the action answers and error answers."""

    code_statut_traitement: str
    message_retour_traitement: str | None = None

    @property
    def ok(self) -> bool:
        return self.code_statut_traitement.startswith("0")


class Restitution(ApiStruct, frozen=True, kw_only=True):
    """``statut_restitution`` of data answers: ``null`` (or ``"null"``, ``{}``) when fine,
    else ``{code, message}``; a bare string is read as the message."""

    code: Text = None
    message: Text = None

    @classmethod
    def before(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"message": data}
        if isinstance(data, dict) and not isinstance(data.get("code"), (str, type(None))):
            return {**data, "code": str(data["code"])}
        return data

    @property
    def is_error(self) -> bool:
        """A code that is not a ``0…`` success code, or a message without a code."""
        if self.code:
            return not self.code.startswith("0")
        return bool(self.message)


class RightFields(ApiStruct, frozen=True, kw_only=True):
    """The fields of an access right, v1 or v2 names: :class:`AccessRight` (ids required)
    and :class:`DeclareResult` (ids absent when the declaration failed)."""

    id_droit_acces: str | None = None
    id_pce: str | None = None
    role_tiers: Annotated[str | None, Before(normalise_role)] = None
    raison_sociale_du_tiers: Text = None
    nom_titulaire: Text = None
    raison_sociale_du_titulaire: Text = None
    courriel_titulaire: Text = None
    code_postal: Text = None
    numero_telephone_mobile_titulaire: Text = None
    date_debut_droit_acces: LooseDate = None
    date_fin_droit_acces: LooseDate = None
    perim_donnees_techniques: Flag = None
    perim_donnees_contractuelles: Flag = None
    perim_donnees_informatives: Flag = None
    perim_donnees_publiees: Flag = None
    perim_donnees_conso_debut: LooseDate = None
    perim_donnees_conso_fin: LooseDate = None
    perim_donnees_inj_debut: LooseDate = None
    perim_donnees_inj_fin: LooseDate = None
    # v1 only
    perim_donnees_techniques_et_contractuelles: Flag = None
    perim_historique_de_donnees: Flag = None
    perim_flux_de_donnees: Flag = None
    date_creation: LooseDatetime = None
    etat_droit_acces: Annotated[str | None, Before(normalise_state)] = None
    date_revocation: LooseDatetime = None
    source_revocation: Text = None
    date_passage_a_obsolete: LooseDatetime = None
    source_passage_a_obsolete: Text = None
    date_fin_autorisation: LooseDatetime = None
    date_passage_a_refuse: LooseDatetime = None
    source_passage_a_refuse: Text = None
    parcours: Text = None
    statut_controle_preuve: Text = None
    date_limite_transmission_preuve: LooseDate = None

    @classmethod
    def before(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for key in [k for k in data if isinstance(k, str) and k != k.strip(" :")]:
            data.setdefault(key.strip(" :"), data.pop(key))
        if "date_creation" not in data and "date_creation_droit_acces" in data:
            data["date_creation"] = data["date_creation_droit_acces"]
        if "raison_sociale_du_titulaire" not in data and "raison_sociale" in data:
            data["raison_sociale_du_titulaire"] = data["raison_sociale"]
        both = data.get("perim_donnees_techniques_et_contractuelles")
        if both is not None:
            data.setdefault("perim_donnees_techniques", both)
            data.setdefault("perim_donnees_contractuelles", both)
        return data

    @property
    def holder(self) -> str:
        """The holder: the name of a natural person or the company name."""
        return self.nom_titulaire or self.raison_sociale_du_titulaire or ""

    @property
    def is_person(self) -> bool:
        """A natural person (``nom_titulaire``) rather than a legal entity (``raison_sociale``):
        the document gives them 3 days to validate, against 2 for a legal entity."""
        return bool(self.nom_titulaire) and not self.raison_sociale_du_titulaire

    @property
    def proof_deadline(self) -> dt.date | None:
        return self.date_limite_transmission_preuve

    @property
    def awaiting_proofs(self) -> bool:
        """Proofs may be sent: ``Preuve en attente`` (none sent yet) or ``Preuve à vérifier``
        (more may be added)."""
        return self.statut_controle_preuve in (PROOF_PENDING, PROOF_TO_CHECK)

    @property
    def proofs_missing(self) -> bool:
        """GRDF waits for a first sending of proofs (``Preuve en attente``)."""
        return self.statut_controle_preuve == PROOF_PENDING

    @property
    def state_changed_at(self) -> dt.datetime | None:
        """When the right became Révoquée / Obsolète / Refusée (``None`` otherwise)."""
        return {
            REVOKED: self.date_revocation,
            OBSOLETE: self.date_passage_a_obsolete,
            REFUSED: self.date_passage_a_refuse,
        }.get(self.etat_droit_acces or "")


class AccessRight(RightFields, frozen=True, kw_only=True):
    """One access right (``liste_acces_out``), v1 or v2 field names."""

    id_droit_acces: str
    id_pce: str


class DeclareBody(ApiBody, frozen=True, kw_only=True):
    """Body of ``PUT /pce/{id_pce}/droit_acces`` (``demander_acces_in``)."""

    role_tiers: str
    raison_sociale: str | None = None
    nom_titulaire: str | None = None
    code_postal: str
    courriel_titulaire: str
    numero_telephone_mobile_titulaire: str | None = None
    date_debut_droit_acces: LooseDate
    date_fin_droit_acces: LooseDate
    perim_donnees_conso_debut: LooseDate = None
    perim_donnees_conso_fin: LooseDate = None
    perim_donnees_inj_debut: LooseDate = None
    perim_donnees_inj_fin: LooseDate = None
    perim_donnees_contractuelles: Flag = False
    perim_donnees_techniques: Flag = False
    perim_donnees_informatives: Flag = False
    perim_donnees_publiees: Flag = False

    def to_api(self) -> dict[str, Any]:
        """The JSON the API expects: dates ISO, booleans ``"Vrai"``/``"Faux"``, blanks dropped."""
        out: dict[str, Any] = {}
        for name in self.__struct_fields__:
            value = getattr(self, name)
            if value is None or value == "":
                continue
            if isinstance(value, bool):
                value = "Vrai" if value else "Faux"
            elif isinstance(value, dt.date):
                value = value.isoformat()
            out[name] = value
        return out


class DeclareResult(RightFields, frozen=True, kw_only=True):
    """Answer of the declaration (201 ``demander_acces_out``): a status line and the right."""

    code_statut_traitement: str | None = None
    message_retour_traitement: str | None = None


class Pce(ApiStruct, frozen=True, kw_only=True):
    id_pce: str | None = None


class Periode(ApiStruct, frozen=True, kw_only=True):
    valeur: Text = None
    date_debut: LooseDate = None
    date_fin: LooseDate = None


class Index(ApiStruct, frozen=True, kw_only=True):
    valeur_index: float | None = None
    horodate_index: LooseDatetime = msgspec.field(default=None, name="horodate_Index")

    @classmethod
    def before(cls, data: Any) -> Any:
        """``horodate_Index`` (Swagger) or ``horodate_index``."""
        if isinstance(data, dict) and "horodate_index" in data and "horodate_Index" not in data:
            data = dict(data)
            data["horodate_Index"] = data.pop("horodate_index")
        return data


class Releve(ApiStruct, frozen=True, kw_only=True):
    date_releve: LooseDatetime = None
    raison_releve: Text = None
    libelle_raison_releve: Text = None
    qualite_releve: Text = None
    statut_releve: Text = None
    index_brut_debut: Index | None = None
    index_converti_debut: Index | None = None
    index_brut_fin: Index | None = None
    index_converti_fin: Index | None = None


class CoeffCalcul(ApiStruct, frozen=True, kw_only=True):
    coeff_pta: float | None = None
    valeur_pcs: float | None = None
    coeff_conversion: float | None = None


class Consommation(ApiStruct, frozen=True, kw_only=True):
    date_debut_consommation: LooseDatetime = None
    date_fin_consommation: LooseDatetime = None
    flag_retour_zero: Flag = None
    volume_brut: float | None = None
    coeff_calcul: CoeffCalcul | None = None
    volume_converti: float | None = None
    energie: float | None = None
    type_qualif_conso: Text = None
    sens_flux_gaz: Text = None
    statut_conso: Text = None
    journee_gaziere: LooseDate = None
    type_conso: Text = None


class Injection(ApiStruct, frozen=True, kw_only=True):
    date_debut_injection: LooseDatetime = None
    date_fin_injection: LooseDatetime = None
    flag_retour_zero: Flag = None
    volume_brut: float | None = None
    coeff_calcul: CoeffCalcul | None = None
    volume_converti: float | None = None
    energie: float | None = None
    type_qualif_injection: Text = None
    sens_flux_gaz: Text = None
    statut_injection: Text = None
    journee_gaziere: LooseDate = None
    type_injection: Text = None


class Bordereau(ApiStruct, frozen=True, kw_only=True):
    date_debut_bordereau: LooseDatetime = None
    date_fin_bordereau: LooseDatetime = None
    nb_jour_gazier: float | None = None


def _null_block(value: Any) -> Any:
    """Error records carry ``"null"`` strings in place of blocks (Swagger ``Conso_restit_400``);
    the Swagger's success example has ``"statut_restitution": {}``."""
    return None if value in ("null", "", {}) else value


class Reading(ApiStruct, frozen=True, kw_only=True):
    """One line of ``donnees_consos_publiees`` / ``_informatives`` / ``donnees_injections_publiees``."""

    pce: Pce | None = None
    periode: Periode | None = None
    releve_debut: Annotated[Releve | None, Before(_null_block)] = None
    releve_fin: Annotated[Releve | None, Before(_null_block)] = None
    consommation: Annotated[Consommation | None, Before(_null_block)] = None
    injection: Annotated[Injection | None, Before(_null_block)] = None
    bordereau_publication: Annotated[Bordereau | None, Before(_null_block)] = None
    statut_restitution: Annotated[Restitution | None, Before(_null_block)] = None

    @property
    def energy_kwh(self) -> float | None:
        block = self.consommation or self.injection
        return None if block is None else block.energie

    @property
    def start(self) -> dt.datetime | None:
        """Start of the measured period (consumption or injection block, else the start reading)."""
        if self.consommation is not None and self.consommation.date_debut_consommation:
            return self.consommation.date_debut_consommation
        if self.injection is not None and self.injection.date_debut_injection:
            return self.injection.date_debut_injection
        return self.releve_debut.date_releve if self.releve_debut else None

    @property
    def end(self) -> dt.datetime | None:
        if self.consommation is not None and self.consommation.date_fin_consommation:
            return self.consommation.date_fin_consommation
        if self.injection is not None and self.injection.date_fin_injection:
            return self.injection.date_fin_injection
        return self.releve_fin.date_releve if self.releve_fin else None

    @property
    def volume_m3(self) -> float | None:
        block = self.consommation or self.injection
        return None if block is None else block.volume_brut

    @property
    def qualification(self) -> str | None:
        """``Mesuré`` / ``Estimé`` / ``Corrigé`` / ``Absence de Données`` (document)."""
        if self.consommation is not None:
            return self.consommation.type_qualif_conso
        return self.injection.type_qualif_injection if self.injection is not None else None

    @property
    def status(self) -> str | None:
        """``Définitive`` / ``Provisoire`` …"""
        if self.consommation is not None:
            return self.consommation.statut_conso
        return self.injection.statut_injection if self.injection is not None else None

    @property
    def flow(self) -> str | None:
        """``Consommation`` or ``Production`` (biomethane)."""
        block = self.consommation or self.injection
        return None if block is None else block.sens_flux_gaz

    @property
    def index_start(self) -> float | None:
        index = self.releve_debut.index_brut_debut if self.releve_debut else None
        return index.valeur_index if index else None

    @property
    def index_end(self) -> float | None:
        index = self.releve_fin.index_brut_fin if self.releve_fin else None
        return index.valeur_index if index else None


def _number(value: Any) -> Any:
    """Numbers arrive as numbers (Swagger) or strings (``"2667"`` in the document)."""
    value = _blank_none(value)
    if isinstance(value, str):
        return float(value.replace(",", "."))
    return value


Number = Annotated[float | None, Before(_number)]


class Profil(ApiStruct, frozen=True, kw_only=True):
    profil_type_actuel: Text = None
    profil_type_futur: Text = None
    date_debut_profil_type_actuel: LooseDate = None
    #: ``9999-12-31`` (open-ended) is kept as is.
    date_fin_profil_type_actuel: LooseDate = None


class Modulation(ApiStruct, frozen=True, kw_only=True):
    modulation_n_1: Number = None
    modulation_n_2: Number = None
    modulation_n_3: Number = None
    assiette: Number = None


class DonneesContractuelles(ApiStruct, frozen=True, kw_only=True):
    """Swagger 1.6 gives ``car`` and ``cja`` as numbers; the document (v1.7+) as blocks
    ``car: {car_actuelle, car_future}`` and ``cja: {cja, cja_journaliere, cja_mensuelle}``.
    Both read the same way: :attr:`car` is the current CAR, :attr:`cja` the CJA, and the
    other values get their own fields."""

    car: Number = None
    car_future: Number = None
    cja: Number = None
    cja_journaliere: Number = None
    cja_mensuelle: Number = None
    profil: Profil | None = None
    modulation: Modulation | None = None
    tarif_acheminement: Text = None
    date_mes: LooseDate = None
    date_publication: LooseDate = None
    consommation_journaliere_plafond: Number = None

    @classmethod
    def before(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        car = data.get("car")
        if isinstance(car, dict):
            data["car"] = car.get("car_actuelle")
            data.setdefault("car_future", car.get("car_future"))
        cja = data.get("cja")
        if isinstance(cja, dict):
            data["cja"] = cja.get("cja")
            data.setdefault("cja_journaliere", cja.get("cja_journaliere"))
            data.setdefault("cja_mensuelle", cja.get("cja_mensuelle"))
        return data


class ContractualData(ApiStruct, frozen=True, kw_only=True):
    """The document's example closes ``donnees_contractuelles`` after ``car`` and leaves
    ``cja``, ``profil`` and ``modulation`` at the top level: they are moved back inside."""

    pce: Pce | None = None
    donnees_contractuelles: Annotated[DonneesContractuelles | None, Before(_null_block)] = None
    statut_restitution: Annotated[Restitution | None, Before(_null_block)] = None

    @classmethod
    def before(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        stray = [k for k in ("cja", "profil", "modulation") if k in data]
        block = data.get("donnees_contractuelles")
        if not stray or not isinstance(block, dict):
            return data
        data = dict(data)
        block = dict(block)
        for key in stray:
            block.setdefault(key, data.pop(key))
        data["donnees_contractuelles"] = block
        return data


class SituationCompteur(ApiStruct, frozen=True, kw_only=True):
    numero_rue: Text = None
    nom_rue: Text = None
    complement_adresse: Text = None
    code_postal: Text = None
    commune: Text = None


class CaracteristiquesCompteur(ApiStruct, frozen=True, kw_only=True):
    #: ``6M``, ``1M`` (14-digit PCE), ``MM``, ``JJ`` (``GI`` PCE) — document's frequency table.
    frequence: Text = None
    client_sensible_mig: Text = None
    code_calibre: Text = None
    code_debit: Text = None
    code_debit_normalise: Text = None
    pression_livraison: Text = None
    matricule_compteur: Text = None


class Pitd(ApiStruct, frozen=True, kw_only=True):
    identifiant_pitd: Text = None
    libelle_pitd: Text = None


class RegimePropriete(ApiStruct, frozen=True, kw_only=True):
    regime_propriete_compteur: Text = None
    regime_propriete_convertisseur: Text = None
    regime_propriete_poste: Text = None
    regime_propriete_enregistreur: Text = None


class DonneesTechniques(ApiStruct, frozen=True, kw_only=True):
    situation_compteur: SituationCompteur | None = None
    caracteristiques_compteur: CaracteristiquesCompteur | None = None
    pitd: Pitd | None = None
    regime_propriete: RegimePropriete | None = None


class TechnicalData(ApiStruct, frozen=True, kw_only=True):
    pce: Pce | None = None
    donnees_techniques: Annotated[DonneesTechniques | None, Before(_null_block)] = None
    statut_restitution: Annotated[Restitution | None, Before(_null_block)] = None

    @property
    def frequency(self) -> str | None:
        block = self.donnees_techniques.caracteristiques_compteur if self.donnees_techniques else None
        return block.frequence if block else None
