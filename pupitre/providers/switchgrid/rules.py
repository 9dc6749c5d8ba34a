"""Switchgrid Enedis API v2 rules, pure (no I/O): validation before calling, request
types, statuses and polling, the load-curve-service error, load-curve parsing,
min/max downsampling and range statistics.

Time: the API's data is UTC and "starting step" — each value is the mean power over
``[t, t + step)``. Points are kept in UTC (:class:`Point`); :func:`to_paris` gives
the Paris wall time for display. All arithmetic is on UTC instants, so a DST day is
23 or 25 hours long (138 or 150 ten-minute points) without special cases.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
import unicodedata
from itertools import pairwise
from typing import Any, Iterable, Iterator, Mapping, NamedTuple, Sequence, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from pupitre.providers.core.api import to_data
from pupitre.providers.core.clock import PARIS, UTC, instant
from pupitre.providers.core.typed_dates import iso_date_text

STEP_10_MIN = dt.timedelta(minutes=10)


class RuleError(ValueError):
    """A request refused before calling; ``str()`` is an operator sentence."""


# -- identifiers and search ------------------------------------------------------------------

_PRM = re.compile(r"\d{14}")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_POSTCODE = re.compile(r"(?<!\d)\d{5}(?!\d)")


def validate_prm(prm: str) -> str:
    """A PRM (PDL) is 14 digits; spaces are dropped."""
    text = re.sub(r"\s+", "", prm or "")
    if not _PRM.fullmatch(text):
        raise RuleError(
            f"the PRM {prm!r} is not valid: a PRM (PDL) has exactly 14 digits, as on the Linky meter or the bill"
        )
    return text


def validate_uuid(value: str, what: str = "identifier") -> str:
    text = (value or "").strip()
    if not _UUID.fullmatch(text):
        raise RuleError(f"the {what} {value!r} is not a Switchgrid identifier (a UUID)")
    return text.lower()


def validate_search(name: str, address: str | None = None, prm: str | None = None) -> dict[str, str]:
    """The ``GET /search_contract`` query: a name of ≥ 3 characters plus an address
    (a street element and a postal code) or a PRM."""
    name = " ".join((name or "").split())
    if len(name) < 3:
        raise RuleError("enter the holder's name (at least 3 characters), e.g. « Dupond » or « SARL Les Tanneurs »")
    params = {"name": name}
    address = " ".join((address or "").split())
    prm = (prm or "").strip()
    if not address and not prm:
        raise RuleError("enter the meter's address (street and postal code) or its PRM (14 digits) as well as the name")
    if address:
        if not _POSTCODE.search(address) or not re.search(r"[A-Za-zÀ-ÿ]{2,}", _POSTCODE.sub("", address)):
            raise RuleError(
                "the address needs a street and a 5-digit postal code, e.g. « 1 rue de la paix 75002 Paris »"
            )
        params["address"] = address
    if prm:
        params["prm"] = validate_prm(prm)
    return params


# -- GET /ask filters: "a,b" any of, "!a" none of (spec examples) ---------------------------


def build_filter(values: Iterable[str] | str | None, *, exclude: bool = False) -> str | None:
    if values is None:
        return None
    items = [values] if isinstance(values, str) else list(values)
    items = [v.strip() for v in items if v and v.strip()]
    if not items:
        return None
    return ("!" if exclude else "") + ",".join(items)


def parse_filter(text: str | None) -> tuple[bool, list[str]]:
    """``(exclude, values)`` of a ``prm``/``status`` filter; ``""`` = no filter."""
    text = (text or "").strip()
    exclude = text.startswith("!")
    values = [v.strip() for v in text.lstrip("!").split(",") if v.strip()]
    return exclude, values


# -- asks ----------------------------------------------------------------------------------

ASK_STATUSES = (
    "CREATED",
    "PENDING_ADDRESS_CHECK",
    "ADDRESS_CHECK_FAILED",
    "PREPARING_CONSENT_COLLECTION",
    "PENDING_USER_ACTION",
    "ACCEPTED",
)
ASK_TERMINAL = frozenset({"ACCEPTED", "ADDRESS_CHECK_FAILED"})
PURPOSES = (
    "ENERGY_PERFORMANCE_STUDY",
    "SOLAR_INSTALLATION_SIZING",
    "DEMAND_RESPONSE",
    "ENERGY_BROKERAGE",
    "VEHICLE_CHARGE_DETECTION",
)
SCOPE_TYPES = {"CDC": "R63", "IDX": "R64", "ENERGIE": "R65, R67", "PMAX": "R66"}
CONSENT_DURATIONS = tuple(
    [f"{n} day{'s' if n > 1 else ''}" for n in range(1, 7)]
    + [f"{n} week{'s' if n > 1 else ''}" for n in range(1, 5)]
    + [f"{n} month{'s' if n > 1 else ''}" for n in range(1, 7)]
    + [f"{n} year{'s' if n > 1 else ''}" for n in range(1, 21)]
)


def consent_duration(text: str) -> dt.timedelta:
    """Approximate length of a consent duration (for "expiring soon"): months = 30 d, years = 365 d."""
    if text not in CONSENT_DURATIONS:
        raise RuleError(
            f"consent duration {text!r} is not one of Switchgrid's: 1 day … 6 days, "
            "1 week … 4 weeks, 1 month … 6 months, 1 year … 20 years"
        )
    count, unit = text.split()
    days = {"day": 1, "week": 7, "month": 30, "year": 365}[unit.rstrip("s")]
    return dt.timedelta(days=int(count) * days)


# -- request types (document's table) ---------------------------------------------------------

LOADCURVE_DIRECTIONS = ("CONSUMPTION", "INJECTION")
ENEDIS_DIRECTIONS = ("SOUTIRAGE", "INJECTION")


class RequestType(msgspec.Struct, frozen=True):
    code: str
    description: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    directions: tuple[str, ...]
    data_format: str
    latency: tuple[float, float]  # median latency in seconds, (short period, long period)
    legacy_for: str | None = None

    @property
    def arguments(self) -> tuple[str, ...]:
        return self.required + self.optional


_DSU = ("direction", "since", "until")
REQUEST_TYPES: dict[str, RequestType] = {
    t.code: t
    for t in (
        RequestType(
            "LOADCURVE",
            "Load curve (consumption or injection)",
            ("prms",),
            _DSU + ("enedisRetryAfterLoadcurveActivation",),
            LOADCURVE_DIRECTIONS,
            "Switchgrid csv/json",
            (2.5, 150.0),
        ),
        RequestType(
            "C68",
            "Contractual data (subscribed power, off-peak hours…)",
            ("prms",),
            (),
            (),
            "Raw Enedis JSON",
            (10.0, 10.0),
        ),
        RequestType(
            "C68_ASYNC",
            "Contractual data, more complete, supports injection",
            ("prms",),
            ("direction",),
            ENEDIS_DIRECTIONS,
            "Raw Enedis JSON",
            (90.0, 90.0),
        ),
        RequestType("R64_SYNC", "Daily indexes", ("prms",), _DSU, ENEDIS_DIRECTIONS, "Raw Enedis JSON", (10.0, 10.0)),
        RequestType("R65_SYNC", "Daily energies", ("prms",), _DSU, ENEDIS_DIRECTIONS, "Raw Enedis JSON", (10.0, 10.0)),
        RequestType(
            "R66_SYNC", "Daily max. powers", ("prms",), _DSU, ENEDIS_DIRECTIONS, "Raw Enedis JSON", (10.0, 10.0)
        ),
        RequestType(
            "R67", "Billing measurements", ("prms",), _DSU, ENEDIS_DIRECTIONS, "Raw Enedis JSON", (150.0, 150.0)
        ),
        # legacy (the document: prefer LOADCURVE / the _SYNC variants)
        RequestType(
            "R63",
            "Load curve (legacy)",
            ("prms",),
            _DSU,
            ENEDIS_DIRECTIONS,
            "Raw Enedis JSON",
            (150.0, 150.0),
            "LOADCURVE",
        ),
        RequestType(
            "R63_SYNC",
            "Load curve (legacy)",
            ("prms",),
            _DSU,
            ENEDIS_DIRECTIONS,
            "Raw Enedis JSON",
            (10.0, 10.0),
            "LOADCURVE",
        ),
        RequestType(
            "R64",
            "Daily indexes (legacy)",
            ("prms",),
            _DSU,
            ENEDIS_DIRECTIONS,
            "Raw Enedis JSON",
            (150.0, 150.0),
            "R64_SYNC",
        ),
        RequestType(
            "R65",
            "Daily energies (legacy)",
            ("prms",),
            _DSU,
            ENEDIS_DIRECTIONS,
            "Raw Enedis JSON",
            (150.0, 150.0),
            "R65_SYNC",
        ),
        RequestType(
            "R66",
            "Daily max. powers (legacy)",
            ("prms",),
            _DSU,
            ENEDIS_DIRECTIONS,
            "Raw Enedis JSON",
            (150.0, 150.0),
            "R66_SYNC",
        ),
    )
}
LOADCURVE_TYPES = frozenset({"LOADCURVE", "R63", "R63_SYNC"})


def median_latency(type_code: str, since: dt.datetime | None = None, until: dt.datetime | None = None) -> float:
    """The document's median latency: LOADCURVE < 2-3 s for ≤ 7 days, ~2-3 min beyond."""
    kind = REQUEST_TYPES.get(type_code)
    if kind is None:
        return 60.0
    short, long = kind.latency
    if since is not None and until is not None and until - since <= dt.timedelta(days=7):
        return short
    return long


# -- since / until ------------------------------------------------------------------------------

_INSTANT = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:T(?P<time>\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)"
    r"(?:(?P<z>Z)|(?P<offset>[+-]\d{2}:\d{2})|\[(?P<zone>[A-Za-z0-9_+\-/]+)\])?)?"
)
INSTANT_FORMS = (
    "2024-12-10",
    "2024-12-10T00:00:00",
    "2024-12-10T12:00:00Z",
    "2024-12-10T00:00:00+01:00",
    "2024-12-10T00:00:00[Europe/Paris]",
    "2024-12-10T00:00:00[CET]",
)


def parse_instant(text: str) -> dt.datetime:
    """A ``since``/``until`` value in one of the document's forms, as an aware UTC
    instant. Without ``Z``, an offset or a ``[zone]``, the value is UTC (the document:
    "by default in UTC"); a bare date is its 00:00 UTC."""
    value = iso_date_text(text or "")  # 01/11/2026 reads as 2026-11-01
    match = _INSTANT.fullmatch(value)
    if match is None:
        raise RuleError(
            f"date {text!r} not understood: use 2024-12-10, 2024-12-10T12:00:00Z, "
            "2024-12-10T00:00:00+01:00 or 2024-12-10T00:00:00[Europe/Paris]"
        )
    try:
        day = dt.date.fromisoformat(match["date"])
        clock = dt.time.fromisoformat(match["time"]) if match["time"] else dt.time(0)
    except ValueError:
        raise RuleError(f"date {text!r} does not exist") from None
    naive = dt.datetime.combine(day, clock)
    if match["offset"]:
        sign = 1 if match["offset"][0] == "+" else -1
        hours, minutes = (int(x) for x in match["offset"][1:].split(":"))
        tz: dt.tzinfo = dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
    elif match["zone"]:
        try:
            tz = ZoneInfo(match["zone"])
        except (ZoneInfoNotFoundError, ValueError):
            raise RuleError(f"time zone [{match['zone']}] unknown: use [Europe/Paris] or [CET]") from None
    else:
        tz = UTC
    return naive.replace(tzinfo=tz).astimezone(UTC)


def paris_argument(text: str) -> str:
    """An operator's ``since``/``until``: without ``Z``, an offset or a ``[zone]`` it is a
    Paris date (or date and time), made explicit for the API, whose default is UTC:
    ``2026-10-20`` → ``2026-10-20T00:00:00[Europe/Paris]`` (so "since 20/10" starts at
    midnight in Paris, not 02:00). A value with a zone is kept; :class:`RuleError` if unreadable."""
    value = iso_date_text(text or "")  # 20/10/2026 reads as 2026-10-20
    parse_instant(value)  # the sentence when it is not one of the document's forms
    match = _INSTANT.fullmatch(value)
    assert match is not None  # parse_instant accepted it
    if match["z"] or match["offset"] or match["zone"]:
        return value
    clock = match["time"] or "00:00:00"
    return f"{match['date']}T{clock if len(clock) > 5 else clock + ':00'}[Europe/Paris]"


def paris_day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """UTC bounds of a Paris civil day (23 h / 25 h on DST change days)."""
    start = dt.datetime.combine(day, dt.time(0), tzinfo=PARIS).astimezone(UTC)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=PARIS).astimezone(UTC)
    return start, end


def paris_day_argument(day: dt.date) -> str:
    """``since``/``until`` for the Paris midnight of ``day`` (``…T00:00:00[Europe/Paris]``)."""
    return f"{day.isoformat()}T00:00:00[Europe/Paris]"


# -- orders ------------------------------------------------------------------------------------


def json_body(value: msgspec.Struct) -> dict[str, Any]:
    """A request body (:mod:`~pupitre.providers.switchgrid.bodies`) as it is sent: JSON-ready,
    the fields left empty (``None``) left out, at every depth."""
    return cast("dict[str, Any]", _without_none(to_data(value)))


def _without_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value]
    return value


def validate_request(request: Any, *, has_consent: bool = False, now: dt.datetime | None = None) -> dict[str, Any]:
    """One ``requests[]`` item (dict or body struct) checked against the document's table;
    returns the JSON body (``prms`` normalised). ``has_consent``: the order names a
    ``consentId`` (which fixes the PRM), so ``prms`` may be omitted. ``now``: an ``until``
    after it, or a ``since`` not before it, is refused (there is no data of the future:
    an order for it is billed for nothing)."""
    data = (
        json_body(request)
        if isinstance(request, msgspec.Struct)
        else {k: v for k, v in dict(request).items() if v is not None}
    )
    code = str(data.get("type", "")).strip().upper()
    kind = REQUEST_TYPES.get(code)
    if kind is None:
        known = ", ".join(c for c, t in REQUEST_TYPES.items() if t.legacy_for is None)
        raise RuleError(f"request type {data.get('type')!r} unknown: one of {known}")
    data["type"] = code
    allowed = set(kind.arguments) | {"type"}
    extra = sorted(set(data) - allowed)
    if extra:
        raise RuleError(
            f"{code} does not take {', '.join(extra)}"
            + (f" (it takes {', '.join(kind.arguments)})" if kind.arguments else " (only the PRMs)")
        )
    prms = data.get("prms")
    if prms is None or prms == []:
        if not has_consent:
            raise RuleError(f"{code}: give at least one PRM (14 digits), or order from a consent")
        data.pop("prms", None)
    else:
        if isinstance(prms, str):
            prms = [prms]
        data["prms"] = [validate_prm(p) for p in prms]
    if "direction" in data:
        direction = str(data["direction"]).upper()
        if direction not in kind.directions:
            raise RuleError(
                f"{code}: direction {data['direction']!r} not accepted, use " + " or ".join(kind.directions)
            )
        data["direction"] = direction
    since = parse_instant(data["since"]) if "since" in data else None
    until = parse_instant(data["until"]) if "until" in data else None
    if since is not None and until is not None and since >= until:
        raise RuleError(f"{code}: the start ({data['since']}) must be before the end ({data['until']})")
    if now is not None and until is not None and until > now.astimezone(UTC):
        raise RuleError(
            f"{code}: the end ({data['until']}) is in the future: there is no data after now — "
            "give a past date, or leave it empty for the API's default"
        )
    if now is not None and since is not None and since >= now.astimezone(UTC):
        raise RuleError(f"{code}: the start ({data['since']}) is not in the past: there is no data yet")
    return data


def validate_order(order: Any) -> dict[str, Any]:
    """A ``POST /order`` body (dict or body struct) checked locally; returns the JSON body."""
    data = (
        json_body(order)
        if isinstance(order, msgspec.Struct)
        else {k: v for k, v in dict(order).items() if v is not None}
    )
    consent = data.get("consentId")
    if consent is not None:
        data["consentId"] = validate_uuid(consent, "consent id")
    requests = data.get("requests") or []
    if not requests:
        raise RuleError("the order is empty: add at least one request (e.g. LOADCURVE)")
    data["requests"] = [validate_request(r, has_consent=consent is not None) for r in requests]
    return data


ORDER_STATUSES = (
    "CREATED",
    "PENDING_ADDRESS_CHECK",
    "ADDRESS_CHECK_FAILED",
    "PENDING_REQUESTS",
    "SOME_REQUESTS_FAILED",
    "SUCCESS",
)
ORDER_TERMINAL = frozenset({"SUCCESS", "SOME_REQUESTS_FAILED", "ADDRESS_CHECK_FAILED", "FAILED"})
ORDER_FAILED = frozenset({"SOME_REQUESTS_FAILED", "ADDRESS_CHECK_FAILED", "FAILED"})
REQUEST_STATUSES = ("NOT_STARTED", "PENDING", "PENDING_ADDRESS_CHECK", "SUCCESS", "FAILED")
REQUEST_TERMINAL = frozenset({"SUCCESS", "FAILED"})


#: an order's status as glyph and word (screens, and the end of a followed order)
ORDER_WORDS = {
    "SUCCESS": ("✓", "done"),
    "SOME_REQUESTS_FAILED": ("✗", "some failed"),
    "ADDRESS_CHECK_FAILED": ("✗", "address refused"),
    "FAILED": ("✗", "failed"),
    "PENDING_REQUESTS": ("⏳", "running"),
    "CREATED": ("⏳", "created"),
    "PENDING_ADDRESS_CHECK": ("⏳", "checking address"),
}


def order_done(status: str) -> bool:
    return status in ORDER_TERMINAL


def order_word(status: str) -> str:
    """A Switchgrid order's status in a word (``done``, ``some failed``…)."""
    return ORDER_WORDS.get(status, ("", status.lower()))[1]


def poll_delays(first: float = 2.0, factor: float = 1.6, cap: float = 60.0) -> Iterator[float]:
    """Seconds to wait before each ``GET /order/{id}``: 2, 3.2, 5.1 … capped at 60 s
    (a LOADCURVE of ≤ 7 days is ready in seconds, 24 months in a few minutes)."""
    delay = first
    while True:
        yield min(delay, cap)
        delay = min(delay * factor, cap)


# -- the "aucun service souscrit de courbe de charge" error ------------------------------------

NO_LOADCURVE_SERVICE = "aucun service souscrit de courbe de charge"


class Explanation(msgspec.Struct, frozen=True):
    title: str
    advice: str
    reorder_with_activation: bool  # re-order with enedisRetryAfterLoadcurveActivation: true


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).lower()


def explain_error(type_code: str, message: str | None) -> Explanation | None:
    """The operator explanation of a request's ``errorMessage`` (None when we have none)."""
    if not message:
        return None
    if NO_LOADCURVE_SERVICE in _fold(message):
        loadcurve = type_code.upper() == "LOADCURVE"
        return Explanation(
            "No load-curve service at Enedis for this period",
            "Generally the load curve has never been collected for this meter. Switchgrid has "
            "asked Enedis to activate it automatically: retry in a few hours"
            + (
                ", or re-order now with automatic retry after activation."
                if loadcurve
                else "; prefer a LOADCURVE request, which can retry automatically."
            ),
            loadcurve,
        )
    return Explanation("Enedis refused the request", message, False)


def ordered_span(body: Mapping[str, Any] | None) -> tuple[dt.datetime | None, dt.datetime | None] | None:
    """The period an order was placed for, from the body sent: the earliest ``since`` and the
    latest ``until`` of its requests (UTC; ``None`` where a request left it to the API's
    default). ``None`` when the body is unknown (an order placed elsewhere)."""
    if not body:
        return None
    since: list[dt.datetime | None] = []
    until: list[dt.datetime | None] = []
    for request in body.get("requests", []):
        try:
            since.append(parse_instant(request["since"]) if request.get("since") else None)
            until.append(parse_instant(request["until"]) if request.get("until") else None)
        except RuleError:
            since.append(None)
            until.append(None)
    first = None if not since or None in since else min(s for s in since if s is not None)
    last = None if not until or None in until else max(u for u in until if u is not None)
    return first, last


def placed_at(order: Any) -> dt.datetime | None:
    """When an order was placed: the earliest ``orderedAt`` of its requests (``None`` if none says)."""
    times = [r.orderedAt for r in getattr(order, "requests", []) if getattr(r, "orderedAt", None) is not None]
    return min(times) if times else None


def reorder_with_activation(order: Any, failed_types: Iterable[str] = ("LOADCURVE",)) -> dict[str, Any]:
    """The order body again, its LOADCURVE requests with
    ``enedisRetryAfterLoadcurveActivation: true`` (the others left out)."""
    data = validate_order(order)
    wanted = {t.upper() for t in failed_types}
    requests = [
        dict(r, enedisRetryAfterLoadcurveActivation=True)
        for r in data["requests"]
        if r["type"] == "LOADCURVE" and r["type"] in wanted
    ]
    if not requests:
        raise RuleError("only LOADCURVE requests can be re-ordered with automatic retry")
    return dict(data, requests=requests)


# -- load curves -------------------------------------------------------------------------------


class Point(NamedTuple):
    """Mean power in W over ``[start, start + step)`` (UTC, "starting step"); None = gap."""

    start: dt.datetime
    watts: float | None


class LoadCurve(msgspec.Struct):
    step: dt.timedelta
    points: list[Point] = msgspec.field(default_factory=list)

    @property
    def start(self) -> dt.datetime | None:
        return self.points[0].start if self.points else None

    @property
    def end(self) -> dt.datetime | None:
        return self.points[-1].start + self.step if self.points else None


_DURATION = re.compile(r"P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+)S)?)?")


def parse_period(text: str) -> dt.timedelta:
    """ISO 8601 duration as in ``"period": "PT600S"``."""
    match = _DURATION.fullmatch((text or "").strip())
    if match is None or not any(match.groupdict().values()):
        raise RuleError(f"load-curve period {text!r} not understood")
    parts = {k: int(v or 0) for k, v in match.groupdict().items()}
    step = dt.timedelta(days=parts["d"], hours=parts["h"], minutes=parts["m"], seconds=parts["s"])
    if step <= dt.timedelta(0):
        raise RuleError(f"load-curve period {text!r} is empty")
    return step


def _utc(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    number = float(value)
    return None if math.isnan(number) else number


def parse_json_curve(data: Any) -> LoadCurve:
    """The JSON form (``period``, ``startsAt``, ``endsAt``, ``values`` with nulls) — also
    an order request's inline ``loadCurve`` (a struct or a dict)."""
    if isinstance(data, msgspec.Struct):
        data = to_data(data)
    try:
        step = parse_period(data["period"])
        start = _utc(str(data["startsAt"]))
        end = _utc(str(data["endsAt"])) if data.get("endsAt") else None
        values = data["values"]
        points = [Point(start + i * step, _number(v)) for i, v in enumerate(values)]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise RuleError(f"load curve in JSON not understood ({type(exc).__name__})") from None
    if end is not None:
        # ``endsAt`` bounds the curve: fewer values than the span is a missing tail, a gap
        # (never a curve that ends early); more values than the span are outside it.
        points = [p for p in points if p.start < end]
        moment = start + len(points) * step
        while moment < end:
            points.append(Point(moment, None))
            moment += step
    return LoadCurve(step, points)


def parse_csv_curve(text: str, step: dt.timedelta | None = None) -> LoadCurve:
    """The CSV form (``startDate,powerInWatts``; an empty value is a gap). Missing rows
    between two timestamps become gap points, so a gap is never lost; ``step`` is
    inferred (the smallest difference) when not given."""
    reader = csv.reader(io.StringIO(text.strip()))
    rows = [row for row in reader if row and any(cell.strip() for cell in row)]
    if rows and rows[0][0].strip().lower() == "startdate":
        rows = rows[1:]
    try:
        raw = [(_utc(row[0]), _number(row[1] if len(row) > 1 else None)) for row in rows]
    except (ValueError, IndexError) as exc:
        raise RuleError(f"load curve in CSV not understood ({type(exc).__name__})") from None
    raw.sort(key=lambda p: p[0])
    if step is None:
        diffs = [b[0] - a[0] for a, b in pairwise(raw) if b[0] > a[0]]
        step = min(diffs) if diffs else STEP_10_MIN
    return LoadCurve(step, fill_gaps([Point(t, w) for t, w in raw], step))


def fill_gaps(points: Sequence[Point], step: dt.timedelta) -> list[Point]:
    out: list[Point] = []
    for point in points:
        if out:
            expected = out[-1].start + step
            while expected < point.start:
                out.append(Point(expected, None))
                expected += step
            if point.start < expected and point.start == out[-1].start:
                continue  # duplicate row
        out.append(point)
    return out


def to_paris(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(PARIS)


def curve_csv(points: Iterable[Point]) -> str:
    """Points back to the API's CSV form (export)."""
    lines = ["startDate,powerInWatts"]
    for t, w in points:
        stamp = t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"
        lines.append(f"{stamp},{'' if w is None else _fmt(w)}")
    return "\n".join(lines) + "\n"


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


Bucket = tuple[dt.datetime, float | None, float | None]


def downsample(points: Sequence[Point], buckets: int) -> list[Bucket]:
    """``(t, min, max)`` per time bucket, for display, never averaging.

    The span is cut into ``buckets`` equal time slices. A slice with values gives one
    ``(time of its first value, min, max)``; a slice holding a gap gives one
    ``(time of its first gap point, None, None)`` as well, in time order — so a bucket
    with both a value and a gap yields two entries and neither a single-point peak nor
    a single-point gap can disappear (at most ``2 × buckets`` entries). With no more
    points than buckets, every point is returned as ``(t, w, w)``.
    """
    if buckets < 1:
        raise ValueError("buckets must be ≥ 1")
    n = len(points)
    if n == 0:
        return []
    if n <= buckets:
        return [(p.start, p.watts, p.watts) for p in points]
    t0 = points[0].start.timestamp()
    span = points[-1].start.timestamp() - t0
    width = span / buckets if span > 0 else 1.0
    out: list[Bucket] = []
    current = -1
    lo = hi = 0.0  # the bucket's extremes, meaningful once first_value is set
    first_value: dt.datetime | None = None
    first_gap: dt.datetime | None = None

    def flush() -> None:
        entries: list[Bucket] = []
        if first_value is not None:
            entries.append((first_value, lo, hi))
        if first_gap is not None:
            entries.append((first_gap, None, None))
        entries.sort(key=lambda e: e[0])
        out.extend(entries)

    for t, w in points:
        index = min(int((t.timestamp() - t0) / width), buckets - 1)
        if index != current:
            if current >= 0:
                flush()
            current, lo, hi, first_value, first_gap = index, 0.0, 0.0, None, None
        if w is None:
            if first_gap is None:
                first_gap = t
        else:
            if first_value is None:
                first_value, lo, hi = t, w, w
            else:
                if w < lo:
                    lo = w
                if w > hi:
                    hi = w
    flush()
    return out


class Stats(msgspec.Struct, frozen=True):
    """Statistics of a range; energy counts each value over its step (starting step)."""

    start: dt.datetime | None
    end: dt.datetime | None
    points: int
    gaps: int
    max_watts: float | None
    max_at: dt.datetime | None  # Paris time of the start of the max step
    mean_watts: float | None
    energy_kwh: float
    load_factor: float | None  # mean / max
    hours: float  # elapsed hours covered (23 / 25 on DST days)


def select(points: Sequence[Point], start: dt.datetime | None = None, end: dt.datetime | None = None) -> list[Point]:
    """The points whose step starts in ``[start, end)`` (aware instants)."""
    return [p for p in points if (start is None or p.start >= start) and (end is None or p.start < end)]


def stats(
    points: Sequence[Point],
    step: dt.timedelta = STEP_10_MIN,
    *,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    selected: bool = False,
) -> Stats:
    """``selected``: ``points`` are already those of ``[start, end)`` (not filtered again)."""
    chosen = select(points, start, end) if (start is not None or end is not None) and not selected else list(points)
    return stats_of(
        [p.watts for p in chosen],
        lambda i: chosen[i].start,
        step,
        start if start is not None else (chosen[0].start if chosen else None),
        end if end is not None else (chosen[-1].start + step if chosen else None),
    )


def stats_of(
    values: Sequence[float | None],
    start_of: Any,
    step: dt.timedelta,
    first: dt.datetime | None,
    last: dt.datetime | None,
) -> Stats:
    """:func:`stats` on an array of watts (``start_of(i)``: the UTC start of value ``i``);
    linear in C-speed built-ins, for 2 years of points on every keystroke."""
    hours = (last - first).total_seconds() / 3600 if first and last else 0.0
    present = [v for v in values if v is not None]
    if not present:
        return Stats(first, last, len(values), len(values), None, None, None, 0.0, None, hours)
    peak = max(present)
    at = start_of(list(values).index(peak) if not isinstance(values, list) else values.index(peak))
    total = sum(present)
    mean = total / len(present)
    return Stats(
        first,
        last,
        len(values),
        len(values) - len(present),
        peak,
        to_paris(at),
        mean,
        total * step.total_seconds() / 3600 / 1000,
        mean / peak if peak else None,
        hours,
    )


def watt_unit(max_watts: float | None) -> tuple[str, float]:
    """``("W", 1)`` or ``("kW", 1000)`` as fits the range's maximum."""
    return ("kW", 1000.0) if max_watts is not None and abs(max_watts) >= 10_000 else ("W", 1.0)


# -- building an ask (the document's POST /ask body) ------------------------------------------

CONSUMPTION_TYPES = ("CDC", "IDX", "ENERGIE", "PMAX")


def build_ask(
    contract_ids: Sequence[str],
    signer_first: str,
    signer_last: str,
    *,
    purposes: Sequence[str] = ("ENERGY_PERFORMANCE_STUDY",),
    types: Sequence[str] = CONSUMPTION_TYPES,
    directions: Sequence[str] = ("SOUTIRAGE",),
    contractual: bool = True,
    duration: str = "1 year",
    email: str = "",
    phone: str = "",
) -> dict[str, Any]:
    """A ``POST /ask`` body from search results: ``electricityContracts`` as uuids (the
    document's recommended form), the signer, the ``ENEDIS_RAW_API`` scopes
    (``DETAILS_CONTRACTUELS`` and ``CONSUMPTION_DATA`` with its types CDC/IDX/ENERGIE/PMAX
    and directions), the purposes and the consent duration — every part checked."""
    if not contract_ids:
        raise RuleError("choose at least one contract (search, then space to tick it)")
    ids = [validate_uuid(c, "contract id") for c in contract_ids]
    first, last = " ".join(signer_first.split()), " ".join(signer_last.split())
    if not first or not last:
        raise RuleError("enter the signer's first and last name (the person who signs the consent)")
    bad = [p for p in purposes if p not in PURPOSES]
    if bad or not purposes:
        raise RuleError(f"purposes must be among {', '.join(PURPOSES)}")
    bad = [t for t in types if t not in CONSUMPTION_TYPES]
    if bad:
        raise RuleError(f"data types must be among {', '.join(CONSUMPTION_TYPES)}")
    bad = [d for d in directions if d not in ENEDIS_DIRECTIONS]
    if bad or (types and not directions):
        raise RuleError("directions: SOUTIRAGE (consumption), INJECTION or both")
    if not types and not contractual:
        raise RuleError("the consent covers nothing: choose contractual details or a data type")
    consent_duration(duration)
    scopes: list[dict[str, Any]] = []
    if contractual:
        scopes.append({"service": "ENEDIS_RAW_API", "id": "DETAILS_CONTRACTUELS"})
    if types:
        scopes.append(
            {
                "service": "ENEDIS_RAW_API",
                "id": "CONSUMPTION_DATA",
                "args": {"types": list(types), "directions": list(directions)},
            }
        )
    signer: dict[str, Any] = {"firstName": first, "lastName": last}
    if email.strip():
        signer["email"] = email.strip()
    if phone.strip():
        signer["phone"] = phone.strip()
    return {
        "electricityContracts": ids,
        "signer": signer,
        "consentCollectionMedium": {"service": "WEB_HOSTED"},
        "consentDuration": duration,
        "scopesAndPurpose": [{"scopes": scopes, "purposes": list(purposes)}],
    }


def ask_expires_at(ask: Any) -> dt.datetime | None:
    """When an accepted ask's consents end: ``acceptedAt`` + ``consentDuration`` (from the
    ask's ``createArgs``; months = 30 d, years = 365 d, so an approximation on the safe side
    only to within a few days). None when not accepted or the duration is unknown."""
    accepted: dt.datetime | None = getattr(ask, "acceptedAt", None)
    duration = (getattr(ask, "createArgs", None) or {}).get("consentDuration")
    if getattr(ask, "status", "") != "ACCEPTED" or accepted is None or not isinstance(duration, str):
        return None
    try:
        return accepted + consent_duration(duration)
    except RuleError:
        return None


def expiring_soon(asks: Iterable[Any], now: dt.datetime, days: int) -> list[tuple[Any, dt.datetime]]:
    """Accepted asks whose consents end within ``days`` (or have ended), soonest first."""
    out = []
    for ask in asks:
        end = ask_expires_at(ask)
        if end is not None and instant(end) - instant(now) <= dt.timedelta(days=days):
            out.append((ask, end))
    return sorted(out, key=lambda pair: pair[1])


# -- fast range operations for display (arrays, index ranges) -------------------------------


#: Points per block of :class:`Blocks` (a day of 10-minute steps).
BLOCK = 144


class Blocks(msgspec.Struct, frozen=True):
    """Per block of :data:`BLOCK` consecutive values: the min and max of its values (``None``
    when it holds none), the index of its first gap and of its first value (-1: none). Built
    once per curve; a column spanning many blocks then costs its blocks, not its points
    (ten years at "all": 3,650 blocks instead of 525,600 points)."""

    low: list[float | None]
    high: list[float | None]
    first_gap: list[int]
    first_value: list[int]

    @classmethod
    def of(cls, values: Sequence[float | None]) -> "Blocks":
        low: list[float | None] = []
        high: list[float | None] = []
        first_gap: list[int] = []
        first_value: list[int] = []
        for a in range(0, len(values), BLOCK):
            summary = _summary(values, a, min(a + BLOCK, len(values)))
            low.append(summary[0])
            high.append(summary[1])
            first_gap.append(summary[2])
            first_value.append(summary[3])
        return cls(low, high, first_gap, first_value)


def _summary(values: Sequence[float | None], a: int, b: int) -> tuple[float | None, float | None, int, int]:
    """``(min, max, first gap index, first value index)`` of ``values[a:b]`` (-1: none)."""
    chunk = values[a:b]
    if None not in chunk:
        full = cast("Sequence[float]", chunk)  # no None in it: checked just above
        return (min(full), max(full), -1, a) if full else (None, None, -1, -1)
    present = [v for v in chunk if v is not None]
    first_gap = a + chunk.index(None)
    if not present:
        return None, None, first_gap, -1
    first_value = next(a + j for j, v in enumerate(chunk) if v is not None)
    return min(present), max(present), first_gap, first_value


def _summary_by_blocks(
    values: Sequence[float | None], a: int, b: int, blocks: Blocks
) -> tuple[float | None, float | None, int, int]:
    """:func:`_summary` of ``values[a:b]`` from the whole blocks inside it and its two edges."""
    first, last = -(-a // BLOCK), b // BLOCK  # the whole blocks [first, last)
    if last - first < 2:
        return _summary(values, a, b)
    parts = [_summary(values, a, first * BLOCK)]
    parts += [(blocks.low[i], blocks.high[i], blocks.first_gap[i], blocks.first_value[i]) for i in range(first, last)]
    parts.append(_summary(values, last * BLOCK, b))
    lows = [p[0] for p in parts if p[0] is not None]
    highs = [p[1] for p in parts if p[1] is not None]
    gap = next((p[2] for p in parts if p[2] >= 0), -1)
    value = next((p[3] for p in parts if p[3] >= 0), -1)
    return (min(lows) if lows else None), (max(highs) if highs else None), gap, value


def downsample_values(
    ts: Sequence[float],
    values: Sequence[float | None],
    lo: int,
    hi: int,
    buckets: int,
    blocks: Blocks | None = None,
) -> list[tuple[float, float | None, float | None]]:
    """:func:`downsample` on arrays (UTC epoch seconds, watts) for ``[lo, hi)``, by index
    (the points are on a regular grid): ``(t, min, max)`` per bucket with values and
    ``(t, None, None)`` per bucket holding a gap, in time order — never averaging, so
    neither a single-point peak nor a single-point gap can disappear. With ``blocks``
    (:meth:`Blocks.of` of ``values``), a wide bucket is read from its whole blocks."""
    if buckets < 1:
        raise ValueError("buckets must be ≥ 1")
    n = hi - lo
    if n <= 0:
        return []
    if n <= buckets:
        return [(ts[i], values[i], values[i]) for i in range(lo, hi)]
    out: list[tuple[float, float | None, float | None]] = []
    for k in range(buckets):
        a = lo + k * n // buckets
        b = lo + (k + 1) * n // buckets
        low, high, first_gap, first_value = (
            _summary_by_blocks(values, a, b, blocks) if blocks is not None else _summary(values, a, b)
        )
        if first_gap < 0:
            out.append((ts[a], low, high))
        elif first_value < 0:
            out.append((ts[first_gap], None, None))
        else:
            entries = [(ts[first_value], low, high), (ts[first_gap], None, None)]
            entries.sort(key=lambda e: e[0])
            out.extend(entries)
    return out


def gap_runs(values: Sequence[float | None]) -> list[tuple[int, int]]:
    """``(first index, length)`` of each run of missing values."""
    items = values if isinstance(values, list) else list(values)
    runs: list[tuple[int, int]] = []
    n, i = len(items), 0
    while True:
        try:
            i = items.index(None, i)
        except ValueError:
            return runs
        j = i + 1
        while j < n and items[j] is None:
            j += 1
        runs.append((i, j - i))
        i = j


ZOOMS = ("day", "week", "month", "all")


def _paris_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=PARIS).astimezone(UTC)


def _month_start(day: dt.date, shift: int = 0) -> dt.date:
    index = day.year * 12 + day.month - 1 + shift
    return dt.date(index // 12, index % 12 + 1, 1)


def zoom_window(
    zoom: str, anchor: dt.datetime, extent: tuple[dt.datetime, dt.datetime], shift: int = 0
) -> tuple[dt.datetime, dt.datetime]:
    """The UTC bounds of the Paris calendar ``day`` / ``week`` (Monday) / ``month`` holding
    ``anchor``, moved by ``shift`` such units; ``all`` is the data's extent. A day is
    23 h or 25 h on DST change days, as it is on the wall clock."""
    if zoom == "all":
        return extent
    local = anchor.astimezone(PARIS).date()
    if zoom == "day":
        first = local + dt.timedelta(days=shift)
        return _paris_midnight(first), _paris_midnight(first + dt.timedelta(days=1))
    if zoom == "week":
        first = local - dt.timedelta(days=local.weekday()) + dt.timedelta(weeks=shift)
        return _paris_midnight(first), _paris_midnight(first + dt.timedelta(days=7))
    if zoom == "month":
        first = _month_start(local, shift)
        return _paris_midnight(first), _paris_midnight(_month_start(first, 1))
    raise ValueError(f"zoom {zoom!r} unknown")


def time_ticks(start: dt.datetime, end: dt.datetime, most: int = 8) -> list[tuple[dt.datetime, str]]:
    """Axis ticks at round Paris wall times inside ``[start, end]`` with their labels
    (hours within a day, days within weeks, months beyond); at most ``most`` of them."""
    hours = (end - start).total_seconds() / 3600
    local_start = start.astimezone(PARIS)
    ticks: list[tuple[dt.datetime, str]] = []
    if hours <= 36:
        every = next(h for h in (1, 2, 3, 4, 6, 12) if hours / h <= most)
        moment = local_start.replace(minute=0, second=0, microsecond=0)
        moment = moment.astimezone(UTC)
        while moment <= end:
            local = moment.astimezone(PARIS)
            if moment >= start and local.minute == 0 and local.hour % every == 0:
                ticks.append((moment, f"{local:%H}h" if local.hour else f"{local:%a %d}"))
            moment += dt.timedelta(hours=1)
    elif hours <= 24 * 62:
        days = hours / 24
        every = next(d for d in (1, 2, 3, 5, 7, 10, 14) if days / d <= most)
        day = local_start.date()
        while True:
            moment = _paris_midnight(day)
            if moment > end:
                break
            if moment >= start and ((day.toordinal() - 1) % every == 0 or every == 1):
                ticks.append((moment, f"{day:%a %d}" if every == 1 else f"{day:%d/%m}"))
            day += dt.timedelta(days=1)
    else:
        months = hours / 24 / 30.4
        every = next(m for m in (1, 2, 3, 4, 6, 12, 24) if months / m <= most)
        first = _month_start(local_start.date(), 0 if local_start.day == 1 and local_start.hour == 0 else 1)
        while True:
            moment = _paris_midnight(first)
            if moment > end:
                break
            if (first.month - 1) % every == 0:
                ticks.append((moment, f"{first:%m/%y}"))
            first = _month_start(first, 1)
    return ticks
