"""The e-mail fallback of GRTgaz chapter 6 (§18–19): a program as the CSV file to mail.

When the API is down, programs are declared by e-mail (with a phone call to confirm
feasibility, chapter 6 introduction), one ``.csv`` file per gas day, to
``contact-CCG@grtgaz.com``:

- file name (§18): ``Export_DECLARATIONS_CCG-UPLOAD-AAAAMMJG_20XXXXXXXXXXXX.csv`` —
  ``AAAAMMJG`` the gas day J, ``20XXXXXXXXXXXX`` the 14-digit creation timestamp
  (``YYYYMMDDHHMMSS``, Paris time);
- e-mail subject (§18): ``[Nom du Site] Prévisions SFM : Date du Jour J (jj/mm/aaaa) –
  Date du Jour J+2 (jj/mm/aaaa)``; the brackets are the document's placeholder notation
  (as in ``[Jour concerné (AAAAMMJJ)]-[Code PLCd du point]`` whose example has none);
- content (§19), line 1: ``DECLARATIONS_CCG``, creation date ``DD/MM/YYYY``, creation
  time, ``UPLOAD``, ``PROD``, gas day, gas day; line 2: program id, gas day, site code
  ``LIxxxx``, site name, creation date, time, date, time, qMin, qMax, then the 24 hourly
  quantities (kWh 25 °C) from J 06:00 to J+1 05:00.

Where the document is silent or inconsistent, this module decides, in one place:

- separator ``;`` (the French spreadsheet convention; the document names none), decimal
  point ``.``, UTF-8 without a BOM (a BOM would corrupt the only accepted first value
  ``DECLARATIONS_CCG``), CRLF line ends;
- the time field is typed ``HHMMSSmsms`` but its example is ``193355``: the example is
  followed (:data:`TIME_FORMAT`);
- §19 numbers the hourly fields "11 à 35" (25 fields) but says "Liste de 24 valeurs",
  as §13.2 does (23- and 25-hour days are sent as 24 values): 24 values are written;
- the file is the declaration, so every date/time field is the file's creation time;
- on a 23- or 25-hour day the 24 values follow §13.2 as pupitre reads it, and
  :attr:`EmailExport.assumption` says how, for the operator to write in the e-mail.

Pure: no Textual, no network. :func:`export_program` writes atomically (see
``core.files``) and never replaces an existing file.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Sequence, TextIO

import msgspec

from pupitre.providers.core.clock import paris
from pupitre.providers.core.files import write_atomic
from pupitre.providers.core.text import csv_cell
from pupitre.providers.grtgaz.models import HmsProfile, InputHmsProfile
from pupitre.providers.grtgaz.rules import dst_assumption

if TYPE_CHECKING:
    from pupitre.providers.core.store import Store

RECIPIENT = "contact-CCG@grtgaz.com"
"""§18's address (the document's link target reads ``grt-camg-contact-ccg@grtgaz.com``)."""
SLOTS = 24
HEADER_TAG = "DECLARATIONS_CCG"
UPLOAD = "UPLOAD"
ENVIRONMENT = "PROD"
DELIMITER = ";"
DATE_FORMAT = "%d/%m/%Y"
TIME_FORMAT = "%H%M%S"
"""§19 types the time ``HHMMSSmsms``; its example ``193355`` is HHMMSS, which is used."""
STAMP_FORMAT = "%Y%m%d%H%M%S"
"""The 14 characters of ``20XXXXXXXXXXXX`` in the §18 file name."""
FILE_PATTERN = re.compile(r"^Export_DECLARATIONS_CCG-UPLOAD-(\d{8})_(20\d{12})\.csv$")
SITE_ID = re.compile(r"^LI\d{4}$")
_MAX_NAME_TRIES = 120


class ExportError(ValueError):
    """The program cannot be written in the §19 format; the message says why."""


class EmailProgram(msgspec.Struct, frozen=True):
    """What §19's line 2 needs of a program (an ``inputHmsProfile``, §13.2)."""

    program_id: str
    gas_day: dt.date
    site_id: str
    site_label: str
    q_min: float
    q_max: float
    quantities: tuple[float, ...]

    def __post_init__(self) -> None:
        problems = []
        if len(self.quantities) != SLOTS:
            problems.append(f"{len(self.quantities)} hourly values instead of {SLOTS} (§13.2)")
        bad = [str(i) for i, q in enumerate(self.quantities) if not _finite(q)]
        if bad:
            problems.append(f"not a number in slot(s) {', '.join(bad)}")
        if not SITE_ID.fullmatch(self.site_id):
            problems.append(f"site code {self.site_id!r} is not LIxxxx")
        if not self.program_id.startswith(f"{self.gas_day:%Y%m%d}-{self.site_id}-"):
            problems.append(f"program id {self.program_id!r} is not {self.gas_day:%Y%m%d}-{self.site_id}-…")
        if not (_finite(self.q_min) and _finite(self.q_max)):
            problems.append("qMin/qMax are not numbers")
        if problems:
            raise ExportError("cannot export for e-mail: " + "; ".join(problems))


class EmailExport(msgspec.Struct, frozen=True):
    """A written file and what the operator needs to mail it."""

    path: Path
    subject: str
    recipient: str
    created_at: dt.datetime
    #: What pupitre assumed on a 23- or 25-hour day (§13.2), to say in the e-mail; "" otherwise.
    assumption: str = ""

    @property
    def file_name(self) -> str:
        return self.path.name

    def instructions(self) -> str:
        """What to do with the file, in one paragraph for the screen."""
        return (
            f"Mail {self.path} to {self.recipient} with the subject “{self.subject}”, then "
            "phone GRTgaz to confirm the program's feasibility (chapter 6)."
            + (f" Say in the e-mail: {self.assumption}" if self.assumption else "")
        )


def _finite(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def number(value: float) -> str:
    """A §19 ``Double``: decimal point, no exponent, no trailing zeros (``10000``, ``15236.87``)."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def file_name(gas_day: dt.date, created_at: dt.datetime) -> str:
    """§18: ``Export_DECLARATIONS_CCG-UPLOAD-AAAAMMJG_<YYYYMMDDHHMMSS>.csv``."""
    return f"Export_DECLARATIONS_CCG-UPLOAD-{gas_day:%Y%m%d}_{paris(created_at):{STAMP_FORMAT}}.csv"


def subject(site_label: str, gas_day: dt.date) -> str:
    """§18: ``<site> Prévisions SFM : <J jj/mm/aaaa> – <J+2 jj/mm/aaaa>``."""
    last = gas_day + dt.timedelta(days=2)
    label = " ".join(site_label.split())  # no line break may reach a mail header
    return f"{label} Prévisions SFM : {gas_day:{DATE_FORMAT}} – {last:{DATE_FORMAT}}"


def rows(program: EmailProgram, created_at: dt.datetime) -> list[list[str]]:
    """The two §19 lines, as lists of fields."""
    created = paris(created_at)
    date, time = f"{created:{DATE_FORMAT}}", f"{created:{TIME_FORMAT}}"
    day = f"{program.gas_day:{DATE_FORMAT}}"
    header = [HEADER_TAG, date, time, UPLOAD, ENVIRONMENT, day, day]
    line = [
        program.program_id,
        day,
        program.site_id,
        " ".join(program.site_label.split()),
        date,
        time,
        date,
        time,
        number(program.q_min),
        number(program.q_max),
    ]
    line += [number(q) for q in program.quantities]
    return [header, line]


def write_rows(handle: TextIO, lines: Sequence[Sequence[str]]) -> None:
    writer = csv.writer(handle, delimiter=DELIMITER, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerows([csv_cell(cell) for cell in line] for line in lines)  # formula injection, controls


def csv_text(program: EmailProgram, created_at: dt.datetime) -> str:
    """The file's content (what :func:`export_program` writes)."""
    import io

    buffer = io.StringIO(newline="")
    write_rows(buffer, rows(program, created_at))
    return buffer.getvalue()


def export_program(
    program: EmailProgram, directory: Path | str, created_at: dt.datetime, *, recipient: str = RECIPIENT
) -> EmailExport:
    """Write ``program`` as the §19 file under ``directory``; never replaces a file.

    Two exports in the same second would get the same §18 name: the later one takes
    the next free second, and its content carries that same time.
    """
    directory = Path(directory)
    created = paris(created_at).replace(microsecond=0)
    for _ in range(_MAX_NAME_TRIES):
        path = directory / file_name(program.gas_day, created)
        lines = rows(program, created)
        try:
            write_atomic(path, partial(write_rows, lines=lines), exclusive=True)
        except FileExistsError:
            created += dt.timedelta(seconds=1)
            continue
        return EmailExport(
            path, subject(program.site_label, program.gas_day), recipient, created, dst_assumption(program.gas_day)
        )
    raise ExportError(
        f"cannot export for e-mail: {directory} already holds an export for every "
        f"second from {paris(created_at):%H:%M:%S}"
    )


def email_program(
    profile: InputHmsProfile | HmsProfile, *, q_min: float | None = None, q_max: float | None = None
) -> EmailProgram:
    """An ``inputHmsProfile`` (§13.2) or ``hmsProfile`` (§13.3) as :class:`EmailProgram`.

    A declared program may come back without ``qMin``/``qMAx``; ``q_min``/``q_max``
    (the site's contractual bounds) fill them then. A missing quantity refuses the export.
    """
    quantities = list(profile.quantities)
    missing = [str(i) for i, q in enumerate(quantities) if q is None]
    if missing:
        raise ExportError(f"cannot export for e-mail: no quantity in slot(s) {', '.join(missing)}")
    low = q_min if profile.qMin is None else profile.qMin
    high = q_max if profile.qMAx is None else profile.qMAx
    if low is None or high is None:
        raise ExportError("cannot export for e-mail: qMin/qMax unknown for this program")
    return EmailProgram(
        profile.hmsProfileId,
        profile.gasDay,
        profile.hmsSiteId,
        profile.hmsSiteLabel or profile.hmsSiteId,
        float(low),
        float(high),
        tuple(float(q) for q in quantities if q is not None),  # none is missing: checked above
    )


#: The audit action of an e-mail export (one line per file written).
AUDIT_ACTION = "export for e-mail"


def export_for_email(
    profile: InputHmsProfile | HmsProfile,
    directory: Path | str,
    store: Store,
    now: dt.datetime,
    *,
    q_min: float | None = None,
    q_max: float | None = None,
) -> EmailExport:
    """Write ``profile`` as the chapter 6 file under ``directory`` and audit it (every file
    written has its audit line). :class:`ExportError` (the program cannot be mailed) or
    :class:`OSError` (the file cannot be written): nothing written, nothing audited."""
    program = email_program(profile, q_min=q_min, q_max=q_max)
    result = export_program(program, directory, now)
    store.audit(
        "grtgaz", AUDIT_ACTION, "written", now, f"{program.program_id} → {result.path} (subject “{result.subject}”)"
    )
    return result
