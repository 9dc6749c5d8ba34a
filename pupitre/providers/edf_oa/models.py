"""Pydantic models of the EDF OA « SMART OA » API (§3.3 to §9.2.4).

Field names are the document's own (snake_case already). Every answer is wrapped
in the §3.3 envelope ``{data, meta, errors}`` (:class:`Envelope`); the client
unwraps ``data``.

Timestamps. §4 to §8 type dates as ``YYYY-MM-DDThh:mm:ss+TIMEZONE`` (an explicit
offset): :data:`Timestamp` parses them as aware datetimes and exposes them in
Europe/Paris; a value without offset (not documented) is taken as Paris wall time.
§9 (vault) types ``expires_at`` as ``YYYY-MM-DDThh:mm:ssZ``: :data:`UtcTimestamp`
reads it as real UTC (a naive value too) and exposes it in Paris. Serialising (the
simulator) writes the document's formats back.

Models are frozen and ignore unknown fields, so an additive change of the API
does not break the dashboard.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Generic, Iterator, Sequence, TypeVar

import msgspec
from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, SecretStr, StrictBool

from pupitre.providers.core.clock import PARIS, UTC
from pupitre.providers.core.text import ApiModel, unknown_word

T = TypeVar("T")
OrderT = TypeVar("OrderT", bound=BaseModel)

# defer_build: validators are built on first use, not at import (start-up time).
_CONFIG = ConfigDict(frozen=True, populate_by_name=True, defer_build=True)


# -- timestamps ---------------------------------------------------------------------------


def _parse(value: Any, naive: dt.tzinfo, example: str) -> dt.datetime:
    """An ISO 8601 timestamp as an aware Paris datetime; a naive one is taken in ``naive``."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"expected a timestamp like {example}") from None
    else:
        raise ValueError(f"expected a timestamp like {example}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=naive)
    return moment.astimezone(PARIS)


def parse_timestamp(value: Any) -> dt.datetime:
    """A §4-§8 ``YYYY-MM-DDThh:mm:ss+TIMEZONE`` timestamp as an aware Paris datetime.

    ``Z`` and ``+HHMM`` offsets are accepted; a naive value is Paris wall time.
    """
    return _parse(value, PARIS, "2025-09-22T13:05:00+02:00")


def format_timestamp(value: dt.datetime) -> str:
    """Write ``YYYY-MM-DDThh:mm:ss+hh:mm`` with the Paris offset of that instant."""
    return parse_timestamp(value).isoformat(timespec="seconds")


def parse_utc_timestamp(value: Any) -> dt.datetime:
    """A §9 ``YYYY-MM-DDThh:mm:ssZ`` timestamp (real UTC) as an aware Paris datetime."""
    return _parse(value, UTC, "2026-02-20T12:00:00Z")


def format_utc_timestamp(value: dt.datetime) -> str:
    """Write ``YYYY-MM-DDThh:mm:ssZ`` in UTC (§9.1.4)."""
    return parse_utc_timestamp(value).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


#: §4-§8 timestamp: aware Europe/Paris in Python, ``+hh:mm`` offset in JSON.
Timestamp = Annotated[
    dt.datetime, BeforeValidator(parse_timestamp), PlainSerializer(format_timestamp, return_type=str, when_used="json")
]
#: §9 timestamp: real UTC ``Z`` in JSON, aware Europe/Paris in Python.
UtcTimestamp = Annotated[
    dt.datetime,
    BeforeValidator(parse_utc_timestamp),
    PlainSerializer(format_utc_timestamp, return_type=str, when_used="json"),
]


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


#: RG_REP_ACK_0060 / §5.2.4: where an acknowledgement was made (case-tolerant).
ACK_SOURCES = ("API", "PORTAL")
#: RG_REP_ACK_0050: retrieval of the order, or sending of the acknowledgement.
ACK_TYPES = ("GET_ORDER", "SET_ACK")
#: RG_CON_0020: contract status.
CONTRACT_STATUSES = ("ACTIVE", "EXPIRED")
# Read as text: a value the document does not list is kept and shown ``? unknown (FAX)``
# on its one row (:func:`shown`) rather than failing the whole answer.
AckSource = Annotated[str, BeforeValidator(_upper)]
AckType = Annotated[str, BeforeValidator(_upper)]
ContractStatus = Annotated[str, BeforeValidator(_upper)]


def shown(value: str, known: tuple[str, ...]) -> str:
    """``value`` for the screen: as is when the document lists it, else ``? unknown (…)``."""
    return value if value in known else unknown_word(value)


# -- envelope (§3.3, §3.4.2) ----------------------------------------------------------------


class ApiErrorItem(ApiModel):
    """One item of ``errors`` (§3.4.2; the example is missing): ``code``, ``message``, ``field``."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="allow", defer_build=True)

    code: str | int | None = None
    message: str = Field("", validation_alias=AliasChoices("message", "Message", "detail"))
    field: str | None = None


def _error_list(value: Any) -> Any:
    if value is None:
        return []
    if isinstance(value, (dict, str)):
        return [value]
    return value


def _error_item(value: Any) -> Any:
    return {"message": value} if isinstance(value, str) else value


def _meta(value: Any) -> Any:
    return {} if value is None else value


class Envelope(ApiModel, Generic[T]):
    """§3.3: every answer is ``{data, meta, errors}``.

    ``data`` may be null (POST, errors); ``meta`` a dict (null read as empty);
    ``errors`` a list, a single object or null (the document's example is missing).
    """

    model_config = ConfigDict(frozen=True, defer_build=True)

    data: T | None = None
    meta: Annotated[dict[str, Any], BeforeValidator(_meta)] = Field(default_factory=dict)
    errors: Annotated[list[Annotated[ApiErrorItem, BeforeValidator(_error_item)]], BeforeValidator(_error_list)] = (
        Field(default_factory=list)
    )

    def error_messages(self) -> list[str]:
        """The non-empty ``errors[].message`` values, in order."""
        return [item.message for item in self.errors if item.message]


# -- curtailment order (§4.1.4) -------------------------------------------------------------


class Period(ApiModel):
    """One period of a curtailment order (§4.1.4).

    RG_COR_0030: ``value`` 1.0 means curtailment needed on the period, 0.0 none.
    """

    model_config = _CONFIG

    start_date: Timestamp
    end_date: Timestamp
    value: float


class ContractCurtailment(ApiModel):
    """A contract's curtailment instruction for the day (§4.1.4).

    ``producer_id`` is shown to admin accounts only (RG_COR_0050), ``manager_id`` to
    producer and admin accounts (RG_COR_0040).
    """

    model_config = _CONFIG

    producer_id: str | None = None
    manager_id: str | None = None
    contract_id: str
    plant_id: str
    data: list[Period]


class CurtailmentOrder(ApiModel):
    """``GET /curtailments`` (§4.1.4): tomorrow's order (RG_COR_0010)."""

    model_config = _CONFIG

    order_id: str
    updated_at: Timestamp
    application_date: dt.date
    curtailments: list[ContractCurtailment]

    @property
    def contract_ids(self) -> list[str]:
        """The order's contract ids in the order's own order, without repeats."""
        return list(dict.fromkeys(c.contract_id for c in self.curtailments))

    def contract(self, contract_id: str) -> ContractCurtailment | None:
        """The first entry of ``contract_id``, or ``None``."""
        return next((c for c in self.curtailments if c.contract_id == contract_id), None)


# -- acknowledgements (§5.1.3, §5.2.4) --------------------------------------------------------


class AckItem(ApiModel):
    """One acknowledgement sent (§5.1.3). RG_ACK_0020: ``true`` = will respect the order."""

    model_config = _CONFIG

    contract_id: str = Field(min_length=1)
    ack_value: StrictBool


class AcknowledgementRequest(ApiModel):
    """``POST /acknowledgements`` body (§5.1.3): the order's id and 1..n acknowledgements."""

    model_config = _CONFIG

    order_id: str = Field(min_length=1)
    acknowledgements: list[AckItem] = Field(min_length=1)


class AckEntry(ApiModel):
    """One acknowledgement made (§5.2.4): by whom, value, when, from the API or the portal."""

    model_config = _CONFIG

    user_id: str
    ack_value: bool
    ack_date: Timestamp
    ack_source: AckSource


class ContractAcks(ApiModel):
    """A contract's acknowledgements of the day (§5.2.4; ids visible per RG_ACK_5020/5030)."""

    model_config = _CONFIG

    producer_id: str | None = None
    manager_id: str | None = None
    contract_id: str
    ack_list: list[AckEntry] = Field(default_factory=list)


class AcknowledgementsState(ApiModel):
    """``GET /acknowledgements`` (§5.2.4): the acknowledgements made for J+1."""

    model_config = _CONFIG

    order_id: str
    updated_at: Timestamp
    application_date: dt.date
    acknowledgements: list[ContractAcks] = Field(default_factory=list)


# -- contracts (§6.1.4) ---------------------------------------------------------------------


class Contract(ApiModel):
    """``GET /contracts`` item (§6.1.4); ``status`` per RG_CON_0020.

    ``producer_id``/``manager_id`` are optional: their visibility depends on the account.
    """

    model_config = _CONFIG

    id: str
    created_at: Timestamp
    updated_at: Timestamp
    producer_id: str | None = None
    manager_id: str | None = None
    plant_id: str
    status: ContractStatus


# -- reports (§7.1.4, §8.1.4) ---------------------------------------------------------------


class ReportAck(ApiModel):
    """An ack-report event (§7.1.4): RG_REP_ACK_0050 type, RG_REP_ACK_0060 source.

    ``ack_value`` is null for a ``GET_ORDER`` event.
    """

    model_config = _CONFIG

    ack_source: AckSource
    ack_type: AckType
    ack_value: bool | None = None
    ack_date: Timestamp
    user_id: str


class AckReportOrder(ApiModel):
    """An order in the ack report (§7.1.4)."""

    model_config = _CONFIG

    application_date: dt.date
    order_id: str
    acknowledgements: list[ReportAck] = Field(default_factory=list)


class CurtailmentData(ApiModel):
    """§8.1.4 ``curtailment_data``: the order's periods for the contract."""

    model_config = _CONFIG

    periods: list[Period] = Field(default_factory=list)


class CurtailmentReportOrder(ApiModel):
    """An order in the curtailment report (§8.1.4)."""

    model_config = _CONFIG

    application_date: dt.date
    order_id: str
    curtailment_data: CurtailmentData


class ReportContract(ApiModel, Generic[OrderT]):
    """A contract of a report with its orders (§7.1.4, §8.1.4)."""

    model_config = _CONFIG

    id: str
    plant_id: str
    status: ContractStatus
    orders: list[OrderT] = Field(default_factory=list)


class ReportManager(ApiModel, Generic[OrderT]):
    """A manager of a report and the contracts it manages."""

    model_config = _CONFIG

    id: str
    label: str
    contracts: list[ReportContract[OrderT]] = Field(default_factory=list)


class ReportProducer(ApiModel, Generic[OrderT]):
    """A producer of a report: its own contracts, then its managers'."""

    model_config = _CONFIG

    id: str
    label: str
    contracts: list[ReportContract[OrderT]] = Field(default_factory=list)
    managers: list[ReportManager[OrderT]] = Field(default_factory=list)


class ReportRow(msgspec.Struct, Generic[OrderT], frozen=True):
    """A flattened report line: who holds the contract, the contract, one order."""

    producer_id: str
    producer_label: str
    manager_id: str | None
    manager_label: str | None
    contract: ReportContract[OrderT]
    order: OrderT


class Report(ApiModel, Generic[OrderT]):
    """A hierarchical report: producers → managers → contracts → orders (RG_REP_ACK_0010,
    RG_REP_CUR_0010)."""

    model_config = _CONFIG

    producers: list[ReportProducer[OrderT]] = Field(default_factory=list)

    def contracts(
        self,
    ) -> Iterator[tuple[ReportProducer[OrderT], ReportManager[OrderT] | None, ReportContract[OrderT]]]:
        """Every contract with its producer and manager (``None``: held directly)."""
        for producer in self.producers:
            for contract in producer.contracts:
                yield producer, None, contract
            for manager in producer.managers:
                for contract in manager.contracts:
                    yield producer, manager, contract

    def rows(self) -> list[ReportRow[OrderT]]:
        """One row per (contract, order), in report order."""
        return [
            ReportRow(p.id, p.label, m.id if m else None, m.label if m else None, c, o)
            for p, m, c in self.contracts()
            for o in c.orders
        ]


# -- vault (§9.1.4, §9.2.4) -----------------------------------------------------------------


class TokenStatus(ApiModel):
    """``GET /vault/approle/token/status`` (§9.1.4, RG_TOK_STA_0010)."""

    model_config = _CONFIG

    expires_at: UtcTimestamp


class NewToken(ApiModel):
    """``GET /vault/approle/token`` (§9.2.4). The previous token is now invalid (RG_TOK_NEW_0010).

    ``client_token`` is a :class:`SecretStr`: never shown by ``repr``/``str``; read it
    with ``client_token.get_secret_value()``. ``lease_duration`` is in seconds (the
    document gives no unit; the Vault convention).
    """

    model_config = _CONFIG

    client_token: SecretStr
    expires_at: UtcTimestamp
    lease_duration: int
    renewable: bool


# -- serialising (simulator) ----------------------------------------------------------------

_VISIBILITY_FIELDS = ("producer_id", "manager_id")


def to_document(value: BaseModel | Sequence[BaseModel] | None) -> Any:
    """A model (or list) as the API's JSON: document timestamp formats; a null
    ``producer_id``/``manager_id`` is left out (the field is not visible, RG_COR_0040/0050)."""
    if value is None:
        return None
    if not isinstance(value, BaseModel):
        return [to_document(item) for item in value]
    return _strip(value.model_dump(mode="json"))


def _strip(data: Any) -> Any:
    if isinstance(data, dict):
        return {key: _strip(item) for key, item in data.items() if not (key in _VISIBILITY_FIELDS and item is None)}
    if isinstance(data, list):
        return [_strip(item) for item in data]
    return data
