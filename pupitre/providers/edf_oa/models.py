"""The types of the EDF OA « SMART OA » API (§3.3 to §9.2.4).

Field names are the document's own (snake_case already). Every answer is wrapped
in the §3.3 envelope ``{data, meta, errors}`` (:class:`Envelope`, read with
:func:`read_envelope`, its shapes as :class:`~pupitre.providers.core.api.ApiStruct`
quirks); the client unwraps ``data``.

Timestamps. §4 to §8 type dates as ``YYYY-MM-DDThh:mm:ss+TIMEZONE`` (an explicit
offset): a :data:`Timestamp` field is an aware datetime exposed in Europe/Paris; a
value without offset (not documented) is taken as Paris wall time. §9 (vault) types
``expires_at`` as ``YYYY-MM-DDThh:mm:ssZ``: a :data:`UtcTimestamp` field reads it as
real UTC (a naive value too) and exposes it in Paris. Both are normalised when a value
is built, in code or read (:class:`EdfStruct`); :func:`to_document` (the simulator)
writes the document's formats back.

They are :class:`~pupitre.providers.core.api.ApiStruct`: read from outside with
:func:`~pupitre.providers.core.api.from_data` (text cleaned, unknown fields ignored, so
an additive change of the API never breaks the dashboard).
"""

from __future__ import annotations

import datetime as dt
import functools
import types
import typing
from typing import TYPE_CHECKING, Annotated, Any, Generic, Iterator, Sequence, TypeVar

import msgspec

from pupitre.providers.core.api import ApiBody, ApiStruct, from_data, to_data
from pupitre.providers.core.clock import PARIS, UTC
from pupitre.providers.core.secrets import Secret
from pupitre.providers.core.text import unknown_word

#: The name a refusal of EDF OA data is reported under (as the client reports it).
API_NAME = "EDF OA"

T = TypeVar("T")
OrderT = TypeVar("OrderT", bound=ApiStruct)


# -- field marks: timestamps, case-tolerant words ------------------------------------------


def _in_paris(value: dt.datetime, naive: dt.tzinfo) -> dt.datetime:
    """``value`` as an aware Paris datetime; a naive one is taken in ``naive``."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=naive)
    return value.astimezone(PARIS)


class _Instant:
    """The mark of a timestamp field: a naive value is read in ``naive``; exposed in Paris."""

    def __init__(self, naive: dt.tzinfo, name: str) -> None:
        self.naive = naive
        self.name = name

    def __repr__(self) -> str:
        return self.name


class _Upper:
    """The mark of a case-tolerant word (``api`` reads as ``API``)."""

    def __repr__(self) -> str:
        return "UPPER"


_PARIS_INSTANT = _Instant(PARIS, "PARIS_INSTANT")
_UTC_INSTANT = _Instant(UTC, "UTC_INSTANT")
_UPPER = _Upper()

#: §4-§8 timestamp: aware Europe/Paris in Python (a naive value is Paris wall time),
#: ``+hh:mm`` offset in the document.
Timestamp = Annotated[dt.datetime, _PARIS_INSTANT]
#: §9 timestamp: real UTC (a naive value too), ``Z`` in the document; aware Europe/Paris in Python.
UtcTimestamp = Annotated[dt.datetime, _UTC_INSTANT]


def format_timestamp(value: dt.datetime) -> str:
    """Write ``YYYY-MM-DDThh:mm:ss+hh:mm`` with the Paris offset of that instant."""
    return _in_paris(value, PARIS).isoformat(timespec="seconds")


def format_utc_timestamp(value: dt.datetime) -> str:
    """Write ``YYYY-MM-DDThh:mm:ssZ`` in UTC (§9.1.4)."""
    return _in_paris(value, UTC).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


#: RG_REP_ACK_0060 / §5.2.4: where an acknowledgement was made (case-tolerant).
ACK_SOURCES = ("API", "PORTAL")
#: RG_REP_ACK_0050: retrieval of the order, or sending of the acknowledgement.
ACK_TYPES = ("GET_ORDER", "SET_ACK")
#: RG_CON_0020: contract status.
CONTRACT_STATUSES = ("ACTIVE", "EXPIRED")
# Read as text: a value the document does not list is kept and shown ``? unknown (FAX)``
# on its one row (:func:`shown`) rather than failing the whole answer.
AckSource = Annotated[str, _UPPER]
AckType = Annotated[str, _UPPER]
ContractStatus = Annotated[str, _UPPER]

if TYPE_CHECKING:
    StrictBool = bool
else:
    # Read as sent: a lax reading would turn "true" or 1 into True before the struct's
    # ``__post_init__`` could refuse it (only a JSON true or false is an acknowledgement).
    StrictBool = Any


def shown(value: str, known: tuple[str, ...]) -> str:
    """``value`` for the screen: as is when the document lists it, else ``? unknown (…)``."""
    return value if value in known else unknown_word(value)


@functools.cache
def _normalised(kind: type) -> tuple[tuple[tuple[str, dt.tzinfo], ...], tuple[str, ...]]:
    """``kind``'s timestamp fields with the zone of a naive value, and its case-tolerant words."""
    marked = [
        (name, marks[0])
        for name, hint in typing.get_type_hints(kind, include_extras=True).items()
        if (marks := [m for m in _metadata(hint) if isinstance(m, (_Instant, _Upper))])
    ]
    return (
        tuple((name, mark.naive) for name, mark in marked if isinstance(mark, _Instant)),
        tuple(name for name, mark in marked if isinstance(mark, _Upper)),
    )


def _metadata(hint: Any) -> list[Any]:
    """The ``Annotated`` metadata of ``hint``, ``X | None`` looked into (not a list's items)."""
    origin = typing.get_origin(hint)
    if origin is Annotated:
        return list(hint.__metadata__)
    if origin in (typing.Union, types.UnionType):
        return [m for arg in typing.get_args(hint) for m in _metadata(arg)]
    return []


class EdfStruct(ApiStruct, frozen=True, kw_only=True):
    """An EDF OA type: its timestamps are aware Paris datetimes and its case-tolerant words
    upper case whether it is read (:func:`~pupitre.providers.core.api.from_data`) or built
    in code. A subclass with its own ``__post_init__`` calls this one first."""

    def __post_init__(self) -> None:
        instants, words = _normalised(type(self))
        for name, naive in instants:
            value = getattr(self, name)
            if value is not None and value.tzinfo is not PARIS:
                msgspec.structs.force_setattr(self, name, _in_paris(value, naive))
        for name in words:
            value = getattr(self, name)
            if isinstance(value, str):
                msgspec.structs.force_setattr(self, name, value.strip().upper())


# -- envelope (§3.3, §3.4.2) ----------------------------------------------------------------


class ApiErrorItem(ApiStruct, frozen=True, kw_only=True):
    """One item of ``errors`` (§3.4.2; the example is missing): ``code``, ``message``, ``field``.

    ``message`` is also read from ``Message`` or ``detail`` (the first present winning), and a
    bare string as the message."""

    ALIASES = {"Message": "message", "detail": "message"}

    code: str | int | None = None
    message: str = ""
    field: str | None = None

    @classmethod
    def before(cls, data: Any) -> Any:
        return {"message": data} if isinstance(data, str) else data


class Envelope(ApiStruct, Generic[T], frozen=True, kw_only=True):
    """§3.3: every answer is ``{data, meta, errors}``.

    ``data`` may be null (POST, errors); ``meta`` a dict (null read as empty);
    ``errors`` a list, a single object, a string or null (the document's example is missing).
    """

    data: T | None = None
    meta: dict[str, Any] = {}
    errors: list[ApiErrorItem] = []

    @classmethod
    def before(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        errors = data.get("errors")
        return {
            **data,
            "meta": {} if data.get("meta") is None else data["meta"],
            "errors": [] if errors is None else [errors] if isinstance(errors, (dict, str)) else errors,
        }

    def error_messages(self) -> list[str]:
        """The non-empty ``errors[].message`` values, in order."""
        return [item.message for item in self.errors if item.message]


def read_envelope(body: dict[str, Any]) -> Envelope[Any]:
    """``body`` (a decoded answer) as the §3.3 envelope, ``data`` left as decoded
    (:class:`~pupitre.providers.core.errors.PayloadError` on a mismatch)."""
    return from_data(body, Envelope[Any], provider=API_NAME)


# -- curtailment order (§4.1.4) -------------------------------------------------------------


class Period(EdfStruct, frozen=True, kw_only=True):
    """One period of a curtailment order (§4.1.4).

    RG_COR_0030: ``value`` 1.0 means curtailment needed on the period, 0.0 none.
    """

    start_date: Timestamp
    end_date: Timestamp
    value: float


class ContractCurtailment(ApiStruct, frozen=True, kw_only=True):
    """A contract's curtailment instruction for the day (§4.1.4).

    ``producer_id`` is shown to admin accounts only (RG_COR_0050), ``manager_id`` to
    producer and admin accounts (RG_COR_0040).
    """

    producer_id: str | None = None
    manager_id: str | None = None
    contract_id: str
    plant_id: str
    data: list[Period]


class CurtailmentOrder(EdfStruct, frozen=True, kw_only=True):
    """``GET /curtailments`` (§4.1.4): tomorrow's order (RG_COR_0010)."""

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


class AckItem(ApiBody, frozen=True, kw_only=True):
    """One acknowledgement sent (§5.1.3). RG_ACK_0020: ``true`` = will respect the order.

    ``ack_value`` must be a real boolean: ``"true"`` or ``1`` is refused, read or built."""

    contract_id: str
    ack_value: StrictBool

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.contract_id:
            raise ValueError("contract_id must not be empty")
        if type(self.ack_value) is not bool:
            raise TypeError(f"ack_value must be true or false, not a {type(self.ack_value).__name__}")


class AcknowledgementRequest(ApiBody, frozen=True, kw_only=True):
    """``POST /acknowledgements`` body (§5.1.3): the order's id and 1..n acknowledgements."""

    order_id: str
    acknowledgements: list[AckItem]

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.order_id:
            raise ValueError("order_id must not be empty")
        if not self.acknowledgements:
            raise ValueError("acknowledgements must hold at least one acknowledgement")


class AckEntry(EdfStruct, frozen=True, kw_only=True):
    """One acknowledgement made (§5.2.4): by whom, value, when, from the API or the portal."""

    user_id: str
    ack_value: bool
    ack_date: Timestamp
    ack_source: AckSource


class ContractAcks(ApiStruct, frozen=True, kw_only=True):
    """A contract's acknowledgements of the day (§5.2.4; ids visible per RG_ACK_5020/5030)."""

    producer_id: str | None = None
    manager_id: str | None = None
    contract_id: str
    ack_list: list[AckEntry] = []


class AcknowledgementsState(EdfStruct, frozen=True, kw_only=True):
    """``GET /acknowledgements`` (§5.2.4): the acknowledgements made for J+1."""

    order_id: str
    updated_at: Timestamp
    application_date: dt.date
    acknowledgements: list[ContractAcks] = []


# -- contracts (§6.1.4) ---------------------------------------------------------------------


class Contract(EdfStruct, frozen=True, kw_only=True):
    """``GET /contracts`` item (§6.1.4); ``status`` per RG_CON_0020.

    ``producer_id``/``manager_id`` are optional: their visibility depends on the account.
    """

    id: str
    created_at: Timestamp
    updated_at: Timestamp
    producer_id: str | None = None
    manager_id: str | None = None
    plant_id: str
    status: ContractStatus


# -- reports (§7.1.4, §8.1.4) ---------------------------------------------------------------


class ReportAck(EdfStruct, frozen=True, kw_only=True):
    """An ack-report event (§7.1.4): RG_REP_ACK_0050 type, RG_REP_ACK_0060 source.

    ``ack_value`` is null for a ``GET_ORDER`` event.
    """

    ack_source: AckSource
    ack_type: AckType
    ack_value: bool | None = None
    ack_date: Timestamp
    user_id: str


class AckReportOrder(ApiStruct, frozen=True, kw_only=True):
    """An order in the ack report (§7.1.4)."""

    application_date: dt.date
    order_id: str
    acknowledgements: list[ReportAck] = []


class CurtailmentData(ApiStruct, frozen=True, kw_only=True):
    """§8.1.4 ``curtailment_data``: the order's periods for the contract."""

    periods: list[Period] = []


class CurtailmentReportOrder(ApiStruct, frozen=True, kw_only=True):
    """An order in the curtailment report (§8.1.4)."""

    application_date: dt.date
    order_id: str
    curtailment_data: CurtailmentData


class ReportContract(EdfStruct, Generic[OrderT], frozen=True, kw_only=True):
    """A contract of a report with its orders (§7.1.4, §8.1.4)."""

    id: str
    plant_id: str
    status: ContractStatus
    orders: list[OrderT] = []


class ReportManager(ApiStruct, Generic[OrderT], frozen=True, kw_only=True):
    """A manager of a report and the contracts it manages."""

    id: str
    label: str
    contracts: list[ReportContract[OrderT]] = []


class ReportProducer(ApiStruct, Generic[OrderT], frozen=True, kw_only=True):
    """A producer of a report: its own contracts, then its managers'."""

    id: str
    label: str
    contracts: list[ReportContract[OrderT]] = []
    managers: list[ReportManager[OrderT]] = []


class ReportRow(msgspec.Struct, Generic[OrderT], frozen=True):
    """A flattened report line (a value of the dashboard's, not of the API): who holds the
    contract, the contract, one order."""

    producer_id: str
    producer_label: str
    manager_id: str | None
    manager_label: str | None
    contract: ReportContract[OrderT]
    order: OrderT


class Report(ApiStruct, Generic[OrderT], frozen=True, kw_only=True):
    """A hierarchical report: producers → managers → contracts → orders (RG_REP_ACK_0010,
    RG_REP_CUR_0010)."""

    producers: list[ReportProducer[OrderT]] = []

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


class TokenStatus(EdfStruct, frozen=True, kw_only=True):
    """``GET /vault/approle/token/status`` (§9.1.4, RG_TOK_STA_0010)."""

    expires_at: UtcTimestamp


class NewToken(EdfStruct, frozen=True, kw_only=True):
    """``GET /vault/approle/token`` (§9.2.4). The previous token is now invalid (RG_TOK_NEW_0010).

    ``client_token`` is a :class:`~pupitre.providers.core.secrets.Secret`: never shown by
    ``repr``/``str``; read it with ``client_token.reveal()``. ``lease_duration``
    is in seconds (the document gives no unit; the Vault convention).
    """

    client_token: Secret
    expires_at: UtcTimestamp
    lease_duration: int
    renewable: bool


# -- serialising (simulator) ----------------------------------------------------------------

_VISIBILITY_FIELDS = ("producer_id", "manager_id")


def to_document(value: ApiStruct | Sequence[ApiStruct] | None) -> Any:
    """A value (or list) as the API's JSON: document timestamp formats (``+hh:mm`` seconds,
    ``Z`` for §9); a null ``producer_id``/``manager_id`` is left out (the field is not
    visible, RG_COR_0040/0050)."""
    if value is None:
        return None
    if isinstance(value, msgspec.Struct):
        return _document(value)
    return [_document(item) for item in value]


@functools.cache
def _layout(kind: type[msgspec.Struct]) -> tuple[tuple[str, str, Any], ...]:
    """``kind``'s fields: attribute name, wire name, and for a timestamp the zone of a naive
    value (UTC: a §9 timestamp, written with ``Z``), else ``None``."""
    zones = dict(_normalised(kind)[0])
    return tuple(
        (name, wire, zones.get(name))
        for name, wire in zip(kind.__struct_fields__, kind.__struct_encode_fields__, strict=True)
    )


def _document(value: Any) -> Any:
    if isinstance(value, msgspec.Struct):
        out: dict[str, Any] = {}
        for name, wire, zone in _layout(type(value)):
            item = getattr(value, name)
            if item is None and name in _VISIBILITY_FIELDS:
                continue
            if zone is not None and isinstance(item, dt.datetime):
                out[wire] = format_utc_timestamp(item) if zone is UTC else format_timestamp(item)
            else:
                out[wire] = _document(item)
        return out
    if isinstance(value, (list, tuple)):
        return [_document(item) for item in value]
    return to_data(value)
