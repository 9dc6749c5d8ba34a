"""Compact columns (core.columns): the same answers as the lists of strings they replace."""

from __future__ import annotations

import random

import orjson
import pytest

from pupitre.providers.core.columns import CodedColumn, TextColumn, changed_rows, dump_column, load_column


def _values(n: int, distinct: int, seed: int = 1, odd: str = "") -> list[str]:
    rng = random.Random(seed)
    words = ["", "Active", "A valider", "Révoquée", "MARTIN Éloïse", "x" * 40, odd or "~"]
    words += [f"v{i:05d}" for i in range(distinct)]
    return [rng.choice(words) for _ in range(n)]


@pytest.mark.parametrize("kind", [CodedColumn, TextColumn])
def test_a_column_reads_as_its_list(kind: type) -> None:
    # a lone surrogate (stdlib json reads "\\ud800") survives a text blob
    values = _values(3000, 400, odd="\ud800lone" if kind is TextColumn else "")
    column = kind(values[:1000])
    column.extend(values[1000:2999])
    column.append(values[2999])
    assert len(column) == len(values) and list(column) == values and column == values
    assert [column[i] for i in (0, 17, -1, -3000)] == [values[i] for i in (0, 17, -1, -3000)]
    assert column[10:25] == values[10:25] and column[5:2] == [] and column[::7] == values[::7]
    with pytest.raises(IndexError):
        column[3000]
    for probe in ("MARTIN Éloïse", values[2500], values[-1], ""):
        assert column.index(probe) == values.index(probe)
    assert "absent" not in column and values[1234] in column
    again = load_column(orjson.loads(orjson.dumps(dump_column(column))))
    assert type(again) is kind and again == column and list(again) == values
    parts: dict[str, object] = {}  # the store's binary parts: the arrays as they are, read back as bytes
    stored = orjson.loads(orjson.dumps(dump_column(column, parts, "c")))
    again = load_column(stored, {name: memoryview(part).cast("B") for name, part in parts.items()})
    assert type(again) is kind and again == column and list(again) == values
    if kind is TextColumn:
        with pytest.raises(ValueError):  # offsets that do not end with the blob
            load_column(stored, {**parts, "c.blob": b"short"})


def test_codes_widen_as_values_arrive() -> None:
    column = CodedColumn(f"{i}" for i in range(200))
    assert column.codes.typecode == "B"
    column.extend(f"{i}" for i in range(70_000))
    assert column.codes.typecode == "I" and column[200 + 69_999] == "69999" and column[199] == "199"


def test_sorts_filters_and_counts_on_codes() -> None:
    values = _values(5000, 50, seed=2)
    column = CodedColumn(values)
    for reverse in (False, True):
        assert column.order(4000, reverse) == sorted(range(4000), key=values.__getitem__, reverse=reverse)
    wanted = {"Active", "v00007", "never"}
    rows = list(range(0, 5000, 3))
    assert column.rows_in(wanted, rows) == [i for i in rows if values[i] in wanted]
    assert column.rows_in(wanted, range(100, 900)) == [i for i in range(100, 900) if values[i] in wanted]
    counts = column.counts(10, 4000)
    assert counts == {v: values[10:4000].count(v) for v in set(values[10:4000])}
    moved = CodedColumn(reversed(values))  # other codes for the same values
    changed = values[::-1][:4000] + ["new"] * 1000
    assert changed_rows(moved, CodedColumn(changed)) == [i for i in range(5000) if values[::-1][i] != changed[i]]


@pytest.mark.parametrize("distinct", [3, 50, 300])  # one-byte codes counted by bytes.count; many; two-byte codes
def test_counts_and_flags_of_few_or_many_values(distinct: int) -> None:
    values = _values(6000, distinct, seed=3)
    column = CodedColumn(values)
    column.extend(["only at the end"])  # a value no row of the stretch holds: not counted
    assert column.codes.typecode == ("B" if distinct < 200 else "H")
    assert column.counts(5, 6000) == {v: values[5:6000].count(v) for v in set(values[5:6000])}
    wanted = {code for code, value in enumerate(column.values) if value in ("Active", "v00001", "only at the end")}
    flags = list(map(bool, column.flags(wanted, 7, None)))
    assert flags == [value in ("Active", "v00001", "only at the end") for value in [*values, "only at the end"][7:]]


def test_a_damaged_column_is_refused() -> None:
    text = dump_column(TextColumn(["ab", "cd"]))
    coded = dump_column(CodedColumn(["ab", "cd", "ab"]))
    for bad in (
        {**text, "text": "abc"},  # the blob is longer than its lengths say
        {**text, "type": "Q"},
        {**text, "kind": "other"},
        {**coded, "values": ["ab"]},  # a code without its value
        {**coded, "values": ["ab", "ab"]},
        {**coded, "type": "Q"},
        {k: v for k, v in coded.items() if k != "codes"},
    ):
        with pytest.raises(ValueError):
            load_column(bad)
