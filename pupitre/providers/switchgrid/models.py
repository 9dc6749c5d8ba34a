"""The types of the Switchgrid Enedis API v2 (OpenAPI file of 2024-11-13).

Shapes follow ``switchgrid-enedis-v2-openapi.2024-11-13.json``; where the prose
document and the OpenAPI file differ, both are accepted:

- ``POST /ask``: ``purposes`` are strings (document, starter) or ``{"id": …}`` (spec);
  scopes are the ``ENEDIS_RAW_API`` ones (document, spec) or ``ELECTRICITY_TIMESERIES``
  (spec, starter); the document's example has ``purposes`` (and its prose ``scopes``) at
  the top level and no ``consentCollectionMedium``/``scopesAndPurpose``: both forms are
  fields of the body; a legal entity holder has a ``siret`` (spec) or a ``siren``
  (document); the starter's person holder has an ``email``.
- ``POST /order``: the spec's body is ``consentId`` + ``requests`` without ``prms``;
  the document's requests carry ``prms`` and no ``consentId``. Both parse;
  :func:`pupitre.providers.switchgrid.rules.validate_order` checks the combination.
- the document's examples omit ``id`` in contracts and order requests, ``createdAt``
  etc. in asks: such fields are optional here.

The request bodies (``POST /ask``, ``POST /order``) are in :mod:`pupitre.providers.switchgrid.bodies`.
Statuses and request types are plain strings (an unknown value is tolerated; the
known ones are in :mod:`rules`). The types are :class:`~pupitre.providers.core.api.ApiStruct`:
read from outside with :func:`~pupitre.providers.core.api.from_data` (text cleaned, unknown
fields ignored, so an additive change of the API never breaks the dashboard).
"""

from __future__ import annotations

from typing import Any

from pupitre.providers.core.api import ApiStruct, AwareDatetime

#: The API's name in the sentences of its errors (:class:`~pupitre.providers.core.errors.ApiError`).
PROVIDER = "Switchgrid"


class InstallationAddress(ApiStruct, frozen=True, kw_only=True):
    """``adresseInstallationNormalisee``: the Enedis postal lines 1–7 (all optional)."""

    ligne1: str | None = None
    ligne2: str | None = None
    ligne3: str | None = None
    ligne4: str | None = None
    ligne5: str | None = None
    ligne6: str | None = None
    ligne7: str | None = None

    def lines(self) -> list[str]:
        return [
            v for v in (self.ligne1, self.ligne2, self.ligne3, self.ligne4, self.ligne5, self.ligne6, self.ligne7) if v
        ]

    def __str__(self) -> str:
        return ", ".join(self.lines())


class Contract(ApiStruct, frozen=True, kw_only=True):
    """One ``GET /search_contract`` result (also ``contracts[]`` of an ask)."""

    nomClientFinalOuDenominationSociale: str
    prm: str
    id: str | None = None  # required by the spec, absent from the document's example
    categorieClientFinalCode: str | None = None  # RES | PRO
    adresseInstallationNormalisee: InstallationAddress = InstallationAddress()


class ContractSearch(ApiStruct, frozen=True, kw_only=True):
    results: list[Contract] = []


class ConsentCollectionDetails(ApiStruct, frozen=True, kw_only=True):
    service: str
    userUrl: str | None = None


class AddressCheckResult(ApiStruct, frozen=True, kw_only=True):
    status: str  # SUCCESS | FAILURE


class Ask(ApiStruct, frozen=True, kw_only=True):
    """An ask as ``POST /ask``, ``GET /ask/{id}`` and ``GET /ask`` items return it."""

    id: str
    status: str
    createdAt: AwareDatetime | None = None
    acceptedAt: AwareDatetime | None = None
    consentCollectionDetails: ConsentCollectionDetails | None = None
    createArgs: dict[str, Any] = {}
    addressCheckResults: dict[str, AddressCheckResult] = {}
    consentIds: dict[str, str] = {}
    contracts: list[Contract] = []

    @property
    def user_url(self) -> str | None:
        details = self.consentCollectionDetails
        return details.userUrl if details is not None else None

    @property
    def prms(self) -> list[str]:
        return list(self.consentIds) or [c.prm for c in self.contracts]


class AskPage(ApiStruct, frozen=True, kw_only=True):
    """One page of ``GET /ask`` (``skip``/``limit`` paging)."""

    skip: int
    limit: int
    totalItemsCount: int
    returnedItemsCount: int
    items: list[Ask] = []

    @property
    def has_more(self) -> bool:
        return self.skip + self.returnedItemsCount < self.totalItemsCount


class InlineLoadCurve(ApiStruct, frozen=True, kw_only=True):
    """``loadCurve`` of an order request, and the JSON form of ``GET /request/{id}/data``:
    ``values[i]`` is the mean power in W over ``[startsAt + i·period, … + period)``,
    ``null`` for a gap."""

    period: str
    startsAt: AwareDatetime
    endsAt: AwareDatetime
    values: list[float | None]


class OrderRequest(ApiStruct, frozen=True, kw_only=True):
    """One request of an order (``GET /order/{id}`` ``requests[]``)."""

    type: str
    status: str  # NOT_STARTED | PENDING | SUCCESS | FAILED | PENDING_ADDRESS_CHECK
    id: str | None = None  # required by the spec, absent from the document's examples
    orderedAt: AwareDatetime | None = None
    completedAt: AwareDatetime | None = None
    dataUrl: str | None = None
    errorMessage: str | None = None
    loadCurve: InlineLoadCurve | None = None
    prm: str | None = None  # not in the spec; the simulator adds it


class Order(ApiStruct, frozen=True, kw_only=True):
    id: str
    # CREATED | PENDING_ADDRESS_CHECK | ADDRESS_CHECK_FAILED | PENDING_REQUESTS | SOME_REQUESTS_FAILED | SUCCESS
    status: str
    requests: list[OrderRequest] = []

    def failed(self) -> list[OrderRequest]:
        return [r for r in self.requests if r.status == "FAILED"]


__all__ = [
    "PROVIDER",
    "AddressCheckResult",
    "Ask",
    "AskPage",
    "ConsentCollectionDetails",
    "Contract",
    "ContractSearch",
    "InlineLoadCurve",
    "InstallationAddress",
    "Order",
    "OrderRequest",
]
