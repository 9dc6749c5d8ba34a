"""API text made harmless for the terminal (``providers/core/text.py``): what is cleaned,
what is kept, through the reading of every provider's types, CSV cells and the log."""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path
from typing import Any

import msgspec
import pytest

from pupitre.providers.core.api import ApiStruct, MultiLine, from_data
from pupitre.providers.core.files import write_csv
from pupitre.providers.core.text import (
    SafeLogFormatter,
    clean_column,
    clean_data,
    clean_text,
    csv_cell,
)

#: The sequences the issue reproduced, and a few more.
HOSTILE = {
    "title (OSC 0)": "\x1b]0;pwned\x07",
    "clipboard (OSC 52)": "\x1b]52;c;cm0gLXJmIH4K\x1b\\",
    "clear screen (CSI)": "\x1b[2J\x1b[H",
    "hyperlink (OSC 8)": "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\",
    "8-bit CSI": "\x9b2J",
    "8-bit OSC": "\x9d0;t\x9c",
    "DCS": "\x1bP+q\x1b\\",
    "bidi override": "abc\u202edcba\u202c",
    "bidi isolate": "\u2066x\u2069",
    "backspace, NUL, DEL": "a\x08\x00\x7fb",
    "lone surrogate": "a\ud800b",
}
UNSAFE_CHARS = {chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))} | set(
    "\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def unsafe(text: str, *, multiline: bool = False) -> set[str]:
    allowed = {"\n"} if multiline else set()
    found = {c for c in text if c in UNSAFE_CHARS or 0xD800 <= ord(c) <= 0xDFFF} - allowed
    return found


@pytest.mark.parametrize("sequence", list(HOSTILE.values()), ids=list(HOSTILE))
def test_no_control_survives(sequence: str) -> None:
    text = f"Site {sequence} Nord"
    assert unsafe(clean_text(text)) == set()
    assert unsafe(clean_text(text, multiline=True), multiline=True) == set()
    assert clean_text(clean_text(text)) == clean_text(text)  # idempotent


def test_sequences_are_made_visible_not_hidden() -> None:
    assert clean_text("A\x1b]0;pwned\x07B") == "A␛]0;pwned␇B"
    assert clean_text("\x1b[2J") == "␛[2J"
    assert clean_text("\x9b2J") == "␛[2J"  # 8-bit CSI shown as its 7-bit spelling
    assert clean_text("abc\u202edcba") == "abc\ufffddcba"


def test_legitimate_text_is_kept() -> None:
    for text in ("Élodie Prévôt", "« Preuve à vérifier »", "12,50 €", "Zoë — ½", "東京", "\u200fمرحبا"):
        assert clean_text(text) is text


def test_line_breaks_one_line_and_multi_line() -> None:
    assert clean_text("a\r\nb\nc\rd\te\u2028f") == "a b c d e f"
    assert clean_text("a\r\nb\nc\rd\te", multiline=True) == "a\nb\nc\nd e"


class Inner(ApiStruct, frozen=True, kw_only=True):
    label: str
    codes: list[str] = []


class Outer(ApiStruct, frozen=True, kw_only=True):
    name: str
    maybe: str | None = None
    inner: Inner
    items: list[Inner] = []
    table: dict[str, str] = {}
    comment: MultiLine = ""
    number: float = 0.0


class Request(ApiStruct, frozen=True, kw_only=True):
    informations_client: dict[str, Any] | None = None
    data: Any = None


def test_types_read_clean_every_string_field() -> None:
    bad = "\x1b]52;c;eA==\x07"
    outer = from_data(
        {
            "name": bad,
            "maybe": bad,
            "inner": {"label": bad, "codes": [bad]},
            "items": [{"label": bad}],
            "table": {bad: bad},
            "comment": f"line 1\r\nline 2 {bad}",
            "number": -3.5,
            "unknown_field": {"k": [bad]},
        },
        Outer,
        provider="test",
    )
    dumped = repr(msgspec.to_builtins(outer))
    assert "\x1b" not in dumped and "\x07" not in dumped
    assert outer.name == "␛]52;c;eA==␇"
    assert outer.comment == "line 1\nline 2 ␛]52;c;eA==␇"
    assert outer.number == -3.5


#: Structs of a models module that are the dashboard's own values, never read from outside.
DASHBOARD_VALUES = {"ReportRow"}


def test_every_provider_type_derives_from_api_struct() -> None:
    """One mechanism for every provider: no type of API data escapes it."""
    import importlib
    import inspect

    for api in ("grtgaz", "edf_oa", "grdf_omega", "grdf_adict", "switchgrid"):
        module = importlib.import_module(f"pupitre.providers.{api}.models")
        types = [
            obj
            for obj in vars(module).values()
            if inspect.isclass(obj) and issubclass(obj, msgspec.Struct) and obj.__module__ == module.__name__
        ]
        assert types, api
        assert all(issubclass(kind, ApiStruct) for kind in types if kind.__name__ not in DASHBOARD_VALUES), api


def test_clean_data_and_columns() -> None:
    data: Any = {"a\x1b": ["x\x9b", 1, None, {"b": "\u202e"}], "n": 2.5}
    assert clean_data(data) == {"a␛": ["x␛[", 1, None, {"b": "\ufffd"}], "n": 2.5}
    column = ["GI000001", "Élodie"]
    assert clean_column(column) is column  # clean: the same list, no copy
    assert clean_column(["ok", "\x1b[2J"]) == ["ok", "␛[2J"]


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+33 1 23", "'+33 1 23"),
        ("-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1+1", "' =1+1"),
        ("\r=1+1", "'\n=1+1"),
        ("-3.5", "-3.5"),
        ("+1e3", "+1e3"),
        ("-0,25", "-0,25"),
        (-3.5, "-3.5"),
        (12, "12"),
        (None, ""),
        ("MARTIN \x1b]0;x\x07", "MARTIN ␛]0;x␇"),
        ("Énergie « Ouest »", "Énergie « Ouest »"),
    ],
)
def test_csv_cells(value: object, cell: str) -> None:
    assert csv_cell(value) == cell


def test_write_csv_neutralises_text_not_numbers(tmp_path: Path) -> None:
    path = write_csv([{"name": "=1+1", "kwh": -3.5, "text_number": "-3.5"}], tmp_path / "x.csv")
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert rows == [{"name": "'=1+1", "kwh": "-3.5", "text_number": "-3.5"}]


def test_log_formatter_makes_controls_visible() -> None:
    formatter = SafeLogFormatter("%(levelname)s %(message)s")
    record = logging.LogRecord("pupitre", logging.WARNING, __file__, 1, "site %s", ("\x1b]0;t\x07",), None)
    try:
        raise ValueError("bad \x1b[2J value")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    out = formatter.format(record)
    assert unsafe(out, multiline=True) == set()
    assert "site ␛]0;t␇" in out and "Traceback" in out and "\n" in out


def test_raw_blocks_typed_any_are_cleaned() -> None:
    request = from_data({"informations_client": {"nom": "\x1b[2J"}, "data": ["\x9b"]}, Request, provider="test")
    assert request.informations_client == {"nom": "␛[2J"} and request.data == ["␛["]
