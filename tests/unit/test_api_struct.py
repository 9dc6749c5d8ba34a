"""The providers' API types (``providers/core/api.py``): data from outside is cleaned for
the terminal, converted, refused in one sentence; tokens stay secret; bodies built in code
are cleaned too."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
import pytest

from pupitre.providers.core.api import (
    ApiBody,
    ApiStruct,
    AwareDatetime,
    Before,
    MultiLine,
    clean_for,
    from_data,
    multiline_keys,
    quirk_reader,
    to_data,
)
from pupitre.providers.core.errors import PayloadError
from pupitre.providers.core.secrets import Secret
from pupitre.providers.core.text import clean_text

BAD = "\x1b]52;c;eA==\x07"


class Line(ApiStruct, frozen=True, kw_only=True):
    label: str
    note: MultiLine | None = None


class Order(ApiStruct, frozen=True, kw_only=True):
    name: str
    at: AwareDatetime
    lines: list[Line] = []
    block: dict[str, Any] | None = None
    quantity: float = msgspec.field(default=0.0, name="qToQ+Quantity")
    token: Secret | None = None


class Note(ApiBody, frozen=True, kw_only=True):
    title: str
    comment: MultiLine = ""
    tags: list[str] = []


def _code_points() -> list[int]:
    """Every code point of the BMP, and a sample of the astral planes."""
    return [*range(0x10000), *range(0x10000, 0x110000, 97)]


def test_the_quick_check_agrees_with_clean_text_on_every_character() -> None:
    """The C-speed check lets data through untouched only if no string — value or key — holds
    a character :func:`clean_text` would change: every code point, in both places."""
    for code in _code_points():
        text = f"a{chr(code)}b"
        changed = clean_text(text) != text
        for data in ({"k": text}, {text: 1}, [[{"k": ["x", text]}]]):
            assert (clean_for(data, Any) is not data) is changed, hex(code)


@pytest.mark.parametrize("text", ["\\\n", "\\\\\x1b", "C:\\\\\u202e", "\\\\\\\t"])
def test_a_control_character_after_backslashes_is_seen(text: str) -> None:
    assert clean_for({"k": text}, Any) == {"k": clean_text(text)} != {"k": text}


@pytest.mark.parametrize("text", ["\\n", "C:\\new\\table", "\\u001b", "\\\\u202e"])
def test_backslashes_before_letters_are_text(text: str) -> None:
    data = {"k": text}
    assert clean_for(data, Any) is data


def test_clean_data_is_returned_as_it_is() -> None:
    data = {"label": "Élodie — « 12,50 € » \u00a0東京\u200f", "n": [1, 2.5, None, True]}
    assert clean_for(data, Line) is data


def test_every_string_is_cleaned_and_multiline_fields_keep_their_lines() -> None:
    order = from_data(
        {
            "name": f"Site {BAD}\nNord",
            "at": "2025-10-26T02:30:00+01:00",
            "lines": [{"label": BAD, "note": f"line 1\r\nline 2 {BAD}"}, {"label": "ok"}],
            "block": {BAD: [BAD, {"k": "\u202eevil"}]},
            "unknown": BAD,
        },
        Order,
        provider="test",
    )
    assert order.name == "Site ␛]52;c;eA==␇ Nord"
    assert order.lines[0] == Line(label="␛]52;c;eA==␇", note="line 1\nline 2 ␛]52;c;eA==␇")
    assert order.block == {"␛]52;c;eA==␇": ["␛]52;c;eA==␇", {"k": "\ufffdevil"}]}
    assert order.at == dt.datetime(2025, 10, 26, 1, 30, tzinfo=dt.timezone.utc)  # the second 02:30 of the day
    assert "\x1b" not in repr(order) and "\x07" not in repr(order)


def test_multiline_keys_are_found_through_lists_and_options() -> None:
    assert multiline_keys(Order) == {"note"}
    assert multiline_keys(list[Order]) == {"note"}
    assert multiline_keys(dict[str, Line | None]) == {"note"}
    assert multiline_keys(Note) == {"comment"}


def test_wire_names_lax_numbers_and_the_way_back() -> None:
    order = from_data({"name": "A", "at": "2025-03-30T03:00:00+02:00", "qToQ+Quantity": "12.5"}, Order, provider="test")
    assert order.quantity == 12.5
    data = to_data(order)
    assert data["qToQ+Quantity"] == 12.5 and data["at"] == "2025-03-30T03:00:00+02:00"
    assert from_data(data, Order, provider="test") == order


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({"name": 3, "at": "2025-01-01T00:00:00Z"}, "at name: Expected `str`, got `int`"),
        ({"name": "A", "at": "2025-01-01T00:00:00"}, "at at: Expected `datetime` with a timezone component"),
        ({"name": "A", "at": "2025-01-01T00:00:00Z", "lines": [{}]}, "at lines[0]: Object missing required field"),
        ([], "at root: Expected `object`, got `array`"),
    ],
)
def test_a_mismatch_is_one_sentence_naming_where(data: Any, where: str) -> None:
    with pytest.raises(PayloadError) as caught:
        from_data(data, Order, provider="GRTgaz")
    assert caught.value.detail.startswith(where)
    assert str(caught.value).startswith("GRTgaz: the API sent data of an unexpected shape")


def test_a_token_is_read_and_shown_nowhere() -> None:
    order = from_data({"name": "A", "at": "2025-01-01T00:00:00Z", "token": "s3cr3t"}, Order, provider="test")
    assert order.token is not None and order.token.reveal() == "s3cr3t"
    assert "s3cr3t" not in repr(order) and "s3cr3t" not in str(order.token)
    assert "s3cr3t" not in repr(to_data(order))


def test_a_body_built_in_code_is_cleaned() -> None:
    note = Note(title=f"T{BAD}\nx", comment=f"a\r\nb{BAD}", tags=["ok", BAD])
    assert note == Note(title="T␛]52;c;eA==␇ x", comment="a\nb␛]52;c;eA==␇", tags=["ok", "␛]52;c;eA==␇"])
    clean = Note(title="T", comment="a\nb")
    assert clean.comment == "a\nb"


# -- quirks read before converting ---------------------------------------------------------------


def _flag(value: Any) -> bool | None:
    if value == "":
        return None
    if value in ("Vrai", "Faux"):
        return value == "Vrai"
    raise ValueError(f"not a Vrai/Faux boolean: {value!r}")


class Reading(ApiStruct, frozen=True, kw_only=True):
    ALIASES = {"qMax": "qMAx", "q_max": "qMAx"}

    qMAx: float | None = None
    ok: Annotated[bool | None, Before(_flag)] = None

    @classmethod
    def before(cls, data: Any) -> Any:
        if isinstance(data, str):  # a bare number for the whole object
            return {"qMAx": data}
        return {("ok" if key == "ok:" else key): value for key, value in data.items()}


class Park(ApiStruct, frozen=True, kw_only=True):
    readings: list[Reading] = []
    by_site: dict[str, Reading] = {}
    last: Reading | None = None


def test_other_names_whole_object_quirks_and_raw_values_are_read_first() -> None:
    data = {
        "readings": [{"qMax": 3, "ok:": "Vrai"}, "4.5", {"qMAx": 1, "qMax": 9, "ok": ""}],
        "by_site": {"LI1001": {"q_max": 2, "ok": "Faux"}},
        "last": None,
    }
    before = repr(data)
    park = from_data(data, Park, provider="test")
    assert park.readings == [Reading(qMAx=3, ok=True), Reading(qMAx=4.5), Reading(qMAx=1)]  # the wire name wins
    assert park.by_site == {"LI1001": Reading(qMAx=2, ok=False)}
    assert repr(data) == before  # read, never changed in place


def test_a_refused_raw_value_says_where() -> None:
    with pytest.raises(PayloadError) as caught:
        from_data({"readings": [{}, {"ok": "Peut-être"}]}, Park, provider="GRDF ADICT")
    assert caught.value.detail == "at readings[1].ok: not a Vrai/Faux boolean: 'Peut-être'"


def test_a_type_without_quirks_reads_with_no_extra_step() -> None:
    assert quirk_reader(Order) is None and quirk_reader(list[Line]) is None
    assert quirk_reader(Park) is not None
