"""The request bodies of the Switchgrid Enedis API v2: ``POST /ask`` and ``POST /order``
(shapes and tolerances: :mod:`pupitre.providers.switchgrid.models`).

Apart from the answers' types: the feeds and ``pupitre check`` read asks and orders and
never build these; they load with the first ask or order sent, or the simulator. They are
:class:`~pupitre.providers.core.api.ApiBody`: their text is cleaned when built in code too;
read from a dict with :func:`~pupitre.providers.core.api.from_data`, sent as
:meth:`AskCreate.body` / :meth:`OrderCreate.body` (the fields left empty are not sent).
"""

from __future__ import annotations

from typing import Any, Union

from pupitre.providers.core.api import ApiBody
from pupitre.providers.switchgrid.rules import json_body


class PostalAddress(ApiBody, frozen=True, kw_only=True):
    street: str
    postalCode: str
    city: str
    country: str


class Holder(ApiBody, frozen=True, kw_only=True):
    """``heldBy``: a natural person (``genre`` M | F, ``firstName``, ``lastName``) or a legal
    entity (``name``, its ``siret`` in the spec, ``siren`` in the document, ``otherNames``).

    One type for the spec's ``anyOf`` of two objects (msgspec reads a union of two object
    types only when a field tags them, and these have none): a holder with neither both
    names of a person nor a company name is refused."""

    genre: str | None = None
    firstName: str | None = None
    lastName: str | None = None
    email: str | None = None  # the starter's example has it
    name: str | None = None
    siret: str | None = None
    siren: str | None = None
    otherNames: list[str] | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.name is None and (self.firstName is None or self.lastName is None):
            raise ValueError("heldBy is a person (firstName and lastName) or a company (name)")

    @property
    def is_company(self) -> bool:
        return self.name is not None


class ElectricityContract(ApiBody, frozen=True, kw_only=True):
    """A contract given inline in ``POST /ask`` (instead of a search-result uuid)."""

    prm: str
    heldBy: Holder
    address: PostalAddress


class Signer(ApiBody, frozen=True, kw_only=True):
    """The person filling in the consent form (the spec requires every field; the
    document's example has only the names)."""

    firstName: str
    lastName: str
    genre: str | None = None
    email: str | None = None
    phone: str | None = None


class ConsentCollectionMedium(ApiBody, frozen=True, kw_only=True):
    service: str = "WEB_HOSTED"  # WEB_HOSTED | DOCUSEAL


class AskOptions(ApiBody, frozen=True, kw_only=True):
    skipAddressCheck: bool | None = None


class ScopeArgs(ApiBody, frozen=True, kw_only=True):
    types: list[str] = []
    directions: list[str] = []


class Scope(ApiBody, frozen=True, kw_only=True):
    """``ENEDIS_RAW_API`` / ``DETAILS_CONTRACTUELS`` | ``CONSUMPTION_DATA`` or
    ``ELECTRICITY_TIMESERIES`` (no service)."""

    id: str
    service: str | None = None
    args: ScopeArgs | None = None


class PurposeRef(ApiBody, frozen=True, kw_only=True):
    id: str


Purpose = Union[str, PurposeRef]


class ScopesAndPurpose(ApiBody, frozen=True, kw_only=True):
    scopes: list[Scope]
    purposes: list[Purpose]


class AskCreate(ApiBody, frozen=True, kw_only=True):
    """The ``POST /ask`` body: the spec's form (``consentCollectionMedium``,
    ``scopesAndPurpose``) or the document's (``purposes`` and ``scopes`` at the top level)."""

    electricityContracts: list[Union[str, ElectricityContract]]
    signer: Signer
    consentDuration: str
    consentCollectionMedium: ConsentCollectionMedium | None = None
    scopesAndPurpose: list[ScopesAndPurpose] | None = None
    options: AskOptions | None = None
    purposes: list[Purpose] | None = None  # the document's example
    scopes: list[Scope] | None = None  # the document's prose

    def body(self) -> dict[str, Any]:
        return json_body(self)


class OrderRequestCreate(ApiBody, frozen=True, kw_only=True):
    """One item of ``POST /order`` ``requests``.

    ``direction`` is ``CONSUMPTION``/``INJECTION`` for ``LOADCURVE`` and
    ``SOUTIRAGE``/``INJECTION`` for the R6x/C68_ASYNC types (checked by ``rules``).
    """

    type: str
    prms: list[str] | None = None
    direction: str | None = None
    since: str | None = None
    until: str | None = None
    enedisRetryAfterLoadcurveActivation: bool | None = None


class OrderCreate(ApiBody, frozen=True, kw_only=True):
    """The ``POST /order`` body."""

    requests: list[OrderRequestCreate]
    consentId: str | None = None

    def body(self) -> dict[str, Any]:
        return json_body(self)


__all__ = [
    "AskCreate",
    "AskOptions",
    "ConsentCollectionMedium",
    "ElectricityContract",
    "Holder",
    "OrderCreate",
    "OrderRequestCreate",
    "PostalAddress",
    "Purpose",
    "PurposeRef",
    "Scope",
    "ScopeArgs",
    "ScopesAndPurpose",
    "Signer",
]
