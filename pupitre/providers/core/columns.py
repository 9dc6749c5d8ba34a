"""Compact text columns for park-scale tables (a million rows in tens of MB, not a GB).

A Python list of strings costs ~60–90 bytes a row (a pointer and a ``str`` object each);
at a million rows and eighteen columns that is well over a gigabyte. Two forms instead,
both read-only sequences of ``str`` that only ever grow at the end:

- :class:`CodedColumn`: few distinct values (states, roles, dates, postcodes, flags, the
  holders of a park): each distinct value stored once, one small integer code a row
  (``array`` of 1, 2 or 4 bytes, widened as values arrive). Filters, counts and sorts
  work on the codes (C loops), never on the strings.
- :class:`TextColumn`: values nearly all distinct (ids, PCEs, e-mails): one UTF-8 blob
  and the end offset of each row (``array``), ~20 bytes a row instead of ~80.

Both dump to a dict of plain JSON values (small arrays as base64, a text blob as one
string) and load back without parsing each row (:func:`dump_column`, :func:`load_column`), so a stored copy of
a million rows is on screen again in a fraction of a second.
"""

from __future__ import annotations

import base64
import sys
from array import array
from bisect import bisect_right
from collections import Counter
from itertools import accumulate, chain, compress, islice
from operator import ne, sub
from typing import AbstractSet, Any, Iterable, Iterator, Mapping, Sequence, overload

#: Code widths, narrowest first, and how many distinct values each can number.
_WIDTHS = (("B", 1 << 8), ("H", 1 << 16), ("I", 1 << 32))
_LIMITS = dict(_WIDTHS)
#: Up to this many distinct one-byte codes, counts are one ``bytes.count`` per value.
_COUNTED_BYTES = 32
_ERRORS = "surrogatepass"  # a lone surrogate (``"\ud800"`` in JSON) survives the round trip


class _Index(dict[str, int]):
    """value → code; an unseen value gets the next code (and is added to ``values``)."""

    def __init__(self, values: list[str]) -> None:
        super().__init__((value, code) for code, value in enumerate(values))
        self.texts = values

    def __missing__(self, value: str) -> int:
        code = len(self.texts)
        self.texts.append(value)
        self[value] = code
        return code


def _code_array(count: int, codes: Iterable[int] = ()) -> array[int]:
    for typecode, limit in _WIDTHS:
        if count <= limit:
            return array(typecode, codes)
    raise OverflowError("more than 2**32 distinct values in one column")


class CodedColumn(Sequence[str]):
    """Dictionary-coded text: ``values[codes[i]]`` is row ``i``."""

    __hash__ = None  # type: ignore[assignment]  # compared by value, like the list it replaces

    def __init__(self, values: Iterable[str] = ()) -> None:
        self.values: list[str] = []
        self._index = _Index(self.values)
        self.codes: array[int] = array("B")
        self.extend(values)

    def __len__(self) -> int:
        return len(self.codes)

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> list[str]: ...
    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            return list(map(self.values.__getitem__, self.codes[i]))
        return self.values[self.codes[i]]

    def __iter__(self) -> Iterator[str]:
        return map(self.values.__getitem__, self.codes)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return len(self) == len(other) and list(self) == list(other)

    def __repr__(self) -> str:
        return f"CodedColumn({len(self)} rows, {len(self.values)} distinct)"

    def append(self, value: str) -> None:
        self.extend((value,))

    def extend(self, values: Iterable[str]) -> None:
        self.extend_codes(list(map(self._index.__getitem__, values)))

    def code(self, value: str) -> int:
        """The code of ``value``, a new one if no row holds it yet (for :meth:`extend_codes`)."""
        return self._index[value]

    def extend_codes(self, codes: list[int]) -> None:
        """Append rows given by their codes (from :meth:`code`)."""
        if len(self.values) > _LIMITS[self.codes.typecode]:
            self.codes = _code_array(len(self.values), self.codes)
        self.codes.fromlist(codes)  # 3× faster than extend

    def code_of(self, value: str) -> int | None:
        """The code of ``value``, ``None`` if no row holds it."""
        return self._index.get(value)

    def codes_of(self, values: Iterable[str]) -> set[int]:
        return {code for code in map(self._index.get, values) if code is not None}

    def codes_where(self, keep: Any) -> set[int]:
        """The codes of the distinct values ``keep(value)`` is true for."""
        return {code for code, value in enumerate(self.values) if keep(value)}

    def flags(self, codes: AbstractSet[int], start: int = 0, stop: int | None = None) -> Iterable[int]:
        """For each row of ``start:stop``, whether its code is one of ``codes`` (1/0 or
        ``True``/``False``, for ``compress``). One-byte codes: a ``bytes.translate`` of
        the codes (~1 ms a million rows, against ~40 ms for a ``map``)."""
        stretch = self.codes[start:stop]
        if stretch.typecode == "B":
            return stretch.tobytes().translate(bytes(code in codes for code in range(256)))
        return map(codes.__contains__, stretch)

    def rows_in(self, values: Iterable[str], rows: Sequence[int]) -> list[int]:
        """The rows of ``rows`` (in their order) holding one of ``values``."""
        wanted = self.codes_of(values)
        codes = self.codes
        if isinstance(rows, range) and rows.step == 1:  # a C loop over a stretch of codes
            return list(compress(rows, self.flags(wanted, rows.start, rows.stop)))
        return [i for i in rows if codes[i] in wanted]

    def counts(self, start: int = 0, stop: int | None = None) -> dict[str, int]:
        """How many rows in ``start:stop`` hold each value (a few one-byte codes: one
        ``bytes.count`` each, ~8× faster than a ``Counter`` of a million codes)."""
        values = self.values
        stretch = self.codes[start:stop]
        if stretch.typecode == "B" and len(values) <= _COUNTED_BYTES:
            data = stretch.tobytes()
            return {values[code]: n for code in range(len(values)) if (n := data.count(code))}
        return {values[code]: n for code, n in Counter(stretch).items()}

    def order(self, stop: int, reverse: bool = False) -> list[int]:
        """Rows ``0…stop-1`` sorted by value (stable, as ``sorted(..., reverse=reverse)``):
        the distinct values are sorted, the rows dealt into one bucket per code."""
        buckets: list[list[int]] = [[] for _ in self.values]
        appends = [bucket.append for bucket in buckets]
        for i, code in enumerate(self.codes[:stop]):
            appends[code](i)
        out: list[int] = []
        for code in sorted(range(len(self.values)), key=self.values.__getitem__, reverse=reverse):
            out += buckets[code]
        return out


class TextColumn(Sequence[str]):
    """Mostly distinct text: row ``i`` is ``blob[ends[i-1]:ends[i]]`` decoded."""

    __hash__ = None  # type: ignore[assignment]  # compared by value, like the list it replaces

    def __init__(self, values: Iterable[str] = ()) -> None:
        self.blob = bytearray()
        self.ends: array[int] = array("Q")
        self.ascii = True  # byte offsets are character offsets: one decode serves many rows
        self.extend(values)

    def __len__(self) -> int:
        return len(self.ends)

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> list[str]: ...
    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            start, stop, step = i.indices(len(self.ends))
            if step == 1:
                return list(self._texts(start, max(start, stop)))
            return [self[j] for j in range(start, stop, step)]
        ends = self.ends
        if i < 0:
            i += len(ends)
        end = ends[i]  # IndexError when out of range
        return self.blob[ends[i - 1] if i else 0 : end].decode("utf-8", _ERRORS)

    def _texts(self, start: int, stop: int) -> Iterator[str]:
        ends = self.ends[start:stop]
        base = self.ends[start - 1] if start else 0
        if not ends:
            return iter(())
        starts = array("Q", (base,))
        starts += ends[:-1]
        if self.ascii:
            text = self.blob[base : ends[-1]].decode("ascii")
            return map(text.__getitem__, map(slice, (s - base for s in starts), (e - base for e in ends)))
        blob = self.blob
        return (blob[s:e].decode("utf-8", _ERRORS) for s, e in zip(starts, ends, strict=True))

    def __iter__(self) -> Iterator[str]:
        return self._texts(0, len(self.ends))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TextColumn):
            return self.ends == other.ends and self.blob == other.blob
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return len(self) == len(other) and list(self) == list(other)

    def __repr__(self) -> str:
        return f"TextColumn({len(self)} rows, {len(self.blob)} bytes)"

    def append(self, value: str) -> None:
        self.extend((value,))

    def extend(self, values: Iterable[str]) -> None:
        values = values if isinstance(values, list) else list(values)
        if not values:
            return
        joined = "".join(values)
        lengths: Iterable[int]
        if joined.isascii():
            data = joined.encode("ascii")
            lengths = map(len, values)
        else:
            encoded = [value.encode("utf-8", _ERRORS) for value in values]
            data = b"".join(encoded)
            lengths = map(len, encoded)
            self.ascii = False
        base = self.ends[-1] if self.ends else 0
        self.blob += data  # before the offsets: a reader never sees a row without its text
        self.ends.extend(islice(accumulate(lengths, initial=base), 1, None))

    def index(self, value: Any, start: int = 0, stop: int | None = None) -> int:
        """The first row holding ``value`` (a search of the blob, not of each row)."""
        if not isinstance(value, str) or not value or start or stop is not None:
            return super().index(value, start, len(self) if stop is None else stop)
        needle = value.encode("utf-8", _ERRORS)
        ends, blob = self.ends, self.blob
        pos = blob.find(needle)
        while pos >= 0:
            row = bisect_right(ends, pos)
            if row < len(ends) and (ends[row - 1] if row else 0) == pos and ends[row] == pos + len(needle):
                return row
            pos = blob.find(needle, pos + 1)
        raise ValueError(f"{value!r} is not in the column")

    def __contains__(self, value: object) -> bool:
        try:
            self.index(value)
        except ValueError:
            return False
        return True


Column = CodedColumn | TextColumn


def changed_rows(old: CodedColumn, new: CodedColumn) -> list[int]:
    """The rows (of two columns of the same rows) whose value differs: a C loop on codes."""
    translate = [new.code_of(value) for value in old.values]
    n = min(len(old), len(new))
    return list(compress(range(n), map(ne, map(translate.__getitem__, old.codes[:n]), new.codes[:n])))


def _b64(data: bytes | bytearray) -> str:
    return base64.b64encode(data).decode("ascii")


def _array(typecode: str, text: str, byteorder: str) -> array[int]:
    out = array(typecode)
    out.frombytes(base64.b64decode(text))
    if byteorder != sys.byteorder:
        out.byteswap()
    return out


def _lengths(ends: array[int]) -> array[int]:
    """The length of each row from the end offsets, in the narrowest array that holds them."""
    if not ends:
        return array("B")
    lengths = list(map(sub, ends, chain((0,), ends)))
    return _code_array(max(lengths) + 1, lengths)


def dump_column(column: Column, parts: dict[str, Any] | None = None, name: str = "") -> dict[str, Any]:
    """The column as JSON values, without a value-by-value encoding: a coded column's codes
    (base64), a text column's blob as one string and each row's length (base64: one byte a
    row when the values are short). Base64 is kept for small arrays: on the 2-core machine
    it decodes at ~110 MB/s, so a million rows' offsets (8 MB) are stored as lengths (1 MB).

    With ``parts`` (a store's binary parts, see ``store.BINARY``), the arrays and the text
    blob go there as they are in memory instead (named ``name`` + ``.codes``/``.ends``/
    ``.blob``: the arrays themselves, copied by the store as it writes), and the JSON keeps
    only their names and the coded values: read back by a copy, nothing decoded."""
    if parts is not None:
        if isinstance(column, CodedColumn):
            parts[f"{name}.codes"] = column.codes
            return {
                "kind": "coded",
                "values": column.values,
                "type": column.codes.typecode,
                "codes_part": f"{name}.codes",
                "byteorder": sys.byteorder,
            }
        parts[f"{name}.ends"] = column.ends
        parts[f"{name}.blob"] = column.blob
        return {
            "kind": "text",
            "type": column.ends.typecode,
            "ends_part": f"{name}.ends",
            "blob_part": f"{name}.blob",
            "byteorder": sys.byteorder,
        }
    if isinstance(column, CodedColumn):
        return {
            "kind": "coded",
            "values": column.values,
            "type": column.codes.typecode,
            "codes": _b64(column.codes.tobytes()),
            "byteorder": sys.byteorder,
        }
    lengths = _lengths(column.ends)
    out: dict[str, Any] = {
        "kind": "text",
        "type": lengths.typecode,
        "lengths": _b64(lengths.tobytes()),
        "byteorder": sys.byteorder,
    }
    try:
        out["text"] = column.blob.decode("utf-8")  # JSON text as it is (orjson reads it at memory speed)
    except UnicodeDecodeError:
        out["blob"] = _b64(column.blob)  # a lone surrogate: no valid UTF-8 for JSON
    return out


def _part(typecode: str, part: Any, byteorder: str) -> array[int]:
    out = array(typecode)
    with memoryview(part) as view:  # the stored bytes, or (not stored) an array itself
        out.frombytes(view.cast("B"))  # a copy, nothing decoded
    if byteorder != sys.byteorder:
        out.byteswap()
    return out


def load_column(data: Mapping[str, Any], parts: Mapping[str, Any] | None = None) -> Column:
    """A column from :func:`dump_column` (its binary ``parts``, if it was dumped into some);
    ``ValueError`` when it does not hold together (checked in C: a one-byte code beyond the
    values, offsets beyond the blob)."""
    try:
        byteorder = str(data["byteorder"])
        typecode = str(data["type"])
        if "ends_part" in data:
            if typecode != "Q" or parts is None:
                raise ValueError("text offsets that are not Q, or without their parts")
            text = TextColumn()
            text.blob = bytearray(parts[data["blob_part"]])
            text.ends = _part("Q", parts[data["ends_part"]], byteorder)
            text.ascii = text.blob.isascii()
            if (text.ends[-1] if text.ends else 0) != len(text.blob):
                raise ValueError("text offsets that do not end with the blob")
            return text
        if typecode not in ("B", "H", "I"):
            raise ValueError("an array type that is not B, H or I")
        column: Column
        if data["kind"] == "coded":
            coded = CodedColumn()
            values = data["values"]
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise ValueError("coded values that are not text")
            coded.values.extend(values)
            coded._index = _Index(coded.values)
            if len(coded._index) != len(values):
                raise ValueError("coded values repeated")
            if "codes_part" in data:
                if parts is None:
                    raise ValueError("codes without their parts")
                coded.codes = _part(typecode, parts[data["codes_part"]], byteorder)
            else:
                coded.codes = _array(typecode, data["codes"], byteorder)
            if typecode == "B" and coded.codes.tobytes().translate(None, bytes(range(min(len(values), 256)))):
                raise ValueError("a code without its value")
            column = coded
        elif data["kind"] == "text":
            text = TextColumn()
            if "text" in data:
                if not isinstance(data["text"], str):
                    raise ValueError("a text blob that is not text")
                text.blob = bytearray(data["text"].encode("utf-8", _ERRORS))
            else:
                text.blob = bytearray(base64.b64decode(data["blob"]))
            lengths = _array(typecode, data["lengths"], byteorder)
            text.ends = array("Q", accumulate(lengths))
            text.ascii = text.blob.isascii()
            if (text.ends[-1] if text.ends else 0) != len(text.blob):
                raise ValueError("text lengths that do not add up to the blob")
            column = text
        else:
            raise ValueError("an unknown column kind")
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ValueError(f"a damaged column ({error})") from None
    return column
