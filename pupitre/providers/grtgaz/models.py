"""The GRTgaz SFM API objects (chapter 4 §13.1 to §13.6), as msgspec Structs.

Indicators (§13.1), programs: ``inputHmsProfile`` (§13.2), ``hmsProfile`` with its
``hmsProfileFeasibility`` (§13.3), ``rebuiltHmsProfile`` (§13.4), ``links``
(§13.5), and ``Error`` (§13.6).

Field names are the document's own (``siteId``, ``qTo0FlexibilityIndicator``…);
``qToQ+FlexibilityIndicator`` is not a Python name and lives behind its wire name.
They are :class:`~pupitre.providers.core.api.ApiStruct`: data from outside (an answer,
a stored result, a body the simulator receives) is read with :func:`read` (text cleaned,
unknown fields ignored, the other names a field goes by renamed — its ``ALIASES`` —,
timestamps read as below); :func:`to_document` is the way back.

Timestamps. §13.1 types ``availabilityDateTime``/``applicationDateTime`` as
"CET/CEST : YYYY-MM-DDTHH:mm:ss.sssZ" and its example ``2019-11-18T09:52:00.000Z``
is the 09h52 publication of §3.2.2.1, i.e. Paris wall time: the trailing ``Z`` is
a literal, not UTC. With ``timestamps_local`` true (the default, exposed in the
settings) a ``Z`` timestamp is read as Paris wall time; false reads it as real UTC,
for the day the API is fixed. An explicit offset (``+01:00``) is always honoured.
Parsed values are aware datetimes in Europe/Paris; :func:`to_document` (the simulator)
writes the same document format back.

The flag is resolved, first found wins: the ``timestamps_local`` argument of :func:`read`
and :func:`to_document`, the :func:`timestamps_reading` context manager, then the module
default :data:`TIMESTAMPS_LOCAL`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import functools
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Iterator, Mapping, Sequence, TypeVar

import msgspec

from pupitre.providers.core.api import ApiStruct, MultiLine, from_data
from pupitre.providers.core.clock import PARIS, UTC

PROVIDER = "GRTgaz"

#: Module default for reading ``...Z`` timestamps as Paris wall time (see module docstring).
TIMESTAMPS_LOCAL = True

_timestamps_local: ContextVar[bool | None] = ContextVar("grtgaz_timestamps_local", default=None)

T = TypeVar("T")


@contextlib.contextmanager
def timestamps_reading(local: bool) -> Iterator[None]:
    """Within the block, parse and write GRTgaz timestamps as local (``True``) or UTC."""
    token = _timestamps_local.set(local)
    try:
        yield
    finally:
        _timestamps_local.reset(token)


def _flag(local: bool | None) -> bool:
    if local is not None:
        return local
    value = _timestamps_local.get()
    return TIMESTAMPS_LOCAL if value is None else value


def parse_timestamp(value: Any, *, local: bool | None = None) -> dt.datetime:
    """A §13.1 timestamp as an aware Europe/Paris datetime.

    ``local`` (default: the resolved flag) reads a trailing ``Z`` as Paris wall time.
    Naive values are Paris wall time; explicit offsets are honoured. In the repeated
    hour of the autumn DST change a ``Z``-local value is ambiguous; the first
    occurrence (CEST) is taken.
    """
    local = _flag(local)
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str):
        text = value.strip()
        if local and text[-1:] in ("Z", "z"):
            text = text[:-1]
        moment = dt.datetime.fromisoformat(text)
    else:
        raise ValueError("expected a timestamp string like 2019-11-18T09:52:00.000Z")
    if moment.tzinfo is None:
        return moment.replace(tzinfo=PARIS)
    return moment.astimezone(PARIS)


def format_timestamp(value: dt.datetime, *, local: bool | None = None) -> str:
    """Write a timestamp in the §13.1 format ``YYYY-MM-DDTHH:mm:ss.sssZ``.

    ``local`` writes Paris wall time followed by the document's literal ``Z``;
    otherwise real UTC (which keeps the instant even in the autumn repeated hour, so the
    store and the outbox write this form).
    """
    local = _flag(local)
    if value.tzinfo is None:
        value = value.replace(tzinfo=PARIS)
    # Always through the instant: a Paris wall time that does not exist (02:30 in spring)
    # is written as the real instant it stands for, never as a time no clock shows.
    moment = value.astimezone(UTC).astimezone(PARIS if local else UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class _AnyDatetime(type):
    """The metaclass of :class:`Timestamp`: msgspec checks what a ``dec_hook`` returns with
    ``isinstance``, and a plain ``datetime`` is what the hook returns."""

    def __instancecheck__(cls, value: object) -> bool:
        return isinstance(value, dt.datetime)


if TYPE_CHECKING:
    Timestamp = dt.datetime
else:

    class Timestamp(metaclass=_AnyDatetime):
        """A §13.1 timestamp field: aware Europe/Paris ``datetime`` values, read from the
        document's format by :func:`read` (its ``dec_hook``, which knows the flag) and
        written back by :func:`to_document`. Built in code, it takes any aware datetime."""


@functools.lru_cache(maxsize=4096)
def _parsed(text: str, local: bool) -> dt.datetime:
    """:func:`parse_timestamp` of a string, remembered: an answer repeats the same few
    publication and application times for every site (a datetime is immutable)."""
    return parse_timestamp(text, local=local)


@functools.lru_cache(maxsize=4096)
def _formatted(value: dt.datetime, fold: int, local: bool) -> str:
    """:func:`format_timestamp`, remembered. It depends on the instant alone; ``fold`` is in
    the key because two Paris times of the autumn repeated hour that differ by it alone are
    *equal* datetimes (same zone: wall times compared) but two instants."""
    return format_timestamp(value, local=local)


def _timestamp_hook(local: bool) -> Callable[[type, Any], Any]:
    def hook(kind: type, value: Any) -> Any:
        if kind is Timestamp:
            return _parsed(value, local) if type(value) is str else parse_timestamp(value, local=local)
        raise NotImplementedError

    return hook


_HOOKS = {True: _timestamp_hook(True), False: _timestamp_hook(False)}


def read(data: object, kind: type[T], *, timestamps_local: bool | None = None) -> T:
    """``data`` (JSON-like: an answer, a stored result, a received body) as ``kind`` — one of
    the types below or a list of them: the other names of a field renamed (``ALIASES``),
    text cleaned, timestamps read with the flag (module docstring). A mismatch raises
    :class:`~pupitre.providers.core.errors.PayloadError`."""
    return from_data(data, kind, provider=PROVIDER, dec_hook=_HOOKS[_flag(timestamps_local)])


class IndicatorStatus(str, enum.Enum):
    """§13.1 ``status``: GREEN, RED, or GREY (shortage of flexibility, §4).

    A value the document does not list (``PURPLE``) is read as an *unknown* status that
    keeps the word GRTgaz sent (``IndicatorStatus("PURPLE").value == "PURPLE"``,
    :attr:`known` false): that one indicator shows ``? unknown (PURPLE)`` and counts as
    attention, the rest of the feed stays readable.
    """

    GREEN = "GREEN"
    RED = "RED"
    GREY = "GREY"

    @classmethod
    def _missing_(cls, value: object) -> IndicatorStatus | None:
        if isinstance(value, str):
            text = value.strip().upper()
            if text == "GRAY":
                return cls.GREY
            member = cls.__members__.get(text)
            if member is not None:
                return member
            if text:
                return _unknown_status(value.strip())
        return None

    @property
    def known(self) -> bool:
        """One of the documented GREEN / RED / GREY."""
        return self._name_ != UNKNOWN_NAME

    @property
    def word(self) -> str:
        """A word for the screen, so a status never relies on colour alone."""
        if not self.known:
            return f"unknown ({self.value})"
        return {"GREEN": "green", "RED": "red", "GREY": "grey"}[self.value]


#: The ``name`` of a status GRTgaz sent that the document does not list.
UNKNOWN_NAME = "UNKNOWN"
_UNKNOWN_STATUSES: dict[str, IndicatorStatus] = {}


def _unknown_status(raw: str) -> IndicatorStatus:
    """The (cached) pseudo-member of :class:`IndicatorStatus` for an undocumented ``raw``."""
    member = _UNKNOWN_STATUSES.get(raw)
    if member is None:
        member = str.__new__(IndicatorStatus, raw)
        member._name_ = UNKNOWN_NAME
        member._value_ = raw
        if len(_UNKNOWN_STATUSES) < 100:  # an API inventing words does not grow memory
            _UNKNOWN_STATUSES[raw] = member
    return member


class Flex(str, enum.Enum):
    """The three flexibility indicators of §3.2.2."""

    Q_TO_QMINUS = "Q→Q-"
    PARTIAL = "partial"
    Q_TO_QPLUS = "Q→Q+"

    @property
    def field(self) -> str:
        """The §13.1 property name of this indicator."""
        return _FLEX_FIELDS[self]


_FLEX_FIELDS = {
    Flex.Q_TO_QMINUS: "qTo0FlexibilityIndicator",
    Flex.PARTIAL: "partialFlexibilityIndicator",
    Flex.Q_TO_QPLUS: "qToQ+FlexibilityIndicator",
}


class Indicator(ApiStruct, frozen=True, kw_only=True):
    """One indicator of §13.1: ``status`` and its publication/application times."""

    status: IndicatorStatus
    availabilityDateTime: Timestamp
    applicationDateTime: Timestamp


class IndicatorSet(ApiStruct, frozen=True, kw_only=True):
    """A §13.1 ``currentIndicator`` / ``nextIndicator``: a site and its three indicators.

    The document names the Q→Q- indicator ``qTo0FlexibilityIndicator``;
    ``qToQ-FlexibilityIndicator`` is accepted too and written back under the
    document's name.
    """

    ALIASES: ClassVar[Mapping[str, str]] = {"qToQ-FlexibilityIndicator": "qTo0FlexibilityIndicator"}

    siteId: str
    siteLabel: str
    meshCode: str
    meshLabel: str
    qTo0FlexibilityIndicator: Indicator
    partialFlexibilityIndicator: Indicator
    qToQPlusFlexibilityIndicator: Indicator = msgspec.field(name="qToQ+FlexibilityIndicator")

    def indicator(self, flex: Flex) -> Indicator:
        """The indicator for ``flex``."""
        if flex is Flex.Q_TO_QMINUS:
            return self.qTo0FlexibilityIndicator
        if flex is Flex.PARTIAL:
            return self.partialFlexibilityIndicator
        return self.qToQPlusFlexibilityIndicator

    def indicators(self) -> list[tuple[Flex, Indicator]]:
        """The three indicators in document order (Q→Q-, partial, Q→Q+)."""
        return [(flex, self.indicator(flex)) for flex in Flex]


class SiteIndicators(ApiStruct, frozen=True, kw_only=True):
    """§13.1 ``siteIndicators``: the current state and, when announced, the next one.

    ``nextIndicator`` is present between a publication (H-8 min) and its application
    (H+15) when an indicator turns from green to red (§3.2.2.1).
    """

    currentIndicator: IndicatorSet
    nextIndicator: IndicatorSet | None = None

    @property
    def site_id(self) -> str:
        return self.currentIndicator.siteId

    @property
    def site_label(self) -> str:
        return self.currentIndicator.siteLabel

    @property
    def mesh_code(self) -> str:
        return self.currentIndicator.meshCode

    @property
    def mesh_label(self) -> str:
        return self.currentIndicator.meshLabel


class Error(ApiStruct, frozen=True, kw_only=True):
    """§13.6 ``Error``: ``Code`` (integer) and ``Message``; lower-case names accepted too."""

    ALIASES: ClassVar[Mapping[str, str]] = {"code": "Code", "message": "Message"}

    code: int = msgspec.field(name="Code")
    message: str = msgspec.field(default="", name="Message")


# -- programs (§13.2 - §13.5) -----------------------------------------------------------

#: §13.2 ``unit``: the only documented value.
UNIT = "kWh25"


class FeasibilityStatus(str, enum.Enum):
    """§13.3 ``hmsProfileFeasibilityStatus``: ACCEPTED or REFUSED.

    ``PENDING`` is this project's own: the program was integrated (201) and its
    feasibility is not decided yet; any undocumented value reads as pending too,
    so an unexpected word from the API never hides a program.
    """

    ACCEPTED = "ACCEPTED"
    REFUSED = "REFUSED"
    PENDING = "PENDING"

    @classmethod
    def _missing_(cls, value: object) -> FeasibilityStatus | None:
        if isinstance(value, str):
            return cls.__members__.get(value.strip().upper(), cls.PENDING)
        return None

    @property
    def decided(self) -> bool:
        return self is not FeasibilityStatus.PENDING


class HourlyQuantity(ApiStruct, frozen=True, kw_only=True):
    """One slot of ``hmsHourlyProfile`` / ``hourlyQuantities`` (§13.2-13.4).

    ``hourlySlotStartDateTime`` is CET/CEST wall time; ``quantity`` in kWh 25°C.
    ``quantity`` may be null in what a client sends (rejected as BAD_QUANTITIES for
    adjustable hours, §13.6), so the type keeps it rather than failing the parse, and
    :func:`to_document` writes it even when null.
    """

    hourlySlotStartDateTime: Timestamp
    quantity: float | None


class InputHmsProfile(ApiStruct, frozen=True, kw_only=True):
    """§13.2 ``inputHmsProfile``: a program as a client sends it (``POST /hmsProfiles``).

    ``hmsProfileId`` is ``AAAAMMJJ-LIxxxx-<contract>-<version>`` (§2.2, see
    :func:`pupitre.providers.grtgaz.rules.program_id`). ``hmsHourlyProfile`` holds
    exactly 24 slots J 06:00 … J+1 05:00, also on 23- and 25-hour days (§13.2).
    The document spells the maximum ``qMAx``; ``qMax`` is accepted when reading.
    """

    ALIASES: ClassVar[Mapping[str, str]] = {"qMax": "qMAx"}

    hmsProfileId: str
    declarationDateTime: Timestamp
    hmsSiteId: str
    hmsSiteLabel: str
    connectionContractCode: str
    gasDay: dt.date
    unit: str = UNIT
    qMin: float
    qMAx: float
    hmsHourlyProfile: list[HourlyQuantity]

    @property
    def quantities(self) -> list[float | None]:
        """The hourly quantities in slot order."""
        return [slot.quantity for slot in self.hmsHourlyProfile]


class FeasibilityIndicator(ApiStruct, frozen=True, kw_only=True):
    """§13.3 ``hmsProfileFeasibility.indicator``: the statuses used for the validation.

    Note the names differ from §13.1: ``qToQmaxFlexibilityIndicator`` for Q→Q+ (the §13.1
    name is accepted too) and plain status strings rather than objects.
    """

    ALIASES: ClassVar[Mapping[str, str]] = {"qToQ+FlexibilityIndicator": "qToQmaxFlexibilityIndicator"}

    siteId: str
    siteLabel: str = ""
    meshCode: str = ""
    meshLabel: str = ""
    qTo0FlexibilityIndicator: IndicatorStatus
    qToQmaxFlexibilityIndicator: IndicatorStatus
    partialFlexibilityIndicator: IndicatorStatus

    def status(self, flex: Flex) -> IndicatorStatus:
        if flex is Flex.Q_TO_QMINUS:
            return self.qTo0FlexibilityIndicator
        if flex is Flex.PARTIAL:
            return self.partialFlexibilityIndicator
        return self.qToQmaxFlexibilityIndicator


class HmsProfileFeasibility(ApiStruct, frozen=True, kw_only=True):
    """§13.3 ``hmsProfileFeasibility``: indicators used, status, and ``comment``.

    ``comment`` explains the status ("Programme accepté", or the §13.3 reasons such as
    HMS_PROFILE_NOT_RESPECT_Q0_DELAY; see ``rules.comment_codes``).
    """

    indicator: FeasibilityIndicator | None = None
    hmsProfileFeasibilityStatus: FeasibilityStatus = FeasibilityStatus.PENDING
    #: Free text from GRTgaz: the one multi-line field (its line breaks are kept, cleaned).
    comment: MultiLine = ""


class HmsProfile(ApiStruct, frozen=True, kw_only=True):
    """§13.3 ``hmsProfile``: a declared program as the API exposes it once recorded.

    ``hmsProfileFeasibility`` is ``None`` while the feasibility is not decided yet
    (the 201 of §14.6 says the programs "vont être soumis à validation").
    """

    ALIASES: ClassVar[Mapping[str, str]] = {"qMax": "qMAx"}

    hmsProfileId: str
    declarationDateTime: Timestamp
    processingDateTime: Timestamp | None = None
    hmsSiteId: str
    hmsSiteLabel: str = ""
    connectionContractCode: str = ""
    gasDay: dt.date
    unit: str = UNIT
    qMin: float | None = None
    qMAx: float | None = None
    hmsHourlyProfile: list[HourlyQuantity]
    hmsProfileFeasibility: HmsProfileFeasibility | None = None

    @property
    def status(self) -> FeasibilityStatus:
        """ACCEPTED, REFUSED, or PENDING while undecided."""
        if self.hmsProfileFeasibility is None:
            return FeasibilityStatus.PENDING
        return self.hmsProfileFeasibility.hmsProfileFeasibilityStatus

    @property
    def comment(self) -> str:
        return self.hmsProfileFeasibility.comment if self.hmsProfileFeasibility else ""

    @property
    def quantities(self) -> list[float | None]:
        return [slot.quantity for slot in self.hmsHourlyProfile]


class RebuiltHmsProfile(ApiStruct, frozen=True, kw_only=True):
    """§13.4 ``rebuiltHmsProfile``: the rebuilt (reference) program of a site and day.

    ``hmsProfileId`` is ``AAAAMMJJ-LIxxxx`` and stays the same all day; the content
    changes with every accepted program (chapter 5 §16). The four thresholds are
    documented as doubles without more detail; they are optional when reading.
    """

    hmsProfileId: str
    processingDateTime: Timestamp | None = None
    hmsSiteId: str
    hmsSiteLabel: str = ""
    connectionContractCode: str = ""
    gasDay: dt.date
    hourlyQuantities: list[HourlyQuantity]
    energyLowThresholds: float | None = None
    energyHighThresholds: float | None = None
    volumeLowThresholds: float | None = None
    volumeHighThresholds: float | None = None

    @property
    def quantities(self) -> list[float | None]:
        return [slot.quantity for slot in self.hourlyQuantities]


class Link(ApiStruct, frozen=True, kw_only=True):
    """§13.5 ``link``: ``rel`` names the declared program, ``href`` is its URL."""

    rel: str
    href: str


def read_links(data: object) -> list[Link]:
    """The 201 body of ``POST /hmsProfiles`` (§13.5, §14.6). §14.6 answers "une liste
    « links » d'objets « link »": a bare list; an object ``{"links": [...]}`` (the §13.5
    table's reading) is accepted too."""
    if isinstance(data, dict) and "links" in data:
        data = data["links"]
    return read(data, list[Link])


#: The one field whose null is written (the slot is there, its value is missing).
_KEEP_NULL = frozenset({"quantity"})


def to_document(value: ApiStruct | Sequence[ApiStruct], *, timestamps_local: bool | None = None) -> Any:
    """A value (or list) as the API's JSON document: the document's names, timestamps in
    its format (with the flag), no null fields (``nextIndicator``, an undecided
    ``hmsProfileFeasibility``) but a null ``quantity`` (the slot is there, its value is
    missing). :func:`read` reads it back."""
    return _document(value, _flag(timestamps_local))


#: Values written as they are.
_PLAIN = frozenset((str, int, float, bool))


def _document(value: Any, local: bool) -> Any:
    if isinstance(value, msgspec.Struct):
        document = {}
        for name, key in zip(value.__struct_fields__, value.__struct_encode_fields__, strict=True):
            item = getattr(value, name)
            if type(item) in _PLAIN:
                document[key] = item
            elif item is not None:
                document[key] = _document(item, local)
            elif name in _KEEP_NULL:
                document[key] = None
        return document
    if isinstance(value, (list, tuple)):
        return [_document(item, local) for item in value]
    if isinstance(value, dt.datetime):
        return _formatted(value, value.fold, local)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value
