"""The types of the GRDF OMEGA « Suivi demande » API (§2.2.2, Annex B).

§2.2.2: every answer of ``GET /demande/v1/demandes/{numero_demande}/externe`` is one
JSON object, "structured around a root and 5 main blocks": the root carries the
general information (typed here, field names are the document's own), the blocks
``informations_fournisseur``, ``informations_contractuelles``,
``informations_realisation``, ``informations_intervention`` and
``informations_client`` are kept whole as dictionaries — their fields "vary with
the type of request" and their detailed mapping is in an Excel annex we do not have.
The document's example has no ``informations_intervention``: every block may be
absent.

``cree_le`` is an offset timestamp (``2025-03-05T15:25:35.932464+01:00``): it must
carry its offset and is exposed in Europe/Paris. The other dates are calendar dates.

They are :class:`~pupitre.providers.core.api.ApiStruct`: read from outside with
:func:`~pupitre.providers.core.api.from_data` (text cleaned, unknown fields ignored, so an
additive change of the API never breaks the dashboard).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from pupitre.providers.core.api import ApiStruct, AwareDatetime
from pupitre.providers.core.clock import PARIS
from pupitre.providers.core.secrets import Secret

#: The five §2.2.2 blocks, in the document's order.
BLOCKS = (
    "informations_fournisseur",
    "informations_contractuelles",
    "informations_realisation",
    "informations_intervention",
    "informations_client",
)


class CodeLabel(ApiStruct, frozen=True, kw_only=True):
    """A ``{"code", "libelle"}`` pair (§2.2.2: type_demande, cdgf, statut_externe_demande…)."""

    code: str
    libelle: str | None = None

    def __str__(self) -> str:
        return f"{self.code} {self.libelle}" if self.libelle else self.code


class Demande(ApiStruct, frozen=True, kw_only=True):
    """One supplier request as ``GET …/demandes/{numero_demande}/externe`` returns it (§2.2.2).

    Only ``numero_demande``, ``type_demande``, ``cdgf``, ``statut_externe_demande`` and
    ``cree_le`` are required: the document's example has them all, and a request
    without a number, type, supplier, status or creation instant is unusable.
    ``cree_le`` must carry its offset, and is exposed in Europe/Paris.
    """

    # -- root: general information ----------------------------------------------------------
    numero_demande: str
    type_demande: CodeLabel
    cdgf: CodeLabel
    statut_externe_demande: CodeLabel
    cree_le: AwareDatetime
    mode_traitement: CodeLabel | None = None
    est_demande_fournisseur: bool | None = None
    cree_par: str | None = None
    cree_automatiquement: bool | None = None
    date_effet_contractuel: dt.date | None = None
    date_dernier_changement_statut_externe: dt.date | None = None
    derniere_date_demandee: dt.date | None = None
    fournisseur_peut_prendre_rdv: bool | None = None
    est_digitalisable: bool | None = None
    presence_pj: bool | None = None
    commentaire_soumission_analyse: str | None = None
    cdgf_erreur_pce: dict[str, Any] | None = None

    # -- the five blocks (fields vary by request type) -------------------------------------
    informations_fournisseur: dict[str, Any] | None = None
    informations_contractuelles: dict[str, Any] | None = None
    informations_realisation: dict[str, Any] | None = None
    informations_intervention: dict[str, Any] | None = None
    informations_client: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        msgspec.structs.force_setattr(self, "cree_le", self.cree_le.astimezone(PARIS))

    @property
    def type_code(self) -> str:
        """The request type's code (§1.2), e.g. ``CHF``."""
        return self.type_demande.code

    @property
    def status_code(self) -> str:
        """The external status code, e.g. ``ATTRDV``."""
        return self.statut_externe_demande.code

    def blocks(self) -> dict[str, dict[str, Any]]:
        """The blocks present in the answer, in the §2.2.2 order."""
        return {name: block for name in BLOCKS if (block := getattr(self, name)) is not None}


class OktaToken(ApiStruct, frozen=True, kw_only=True):
    """The OKTA token answer (Annex B): a Bearer token valid ``expires_in`` seconds (1 h, §1.4).

    ``access_token`` is a :class:`~pupitre.providers.core.secrets.Secret`: never shown by
    ``repr``/``str``. The scope is ``suivi_demande`` in §1.4 and ``SUIVI_DEMANDE`` in Annex B.
    """

    token_type: str
    expires_in: int
    access_token: Secret
    scope: str | None = None
