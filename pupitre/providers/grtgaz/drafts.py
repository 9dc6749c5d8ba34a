"""A program being edited by the operator, before it is declared (pure, no Textual).

A :class:`Draft` holds the 24 hourly quantities (kWh 25 °C, J 06:00 → J+1 05:00,
§13.2) of a new program for one site and gas day, the program it started from (the
rebuilt program, or a declared one), and which slots the operator changed. It parses
what an operator pastes from a spreadsheet (:func:`parse_values`).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Sequence

import msgspec
from msgspec.structs import replace

SLOTS = 24
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")
_SPACES = re.compile(r"[\s\u00a0\u202f']+")


class DraftError(ValueError):
    """The operator's input cannot be used; the message says why, for the screen."""


def parse_number(text: str) -> float:
    """One quantity as typed: ``15236.87``, ``15236,87``, ``15 236,87`` (spaces, NBSP,
    apostrophes as thousands separators). Refuses empty, negative, NaN and infinite."""
    cleaned = _SPACES.sub("", text.strip())
    if not cleaned:
        raise DraftError("empty value")
    if not _NUMBER.fullmatch(cleaned):
        raise DraftError(f"“{text.strip()[:20]}” is not a number")
    value = float(cleaned.replace(",", "."))
    if not math.isfinite(value):
        raise DraftError(f"“{text.strip()[:20]}” is not a finite number")
    if value < 0:
        raise DraftError(f"{text.strip()[:20]} is negative: quantities are consumption in kWh")
    return value


def split_values(text: str) -> list[str]:
    """The cells of pasted text: tabs, line breaks and ``;`` separate; a ``,`` separates
    only when none of those is present (it is then not a decimal comma); with no separator
    at all, spaces separate."""
    text = text.strip()
    if not text:
        return []
    if re.search(r"[\t\n\r;]", text):
        cells = re.split(r"[\t\n\r;]+", text)
    elif "," in text and ("." in text or re.search(r",\s", text) or text.count(",") >= SLOTS - 1):
        cells = text.split(",")
    else:
        cells = text.split()
    return [c for c in (cell.strip() for cell in cells) if c]


def parse_values(text: str, expected: int = SLOTS) -> list[float]:
    """Exactly ``expected`` quantities pasted from a spreadsheet row or column (tab/CSV).

    A first cell that is a label (``DK6``, ``Programme``) is skipped, as a row copied
    with its header cell would have one. Errors name the offending cell.
    """
    cells = split_values(text)
    if cells and not _looks_numeric(cells[0]) and len(cells) == expected + 1:
        cells = cells[1:]
    if len(cells) != expected:
        raise DraftError(f"{len(cells)} value(s) pasted, {expected} expected (one per hour, 06h → 05h)")
    values = []
    for index, cell in enumerate(cells):
        try:
            values.append(parse_number(cell))
        except DraftError as error:
            raise DraftError(f"value {index + 1}: {error}") from None
    return values


def _looks_numeric(cell: str) -> bool:
    try:
        parse_number(cell)
    except DraftError:
        return False
    return True


def format_quantity(value: float | None) -> str:
    """A quantity for the screen: thousands grouped with a space, up to 2 decimals (a plain
    space: one terminal cell everywhere, so columns stay aligned)."""
    if value is None:
        return "—"
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return text.replace(",", " ")


def slot_label(index: int) -> str:
    """``06h`` … ``05h``: the slot's nominal start hour (§13.2 fixes 24 slots from J 06:00)."""
    return f"{(6 + index) % 24:02d}h"


class Draft(msgspec.Struct):
    """The program being edited; ``base`` is what it started from."""

    site_id: str
    gas_day: dt.date
    base: tuple[float, ...]
    base_label: str
    values: list[float] = msgspec.field(default_factory=list)
    edited: set[int] = msgspec.field(default_factory=set)

    def __post_init__(self) -> None:
        if len(self.base) != SLOTS:
            raise DraftError(f"the starting program has {len(self.base)} values, not {SLOTS}")
        if not self.values:
            self.values = list(self.base)

    def set(self, slot: int, value: float) -> None:
        if not 0 <= slot < SLOTS:
            raise DraftError(f"no slot {slot}")
        self.values[slot] = value
        self.edited.add(slot)

    def paste(self, values: Sequence[float], writable: Sequence[int] | None = None) -> list[int]:
        """Take 24 pasted values; slots outside ``writable`` keep their value. Returns the
        slots whose value changed."""
        if len(values) != SLOTS:
            raise DraftError(f"{len(values)} values, {SLOTS} expected")
        allowed = set(range(SLOTS) if writable is None else writable)
        changed = []
        for slot, value in enumerate(values):
            if slot in allowed and value != self.values[slot]:
                self.values[slot] = value
                self.edited.add(slot)
                changed.append(slot)
        return changed

    def copy(self) -> Draft:
        """Another draft with the same values, to change without changing this one."""
        return replace(self, values=list(self.values), edited=set(self.edited))

    def reset(self) -> None:
        self.values = list(self.base)
        self.edited.clear()

    def changed_slots(self) -> list[int]:
        """Slots whose value differs from the starting program."""
        return [slot for slot in range(SLOTS) if self.values[slot] != self.base[slot]]

    @property
    def dirty(self) -> bool:
        return bool(self.changed_slots())
