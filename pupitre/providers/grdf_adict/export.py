"""Export the consumption (or injection) data of many PCEs to CSV: the bulk read of the
access-rights screen (``e``). Pure: no Textual.

- :func:`period_form`: the period of the PCE-detail form (``periode`` YYYY, YYYY-MM,
  YYYY-Www, YYYY-DDD, or two dates), checked by :func:`rules.period_query` — the
  document's 5-year (published, injections) / 3-year (informative) limits — with the
  problems by field, before anything is sent.
- :func:`select`: which PCEs of the rows shown can give that data. Only an ``Active``
  right opens the data (the others — A valider, Révoquée, A revérifier, Obsolète,
  Refusée — are answered with a ``statut_restitution`` refusal); injections only
  through an injection role (``*_CONTRAT_INJECTION``, biomethane sites), consumption
  only through a supply role (``*_CONTRAT_FOURNITURE``); a right whose end date is past
  has expired; a data perimeter (``perim_donnees_conso_*`` / ``_inj_*``) entirely outside
  the period gives nothing. Each PCE is asked once, whatever the number of its rows.
- :func:`plan_sentence`: "N PCE → N calls, about T at R call/s; X calls left today
  (quota …)", from the client's :meth:`~client.AdictClient.bulk_check` — the document's
  quota table ("Quotas GRDF ADICT": 6 000 / 60 000 / 240 000 calls a day by park size)
  enforced by the shared limiter, whose day counter survives a restart. One call per PCE;
  :data:`RESERVE` calls are kept for the daily rights listing ("Préconisations d'appels":
  ``Consulter mes Droits d'accès`` once a day).
- :func:`run_export`: the reads through :meth:`~client.AdictClient.bulk` (refused before
  the first call if it does not fit today's quota); one PCE's refusal does not stop the
  others, a quota refusal stops the run, a cancel stops further calls. What was fetched
  is always kept.
- :func:`open_journal`: the readings also go, PCE by PCE, to a ``.csv.part`` journal
  while the run goes, so a crash or a dropped SSH session loses nothing fetched.
- :func:`write_export`: one CSV line per reading, and a second file listing the PCEs
  refused (and why) or not reached; written whole or not at all (0600). A run stopped
  early has ``_PARTIAL`` in its file name. The journal is then removed.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

import msgspec

from pupitre.providers.core.clock import paris
from pupitre.providers.core.errors import ApiError, AuthError, NetworkError, QuotaError
from pupitre.providers.core.files import CsvJournal, write_csv
from pupitre.providers.grdf_adict import models as m
from pupitre.providers.grdf_adict import rules
from pupitre.providers.grdf_adict.client import AdictClient
from pupitre.providers.grdf_adict.models import Reading

if TYPE_CHECKING:
    from pupitre.providers.core.clock import Clock
    from pupitre.providers.core.store import Store

KINDS = {
    "donnees_consos_publiees": "published consumption",
    "donnees_consos_informatives": "informative consumption",
    "donnees_injections_publiees": "published injections",
}
INJECTION_KIND = "donnees_injections_publiees"
#: Calls kept out of a bulk read for the daily rights listing (and a retry of it).
RESERVE = 3
AUDIT_ACTION = "export data"
STORE_PROVIDER = "grdf_adict"  # the provider id its audit lines are kept under
#: Network failures in a row (each already retried) after which the run stops: GRDF is unreachable.
NETWORK_FAILURES_STOP = 3

COLUMNS = (
    "id_pce",
    "kind",
    "start",
    "end",
    "gas_day",
    "energy_kwh",
    "volume_m3",
    "volume_converted_m3",
    "conversion_coeff",
    "index_start",
    "index_end",
    "qualification",
    "status",
    "type",
    "flow",
    "reading_quality",
)
REFUSED_COLUMNS = ("id_pce", "outcome", "reason")

# The reasons a shown row is left out, in the order they are checked.
NOT_ACTIVE = "not Active (no access to data)"
NO_CONSUMPTION = "injection rights (no consumption data)"
NO_INJECTION = "supply rights (no injection data)"
EXPIRED = "ended rights"
OUTSIDE = "with a data perimeter outside the period"
NO_PERIMETER = "without that data in their perimeter"
SAME_PCE = "more rows of a PCE already counted"
#: The perimeter flag column (access-rights copy) of each kind; injections have none.
PERIMETER_FLAG = {"donnees_consos_publiees": "published", "donnees_consos_informatives": "informative"}


# -- the period -----------------------------------------------------------------------------------


class Period(msgspec.Struct, frozen=True):
    """A checked period: the query (``periode=…`` or ``date_debut``/``date_fin``) and its days."""

    params: Mapping[str, str]
    first: dt.date
    last: dt.date

    @property
    def label(self) -> str:
        """For a file name: the ``periode`` as typed, else ``start_end``."""
        if "periode" in self.params:
            return self.params["periode"]
        return f"{self.params['date_debut']}_{self.params['date_fin']}"

    def read_args(self) -> dict[str, Any]:
        """The keyword arguments of :meth:`client.AdictClient.readings`."""
        if "periode" in self.params:
            return {"periode": self.params["periode"]}
        return {"start": self.first, "end": self.last}


def period_form(
    kind: str, today: dt.date, *, periode: str = "", date_debut: str = "", date_fin: str = ""
) -> tuple[Period | None, dict[str, list[str]]]:
    """The dialog's fields → the checked :class:`Period`, or the problems by field
    (``periode``, ``date_debut``, ``date_fin``; ``kind`` for an unknown data kind)."""
    if kind not in KINDS:
        return None, {"kind": [f"Choose the data: {', '.join(KINDS.values())}."]}
    params, errors = rules.period_query(kind, today, periode=periode, date_debut=date_debut, date_fin=date_fin)
    if params is None:
        return None, errors
    if "periode" in params:
        first, last = rules.parse_periode(params["periode"])
        return Period(params, first, min(last, today)), {}
    return Period(params, dt.date.fromisoformat(params["date_debut"]), dt.date.fromisoformat(params["date_fin"])), {}


# -- which PCEs -----------------------------------------------------------------------------------


class Selection(msgspec.Struct, frozen=True):
    kind: str
    pces: tuple[str, ...]
    shown: int
    left_out: Mapping[str, int]

    def sentence(self) -> str:
        """ "12 PCE from 40 rows shown; left out: 20 rows not Active …"."""
        text = f"{len(self.pces)} PCE from {self.shown} row(s) shown"
        if self.left_out:
            text += "; left out: " + ", ".join(f"{count} {reason}" for reason, count in self.left_out.items())
        return text + "."


def row_problem(
    kind: str,
    state: str,
    role: str,
    end: str,
    perim_start: str,
    perim_end: str,
    today: str,
    first: str = "",
    last: str = "",
    flag: str = "",
) -> str | None:
    """Why a right gives no ``kind`` data (one of the reasons above), or ``None``. Dates are
    ISO ``YYYY-MM-DD`` text ("" when unknown), compared as text (fast on 100,000 rows):
    ``today`` and the period's ``first`` / ``last`` day ("" when no period is known yet).
    ``flag``: the right's perimeter flag for ``kind`` (``perim_donnees_publiees`` or
    ``_informatives``: "0" when the holder did not grant it; GRDF would refuse the call)."""
    if state != m.ACTIVE:
        return NOT_ACTIVE
    injection_role = "INJECTION" in (role or "")
    if kind == INJECTION_KIND and not injection_role:
        return NO_INJECTION
    if kind != INJECTION_KIND and injection_role:
        return NO_CONSUMPTION
    if flag == "0":
        return NO_PERIMETER
    if end and end < today:
        return EXPIRED
    if first and ((perim_start and perim_start > last) or (perim_end and perim_end < first)):
        return OUTSIDE
    return None


def select(
    col: Mapping[str, Sequence[str]], rows: Iterable[int], kind: str, today: dt.date, period: Period | None = None
) -> Selection:
    """The distinct PCEs of ``rows`` (the access-rights table's columns ``pce``, ``state``,
    ``role``, ``end``, ``perim_start``, ``perim_end`` and the perimeter flag of ``kind``)
    whose right gives ``kind`` data, in the order shown, and how many rows were left out
    and why."""
    pces: dict[str, None] = {}
    left_out: dict[str, int] = {}
    shown = 0
    pce, state, role, end = col["pce"], col["state"], col["role"], col["end"]
    perim_start, perim_end = col["perim_start"], col["perim_end"]
    flags = col.get(PERIMETER_FLAG.get(kind, ""))
    day = today.isoformat()
    first, last = (period.first.isoformat(), period.last.isoformat()) if period else ("", "")
    for i in rows:
        shown += 1
        problem = row_problem(
            kind,
            state[i],
            role[i],
            end[i],
            perim_start[i],
            perim_end[i],
            day,
            first,
            last,
            flags[i] if flags is not None else "",
        )
        if problem is None and pce[i] in pces:
            problem = SAME_PCE
        if problem is None:
            pces[pce[i]] = None
        else:
            left_out[problem] = left_out.get(problem, 0) + 1
    order = (NOT_ACTIVE, NO_CONSUMPTION, NO_INJECTION, NO_PERIMETER, EXPIRED, OUTSIDE, SAME_PCE)
    return Selection(kind, tuple(pces), shown, {r: left_out[r] for r in order if r in left_out})


# -- the plan -------------------------------------------------------------------------------------


def plan_sentence(pces: int, check: rules.BulkCheck, *, per_day: int | None, per_second: float | None) -> str:
    """What the export costs, before anything is sent (one call per PCE)."""
    text = f"{pces} PCE → {check.calls} call(s)"
    if per_second:
        text += f", about {rules.duration_text(check.seconds)} at {per_second:g} call/s"
    if check.remaining is None:
        text += "; no daily cap."
    else:
        text += f"; {check.remaining} call(s) left today (quota {per_day} a day, {RESERVE} kept for the rights list)."
    return text


# -- the run --------------------------------------------------------------------------------------


class ExportRun(msgspec.Struct):
    """A bulk read under way or done: what was fetched, refused, and why it stopped early."""

    kind: str
    period: Period
    pces: Sequence[str]
    readings: dict[str, list[Reading]] = msgspec.field(default_factory=dict)
    refused: dict[str, str] = msgspec.field(default_factory=dict)
    done: int = 0
    stopped: str | None = None  # why the run ended before the last PCE
    cancel_requested: bool = False

    @property
    def total(self) -> int:
        return len(self.pces)

    @property
    def partial(self) -> bool:
        return self.stopped is not None

    @property
    def reading_count(self) -> int:
        return sum(len(r) for r in self.readings.values())

    def not_reached(self) -> list[str]:
        seen = self.readings.keys() | self.refused.keys()
        return [p for p in self.pces if p not in seen]

    def progress(self, per_second: float | None) -> str:
        """ "Export 12/20 PCE · 2 refused · about 8 s left"."""
        text = f"Export {KINDS[self.kind]} {self.period.label}: {self.done}/{self.total} PCE"
        text += f" · {len(self.refused)} refused"
        if per_second and self.done < self.total:
            text += f" · about {rules.duration_text((self.total - self.done) / per_second)} left"
        return text

    def summary(self) -> str:
        """One line for the screen and the audit log."""
        text = (
            f"{KINDS[self.kind]} {self.period.label}: {len(self.readings)} of {self.total} PCE exported "
            f"({self.reading_count} readings), {len(self.refused)} refused"
        )
        missing = len(self.not_reached())
        if missing:
            text += f", {missing} not reached"
        if self.stopped:
            text += f" — PARTIAL: {self.stopped}"
        return text


async def run_export(
    run: ExportRun,
    client: AdictClient,
    today: dt.date,
    *,
    reserve: int = RESERVE,
    on_progress: Callable[[], None] = lambda: None,
    on_data: Callable[[str, list[Reading]], None] = lambda pce, readings: None,
) -> ExportRun:
    """Read each PCE of ``run`` through ``client.bulk`` (whose check refuses, before the
    first call, what would exceed today's quota). A PCE's refusal is recorded and the next
    PCE read; a quota refusal stops the run, so do refused credentials and
    :data:`NETWORK_FAILURES_STOP` network failures in a row (the rest would fail too);
    ``run.cancel_requested`` stops it before the next call (``run.stopped``, if set, says
    why). ``on_data`` gets each PCE's readings as they arrive (the journal). Never raises an
    :class:`ApiError`: ``run.stopped`` says why it ended early."""
    args = run.period.read_args()

    async def read(pce: str) -> list[Reading]:
        return await client.readings(run.kind, pce, today=today, **args)

    if run.cancel_requested:
        run.stopped = "cancelled by the operator"
        return run
    results = client.bulk(run.pces, read, reserve=reserve)
    offline = 0
    try:
        async for pce, result in results:
            run.done += 1
            if isinstance(result, ApiError):
                run.refused[pce] = str(result) or type(result).__name__
                offline = offline + 1 if isinstance(result, NetworkError) else 0
            else:
                run.readings[pce], offline = result, 0
                on_data(pce, result)
            on_progress()
            if run.done >= run.total:
                break
            if isinstance(result, AuthError):
                run.stopped = f"GRDF refused the credentials — {result}"
            elif offline >= NETWORK_FAILURES_STOP:
                run.stopped = f"GRDF unreachable ({offline} failures in a row) — {result}"
            elif run.cancel_requested:
                run.stopped = run.stopped or "cancelled by the operator"
            if run.stopped:
                break
    except QuotaError as error:
        run.stopped = f"GRDF quota — {error}"
    finally:
        await results.aclose()
    return run


# -- the files ------------------------------------------------------------------------------------


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _moment(value: dt.datetime | None) -> str:
    return "" if value is None else paris(value).isoformat()


def reading_row(pce: str, kind: str, reading: Reading) -> dict[str, str]:
    """One CSV line: times in Paris time (ISO 8601 with the offset), energy in kWh,
    volumes in m³, GRDF's qualification (Mesuré / Estimé / Corrigé …) and status."""
    block = reading.consommation or reading.injection
    coeff = block.coeff_calcul if block else None
    quality = reading.releve_fin.qualite_releve if reading.releve_fin else None
    gas_day = block.journee_gaziere if block else None
    kind_of = (getattr(block, "type_conso", None) or getattr(block, "type_injection", None)) if block else None
    return {
        "id_pce": (reading.pce.id_pce if reading.pce and reading.pce.id_pce else pce),
        "kind": kind,
        "start": _moment(reading.start),
        "end": _moment(reading.end),
        "gas_day": gas_day.isoformat() if gas_day else "",
        "energy_kwh": _number(reading.energy_kwh),
        "volume_m3": _number(reading.volume_m3),
        "volume_converted_m3": _number(block.volume_converti if block else None),
        "conversion_coeff": _number(coeff.coeff_conversion if coeff else None),
        "index_start": _number(reading.index_start),
        "index_end": _number(reading.index_end),
        "qualification": reading.qualification or "",
        "status": reading.status or "",
        "type": kind_of or "",
        "flow": reading.flow or "",
        "reading_quality": quality or "",
    }


def data_rows(run: ExportRun) -> list[dict[str, str]]:
    return [row for pce in run.pces for row in journal_rows(run, pce, run.readings.get(pce, ()))]


def refused_rows(run: ExportRun) -> list[dict[str, str]]:
    rows = [{"id_pce": pce, "outcome": "refused", "reason": run.refused[pce]} for pce in run.pces if pce in run.refused]
    why = run.stopped or "not reached"
    rows += [{"id_pce": pce, "outcome": "not fetched", "reason": why} for pce in run.not_reached()]
    return rows


class ExportFiles(msgspec.Struct, frozen=True):
    data: Path
    refused: Path | None


def file_stem(kind: str, period: Period, now: dt.datetime) -> str:
    """``adict_<kind>_<period>_<YYYYMMDD-HHMMSS>`` (Paris time)."""
    return f"adict_{kind}_{period.label}_{paris(now):%Y%m%d-%H%M%S}"


def open_journal(run: ExportRun, directory: Path, started: dt.datetime) -> CsvJournal:
    """``<stem>.csv.part``: each PCE's readings written as they arrive, so a run cut short
    by a crash or a dropped SSH session keeps what was fetched (and paid for in quota).
    Opened before the first call: a directory that cannot be written stops the export
    before anything is sent (:class:`OSError`)."""
    return CsvJournal(directory / f"{file_stem(run.kind, run.period, started)}.csv.part", COLUMNS)


def cut_short(directory: Path) -> list[Path]:
    """Journals left by runs that never finished (pupitre stopped mid-run): what they
    fetched is in them, to be told to the operator."""
    return sorted(directory.glob("adict_*.csv.part")) if directory.is_dir() else []


def journal_rows(run: ExportRun, pce: str, readings: Sequence[Reading]) -> list[dict[str, str]]:
    return [reading_row(pce, run.kind, reading) for reading in readings]


def write_export(run: ExportRun, directory: Path, started: dt.datetime) -> ExportFiles:
    """The readings file (``…_PARTIAL.csv`` when the run stopped early) and, when a PCE
    was refused or not reached, ``…_refused.csv``; each written whole or not at all, named
    after the time the run ``started`` (as its journal)."""
    stem = file_stem(run.kind, run.period, started)
    data = write_csv(data_rows(run), directory / f"{stem}{'_PARTIAL' if run.partial else ''}.csv", COLUMNS)
    problems = refused_rows(run)
    refused = write_csv(problems, directory / f"{stem}_refused.csv", REFUSED_COLUMNS) if problems else None
    return ExportFiles(data, refused)


# -- the whole job ------------------------------------------------------------------------------


class ExportOutcome(msgspec.Struct, frozen=True):
    """How an export ended: ``complete``, ``partial``, ``not started`` or ``not written``
    (the audit outcome), and one line for the operator."""

    outcome: str
    line: str

    @property
    def failed(self) -> bool:
        return self.outcome in ("not started", "not written")


class ExportJob:
    """One bulk export from the first call to its audit line (no Textual): the journal is
    opened before anything is sent (:meth:`open`), :meth:`execute` reads every PCE, writes
    the files and audits the outcome — whatever screen the operator is on meanwhile.
    ``run.cancel_requested`` stops it before the next call; what was fetched is kept."""

    def __init__(
        self,
        run: ExportRun,
        client: AdictClient,
        today: dt.date,
        directory: Path,
        started: dt.datetime,
        journal: CsvJournal,
        store: Store,
        clock: Clock,
    ) -> None:
        self.run, self.client, self.today = run, client, today
        self.directory, self.started, self.journal = directory, started, journal
        self.store, self.clock = store, clock
        self.outcome: ExportOutcome | None = None

    @classmethod
    def open(cls, run: ExportRun, client: AdictClient, directory: Path, store: Store, clock: Clock) -> "ExportJob":
        """The job with its journal open, started now; :class:`OSError` when ``directory``
        cannot be written (nothing sent)."""
        started = clock.now()
        journal = open_journal(run, directory, started)
        return cls(run, client, started.date(), directory, started, journal, store, clock)

    @property
    def running(self) -> bool:
        return self.outcome is None

    async def execute(self, on_progress: Callable[[], None] = lambda: None) -> ExportOutcome:
        run, journal = self.run, self.journal

        def keep(pce: str, readings: list[Reading]) -> None:
            try:
                journal.add(journal_rows(run, pce, readings))
            except OSError as error:  # a full disk: stop calling, what was fetched is still in memory
                run.stopped = f"cannot write {journal.path.name}: {error.strerror or error}"
                run.cancel_requested = True

        try:
            await run_export(run, self.client, self.today, on_progress=on_progress, on_data=keep)
        except Exception as error:  # never a traceback: keep what was fetched, say why
            run.stopped = f"unexpected error: {type(error).__name__}: {error}"
        finally:
            journal.close()
        self.outcome = self._finish(self.clock.now())
        return self.outcome

    def _finish(self, now: dt.datetime) -> ExportOutcome:
        """The files, then the audit line (every outcome has one)."""
        run, journal, directory = self.run, self.journal, self.directory
        if run.done == 0:
            journal.discard()
            self.store.audit(STORE_PROVIDER, AUDIT_ACTION, "not started", now, run.summary())
            return ExportOutcome("not started", f"⚠ Nothing exported — {run.stopped or 'no PCE was read'}")
        try:
            files = write_export(run, directory, self.started)
        except OSError as error:
            detail = (
                f"{run.summary()}; could not write in {directory}: {error.strerror or error}; "
                f"what was fetched is in {journal.path}"
            )
            self.store.audit(STORE_PROVIDER, AUDIT_ACTION, "not written", now, detail)
            return ExportOutcome("not written", f"⚠ Export NOT written — {detail}")
        journal.discard()
        where = (
            f" → {files.data.name}"
            + (f" and {files.refused.name} (refused, not fetched)" if files.refused else "")
            + f" in {files.data.parent}"
        )
        outcome = "partial" if run.partial else "complete"
        self.store.audit(STORE_PROVIDER, AUDIT_ACTION, outcome, now, run.summary() + where)
        glyph = "⚠ Partial export" if run.partial else "✓ Exported"
        return ExportOutcome(outcome, f"{glyph} {run.summary()}{where}")
