"""The request bodies of the Switchgrid Enedis API v2: ``POST /ask`` and ``POST /order``
(shapes and tolerances: :mod:`pupitre.providers.switchgrid.models`).

Apart from the answers' models: the feeds and ``pupitre check`` read asks and orders and
never build these; they load with the first ask or order sent, or the simulator.
"""

from __future__ import annotations

from typing import Any, Union

from pydantic import ConfigDict

from pupitre.providers.core.text import ApiModel

_CONFIG = ConfigDict(frozen=True, extra="allow", defer_build=True, populate_by_name=True)  # as the answers'


class PostalAddress(ApiModel):
    model_config = _CONFIG

    street: str
    postalCode: str
    city: str
    country: str


class PersonHolder(ApiModel):
    model_config = _CONFIG

    genre: str | None = None  # M | F
    firstName: str
    lastName: str


class CompanyHolder(ApiModel):
    model_config = _CONFIG

    name: str
    siret: str | None = None
    otherNames: list[str] | None = None


class ElectricityContract(ApiModel):
    """A contract given inline in ``POST /ask`` (instead of a search-result uuid)."""

    model_config = _CONFIG

    prm: str
    heldBy: Union[PersonHolder, CompanyHolder]
    address: PostalAddress


class Signer(ApiModel):
    """The person filling in the consent form (the spec requires every field; the
    document's example has only the names)."""

    model_config = _CONFIG

    firstName: str
    lastName: str
    genre: str | None = None
    email: str | None = None
    phone: str | None = None


class ConsentCollectionMedium(ApiModel):
    model_config = _CONFIG

    service: str = "WEB_HOSTED"  # WEB_HOSTED | DOCUSEAL


class AskOptions(ApiModel):
    model_config = _CONFIG

    skipAddressCheck: bool | None = None


class ScopeArgs(ApiModel):
    model_config = _CONFIG

    types: list[str] = []
    directions: list[str] = []


class Scope(ApiModel):
    """``ENEDIS_RAW_API`` / ``DETAILS_CONTRACTUELS`` | ``CONSUMPTION_DATA`` or
    ``ELECTRICITY_TIMESERIES`` (no service)."""

    model_config = _CONFIG

    id: str
    service: str | None = None
    args: ScopeArgs | None = None


class PurposeRef(ApiModel):
    model_config = _CONFIG

    id: str


Purpose = Union[str, PurposeRef]


class ScopesAndPurpose(ApiModel):
    model_config = _CONFIG

    scopes: list[Scope]
    purposes: list[Purpose]


class AskCreate(ApiModel):
    """The ``POST /ask`` body."""

    model_config = _CONFIG

    electricityContracts: list[Union[str, ElectricityContract]]
    signer: Signer
    consentDuration: str
    consentCollectionMedium: ConsentCollectionMedium | None = None
    scopesAndPurpose: list[ScopesAndPurpose] | None = None
    options: AskOptions | None = None

    def body(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class OrderRequestCreate(ApiModel):
    """One item of ``POST /order`` ``requests``.

    ``direction`` is ``CONSUMPTION``/``INJECTION`` for ``LOADCURVE`` and
    ``SOUTIRAGE``/``INJECTION`` for the R6x/C68_ASYNC types (checked by ``rules``).
    """

    model_config = _CONFIG

    type: str
    prms: list[str] | None = None
    direction: str | None = None
    since: str | None = None
    until: str | None = None
    enedisRetryAfterLoadcurveActivation: bool | None = None


class OrderCreate(ApiModel):
    """The ``POST /order`` body."""

    model_config = _CONFIG

    requests: list[OrderRequestCreate]
    consentId: str | None = None

    def body(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


__all__ = [
    "AskCreate",
    "AskOptions",
    "CompanyHolder",
    "ConsentCollectionMedium",
    "ElectricityContract",
    "OrderCreate",
    "OrderRequestCreate",
    "PersonHolder",
    "PostalAddress",
    "Purpose",
    "PurposeRef",
    "Scope",
    "ScopeArgs",
    "ScopesAndPurpose",
    "Signer",
]
