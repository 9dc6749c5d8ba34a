"""The program editor's draft: pasted values (tab/CSV), typed numbers, changed hours."""

from __future__ import annotations

import datetime as dt

import pytest

from pupitre.providers.grtgaz.drafts import (
    Draft,
    DraftError,
    format_quantity,
    parse_number,
    parse_values,
    slot_label,
    split_values,
)
from pupitre.tui.widgets.charts import hbar, sparkline

ROW = [100.0 + i for i in range(24)]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(t, id=f"format{i}")
        for i, t in enumerate(
            [
                "\t".join(f"{v:g}" for v in ROW),  # a spreadsheet row
                "\n".join(f"{v:g}" for v in ROW) + "\n",  # a spreadsheet column
                ";".join(f"{v:g}" for v in ROW),  # French CSV
                ",".join(f"{v:g}" for v in ROW),  # CSV
                " ".join(f"{v:g}" for v in ROW),  # typed with spaces
                "DK6\t" + "\t".join(f"{v:g}" for v in ROW),  # a row copied with its label cell
            ]
        )
    ],
)
def test_parse_values_formats(text):
    assert parse_values(text) == ROW


def test_decimal_comma_with_tabs_and_semicolons():
    text = "\t".join("15236,87" for _ in range(24))
    assert parse_values(text) == [15236.87] * 24
    assert parse_values(";".join(["1 000,5"] * 24)) == [1000.5] * 24


def test_decimal_point_with_commas():
    assert parse_values(", ".join(["15236.87"] * 24)) == [15236.87] * 24


@pytest.mark.parametrize(
    "text, message",
    [
        pytest.param(*case, id=f"case{i}")
        for i, case in enumerate(
            [
                ("", "0 value(s) pasted, 24 expected"),
                ("\t".join(["1"] * 23), "23 value(s) pasted, 24 expected"),
                ("\t".join(["1"] * 25), "25 value(s) pasted, 24 expected"),
                ("\t".join(["1"] * 23 + ["abc"]), "value 24: “abc” is not a number"),
                ("\t".join(["1"] * 23 + ["-5"]), "value 24: -5 is negative"),
                ("\t".join(["1"] * 23 + ["inf"]), "value 24"),
            ]
        )
    ],
)
def test_parse_values_errors_say_why(text, message):
    with pytest.raises(DraftError) as error:
        parse_values(text)
    assert message in str(error.value)


def test_parse_number():
    assert parse_number(" 15\u202f236,87 ") == 15236.87
    assert parse_number("1'000") == 1000.0
    assert parse_number("0") == 0.0
    for bad in ("", "1.2.3", "1e", "--1", "nan"):
        with pytest.raises(DraftError):
            parse_number(bad)


def test_split_values_drops_empty_cells():
    assert split_values("1\t\t2\n") == ["1", "2"]


def test_draft_tracks_changes_and_paste_keeps_read_only_hours():
    draft = Draft("LI1001", dt.date(2026, 11, 18), tuple(ROW), "rebuilt program")
    assert not draft.dirty
    draft.set(5, 999.0)
    assert draft.changed_slots() == [5] and draft.dirty
    changed = draft.paste([0.0] * 24, writable=range(10, 24))
    assert changed == list(range(10, 24))
    assert draft.values[:10] == ROW[:5] + [999.0] + ROW[6:10]
    draft.reset()
    assert draft.values == ROW and not draft.dirty


def test_draft_needs_24_values():
    with pytest.raises(DraftError, match="23 values"):
        Draft("LI1001", dt.date(2026, 11, 18), tuple(ROW[:23]), "x")


def test_labels_and_formatting():
    assert [slot_label(i) for i in (0, 17, 18, 23)] == ["06h", "23h", "00h", "05h"]
    assert format_quantity(1600000.0) == "1 600 000"
    assert format_quantity(15236.87) == "15 236.87"
    assert format_quantity(None) == "—"


def test_charts():
    assert sparkline([0, 50, 100]) == "▁▅█"
    assert sparkline([5, 5]) == "▅▅"
    assert sparkline([None, 1]) == "·▅"
    assert hbar(50, 100, 4) == "██  "
    assert hbar(100, 100, 4) == "████"
    assert hbar(None, 100, 3) == "   "
    assert len(hbar(33, 100, 10)) == 10
