"""GRDF ADICT rules: NDJSON stream parsing, PCE format, declaration and proof checks,
``periode`` forms and history limits, the quota table, working-day deadlines.

Sentences are addressed to the operator. No I/O, no Textual.
"""

from __future__ import annotations

import codecs
import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any, AsyncIterable, AsyncIterator, Iterable, Mapping

from pupitre.providers.core.errors import ApiError, PayloadError, ServerError
from pupitre.providers.grdf_adict.models import (PROOF_PENDING, PROOF_TO_CHECK, ROLES, DeclareBody,
                                                 StatusLine)

PROVIDER = "GRDF ADICT"

# -- errors ----------------------------------------------------------------------------------------


class FunctionalError(ApiError):
    """GRDF refused the call functionally (``statut_restitution`` or a status line with a
    ``1…`` code), possibly inside an HTTP 200. ``code`` is GRDF's code."""

    kind = "refused"

    def __init__(self, message: str, *, code: str = "", provider: str = PROVIDER,
                 status: int | None = None) -> None:
        self.code = code
        super().__init__(message, provider=provider, status=status,
                         detail=f"code {code}" if code else "")


class RuleError(ValueError):
    """Local validation failed; ``problems`` are operator sentences, nothing was sent."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(" ".join(problems))


def functional_error(code: str | None, message: str | None, status: int | None = None) -> ApiError:
    """``1…`` codes are functional refusals; ``2…`` codes are GRDF technical errors (retryable)."""
    code = (code or "").strip()
    text = (message or "").strip() or "GRDF refused the request"
    if code.startswith("2"):
        return ServerError(text, provider=PROVIDER, status=status, detail=f"code {code}")
    return FunctionalError(text, code=code, status=status)


def check_restitution(item: Mapping[str, Any]) -> None:
    """Raise the typed error of a data record whose ``statut_restitution`` is not empty."""
    status = item.get("statut_restitution")
    if isinstance(status, Mapping) and (status.get("code") or status.get("message")):
        raise functional_error(str(status.get("code") or ""), str(status.get("message") or ""))


# -- NDJSON streams --------------------------------------------------------------------------------

_WS = " \t\r\n"
_MAX_PENDING = 8 * 1024 * 1024  # one object never weighs 8 MB: the stream is garbage


def _is_status_line(obj: Any) -> bool:
    return isinstance(obj, dict) and "code_statut_traitement" in obj and "id_droit_acces" not in obj \
        and "pce" not in obj and "id_pce" not in obj


class NdjsonDecoder:
    """Incremental decoder: :meth:`feed` bytes as they arrive, get the complete objects.

    Accepts one object per line, pretty-printed objects back to back, a top-level
    array or a ``{"liste_acces": [...]}`` wrapper (expanded to its items). The
    ``code_statut_traitement`` trailer is kept in :attr:`status`, not returned.
    UTF-8 sequences may be split between chunks.
    """

    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self._buffer = ""
        self._json = json.JSONDecoder()
        self.count = 0
        self.status: StatusLine | None = None

    def feed(self, chunk: bytes) -> list[Any]:
        try:
            self._buffer += self._utf8.decode(chunk)
        except UnicodeDecodeError as exc:
            raise self._cut(f"the stream is not valid UTF-8 ({exc.reason})") from None
        return self._drain()

    def close(self) -> list[Any]:
        """The end of the stream: what remains must be whitespace, else it was cut."""
        try:
            self._buffer += self._utf8.decode(b"", final=True)
        except UnicodeDecodeError:
            raise self._cut("the stream ended inside a character") from None
        items = self._drain()
        if self._buffer.strip(_WS):
            raise self._cut("the stream was cut or malformed")
        return items

    def _cut(self, why: str) -> PayloadError:
        return PayloadError(f"{why} after {self.count} item(s) arrived", provider=PROVIDER,
                            detail=f"{self.count} item(s) received")

    def _drain(self) -> list[Any]:
        out: list[Any] = []
        buffer, pos, size = self._buffer, 0, len(self._buffer)
        while True:
            while pos < size and buffer[pos] in _WS:
                pos += 1
            if pos >= size:
                break
            try:
                obj, end = self._json.raw_decode(buffer, pos)
            except json.JSONDecodeError:
                break  # incomplete (or malformed: told at close)
            pos = end
            out.extend(self._expand(obj))
        self._buffer = buffer[pos:]
        if len(self._buffer) > _MAX_PENDING:
            raise self._cut("the stream holds an unreadable object")
        return out

    def _expand(self, obj: Any) -> list[Any]:
        if isinstance(obj, list):
            return [x for item in obj for x in self._expand(item)]
        if isinstance(obj, dict) and isinstance(obj.get("liste_acces"), list):
            items = self._expand(obj["liste_acces"])
            rest = {k: v for k, v in obj.items() if k != "liste_acces"}
            if _is_status_line(rest):
                self.status = StatusLine.model_validate(rest)
            return items
        if _is_status_line(obj):
            self.status = StatusLine.model_validate(obj)
            return []
        self.count += 1
        return [obj]


@dataclass
class NdjsonStream:
    """``async for obj in NdjsonStream(response.aiter_bytes())``: objects as soon as complete.

    After the loop, :attr:`status` holds the trailer (``None`` if the server sent
    none). A trailer with an error code raises its typed error at the end; a cut
    stream raises :class:`PayloadError` saying how many items arrived.
    """

    chunks: AsyncIterable[bytes]
    decoder: NdjsonDecoder = field(default_factory=NdjsonDecoder)

    @property
    def status(self) -> StatusLine | None:
        return self.decoder.status

    @property
    def count(self) -> int:
        return self.decoder.count

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._run()

    async def _run(self) -> AsyncIterator[Any]:
        async for chunk in self.chunks:
            for item in self.decoder.feed(chunk):
                yield item
        for item in self.decoder.close():
            yield item
        status = self.decoder.status
        if status is not None and not status.ok:
            raise functional_error(status.code_statut_traitement, status.message_retour_traitement)


def parse_ndjson(data: bytes) -> tuple[list[Any], StatusLine | None]:
    """A whole NDJSON body at once (samples, tests)."""
    decoder = NdjsonDecoder()
    items = decoder.feed(data) + decoder.close()
    return items, decoder.status


# -- PCE -------------------------------------------------------------------------------------------

_PCE = re.compile(r"GI\d{6}|\d{14}")


def validate_pce(value: str) -> str:
    """``GI`` + 6 digits or 14 digits (spaces ignored); :class:`RuleError` otherwise."""
    text = re.sub(r"\s+", "", value or "").upper()
    if not _PCE.fullmatch(text):
        raise RuleError([f"The PCE « {value} » is not valid: it is GI followed by 6 digits "
                         "(GI123456) or 14 digits (12345678912345)."])
    return text


# -- declaration -----------------------------------------------------------------------------------

_POSTCODE = re.compile(r"\d{5}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_MOBILE = re.compile(r"0[67]\d{8}")


def declaration_problems(fields: Mapping[str, Any], today: dt.date) -> list[str]:
    """Operator sentences for everything wrong in a declaration (empty: it can be sent)."""
    problems: list[str] = []
    role = str(fields.get("role_tiers") or "").strip()
    if role not in ROLES:
        problems.append("Choose the role: " + ", ".join(ROLES) + ".")
    name = str(fields.get("nom_titulaire") or "").strip()
    company = str(fields.get("raison_sociale") or "").strip()
    if not name and not company:
        problems.append("Give the holder's name (a person) or company name (a company).")
    elif name and company:
        problems.append("Give either the holder's name or the company name, not both.")
    if not _POSTCODE.fullmatch(str(fields.get("code_postal") or "").strip()):
        problems.append("The postal code of the PCE must be 5 digits.")
    if not _EMAIL.fullmatch(str(fields.get("courriel_titulaire") or "").strip()):
        problems.append("The holder's e-mail address is missing or not valid.")
    mobile = re.sub(r"[\s.]", "", str(fields.get("numero_telephone_mobile_titulaire") or ""))
    if mobile and not _MOBILE.fullmatch(mobile):
        problems.append("The mobile number must be 10 digits starting with 06 or 07 (or be left empty).")
    dates: dict[str, dt.date | None] = {}
    for key, label in (("date_debut_droit_acces", "start of the right"),
                       ("date_fin_droit_acces", "end of the right"),
                       ("perim_donnees_conso_debut", "start of the consumption-data period"),
                       ("perim_donnees_conso_fin", "end of the consumption-data period")):
        raw = fields.get(key)
        try:
            dates[key] = _as_date(raw)
        except ValueError:
            problems.append(f"The {label} is not a date (YYYY-MM-DD).")
            dates[key] = None
            continue
        if dates[key] is None and key.startswith("date_"):
            problems.append(f"Give the {label}.")
    start, end = dates.get("date_debut_droit_acces"), dates.get("date_fin_droit_acces")
    if start and end and end <= start:
        problems.append("The right must end after it starts.")
    if end and end < today:
        problems.append("The end of the right is already past.")
    cstart, cend = dates.get("perim_donnees_conso_debut"), dates.get("perim_donnees_conso_fin")
    if cstart and cend and cend < cstart:
        problems.append("The consumption-data period must end after it starts.")
    flags = ("perim_donnees_contractuelles", "perim_donnees_techniques",
             "perim_donnees_informatives", "perim_donnees_publiees")
    for key in flags:
        if not isinstance(fields.get(key, False), bool):
            problems.append(f"{key} must be yes or no.")
    if not any(fields.get(key) is True for key in flags):
        problems.append("Choose at least one kind of data in the perimeter.")
    if (fields.get("perim_donnees_informatives") is True or fields.get("perim_donnees_publiees") is True) \
            and not (cstart and cend):
        problems.append("Consumption data need the consumption-data period (start and end).")
    return problems


def build_declaration(fields: Mapping[str, Any], today: dt.date) -> DeclareBody:
    """A checked :class:`DeclareBody`, or :class:`RuleError` with the sentences."""
    problems = declaration_problems(fields, today)
    if problems:
        raise RuleError(problems)
    data = {k: v for k, v in fields.items() if v not in (None, "")}
    if "numero_telephone_mobile_titulaire" in data:
        data["numero_telephone_mobile_titulaire"] = re.sub(r"[\s.]", "",
                                                           str(data["numero_telephone_mobile_titulaire"]))
    return DeclareBody.model_validate(data)


def _as_date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value).strip())


# -- proofs ----------------------------------------------------------------------------------------

MAX_PROOF_FILES = 3
MAX_PROOF_BYTES = 4 * 1024 * 1024
PROOF_TYPES = ("txt", "csv", "pdf", "pptx", "docx", "mp3", "mp4", "zip")
PROOF_STATUSES_ALLOWED = (PROOF_PENDING, PROOF_TO_CHECK)


def proof_problems(files: Iterable[tuple[str, int]], proof_status: str | None) -> list[str]:
    """Sentences for a proof upload of ``(file name, size in bytes)``; empty: it can be sent."""
    files = list(files)
    problems: list[str] = []
    if proof_status not in PROOF_STATUSES_ALLOWED:
        problems.append(f"GRDF does not expect proofs for this right (proof status: "
                        f"{proof_status or 'none'}); proofs can be sent only when it is "
                        f"« {PROOF_PENDING} » or « {PROOF_TO_CHECK} ».")
    if not files:
        problems.append("Choose at least one file.")
    if len(files) > MAX_PROOF_FILES:
        problems.append(f"At most {MAX_PROOF_FILES} files per sending ({len(files)} chosen): "
                        "send the others in a second sending.")
    for name, size in files:
        ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if ext not in PROOF_TYPES:
            problems.append(f"« {name} »: type not accepted; use " + ", ".join(PROOF_TYPES) + ".")
        if size > MAX_PROOF_BYTES:
            problems.append(f"« {name} » weighs {size / 1024 / 1024:.1f} MB: at most 4 MB per file.")
        if size <= 0:
            problems.append(f"« {name} » is empty.")
    return problems


# -- periods ---------------------------------------------------------------------------------------

PUBLISHED_YEARS = 5
INFORMATIVE_YEARS = 3
_PERIODE = re.compile(r"(?P<y>\d{4})(?:-(?:(?P<m>\d{2})|W(?P<w>\d{2})|(?P<d>\d{3})))?")


def parse_periode(value: str) -> tuple[dt.date, dt.date]:
    """``YYYY``, ``YYYY-MM``, ``YYYY-Www``, ``YYYY-DDD`` → (first day, last day) inclusive."""
    match = _PERIODE.fullmatch((value or "").strip())
    if match is None:
        raise RuleError([f"The period « {value} » is not valid: use YYYY, YYYY-MM, YYYY-Www "
                         "(week) or YYYY-DDD (day of the year), or two dates."])
    year = int(match["y"])
    try:
        if match["m"]:
            month = int(match["m"])
            start = dt.date(year, month, 1)
            end = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1))
        elif match["w"]:
            start = dt.date.fromisocalendar(year, int(match["w"]), 1)
            end = start + dt.timedelta(days=6)
        elif match["d"]:
            start = dt.date(year, 1, 1) + dt.timedelta(days=int(match["d"]) - 1)
            if not 1 <= int(match["d"]) or start.year != year:
                raise ValueError
            end = start
        else:
            start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    except ValueError:
        raise RuleError([f"The period « {value} » does not exist in the calendar."]) from None
    return start, end


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def period_problems(start: dt.date, end: dt.date, today: dt.date, *, informative: bool) -> list[str]:
    """The document's limits: ≤ 5 years (published, injections) or 3 years (informative),
    start within that history, end not after today."""
    years = INFORMATIVE_YEARS if informative else PUBLISHED_YEARS
    problems: list[str] = []
    if end < start:
        problems.append("The period must end after it starts.")
    if end > today:
        problems.append("The period cannot end after today.")
    if start < _years_before(today, years):
        problems.append(f"The start is more than {years} years ago: GRDF keeps {years} years of "
                        f"{'informative' if informative else 'published'} data.")
    if end >= start and _years_before(end, years) > start:
        problems.append(f"The period is longer than {years} years.")
    return problems


def period_params(*, periode: str | None = None, start: dt.date | None = None,
                  end: dt.date | None = None, today: dt.date, informative: bool) -> dict[str, str]:
    """Checked query parameters: ``periode=…`` or ``date_debut``/``date_fin``."""
    if periode:
        first, last = parse_periode(periode)
        params = {"periode": periode.strip()}
    elif start and end:
        first, last = start, end
        params = {"date_debut": start.isoformat(), "date_fin": end.isoformat()}
    else:
        raise RuleError(["Give a period (YYYY, YYYY-MM, YYYY-Www, YYYY-DDD) or two dates."])
    problems = period_problems(first, min(last, today) if periode else last, today,
                               informative=informative)
    if problems:
        raise RuleError(problems)
    return params


# -- quotas ----------------------------------------------------------------------------------------

#: The document's "Quotas max à l'ouverture du service": (park up to, per second, per day).
QUOTA_TABLE: tuple[tuple[int | None, float, int], ...] = (
    (5_000, 1.0, 6_000),
    (50_000, 1.0, 60_000),
    (None, 3.0, 240_000),
)


def quota_for_park(park_size: int) -> tuple[float, int]:
    """(calls per second, calls per day) for a park of ``park_size`` PCE."""
    for limit, per_second, per_day in QUOTA_TABLE:
        if limit is None or park_size <= limit:
            return per_second, per_day
    raise AssertionError("unreachable")


def bulk_problem(calls: int, remaining_today: int | None) -> str | None:
    """A sentence when a bulk operation of ``calls`` would exceed today's remaining cap."""
    if remaining_today is not None and calls > remaining_today:
        return (f"This needs {calls} calls but only {remaining_today} remain in today's GRDF "
                "quota; it resets at midnight.")
    return None


# -- working days ----------------------------------------------------------------------------------

def _easter(year: int) -> dt.date:
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l = (32 + 2 * e + 2 * i - h - k) % 7  # noqa: E741
    m = (a + 11 * h + 22 * l) // 451
    month, day = divmod(h + l - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


def french_holidays(year: int) -> set[dt.date]:
    easter = _easter(year)
    fixed = {(1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25)}
    days = {dt.date(year, m, d) for m, d in fixed}
    days |= {easter + dt.timedelta(days=n) for n in (1, 39, 50)}
    return days


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in french_holidays(day.year)


def working_days_until(today: dt.date, deadline: dt.date) -> int:
    """Working days after ``today`` up to and including ``deadline`` (negative when past)."""
    if deadline < today:
        return -sum(1 for n in range(1, (today - deadline).days + 1)
                    if is_working_day(today - dt.timedelta(days=n)))
    return sum(1 for n in range(1, (deadline - today).days + 1)
               if is_working_day(today + dt.timedelta(days=n)))


def due_soon(deadline: dt.date | None, today: dt.date, within: int = 5) -> bool:
    """The deadline is not past and falls within ``within`` working days."""
    return deadline is not None and deadline >= today and working_days_until(today, deadline) <= within


def overdue(deadline: dt.date | None, today: dt.date) -> bool:
    return deadline is not None and deadline < today
