"""GRDF ADICT bulk export (access-rights screen, ``e``): the period form, which PCEs qualify,
the cost sentence against today's quota ("Quotas GRDF ADICT"), the run against the
simulator (refusals, quota, cancel), the CSV from real corpus readings, atomic files."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
from pathlib import Path

import httpx
import pytest

from pupitre.providers.core import files
from pupitre.providers.core.clock import PARIS, ManualClock
from pupitre.providers.core.faults import FaultPlan
from pupitre.providers.core.quota import QuotaLimiter
from pupitre.providers.grdf_adict import export, rules
from pupitre.providers.grdf_adict import models as m
from pupitre.providers.grdf_adict.client import PROVIDER, AdictClient
from pupitre.providers.grdf_adict.feeds import RightsTable
from pupitre.providers.grdf_adict.models import Reading, read
from pupitre.providers.grdf_adict.sandbox import AdictSimulator
from tests.corpus import samples
from tests.providers.helpers import adict_client

START = dt.datetime(2026, 3, 10, 9, 0, tzinfo=PARIS)
TODAY = START.date()
SAMPLES = samples("grdf-adict")
PUBLISHED = "donnees_consos_publiees"
INFORMATIVE = "donnees_consos_informatives"
INJECTIONS = "donnees_injections_publiees"


def limited(http: httpx.AsyncClient, clock: ManualClock, per_day: int | None = 6000) -> AdictClient:
    return adict_client(http, clock, QuotaLimiter("grdf_adict:test", provider=PROVIDER, clock=clock, per_day=per_day))


def period(kind: str = PUBLISHED, **fields: str) -> export.Period:
    result, errors = export.period_form(kind, TODAY, **fields)
    assert result is not None, errors
    return result


# -- the period (document: periode YYYY, YYYY-NN, YYYY-WNN, YYYY-NNN, or two dates; 5 / 3 years) --


def test_period_forms_and_their_limits() -> None:
    month = period(periode="2026-02")
    assert (month.first, month.last, month.label) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28), "2026-02")
    assert month.read_args() == {"periode": "2026-02"}
    year = period(periode="2026")  # the current year: up to today
    assert year.last == TODAY
    week = period(periode="2026-W02")
    assert (week.first, week.last) == (dt.date(2026, 1, 5), dt.date(2026, 1, 11))
    dates = period(date_debut="2025-01-01", date_fin="2025-06-30")
    assert dates.label == "2025-01-01_2025-06-30"
    assert dates.read_args() == {"start": dt.date(2025, 1, 1), "end": dt.date(2025, 6, 30)}

    def errors(kind: str = PUBLISHED, **fields: str) -> dict[str, list[str]]:
        result, problems = export.period_form(kind, TODAY, **fields)
        assert result is None
        return problems

    assert "not valid" in " ".join(errors(periode="2026-13-01")["periode"])
    assert "both" in " ".join(errors(periode="2026", date_debut="2026-01-01")["periode"])
    assert "not a date" in " ".join(errors(date_debut="32/01/2026", date_fin="2026-02-01")["date_debut"])
    # typed as French dates (issue 17): the same period as ISO
    assert period(PUBLISHED, date_debut="01/01/2025", date_fin="30/06/2025") == period(
        PUBLISHED, date_debut="2025-01-01", date_fin="2025-06-30"
    )
    assert "after today" in " ".join(errors(date_debut="2026-01-01", date_fin="2026-04-01")["date_fin"])
    # 5 years of published data, 3 of informative (document, "Entre deux dates")
    assert "5 years" in " ".join(errors(date_debut="2020-01-01", date_fin="2026-01-01")["date_debut"])
    assert period(INFORMATIVE, date_debut="2023-04-01", date_fin="2026-03-01")
    assert "3 years" in " ".join(errors(INFORMATIVE, date_debut="2022-01-01", date_fin="2026-01-01")["date_debut"])
    assert "kind" in errors("donnees_techniques", periode="2026")


# -- which PCEs ------------------------------------------------------------------------------------

SUPPLY, INJECTION = "AUTORISE_CONTRAT_FOURNITURE", "DETENTEUR_CONTRAT_INJECTION"
ROWS = [  # pce, state, role, right to, data from, data to
    ("GI000001", m.ACTIVE, SUPPLY, "2027-01-01", "2024-01-01", "2027-01-01"),
    ("GI000001", m.ACTIVE, SUPPLY, "2027-01-01", "2024-01-01", "2027-01-01"),  # same PCE twice
    ("GI000002", m.TO_VALIDATE, SUPPLY, "2027-01-01", "", ""),
    ("GI000003", m.REVOKED, SUPPLY, "2027-01-01", "", ""),
    ("GI000004", m.ACTIVE, INJECTION, "2027-01-01", "2024-01-01", "2027-01-01"),
    ("GI000005", m.ACTIVE, SUPPLY, "2026-03-01", "2024-01-01", "2027-01-01"),  # ended before today
    ("GI000006", m.ACTIVE, SUPPLY, "", "2026-03-01", "2027-01-01"),  # data only from March
    ("21000000000007", m.ACTIVE, "DETENTEUR_CONTRAT_FOURNITURE", "", "", ""),
]


def columns(rows: list[tuple[str, ...]]) -> dict[str, list[str]]:
    keys = ("pce", "state", "role", "end", "perim_start", "perim_end")
    return {key: [row[i] for row in rows] for i, key in enumerate(keys)}


def test_selection_keeps_active_rights_giving_that_data_once_per_pce() -> None:
    col = columns(ROWS)
    feb = period(periode="2026-02")
    chosen = export.select(col, range(len(ROWS)), PUBLISHED, TODAY, feb)
    assert chosen.pces == ("GI000001", "21000000000007")
    assert chosen.shown == 8
    assert chosen.left_out == {
        export.NOT_ACTIVE: 2,
        export.NO_CONSUMPTION: 1,
        export.EXPIRED: 1,
        export.OUTSIDE: 1,
        export.SAME_PCE: 1,
    }
    assert chosen.sentence() == (
        "2 PCE from 8 row(s) shown; left out: 2 not Active (no access to data), "
        "1 injection rights (no consumption data), 1 ended rights, "
        "1 with a data perimeter outside the period, 1 more rows of a PCE already "
        "counted."
    )
    # injections: only through an injection role (biomethane sites)
    assert export.select(col, range(len(ROWS)), INJECTIONS, TODAY, feb).pces == ("GI000004",)
    # without a valid period the perimeter is not judged; only the rows shown count, in their order
    assert export.select(col, [6, 0], INFORMATIVE, TODAY).pces == ("GI000006", "GI000001")
    # the holder did not grant informative data on GI000001 (perim_donnees_informatives Faux):
    # GRDF would refuse the call, which would still count in the quota
    col["informative"] = ["0", "0", "", "", "", "", "1", ""]
    col["published"] = [""] * len(ROWS)
    chosen = export.select(col, [6, 0, 1], INFORMATIVE, TODAY)
    assert chosen.pces == ("GI000006",) and chosen.left_out == {export.NO_PERIMETER: 2}
    assert export.select(col, [6, 0], PUBLISHED, TODAY).pces == ("GI000006", "GI000001")


def test_selection_on_the_simulated_park_matches_what_grdf_serves(adict_sim: AdictSimulator) -> None:
    table = RightsTable()
    table.add_raw(list(adict_sim.iter_rights()))
    for kind, flag in ((PUBLISHED, "perim_donnees_publiees"), (INFORMATIVE, "perim_donnees_informatives")):
        chosen = export.select(table.col, range(len(table)), kind, TODAY, period(kind, periode="2026-02"))
        assert 0 < len(chosen.pces) < 50 and sum(chosen.left_out.values()) + len(chosen.pces) == 300
        for pce in chosen.pces:
            right = adict_sim.right_of_pce(pce, touch=False)
            assert right["etat_droit_acces"] == m.ACTIVE and "FOURNITURE" in right["role_tiers"]
            assert right[flag] == "Vrai"
    assert export.NO_PERIMETER in chosen.left_out  # the park has rights without informative data


# -- the plan (quota table: 6 000 calls a day up to 5 000 PCE, 1 call/s) -----------------------------


def test_plan_sentence_says_calls_time_and_what_is_left() -> None:
    check = rules.bulk_fits_today(20, remaining_today=5000, per_second=0.9, reserve=export.RESERVE)
    assert export.plan_sentence(20, check, per_day=6000, per_second=0.9) == (
        "20 PCE → 20 call(s), about 22 s at 0.9 call/s; 5000 call(s) left today "
        "(quota 6000 a day, 3 kept for the rights list)."
    )
    short = rules.bulk_fits_today(20, remaining_today=21, per_second=0.9, reserve=export.RESERVE)
    assert not short.fits and "only 18 remain" in short.message


# -- CSV from real corpus readings -------------------------------------------------------------------


def corpus_reading(name: str) -> Reading:
    line = (SAMPLES / name).read_text(encoding="utf-8").splitlines()[0]
    return read(json.loads(line), Reading)


def test_corpus_readings_become_csv_lines(tmp_path: Path) -> None:
    published = corpus_reading("v2_donnees_consos_publiees.lowatt-fixture.ndjson")
    informative = corpus_reading("v2_donnees_consos_informatives.lowatt-fixture.ndjson")
    row = export.reading_row("23000000000000", PUBLISHED, published)
    assert row == {
        "id_pce": "23000000000000",
        "kind": PUBLISHED,
        "start": "2021-01-01T06:00:00+01:00",
        "end": "2021-01-23T06:00:00+01:00",
        "gas_day": "",
        "energy_kwh": "2032",
        "volume_m3": "180",
        "volume_converted_m3": "0",
        "conversion_coeff": "11.29",
        "index_start": "771",
        "index_end": "951",
        "qualification": "Mesuré",
        "status": "Définitive",
        "type": "Publiée",
        "flow": "Consommation",
        "reading_quality": "Mesure",
    }
    daily = export.reading_row("23000000000000", INFORMATIVE, informative)
    assert (daily["start"], daily["gas_day"], daily["energy_kwh"], daily["status"], daily["type"]) == (
        "2021-08-16T06:00:00+02:00",
        "2021-08-16",
        "8",
        "Provisoire",
        "Informative Journalier",
    )
    assert daily["index_start"] == "" and daily["index_end"] == "1325"

    run = export.ExportRun(PUBLISHED, period(periode="2026-02"), ["23000000000000", "GI000009", "GI000010"])
    run.readings["23000000000000"] = [published, published]
    run.refused["GI000009"] = "Aucun droit d'accès"
    run.done, run.stopped = 2, "cancelled by the operator"
    out = export.write_export(run, tmp_path / "exports", START)
    assert out.data.name == "adict_donnees_consos_publiees_2026-02_20260310-090000_PARTIAL.csv"
    assert (
        out.refused is not None
        and out.refused.name == "adict_donnees_consos_publiees_2026-02_20260310-090000_refused.csv"
    )
    with out.data.open(encoding="utf-8-sig") as handle:
        lines = list(csv.DictReader(handle))
    assert len(lines) == 2 and lines[0] == row
    with out.refused.open(encoding="utf-8-sig") as handle:
        refused = list(csv.DictReader(handle))
    assert refused == [
        {"id_pce": "GI000009", "outcome": "refused", "reason": "Aucun droit d'accès"},
        {"id_pce": "GI000010", "outcome": "not fetched", "reason": "cancelled by the operator"},
    ]
    assert os.stat(out.data).st_mode & 0o777 == 0o600 and os.stat(out.refused).st_mode & 0o777 == 0o600
    assert "PARTIAL: cancelled" in run.summary() and "1 not reached" in run.summary()


def test_a_failed_write_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = export.ExportRun(PUBLISHED, period(periode="2026-02"), ["GI000001"])
    run.readings["GI000001"] = [read({"consommation": {"energie": 10}}, Reading)] * 3
    run.done = 1
    calls = []

    def failing(value: object) -> str:
        calls.append(value)
        if len(calls) > 20:
            raise OSError(28, "No space left on device")
        return str(value)

    monkeypatch.setattr(files, "_cell", failing)
    with pytest.raises(OSError):
        export.write_export(run, tmp_path, START)
    assert list(tmp_path.iterdir()) == []  # whole or nothing: no half file, no temporary left


# -- the run against the simulator --------------------------------------------------------------------


def some_pces(sim: AdictSimulator, count: int) -> list[str]:
    table = RightsTable()
    table.add_raw(list(sim.iter_rights()))
    return list(export.select(table.col, range(len(table)), PUBLISHED, TODAY).pces[:count])


async def test_run_exports_and_a_refusal_does_not_stop_the_others(
    adict_sim: AdictSimulator, adict_http: httpx.AsyncClient, clock: ManualClock, tmp_path: Path
) -> None:
    pces = some_pces(adict_sim, 18)
    pces[3:3] = ["GI888888"]  # no right on this PCE: GRDF refuses it (HTTP 200, statut_restitution)
    client = limited(adict_http, clock)
    run = export.ExportRun(PUBLISHED, period(periode="2026-02"), pces)
    seen: list[int] = []
    await export.run_export(run, client, TODAY, on_progress=lambda: seen.append(run.done))
    assert seen == list(range(1, 20)) and not run.partial
    assert set(run.readings) == set(pces) - {"GI888888"} and "Aucun droit" in run.refused["GI888888"]
    assert client.limiter.used_today() == 19
    out = export.write_export(run, tmp_path, START)
    with out.data.open(encoding="utf-8-sig") as handle:
        lines = list(csv.DictReader(handle))
    assert len(lines) == run.reading_count and {line["id_pce"] for line in lines} == set(run.readings)
    assert all(line["energy_kwh"] and line["start"].startswith("2026-0") for line in lines)
    assert out.refused is not None and "GI888888" in out.refused.read_text(encoding="utf-8-sig")


async def test_not_started_when_today_quota_is_short(
    adict_sim: AdictSimulator, adict_http: httpx.AsyncClient, clock: ManualClock
) -> None:
    client = limited(adict_http, clock, per_day=12)
    run = export.ExportRun(PUBLISHED, period(periode="2026-02"), some_pces(adict_sim, 10))
    await export.run_export(run, client, TODAY)
    assert run.done == 0 and run.partial and "Not started" in (run.stopped or "")
    assert adict_sim.calls == 0  # nothing sent


async def test_grdf_daily_quota_stops_the_run_and_keeps_what_was_fetched(
    adict_sim: AdictSimulator, adict_http: httpx.AsyncClient, clock: ManualClock
) -> None:
    adict_sim.per_day = 5  # GRDF's gate refuses the 6th call of the day (the local count did not know)
    client = limited(adict_http, clock, per_day=None)
    run = export.ExportRun(PUBLISHED, period(periode="2026-02"), some_pces(adict_sim, 10))
    await export.run_export(run, client, TODAY)
    assert len(run.readings) == 5 and run.partial and "quota" in (run.stopped or "")
    assert len(run.not_reached()) == 5 and adict_sim.quota_refusals == 1


async def test_cancel_stops_further_calls(
    adict_sim: AdictSimulator, adict_http: httpx.AsyncClient, clock: ManualClock
) -> None:
    client = limited(adict_http, clock)
    run = export.ExportRun(PUBLISHED, period(periode="2026-02"), some_pces(adict_sim, 10))

    def progress() -> None:
        if run.done == 3:
            run.cancel_requested = True

    await export.run_export(run, client, TODAY, on_progress=progress)
    assert run.done == 3 and run.stopped == "cancelled by the operator" and len(run.not_reached()) == 7
    assert client.limiter.used_today() == 3


def test_export_dir_default_and_setting(tmp_path: Path) -> None:
    assert files.export_dir("", tmp_path) == tmp_path / "exports"
    assert files.export_dir(" ~/x ", tmp_path) == Path("~/x").expanduser()


async def test_injections_of_biomethane_sites(
    adict_sim: AdictSimulator, adict_http: httpx.AsyncClient, clock: ManualClock
) -> None:
    table = RightsTable()
    table.add_raw(list(adict_sim.iter_rights()))
    feb = period(INJECTIONS, periode="2026-02")
    pces = export.select(table.col, range(len(table)), INJECTIONS, TODAY, feb).pces
    assert pces and all("INJECTION" in adict_sim.right_of_pce(p, touch=False)["role_tiers"] for p in pces)
    run = await export.run_export(export.ExportRun(INJECTIONS, feb, pces), limited(adict_http, clock), TODAY)
    rows = export.data_rows(run)
    assert not run.refused and rows and all(r["flow"] and r["energy_kwh"] for r in rows)


async def test_refused_credentials_or_no_network_stop_the_run(
    adict_sim: AdictSimulator, adict_http: httpx.AsyncClient, clock: ManualClock, plan: FaultPlan
) -> None:
    pces = some_pces(adict_sim, 10)
    plan.add("/adict/v2/pce/*", "status", count=100, status=401)
    run = await export.run_export(
        export.ExportRun(PUBLISHED, period(periode="2026-02"), pces), limited(adict_http, clock), TODAY
    )
    assert run.done == 1 and "credentials" in (run.stopped or "") and len(run.not_reached()) == 9
    plan.clear()
    plan.add("/adict/v2/pce/*", "timeout", count=3)
    run = await export.run_export(
        export.ExportRun(PUBLISHED, period(periode="2026-02"), pces), limited(adict_http, clock), TODAY
    )
    assert run.done == 3 and "unreachable" in (run.stopped or "") and len(run.refused) == 3


def test_the_journal_keeps_rows_as_they_arrive(tmp_path: Path) -> None:
    """CsvJournal: header and rows on disk after each add (what a crash would leave), 0600,
    never over another file, cells escaped as in write_csv, removed by discard."""
    from pupitre.providers.core.files import CsvJournal

    path = tmp_path / "exports" / "x.csv.part"
    journal = CsvJournal(path, ("id_pce", "energy_kwh"))
    journal.add([{"id_pce": "GI000001", "energy_kwh": "12"}])
    assert path.read_text(encoding="utf-8-sig").splitlines() == ["id_pce,energy_kwh", "GI000001,12"]
    journal.add([{"id_pce": "=HYPERLINK()", "energy_kwh": "-3"}])
    assert path.read_text(encoding="utf-8-sig").splitlines()[-1] == "'=HYPERLINK(),-3"
    assert path.stat().st_mode & 0o777 == 0o600
    with pytest.raises(FileExistsError):
        CsvJournal(path, ("id_pce",))
    journal.discard()
    assert not path.exists()
