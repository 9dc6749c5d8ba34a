"""Input as operators type it: one search folding, typed dates, imported files."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from pupitre.providers.core.imports import ImportRefused, read_import
from pupitre.providers.core.search import matches, search_key
from pupitre.providers.core.typed_dates import iso_date_text, typed_date


def test_search_is_case_accent_and_space_insensitive() -> None:
    assert matches("realisee", "Réalisée")
    assert matches("REALISÉE", "réalisée par GRDF")
    assert matches("gi 123 456", "GI123456")
    assert matches("3000 2154 2678 91", "30002154267891")
    assert matches("oeuvre", "Main-d’Œuvre")
    assert matches("d'oeuvre", "Main-d’Œuvre")
    assert matches("", "anything")
    assert not matches("dupont", "Durand")
    assert search_key("  Élodie\u00a0Martin ") == "elodiemartin"


def test_typed_dates_iso_and_french() -> None:
    assert typed_date("2026-11-01") == dt.date(2026, 11, 1)
    assert typed_date("01/11/2026") == dt.date(2026, 11, 1)
    assert typed_date(" 1/11/2026 ") == dt.date(2026, 11, 1)
    assert typed_date("01.11.2026") == typed_date("01-11-2026") == dt.date(2026, 11, 1)
    assert iso_date_text("01/11/2026 9:30") == "2026-11-01T09:30"
    assert iso_date_text("01/11/2026T10:00:00Z") == "2026-11-01T10:00:00Z"
    assert iso_date_text("2024-12-10T00:00:00[Europe/Paris]") == "2024-12-10T00:00:00[Europe/Paris]"
    for bad in ("31/02/2026", "11/2026", "tomorrow", ""):
        with pytest.raises(ValueError, match="is not a date"):
            typed_date(bad)


def test_imports_read_utf8_bom_and_fall_back_to_cp1252(tmp_path) -> None:
    plain = tmp_path / "plain.csv"
    plain.write_text("numéro;réalisée\n", encoding="utf-8")
    assert read_import(str(plain)).text == "numéro;réalisée\n" and read_import(str(plain)).note is None
    bom = tmp_path / "bom.csv"
    bom.write_bytes("\ufeffnuméro\n".encode())
    assert read_import(str(bom)).text == "numéro\n"
    excel = tmp_path / "excel.csv"
    excel.write_bytes("numéro;réalisée €\r\n".encode("cp1252"))
    imported = read_import(str(excel))
    assert imported.text == "numéro;réalisée €\r\n"
    assert imported.note is not None and "Windows-1252" in imported.note


def test_imports_refuse_in_one_sentence(tmp_path) -> None:
    with pytest.raises(ImportRefused, match="is a folder"):
        read_import(str(tmp_path))
    with pytest.raises(ImportRefused, match="there is no file"):
        read_import(str(tmp_path / "missing.csv"))
    with pytest.raises(ImportRefused, match="type the path"):
        read_import("  ")
    big = tmp_path / "big.csv"
    big.write_bytes(b"x" * 2_000_001)
    with pytest.raises(ImportRefused, match="larger than"):
        read_import(str(big))
    if os.geteuid() != 0:  # root reads anything
        locked = tmp_path / "locked.csv"
        locked.write_text("x")
        locked.chmod(0)
        with pytest.raises(ImportRefused, match="permission denied"):
            read_import(str(locked))
    for refusal in ("is a folder",):
        with pytest.raises(ImportRefused) as caught:
            read_import(str(tmp_path))
        assert refusal in str(caught.value) and "Error" not in str(caught.value)
