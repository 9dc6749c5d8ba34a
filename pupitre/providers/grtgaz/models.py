"""Pydantic models of the GRTgaz SFM API objects (chapter 4 §13.1 and §13.6).

Field names are the document's own (``siteId``, ``qTo0FlexibilityIndicator``…);
``qToQ+FlexibilityIndicator`` is not a Python name and lives behind an alias.

Timestamps. §13.1 types ``availabilityDateTime``/``applicationDateTime`` as
"CET/CEST : YYYY-MM-DDTHH:mm:ss.sssZ" and its example ``2019-11-18T09:52:00.000Z``
is the 09h52 publication of §3.2.2.1, i.e. Paris wall time: the trailing ``Z`` is
a literal, not UTC. With ``timestamps_local`` true (the default, exposed in the
settings) a ``Z`` timestamp is read as Paris wall time; false reads it as real UTC,
for the day the API is fixed. An explicit offset (``+01:00``) is always honoured.
Parsed values are aware datetimes in Europe/Paris; serialising (the simulator)
writes the same document format back.

The flag is resolved, first found wins: the pydantic validation/serialisation
context ``{"timestamps_local": bool}``, the :func:`timestamps_reading` context
manager, then the module default :data:`TIMESTAMPS_LOCAL`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
from contextvars import ContextVar
from typing import Annotated, Any, Iterator, Sequence

from pydantic import (AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field,
                      PlainSerializer, SerializationInfo, TypeAdapter, ValidationInfo)

from pupitre.providers.core.clock import PARIS, UTC

#: Module default for reading ``...Z`` timestamps as Paris wall time (see module docstring).
TIMESTAMPS_LOCAL = True

_timestamps_local: ContextVar[bool | None] = ContextVar("grtgaz_timestamps_local", default=None)


@contextlib.contextmanager
def timestamps_reading(local: bool) -> Iterator[None]:
    """Within the block, parse and write GRTgaz timestamps as local (``True``) or UTC."""
    token = _timestamps_local.set(local)
    try:
        yield
    finally:
        _timestamps_local.reset(token)


def _flag(context: Any) -> bool:
    if isinstance(context, dict) and "timestamps_local" in context:
        return bool(context["timestamps_local"])
    value = _timestamps_local.get()
    return TIMESTAMPS_LOCAL if value is None else value


def parse_timestamp(value: Any, *, local: bool | None = None) -> dt.datetime:
    """A §13.1 timestamp as an aware Europe/Paris datetime.

    ``local`` (default: the resolved flag) reads a trailing ``Z`` as Paris wall time.
    Naive values are Paris wall time; explicit offsets are honoured. In the repeated
    hour of the autumn DST change a ``Z``-local value is ambiguous; the first
    occurrence (CEST) is taken.
    """
    if local is None:
        local = _flag(None)
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
    otherwise real UTC.
    """
    if local is None:
        local = _flag(None)
    if value.tzinfo is None:
        value = value.replace(tzinfo=PARIS)
    moment = value.astimezone(PARIS if local else UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _validate_ts(value: Any, info: ValidationInfo) -> dt.datetime:
    return parse_timestamp(value, local=_flag(info.context))


def _serialise_ts(value: dt.datetime, info: SerializationInfo) -> str:
    return format_timestamp(value, local=_flag(info.context))


#: A §13.1 timestamp: aware Europe/Paris in Python, the document's format in JSON.
Timestamp = Annotated[dt.datetime, BeforeValidator(_validate_ts),
                      PlainSerializer(_serialise_ts, return_type=str, when_used="json")]


class IndicatorStatus(str, enum.Enum):
    """§13.1 ``status``: GREEN, RED, or GREY (shortage of flexibility, §4)."""

    GREEN = "GREEN"
    RED = "RED"
    GREY = "GREY"

    @classmethod
    def _missing_(cls, value: object) -> IndicatorStatus | None:
        if isinstance(value, str):
            text = value.strip().upper()
            if text == "GRAY":
                return cls.GREY
            return cls.__members__.get(text)
        return None

    @property
    def word(self) -> str:
        """A word for the screen, so a status never relies on colour alone."""
        return {"GREEN": "green", "RED": "red", "GREY": "grey"}[self.value]


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

_MODEL_CONFIG = ConfigDict(populate_by_name=True, frozen=True)


class Indicator(BaseModel):
    """One indicator of §13.1: ``status`` and its publication/application times."""

    model_config = _MODEL_CONFIG

    status: IndicatorStatus
    availabilityDateTime: Timestamp
    applicationDateTime: Timestamp


class IndicatorSet(BaseModel):
    """A §13.1 ``currentIndicator`` / ``nextIndicator``: a site and its three indicators.

    The document names the Q→Q- indicator ``qTo0FlexibilityIndicator``;
    ``qToQ-FlexibilityIndicator`` is accepted too and written back under the
    document's name.
    """

    model_config = _MODEL_CONFIG

    siteId: str
    siteLabel: str
    meshCode: str
    meshLabel: str
    qTo0FlexibilityIndicator: Indicator = Field(
        validation_alias=AliasChoices("qTo0FlexibilityIndicator", "qToQ-FlexibilityIndicator"),
        serialization_alias="qTo0FlexibilityIndicator")
    partialFlexibilityIndicator: Indicator
    qToQPlusFlexibilityIndicator: Indicator = Field(alias="qToQ+FlexibilityIndicator")

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


class SiteIndicators(BaseModel):
    """§13.1 ``siteIndicators``: the current state and, when announced, the next one.

    ``nextIndicator`` is present between a publication (H-8 min) and its application
    (H+15) when an indicator turns from green to red (§3.2.2.1).
    """

    model_config = _MODEL_CONFIG

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


class Error(BaseModel):
    """§13.6 ``Error``: ``Code`` (integer) and ``Message``; lower-case names accepted too."""

    model_config = ConfigDict(populate_by_name=True, frozen=True)

    code: int = Field(validation_alias=AliasChoices("Code", "code"), serialization_alias="Code")
    message: str = Field(default="", validation_alias=AliasChoices("Message", "message"),
                         serialization_alias="Message")


SiteIndicatorsList = TypeAdapter(list[SiteIndicators])


def to_document(value: BaseModel | Sequence[BaseModel], *, timestamps_local: bool | None = None) -> Any:
    """A model (or list) as the API's JSON document: aliases, no null ``nextIndicator``."""
    if not isinstance(value, BaseModel):
        return [to_document(item, timestamps_local=timestamps_local) for item in value]
    context = None if timestamps_local is None else {"timestamps_local": timestamps_local}
    return value.model_dump(mode="json", by_alias=True, exclude_none=True, context=context)
