"""Pydantic models of GRDF ADICT v2 (Swagger ``adict-b2b-v2`` 1.6 and the ADICT document).

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

Models are frozen, keep unknown fields and build their validators on first use.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from pupitre.providers.core.clock import PARIS

_CONFIG = ConfigDict(frozen=True, extra="allow", defer_build=True, populate_by_name=True)

# -- vocabularies (document, "Différentes possibilités de filtrage") ------------------------------
ROLES = ("AUTORISE_CONTRAT_FOURNITURE", "DETENTEUR_CONTRAT_FOURNITURE",
         "AUTORISE_CONTRAT_INJECTION", "DETENTEUR_CONTRAT_INJECTION")
ACTIVE, TO_VALIDATE, REVOKED, TO_RECHECK, OBSOLETE, REFUSED = (
    "Active", "A valider", "Révoquée", "A revérifier", "Obsolète", "Refusée")
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

_STATE_ALIASES = {"a revérifier": TO_RECHECK, "a révérifier": TO_RECHECK, "a reverifier": TO_RECHECK,
                  "à revérifier": TO_RECHECK, "à valider": TO_VALIDATE, "revoquee": REVOKED,
                  "obsolete": OBSOLETE, "refusee": REFUSED}


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
    parsed = dt.datetime.fromisoformat(str(value).replace(" ", "T", 1) if " " in str(value)
                                       else str(value))
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


Flag = Annotated[bool | None, BeforeValidator(parse_bool)]
LooseDatetime = Annotated[dt.datetime | None, BeforeValidator(parse_datetime)]
LooseDate = Annotated[dt.date | None, BeforeValidator(parse_date)]
Text = Annotated[str | None, BeforeValidator(_blank_none)]


class Base(BaseModel):
    model_config = _CONFIG


class StatusLine(Base):
    """``{"code_statut_traitement", "message_retour_traitement"}``: the NDJSON trailer and
    the body of the action answers and error answers."""

    code_statut_traitement: str
    message_retour_traitement: str | None = None

    @property
    def ok(self) -> bool:
        return self.code_statut_traitement.startswith("0")


class Restitution(Base):
    """``statut_restitution`` of data answers: ``null`` when fine, else ``{code, message}``."""

    code: str | None = None
    message: str | None = None


class AccessRight(Base):
    """One access right (``liste_acces_out``), v1 or v2 field names."""

    id_droit_acces: str
    id_pce: str
    role_tiers: Annotated[str | None, BeforeValidator(normalise_role)] = None
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
    etat_droit_acces: Annotated[str | None, BeforeValidator(normalise_state)] = None
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

    @model_validator(mode="before")
    @classmethod
    def _quirks(cls, data: Any) -> Any:
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


class DeclareBody(Base):
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
    perim_donnees_contractuelles: Flag = False
    perim_donnees_techniques: Flag = False
    perim_donnees_informatives: Flag = False
    perim_donnees_publiees: Flag = False

    def to_api(self) -> dict[str, Any]:
        """The JSON the API expects: dates ISO, booleans ``"Vrai"``/``"Faux"``, blanks dropped."""
        out: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if value is None or value == "":
                continue
            if isinstance(value, bool):
                value = "Vrai" if value else "Faux"
            elif isinstance(value, dt.date):
                value = value.isoformat()
            out[name] = value
        return out


class DeclareResult(AccessRight):
    """Answer of the declaration (201 ``demander_acces_out``): a status line and the right."""

    id_droit_acces: str | None = None  # type: ignore[assignment]
    id_pce: str | None = None  # type: ignore[assignment]
    code_statut_traitement: str | None = None
    message_retour_traitement: str | None = None


class Pce(Base):
    id_pce: str | None = None


class Periode(Base):
    valeur: Text = None
    date_debut: LooseDate = None
    date_fin: LooseDate = None


class Index(Base):
    valeur_index: float | None = None
    horodate_index: LooseDatetime = Field(None, alias="horodate_Index")


class Releve(Base):
    date_releve: LooseDatetime = None
    raison_releve: Text = None
    libelle_raison_releve: Text = None
    qualite_releve: Text = None
    statut_releve: Text = None
    index_brut_debut: Index | None = None
    index_converti_debut: Index | None = None
    index_brut_fin: Index | None = None
    index_converti_fin: Index | None = None


class CoeffCalcul(Base):
    coeff_pta: float | None = None
    valeur_pcs: float | None = None
    coeff_conversion: float | None = None


class Consommation(Base):
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


class Injection(Base):
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


class Bordereau(Base):
    date_debut_bordereau: LooseDatetime = None
    date_fin_bordereau: LooseDatetime = None
    nb_jour_gazier: float | None = None


def _null_block(value: Any) -> Any:
    """Error records carry ``"null"`` strings in place of blocks (Swagger ``Conso_restit_400``)."""
    return None if value in ("null", "") else value


class Reading(Base):
    """One line of ``donnees_consos_publiees`` / ``_informatives`` / ``donnees_injections_publiees``."""

    pce: Pce | None = None
    periode: Periode | None = None
    releve_debut: Annotated[Releve | None, BeforeValidator(_null_block)] = None
    releve_fin: Annotated[Releve | None, BeforeValidator(_null_block)] = None
    consommation: Annotated[Consommation | None, BeforeValidator(_null_block)] = None
    injection: Annotated[Injection | None, BeforeValidator(_null_block)] = None
    bordereau_publication: Annotated[Bordereau | None, BeforeValidator(_null_block)] = None
    statut_restitution: Annotated[Restitution | None, BeforeValidator(_null_block)] = None

    @property
    def energy_kwh(self) -> float | None:
        block = self.consommation or self.injection
        return None if block is None else block.energie


class Profil(Base):
    profil_type_actuel: Text = None


class DonneesContractuelles(Base):
    car: float | None = None
    cja: float | None = None
    profil: Profil | None = None
    tarif_acheminement: Text = None
    date_mes: LooseDate = None


class ContractualData(Base):
    pce: Pce | None = None
    donnees_contractuelles: Annotated[DonneesContractuelles | None, BeforeValidator(_null_block)] = None
    statut_restitution: Annotated[Restitution | None, BeforeValidator(_null_block)] = None


class SituationCompteur(Base):
    numero_rue: Text = None
    nom_rue: Text = None
    complement_adresse: Text = None
    code_postal: Text = None
    commune: Text = None


class CaracteristiquesCompteur(Base):
    frequence: Text = None
    client_sensible_mig: Text = None


class Pitd(Base):
    identifiant_pitd: Text = None
    libelle_pitd: Text = None


class DonneesTechniques(Base):
    situation_compteur: SituationCompteur | None = None
    caracteristiques_compteur: CaracteristiquesCompteur | None = None
    pitd: Pitd | None = None


class TechnicalData(Base):
    pce: Pce | None = None
    donnees_techniques: Annotated[DonneesTechniques | None, BeforeValidator(_null_block)] = None
    statut_restitution: Annotated[Restitution | None, BeforeValidator(_null_block)] = None
