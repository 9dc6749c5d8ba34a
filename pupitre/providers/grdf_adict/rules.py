"""GRDF ADICT rules: NDJSON stream parsing, PCE format, declaration and proof checks,
``periode`` forms and history limits, the quota table, working-day deadlines.

Sentences are addressed to the operator. No I/O, no Textual. Sources: the ADICT
document (seed 003, "Atelier Fonctionnel & Technique", Feb. 2025) and the Swagger
``adict-b2b-v2`` 1.6 (corpus ``grdf-adict/spec``); each rule's docstring names its part.

- streams: :class:`NdjsonDecoder` / :class:`NdjsonStream` / :func:`parse_ndjson`,
  :func:`check_restitution` (200 answers carrying an error), :func:`functional_error`;
- declaration: :func:`declaration_field_problems` (by form field), :func:`build_declaration`;
- revocation: :func:`revocation_problem`; search: :func:`search_body`;
- proofs: :func:`proof_status_problem`, :func:`proof_file_problems`, :func:`proof_problems`;
- periods: :func:`parse_periode`, :func:`period_problems`, :func:`period_params`, :func:`period_query`;
- quotas: :func:`quota_for_park`, :func:`quota_limits`, :func:`bulk_fits_today`, :data:`RECOMMENDED_EVERY`;
- deadlines: :func:`working_days_until`, :func:`add_working_days`, :func:`due_soon`, :func:`overdue`,
  :func:`proof_queue`, :func:`proof_watch`, :func:`lost_since`, :func:`lost_message`;
- meters: :data:`FREQUENCIES`, :data:`PUBLISHED_STEP`, :data:`INFORMATIVE_DELAY_DAYS`, :func:`frequencies_for`.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from operator import attrgetter
from typing import TYPE_CHECKING, Any, AsyncIterable, AsyncIterator, Iterable, Mapping

import msgspec
import orjson

from pupitre.providers.core.errors import ApiError, PayloadError, ServerError
from pupitre.providers.core.typed_dates import typed_date
from pupitre.providers.grdf_adict.rights import (
    ACTIVE,
    OBSOLETE,
    PROOF_PENDING,
    PROOF_TO_CHECK,
    REFUSED,
    REVOKED,
    ROLES,
    TO_RECHECK,
    TO_VALIDATE,
)
from pupitre.providers.grdf_adict.rights import (
    PROVIDER as PROVIDER,  # the name the other modules read here
)

if TYPE_CHECKING:  # the API models build on first use: the rights feed and the check need none
    from pupitre.providers.grdf_adict.models import DeclareBody, StatusLine


# -- errors ----------------------------------------------------------------------------------------

#: The simulator's client, shared by the simulator and the wiring (``feeds.py`` names the
#: quota's credential with it without importing the simulator: ``pupitre check --max-age``).
SANDBOX_CLIENT_ID = "adict-sandbox-pupitre"
SANDBOX_CLIENT_SECRET = "sbx-adict-sandbox-secret-not-a-real-one"  # a sandbox value, not a real credential


class FunctionalError(ApiError):
    """GRDF refused the call functionally (``statut_restitution`` or a status line with a
    ``1…`` code), possibly inside an HTTP 200. ``code`` is GRDF's code."""

    kind = "refused"

    def __init__(self, message: str, *, code: str = "", provider: str = PROVIDER, status: int | None = None) -> None:
        self.code = code
        super().__init__(message, provider=provider, status=status, detail=f"code {code}" if code else "")


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
    """Raise the typed error of a data record whose ``statut_restitution`` is an error.

    GRDF answers many refusals with HTTP 200 and a record whose ``statut_restitution``
    is ``{code, message}`` (Swagger: "SUCCESS : Aucun droit d'accès…"). ``null``,
    ``"null"``, ``{}`` and ``0…`` codes are not errors; a bare string is a message."""
    status = item.get("statut_restitution")
    if status is None or status in ("", "null", {}):
        return
    from pupitre.providers.grdf_adict.models import Restitution, read

    try:
        restitution = read(status, Restitution)
    except PayloadError:
        raise PayloadError(f"unreadable statut_restitution {str(status)[:80]!r}", provider=PROVIDER) from None
    if restitution.is_error:
        raise functional_error(restitution.code, restitution.message)


# -- NDJSON streams --------------------------------------------------------------------------------

_WS = " \t\r\n"
_RESTITUTION = attrgetter("statut_restitution")
_MAX_PENDING = 8 * 1024 * 1024  # one object never weighs 8 MB: the stream is garbage


def _cut_utf8(tail: bytes) -> bool:
    """Whether ``tail`` is the start of a UTF-8 character split by a chunk boundary."""
    try:
        tail.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.reason == "unexpected end of data"
    return False


def _is_status_line(obj: Any) -> bool:
    return (
        isinstance(obj, dict)
        and "code_statut_traitement" in obj
        and "id_droit_acces" not in obj
        and "pce" not in obj
        and "id_pce" not in obj
    )


class NdjsonDecoder:
    """Incremental decoder: :meth:`feed` bytes as they arrive, get the complete objects.

    Accepts one object per line, pretty-printed objects back to back, a top-level
    array or a ``{"liste_acces": [...]}`` wrapper (expanded to its items). The
    ``code_statut_traitement`` trailer is kept in :attr:`status`, not returned.
    UTF-8 sequences may be split between chunks.

    The usual NDJSON (one object per line) is read line by line with orjson, on bytes
    (a 100,000-right park: ~0.8 s here, where the standard library took ~2 s). A block
    whose lines are not whole objects (pretty-printed JSON) goes to the general reader.

    With ``record`` (a ``msgspec.Struct`` type whose fields are all required), each block
    is first read as records of that type, in one call: only the fields it names are
    kept (no dict of every field a right carries), ~40 % less CPU than orjson's dicts. A
    block where a line is not such a record (a missing field, another type, the trailer,
    a wrapper, a ``statut_restitution`` — the record must have that field, defaulting to
    ``msgspec.UNSET``) is read the usual way, as dicts.
    """

    def __init__(self, record: type[Any] | None = None) -> None:
        self._pending = b""  # bytes not read yet (always starts at an object's boundary)
        self._json = json.JSONDecoder()
        self.count = 0
        self.status: StatusLine | None = None
        self._records: Any = None
        if record is not None:
            import msgspec  # only for the streams that read typed records

            self._records = msgspec.json.Decoder(record)
            self._record_errors: tuple[type[Exception], ...] = (msgspec.ValidationError, msgspec.DecodeError)
            self._unset = msgspec.UNSET

    def feed(self, chunk: bytes) -> list[Any]:
        pending = self._pending + chunk if self._pending else chunk
        cut = pending.rfind(b"\n")
        if cut < 0:
            self._pending = pending
            self._check_size()
            return []
        self._pending = pending[cut + 1 :]
        return self._read(pending[: cut + 1])

    def close(self) -> list[Any]:
        """The end of the stream: what remains must be whitespace, else it was cut."""
        pending, self._pending = self._pending, b""
        items = self._read(pending) if pending.strip() else []
        if self._pending.strip():
            raise self._cut(
                "the stream ended inside a character" if _cut_utf8(self._pending) else "the stream was cut or malformed"
            )
        return items

    def _cut(self, why: str) -> PayloadError:
        return PayloadError(
            f"{why} after {self.count} item(s) arrived", provider=PROVIDER, detail=f"{self.count} item(s) received"
        )

    def _check_size(self) -> None:
        if len(self._pending) > _MAX_PENDING:
            raise self._cut("the stream holds an unreadable object")

    def _read(self, block: bytes) -> list[Any]:
        """The objects of ``block`` (whole lines); what is left unread goes back in front
        of :attr:`_pending`."""
        if self._records is not None:
            try:
                records: list[Any] = self._records.decode_lines(block)
            except self._record_errors:
                pass  # not all records of the type: read as dicts below
            else:
                if list(map(_RESTITUTION, records)).count(self._unset) == len(records):
                    self.count += len(records)
                    return records
        try:
            objs = [orjson.loads(line) for line in block.split(b"\n") if line and not line.isspace()]
        except orjson.JSONDecodeError:
            return self._read_general(block)
        out: list[Any] = []
        for obj in objs:
            if obj.__class__ is dict and "liste_acces" not in obj and "code_statut_traitement" not in obj:
                self.count += 1
                out.append(obj)
            else:
                out.extend(self._expand(obj))
        return out

    def _read_general(self, block: bytes) -> list[Any]:
        """Pretty-printed objects back to back, arrays, wrappers: the standard library's
        ``raw_decode`` from object to object; an incomplete one waits for more bytes."""
        try:
            text = block.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.end < len(block) - 3 or not _cut_utf8(block[exc.start :]):
                raise self._cut(f"the stream is not valid UTF-8 ({exc.reason})") from None
            text = block[: exc.start].decode("utf-8")  # a character split at the end: wait for it
        out: list[Any] = []
        pos, size = 0, len(text)
        while True:
            while pos < size and text[pos] in _WS:
                pos += 1
            if pos >= size:
                break
            try:
                obj, end = self._json.raw_decode(text, pos)
            except json.JSONDecodeError:
                break  # incomplete (or malformed: told at close)
            pos = end
            out.extend(self._expand(obj))
        self._pending = block[len(text[:pos].encode("utf-8")) :] + self._pending
        self._check_size()
        return out

    def _expand(self, obj: Any) -> list[Any]:
        if isinstance(obj, list):
            return [x for item in obj for x in self._expand(item)]
        if isinstance(obj, dict) and isinstance(obj.get("liste_acces"), list):
            items = self._expand(obj["liste_acces"])
            rest = {k: v for k, v in obj.items() if k != "liste_acces"}
            if _is_status_line(rest):
                self.status = _status_line(rest)
            return items
        if _is_status_line(obj):
            self.status = _status_line(obj)
            return []
        self.count += 1
        return [obj]


class NdjsonStream(msgspec.Struct):
    """``async for obj in NdjsonStream(response.aiter_bytes())``: objects as soon as complete.

    After the loop, :attr:`status` holds the trailer (``None`` if the server sent
    none). A trailer with an error code raises its typed error at the end; a cut
    stream raises :class:`PayloadError` saying how many items arrived.
    """

    chunks: AsyncIterable[bytes]
    decoder: NdjsonDecoder = msgspec.field(default_factory=lambda: NdjsonDecoder())

    @property
    def status(self) -> StatusLine | None:
        return self.decoder.status

    @property
    def count(self) -> int:
        return self.decoder.count

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._items()

    async def _items(self) -> AsyncIterator[Any]:
        async for batch in self.batches():
            for item in batch:
                yield item

    async def batches(self) -> AsyncIterator[list[Any]]:
        """The objects a list per chunk received (never an empty list): cheaper than one
        by one for 100,000-right parks."""
        async for chunk in self.chunks:
            batch = self.decoder.feed(chunk)
            if batch:
                yield batch
        batch = self.decoder.close()
        if batch:
            yield batch
        status = self.decoder.status
        if status is not None and not status.ok:
            raise functional_error(status.code_statut_traitement, status.message_retour_traitement)


def _status_line(data: Any) -> StatusLine:
    """The list's closing status line (the API types are imported with the first one)."""
    from pupitre.providers.grdf_adict.models import StatusLine, read

    return read(data, StatusLine)


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
        raise RuleError(
            [
                f"The PCE « {value} » is not valid: it is GI followed by 6 digits "
                "(GI123456) or 14 digits (12345678912345)."
            ]
        )
    return text


# -- declaration -----------------------------------------------------------------------------------

_POSTCODE = re.compile(r"\d{5}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_MOBILE = re.compile(r"0[67]\d{8}")


#: The form fields of a declaration, in form order (``PUT /pce/{id_pce}/droit_acces`` body
#: ``demander_acces_in`` plus the PCE of the path).
DECLARATION_FIELDS = (
    "id_pce",
    "role_tiers",
    "nom_titulaire",
    "raison_sociale",
    "code_postal",
    "courriel_titulaire",
    "numero_telephone_mobile_titulaire",
    "date_debut_droit_acces",
    "date_fin_droit_acces",
    "perim_donnees_conso_debut",
    "perim_donnees_conso_fin",
    "perim_donnees_inj_debut",
    "perim_donnees_inj_fin",
    "perim_donnees_contractuelles",
    "perim_donnees_techniques",
    "perim_donnees_informatives",
    "perim_donnees_publiees",
)
PERIMETER_FLAGS = (
    "perim_donnees_contractuelles",
    "perim_donnees_techniques",
    "perim_donnees_informatives",
    "perim_donnees_publiees",
)
_DATE_LABELS = (
    ("date_debut_droit_acces", "start of the right"),
    ("date_fin_droit_acces", "end of the right"),
    ("perim_donnees_conso_debut", "start of the consumption-data period"),
    ("perim_donnees_conso_fin", "end of the consumption-data period"),
    ("perim_donnees_inj_debut", "start of the injection-data period"),
    ("perim_donnees_inj_fin", "end of the injection-data period"),
)


def declaration_field_problems(fields: Mapping[str, Any], today: dt.date) -> dict[str, list[str]]:
    """Problems of a declaration by form field (empty: it can be sent).

    The checks are GRDF's own 400/409 refusals of ``PUT /pce/{id_pce}/droit_acces``
    (Swagger 1.6), made before anything is sent: role given; the holder's name *or*
    company name, not both; postal code (5 digits), e-mail, optional mobile; right dates
    given, start ≤ today ≤ end; consumption-data period start ≤ today, end ≥ start and
    ≤ end of the right; perimeter flags Vrai/Faux with at least one chosen. ``id_pce``
    is checked only when present in ``fields``."""
    out: dict[str, list[str]] = {}

    def add(key: str, text: str) -> None:
        out.setdefault(key, []).append(text)

    if "id_pce" in fields:
        try:
            validate_pce(str(fields.get("id_pce") or ""))
        except RuleError as error:
            add("id_pce", str(error))
    role = str(fields.get("role_tiers") or "").strip()
    if role not in ROLES:
        add("role_tiers", "Choose the role: " + ", ".join(ROLES) + ".")
    name = str(fields.get("nom_titulaire") or "").strip()
    company = str(fields.get("raison_sociale") or "").strip()
    if not name and not company:
        add("nom_titulaire", "Give the holder's name (a person) or company name (a company).")
    elif name and company:
        add("nom_titulaire", "Give either the holder's name or the company name, not both.")
    if not _POSTCODE.fullmatch(str(fields.get("code_postal") or "").strip()):
        add("code_postal", "The postal code of the PCE must be 5 digits.")
    if not _EMAIL.fullmatch(str(fields.get("courriel_titulaire") or "").strip()):
        add("courriel_titulaire", "The holder's e-mail address is missing or not valid.")
    mobile = re.sub(r"[\s.]", "", str(fields.get("numero_telephone_mobile_titulaire") or ""))
    if mobile and not _MOBILE.fullmatch(mobile):
        add(
            "numero_telephone_mobile_titulaire",
            "The mobile number must be 10 digits starting with 06 or 07 (or be left empty).",
        )
    dates: dict[str, dt.date | None] = {}
    for key, label in _DATE_LABELS:
        try:
            dates[key] = _as_date(fields.get(key))
        except ValueError:
            add(key, f"The {label} is not a date (YYYY-MM-DD).")
            dates[key] = None
            continue
        if dates[key] is None and key.startswith("date_"):
            add(key, f"Give the {label}.")
    start, end = dates.get("date_debut_droit_acces"), dates.get("date_fin_droit_acces")
    if start and start > today:
        add("date_debut_droit_acces", "The right cannot start after today (GRDF refuses it).")
    if start and end and end <= start:
        add("date_fin_droit_acces", "The right must end after it starts.")
    elif end and end < today:
        add("date_fin_droit_acces", "The end of the right is already past.")
    for kind in ("conso", "inj"):
        first, last = dates.get(f"perim_donnees_{kind}_debut"), dates.get(f"perim_donnees_{kind}_fin")
        what = "consumption" if kind == "conso" else "injection"
        if first and first > today:
            add(f"perim_donnees_{kind}_debut", f"The {what}-data period cannot start after today.")
        if first and last and last < first:
            add(f"perim_donnees_{kind}_fin", f"The {what}-data period must end after it starts.")
        elif last and end and last > end:
            add(f"perim_donnees_{kind}_fin", f"The {what}-data period cannot end after the right ends.")
        if bool(first) != bool(last) and not out.get(f"perim_donnees_{kind}_debut"):
            add(
                f"perim_donnees_{kind}_{'fin' if first else 'debut'}",
                f"Give both ends of the {what}-data period, or neither.",
            )
    for key in PERIMETER_FLAGS:
        if not isinstance(fields.get(key, False), bool):
            add(key, "Answer yes or no.")
    if not any(fields.get(key) is True for key in PERIMETER_FLAGS):
        add("perim_donnees_publiees", "Choose at least one kind of data in the perimeter.")
    consumption = fields.get("perim_donnees_informatives") is True or fields.get("perim_donnees_publiees") is True
    if (
        consumption
        and not (dates.get("perim_donnees_conso_debut") and dates.get("perim_donnees_conso_fin"))
        and not out.get("perim_donnees_conso_debut")
        and not out.get("perim_donnees_conso_fin")
    ):
        add("perim_donnees_conso_debut", "Consumption data need the consumption-data period (start and end).")
    return out


def declaration_problems(fields: Mapping[str, Any], today: dt.date) -> list[str]:
    """Operator sentences for everything wrong in a declaration (empty: it can be sent)."""
    return [text for texts in declaration_field_problems(fields, today).values() for text in texts]


def build_declaration(fields: Mapping[str, Any], today: dt.date) -> DeclareBody:
    """A checked :class:`DeclareBody`, or :class:`RuleError` with the sentences."""
    problems = declaration_problems(fields, today)
    if problems:
        raise RuleError(problems)
    from pupitre.providers.grdf_adict.models import DeclareBody, read

    data = {k: v for k, v in fields.items() if v not in (None, "") and k != "id_pce"}
    if "numero_telephone_mobile_titulaire" in data:
        data["numero_telephone_mobile_titulaire"] = re.sub(r"[\s.]", "", str(data["numero_telephone_mobile_titulaire"]))
    return read(data, DeclareBody)


def _as_date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return typed_date(str(value))  # ISO or dd/mm/yyyy, as typed


# -- proofs ----------------------------------------------------------------------------------------

MAX_PROOF_FILES = 3
#: "4 Mo" per file (document, "Transmettre preuves"): read as 4 000 000 bytes, the stricter
#: reading, so GRDF never refuses a file this check let through.
MAX_PROOF_BYTES = 4_000_000
#: The document's list ("txt, csv, pdf, pptx, wordx, mp3, mp4 et zip"; "wordx" is docx).
PROOF_TYPES = ("txt", "csv", "pdf", "pptx", "docx", "mp3", "mp4", "zip")
PROOF_MIME_TYPES = {
    "txt": "text/plain",
    "csv": "text/csv",
    "pdf": "application/pdf",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "mp3": "audio/mpeg",
    "mp4": "video/mp4",
    "zip": "application/zip",
}


def proof_extension(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


PROOF_STATUSES_ALLOWED = (PROOF_PENDING, PROOF_TO_CHECK)


def proof_status_problem(proof_status: str | None) -> str | None:
    """Why proofs cannot be sent for a right in this proof status, or ``None`` (document,
    "Transmettre preuves": « Preuve en attente » for the first sending, « Preuve à vérifier »
    for more)."""
    if proof_status in PROOF_STATUSES_ALLOWED:
        return None
    return (
        f"GRDF does not expect proofs for this right (proof status: {proof_status or 'none'}); "
        f"proofs can be sent only when it is « {PROOF_PENDING} » or « {PROOF_TO_CHECK} »."
    )


def proof_file_problems(files: Iterable[tuple[str, int]]) -> list[str]:
    """Sentences for the files of one sending, ``(file name, size in bytes)``: 1 to 3 files,
    each of an accepted type and not empty, at most 4 MB."""
    files = list(files)
    problems: list[str] = []
    if not files:
        problems.append("Choose at least one file.")
    if len(files) > MAX_PROOF_FILES:
        problems.append(
            f"At most {MAX_PROOF_FILES} files per sending ({len(files)} chosen): send the others in a second sending."
        )
    for name, size in files:
        if proof_extension(name) not in PROOF_TYPES:
            problems.append(f"« {name} »: type not accepted; use " + ", ".join(PROOF_TYPES) + ".")
        if size > MAX_PROOF_BYTES:
            problems.append(f"« {name} » weighs {size / 1_000_000:.1f} MB: at most 4 MB per file.")
        if size <= 0:
            problems.append(f"« {name} » is empty.")
    return problems


def proof_problems(files: Iterable[tuple[str, int]], proof_status: str | None) -> list[str]:
    """Sentences for a proof upload of ``(file name, size in bytes)``; empty: it can be sent."""
    status = proof_status_problem(proof_status)
    return ([status] if status else []) + proof_file_problems(files)


# -- periods ---------------------------------------------------------------------------------------

PUBLISHED_YEARS = 5
INFORMATIVE_YEARS = 3
_PERIODE = re.compile(r"(?P<y>\d{4})(?:-(?:(?P<m>\d{2})|W(?P<w>\d{2})|(?P<d>\d{3})))?")


def parse_periode(value: str) -> tuple[dt.date, dt.date]:
    """``YYYY``, ``YYYY-MM``, ``YYYY-Www``, ``YYYY-DDD`` → (first day, last day) inclusive."""
    match = _PERIODE.fullmatch((value or "").strip())
    if match is None:
        raise RuleError(
            [
                f"The period « {value} » is not valid: use YYYY, YYYY-MM, YYYY-Www "
                "(week) or YYYY-DDD (day of the year), or two dates."
            ]
        )
    year = int(match["y"])
    try:
        if match["m"]:
            month = int(match["m"])
            start = dt.date(year, month, 1)
            end = dt.date(year, 12, 31) if month == 12 else dt.date(year, month + 1, 1) - dt.timedelta(days=1)
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
    if day.year - years < dt.MINYEAR:
        return dt.date.min
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
        problems.append(
            f"The start is more than {years} years ago: GRDF keeps {years} years of "
            f"{'informative' if informative else 'published'} data."
        )
    if end >= start and _years_before(end, years) > start:
        problems.append(f"The period is longer than {years} years.")
    return problems


def period_params(
    *,
    periode: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    today: dt.date,
    informative: bool,
) -> dict[str, str]:
    """Checked query parameters: ``periode=…`` or ``date_debut``/``date_fin``."""
    if periode:
        first, last = parse_periode(periode)
        params = {"periode": periode.strip()}
    elif start and end:
        first, last = start, end
        params = {"date_debut": start.isoformat(), "date_fin": end.isoformat()}
    else:
        raise RuleError(["Give a period (YYYY, YYYY-MM, YYYY-Www, YYYY-DDD) or two dates."])
    problems = period_problems(first, min(last, today) if periode else last, today, informative=informative)
    if problems:
        raise RuleError(problems)
    return params


#: The data kinds read over a period, and whether GRDF keeps 3 (informative) or 5 years.
PERIOD_KINDS = {
    "donnees_consos_publiees": False,
    "donnees_consos_informatives": True,
    "donnees_injections_publiees": False,
}


def period_query(
    kind: str, today: dt.date, *, periode: str = "", date_debut: str = "", date_fin: str = ""
) -> tuple[dict[str, str] | None, dict[str, list[str]]]:
    """The PCE-detail form: a ``periode`` (YYYY, YYYY-MM, YYYY-Www, YYYY-DDD) *or* two dates
    (YYYY-MM-DD) → the query parameters, or the problems by field (``periode``,
    ``date_debut``, ``date_fin``). The document's limits are checked: at most 5 years back
    for published consumption and injections, 3 for informative, never after today."""
    informative = PERIOD_KINDS[kind]
    periode, date_debut, date_fin = (periode or "").strip(), (date_debut or "").strip(), (date_fin or "").strip()
    errors: dict[str, list[str]] = {}
    if periode and (date_debut or date_fin):
        return None, {"periode": ["Give either a period or two dates, not both."]}
    if periode:
        try:
            return period_params(periode=periode, today=today, informative=informative), {}
        except RuleError as error:
            return None, {"periode": error.problems}
    dates: dict[str, dt.date] = {}
    for key, text, label in (("date_debut", date_debut, "start"), ("date_fin", date_fin, "end")):
        if not text:
            errors[key] = [f"Give the {label} date (YYYY-MM-DD or DD/MM/YYYY), or a period."]
            continue
        try:
            dates[key] = typed_date(text)
        except ValueError:
            errors[key] = [f"« {text} » is not a date (YYYY-MM-DD or DD/MM/YYYY)."]
    if errors:
        return None, errors
    try:
        return period_params(start=dates["date_debut"], end=dates["date_fin"], today=today, informative=informative), {}
    except RuleError as error:
        for problem in error.problems:
            key = "date_fin" if ("after today" in problem or "end after" in problem) else "date_debut"
            errors.setdefault(key, []).append(problem)
        return None, errors


#: The blocks of ``donnees_contractuelles`` a ``filtre`` may name (document's list of
#: contractual data; Swagger example ``filtre=cja&filtre=car``).
CONTRACT_FILTERS = (
    "car",
    "cja",
    "profil",
    "modulation",
    "tarif_acheminement",
    "date_mes",
    "date_publication",
    "consommation_journaliere_plafond",
)


# -- quotas ----------------------------------------------------------------------------------------

#: The document's "Quotas max à l'ouverture du service": (park up to, per second, per day).
QUOTA_TABLE: tuple[tuple[int | None, float, int], ...] = (
    (5_000, 1.0, 6_000),
    (50_000, 1.0, 60_000),
    (None, 3.0, 240_000),
)


def quota_for_park(park_size: int, table: Iterable[tuple[int | None, float, int]] = QUOTA_TABLE) -> tuple[float, int]:
    """(calls per second, calls per day), all APIs together, for a park of ``park_size`` PCE
    (document, "Quotas GRDF ADICT", contract annex 4: 0–5 000 PCE → 1/s and 6 000/day;
    5 000–50 000 → 1/s and 60 000/day; > 50 000 → 3/s and 240 000/day). A boundary value
    belongs to the lower tier. ``table`` replaces the document's when GRDF granted others."""
    if park_size < 0:
        raise ValueError("a park size cannot be negative")
    for limit, per_second, per_day in table:
        if limit is None or park_size <= limit:
            return per_second, per_day
    raise ValueError("the quota table has no open-ended last tier")


def quota_limits(
    park_size: int,
    *,
    per_second: float | None = None,
    per_day: int | None = None,
    table: Iterable[tuple[int | None, float, int]] = QUOTA_TABLE,
) -> tuple[float, int]:
    """The limits to give the core :class:`~pupitre.providers.core.quota.QuotaLimiter`: the
    table's, each replaced by an explicit setting when one is given (a contract may differ)."""
    table_second, table_day = quota_for_park(park_size, table)
    return (per_second if per_second else table_second), (per_day if per_day else table_day)


#: The document's "Préconisations d'appels" for large parks: how often to call each
#: resource (per PCE for the data): the rights list once a day for the whole park,
#: published consumption, injections and contractual/technical data once a month,
#: informative (daily) consumption once a day; declare, revoke, search as needed; proofs
#: once a month when GRDF asks.
RECOMMENDED_EVERY = {
    "droits_acces": dt.timedelta(days=1),
    "donnees_consos_publiees": dt.timedelta(days=30),
    "donnees_consos_informatives": dt.timedelta(days=1),
    "donnees_injections_publiees": dt.timedelta(days=30),
    "donnees_contractuelles": dt.timedelta(days=30),
    "donnees_techniques": dt.timedelta(days=30),
}


def bulk_problem(calls: int, remaining_today: int | None) -> str | None:
    """A sentence when a bulk operation of ``calls`` would exceed today's remaining cap."""
    if remaining_today is not None and calls > remaining_today:
        return (
            f"This needs {calls} calls but only {remaining_today} remain in today's GRDF quota; it resets at midnight."
        )
    return None


class BulkCheck(msgspec.Struct, frozen=True):
    """The answer of :func:`bulk_fits_today`: ``fits`` and one sentence for the operator."""

    calls: int
    remaining: int | None
    seconds: float
    fits: bool
    message: str


def duration_text(seconds: float) -> str:
    """A duration for the operator: "40 s", "3 min 05 s", "1 h 07 min"."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    hours, rest = divmod(seconds, 3600)
    return f"{hours} h {rest // 60:02d} min" if hours else f"{rest // 60} min {rest % 60:02d} s"


def bulk_fits_today(
    calls: int, *, remaining_today: int | None, per_second: float | None = None, reserve: int = 0
) -> BulkCheck:
    """Check, before starting, that a bulk operation of ``calls`` calls fits in what is left
    of today's cap (``remaining_today``, from ``QuotaLimiter.remaining_today()``; ``None``:
    no cap), keeping ``reserve`` calls for the routine (e.g. the daily rights listing).
    The message also says how long it takes at ``per_second``."""
    seconds = calls / per_second if per_second else 0.0
    pace = f" (about {duration_text(seconds)} at {per_second:g} call/s)" if per_second else ""
    if remaining_today is None:
        return BulkCheck(calls, None, seconds, True, f"{calls} calls{pace}.")
    available = max(0, remaining_today - reserve)
    if calls > available:
        kept = f", {reserve} kept in reserve" if reserve else ""
        return BulkCheck(
            calls,
            remaining_today,
            seconds,
            False,
            f"Not started: this needs {calls} calls but only {available} remain in "
            f"today's GRDF quota ({remaining_today} left{kept}); the quota resets at "
            "midnight (Paris). Split the operation or run it tomorrow.",
        )
    return BulkCheck(
        calls, remaining_today, seconds, True, f"{calls} calls{pace}; {available - calls} will remain today."
    )


# -- search and revocation ---------------------------------------------------------------------

#: ``POST /droits_acces`` filter keys (``liste_acces_in``).
SEARCH_KEYS = ("role_tiers", "id_pce", "etat_droit_acces", "statut_controle_preuve")
#: Spellings GRDF uses for one value: the document's filter list writes « A révérifier »,
#: its state list « A revérifier »; both are sent so neither is missed.
_SEARCH_SPELLINGS = {"A revérifier": ("A revérifier", "A révérifier")}


def search_body(filters: Mapping[str, Any]) -> dict[str, list[str]]:
    """The body of ``POST /droits_acces``: each filter a list (the document sends lists,
    the Swagger a string: a lone string is wrapped), empty filters dropped, PCE checked."""
    body: dict[str, list[str]] = {}
    for key, values in filters.items():
        if key not in SEARCH_KEYS:
            raise RuleError([f"Unknown access-right filter « {key} »."])
        if isinstance(values, str):
            values = [values]
        out: list[str] = []
        for value in values or ():
            if key == "id_pce":
                out.append(validate_pce(str(value)))
            else:
                out.extend(v for v in _SEARCH_SPELLINGS.get(value, (value,)) if v not in out)
        if out:
            body[key] = out
    return body


REVOCABLE_STATES = (ACTIVE, TO_VALIDATE, TO_RECHECK)


def revocation_problem(state: str | None, role: str | None) -> str | None:
    """Why a right cannot be revoked, or ``None``. ``PATCH /droit_acces/{id}`` is "Révoquer
    un droit d'accès en tant que tiers AUTORISE" (Swagger 1.6): only an ``AUTORISE_…`` right
    that is still alive (Active, A valider, A revérifier) can be revoked."""
    if state not in REVOCABLE_STATES:
        return (
            f"This right is « {state or 'unknown'} »: only an Active, « A valider » or « A revérifier » "
            "right can be revoked."
        )
    if not (role or "").startswith("AUTORISE_"):
        return (
            f"GRDF lets a third party revoke only the rights it holds as AUTORISE (this one is "
            f"{role or 'without role'})."
        )
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
    return set(_holidays(year))


@functools.cache
def _holidays(year: int) -> frozenset[dt.date]:
    """The public holidays of ``year``, computed once per year (every deadline asks)."""
    easter = _easter(year)
    fixed = {(1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25)}
    days = {dt.date(year, m, d) for m, d in fixed}
    days |= {easter + dt.timedelta(days=n) for n in (1, 39, 50)}
    return frozenset(days)


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def working_days_until(today: dt.date, deadline: dt.date) -> int:
    """Working days after ``today`` up to and including ``deadline`` (negative when past)."""
    if deadline < today:
        return -sum(1 for n in range(1, (today - deadline).days + 1) if is_working_day(today - dt.timedelta(days=n)))
    return sum(1 for n in range(1, (deadline - today).days + 1) if is_working_day(today + dt.timedelta(days=n)))


def due_soon(deadline: dt.date | None, today: dt.date, within: int = 5) -> bool:
    """The deadline is not past and falls within ``within`` working days."""
    return deadline is not None and deadline >= today and working_days_until(today, deadline) <= within


def overdue(deadline: dt.date | None, today: dt.date) -> bool:
    return deadline is not None and deadline < today


def add_working_days(day: dt.date, count: int) -> dt.date:
    """The ``count``-th working day after ``day`` (before it when negative); GRDF gives
    20 working days to answer a proof control (document, "Répondre à un contrôle")."""
    step = 1 if count >= 0 else -1
    left = abs(count)
    while left:
        day += dt.timedelta(days=step)
        if is_working_day(day):
            left -= 1
    return day


PROOF_ANSWER_WORKING_DAYS = 20


# -- meter frequencies (document, "Les types de données de consommation et leur statut") ------

FREQUENCIES = ("6M", "1M", "MM", "JJ")
#: Published data: 6M half-yearly, 1M and MM monthly, JJ daily (published at D+1).
PUBLISHED_STEP = {"6M": "semester", "1M": "month", "MM": "month", "JJ": "day"}
#: Informative (daily) data exist only for 1M (at D+3) and MM (at D+2) meters.
INFORMATIVE_DELAY_DAYS = {"1M": 3, "MM": 2}


def frequencies_for(id_pce: str) -> tuple[str, ...]:
    """14-digit PCEs are read 6M or 1M; ``GI`` PCEs MM or JJ."""
    return ("MM", "JJ") if id_pce.upper().startswith("GI") else ("6M", "1M")


# -- proof deadlines and lost rights (Overview tile, ``pupitre check``) -------------------------


class ProofWatch(msgspec.Struct, frozen=True):
    """Rights whose proofs GRDF waits for (``Preuve en attente``): ``level`` is ``ok`` when
    none, ``attention`` when some, ``critical`` when a deadline is past."""

    missing: int
    due_soon: int
    overdue: int
    next_deadline: dt.date | None
    level: str
    message: str


def proof_queue(rights: Iterable[Any], *, include_sent: bool = False) -> list[Any]:
    """Rights waiting for proofs, earliest ``date_limite_transmission_preuve`` first (no
    deadline last); with ``include_sent``, also those « Preuve à vérifier »."""
    wanted = PROOF_STATUSES_ALLOWED if include_sent else (PROOF_PENDING,)
    chosen = [r for r in rights if r.statut_controle_preuve in wanted]
    return sorted(chosen, key=lambda r: (r.date_limite_transmission_preuve or dt.date.max, r.id_pce))


def proof_watch(rights: Iterable[Any], today: dt.date, *, within: int = 5) -> ProofWatch:
    """The proof campaign's state: missing proofs, those due within ``within`` working days
    (document: 20 working days to answer a control), those past their deadline."""
    queue = proof_queue(rights)
    soon = sum(1 for r in queue if due_soon(r.date_limite_transmission_preuve, today, within))
    late = [r for r in queue if overdue(r.date_limite_transmission_preuve, today)]
    upcoming = [
        r.date_limite_transmission_preuve
        for r in queue
        if r.date_limite_transmission_preuve and r.date_limite_transmission_preuve >= today
    ]
    nxt = min(upcoming, default=None)
    if not queue:
        return ProofWatch(0, 0, 0, None, "ok", "no proofs awaited by GRDF")
    parts = [f"{len(queue)} right(s) awaiting proofs"]
    if late:
        parts.append(
            f"{len(late)} past their deadline (first: PCE {late[0].id_pce}, "
            f"{late[0].date_limite_transmission_preuve:%d/%m/%Y})"
        )
    if soon:
        parts.append(f"{soon} due within {within} working days")
    if nxt:
        parts.append(f"next deadline {nxt:%d/%m/%Y}")
    return ProofWatch(len(queue), soon, len(late), nxt, "critical" if late else "attention", "; ".join(parts))


LOST_STATES = (REFUSED, OBSOLETE, REVOKED)


def lost_since(rights: Iterable[Any], since: dt.datetime) -> list[Any]:
    """Rights that became Refusée, Obsolète or Révoquée at or after ``since`` (e.g. yesterday
    00:00), newest first: their data are no longer available."""
    lost = [
        r
        for r in rights
        if r.etat_droit_acces in LOST_STATES and r.state_changed_at is not None and r.state_changed_at >= since
    ]
    return sorted(lost, key=lambda r: r.state_changed_at, reverse=True)


def lost_message(lost: list[Any]) -> str:
    """One line: how many rights were lost, by state."""
    if not lost:
        return "no right refused, obsolete or revoked since yesterday"
    counts = {state: sum(1 for r in lost if r.etat_droit_acces == state) for state in LOST_STATES}
    return ", ".join(f"{n} {state}" for state, n in counts.items() if n) + " since yesterday"
