"""The e-mail fallback file of GRTgaz chapter 6 (§18 name and subject, §19 content)."""

from __future__ import annotations

import csv
import datetime as dt
import os
import stat

import pytest

from pupitre.providers.core.clock import PARIS
from pupitre.providers.grtgaz import export
from pupitre.providers.grtgaz.export import EmailProgram, ExportError

DAY = dt.date(2019, 9, 18)
CREATED = dt.datetime(2019, 9, 17, 19, 33, 55, 120000, tzinfo=PARIS)  # §19's example: 17/09/2019 193355
QUANTITIES = tuple([15236.87] + [10000.0] * 22 + [20000.0])


def program(**changes) -> EmailProgram:
    fields = dict(
        program_id="20190918-LI1788-GFCCGE04-3",
        gas_day=DAY,
        site_id="LI1788",
        site_label="Sainte Ernestine de Louvois",
        q_min=10000.0,
        q_max=20000.0,
        quantities=QUANTITIES,
    )
    fields.update(changes)
    return EmailProgram(**fields)


def read(path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle, delimiter=";"))


def test_file_name_is_the_documented_one():
    """§18: Export_DECLARATIONS_CCG-UPLOAD-AAAAMMJG_20XXXXXXXXXXXX.csv, AAAAMMJG = day J."""
    name = export.file_name(DAY, CREATED)
    assert name == "Export_DECLARATIONS_CCG-UPLOAD-20190918_20190917193355.csv"
    match = export.FILE_PATTERN.fullmatch(name)
    assert match and match.group(1) == "20190918" and len(match.group(2)) == 14


def test_file_name_uses_paris_time():
    utc = CREATED.astimezone(dt.timezone.utc)
    assert export.file_name(DAY, utc) == export.file_name(DAY, CREATED)


def test_subject_is_the_documented_one():
    """§18: [Nom du Site] Prévisions SFM : Date du Jour J (jj/mm/aaaa) – Date du Jour J+2."""
    assert export.subject("Montoir", DAY) == "Montoir Prévisions SFM : 18/09/2019 – 20/09/2019"
    assert (
        export.subject("Saint\nAvold", dt.date(2026, 12, 30)) == "Saint Avold Prévisions SFM : 30/12/2026 – 01/01/2027"
    )


def test_line_1_fields():
    """§19 line 1: DECLARATIONS_CCG, creation date, time, UPLOAD, PROD, day J, day J."""
    header, _ = export.rows(program(), CREATED)
    assert header == ["DECLARATIONS_CCG", "17/09/2019", "193355", "UPLOAD", "PROD", "18/09/2019", "18/09/2019"]


def test_line_2_fields():
    """§19 line 2: id, day, LI code, site name, date, time, date, time, qMin, qMax, 24 values."""
    _, line = export.rows(program(), CREATED)
    assert line[:10] == [
        "20190918-LI1788-GFCCGE04-3",
        "18/09/2019",
        "LI1788",
        "Sainte Ernestine de Louvois",
        "17/09/2019",
        "193355",
        "17/09/2019",
        "193355",
        "10000",
        "20000",
    ]
    assert line[10:] == ["15236.87"] + ["10000"] * 22 + ["20000"]
    assert len(line) == 10 + 24


def test_numbers_are_plain_doubles():
    assert [export.number(v) for v in (10000.0, 15236.87, 0.0, -0.0, 0.5, 1e7, 12.3456)] == [
        "10000",
        "15236.87",
        "0",
        "0",
        "0.5",
        "10000000",
        "12.346",
    ]


def test_export_writes_the_file_atomically(tmp_path):
    result = export.export_program(program(), tmp_path / "exports", CREATED)
    assert result.path == tmp_path / "exports" / "Export_DECLARATIONS_CCG-UPLOAD-20190918_20190917193355.csv"
    assert result.subject == "Sainte Ernestine de Louvois Prévisions SFM : 18/09/2019 – 20/09/2019"
    assert result.recipient == "contact-CCG@grtgaz.com"
    raw = result.path.read_bytes()
    assert raw.startswith(b"DECLARATIONS_CCG;17/09/2019;193355;UPLOAD;PROD;18/09/2019;18/09/2019\r\n")  # no BOM
    assert read(result.path) == export.rows(program(), CREATED)
    assert stat.S_IMODE(os.stat(result.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(result.path.parent).st_mode) == 0o700
    assert [p.name for p in result.path.parent.iterdir()] == [result.path.name]  # no temporary left
    assert str(result.path) in result.instructions() and "phone" in result.instructions()


def test_second_export_in_the_same_second_keeps_the_first(tmp_path):
    first = export.export_program(program(), tmp_path, CREATED)
    second = export.export_program(program(program_id="20190918-LI1788-GFCCGE04-4"), tmp_path, CREATED)
    assert first.path != second.path
    assert second.path.name.endswith("20190917193356.csv")
    assert read(first.path)[1][0].endswith("-3") and read(second.path)[1][0].endswith("-4")
    assert read(second.path)[0][2] == "193356"  # the content carries the name's time


def test_site_name_with_separator_is_quoted(tmp_path):
    result = export.export_program(program(site_label='Site; "A"'), tmp_path, CREATED)
    assert read(result.path)[1][3] == 'Site; "A"'


@pytest.mark.parametrize(
    "changes, words",
    [
        ({"quantities": QUANTITIES[:23]}, "23 hourly values instead of 24"),
        ({"quantities": QUANTITIES[:23] + (float("nan"),)}, "not a number in slot(s) 23"),
        ({"site_id": "1788"}, "is not LIxxxx"),
        ({"program_id": "20190919-LI1788-GFCCGE04-3"}, "is not 20190918-LI1788-"),
    ],
)
def test_bad_program_is_refused_before_writing(tmp_path, changes, words):
    with pytest.raises(ExportError, match="cannot export") as error:
        program(**changes)
    assert words in str(error.value)
    assert not any(tmp_path.iterdir())


def test_write_failure_leaves_nothing(tmp_path, monkeypatch):
    def broken(handle, lines):
        handle.write("DECLARATIONS_CCG;")
        raise OSError("disk full")

    monkeypatch.setattr(export, "write_rows", broken)
    with pytest.raises(OSError):
        export.export_program(program(), tmp_path, CREATED)
    assert list(tmp_path.iterdir()) == []


def test_23_hour_day_export_says_what_was_assumed(tmp_path):
    """§13.2 « celle de 3h » is ambiguous: the export is written (not blocked) and says how it
    was read, for the operator to put in the e-mail (issue 16)."""
    spring = dt.date(2025, 3, 29)
    spring_program = program(gas_day=spring, program_id="20250329-LI1788-GFCCGE04-3")
    result = export.export_program(spring_program, tmp_path, CREATED)
    assert "celle de 3h" in result.assumption and "GRTgaz decides" in result.assumption
    assert result.assumption in result.instructions()
    assert export.export_program(program(), tmp_path, CREATED).assumption == ""
