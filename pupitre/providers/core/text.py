"""Text from the APIs, made harmless once, where it is parsed.

Third parties type site labels, holder names, status labels and comments; a terminal
obeys any escape sequence in them (window title, clipboard with OSC 52, clear screen,
hyperlinks) and a bidi override reorders what the operator reads. :func:`clean_text`
makes every such character **visible** instead of acting:

- C0 controls become their Control Pictures (``ESC`` → ``␛``, ``BEL`` → ``␇``), DEL
  ``␡``, and an 8-bit C1 control its 7-bit spelling (``\\x9b`` → ``␛[``). What followed the
  introducer of a sequence (``]0;title``) stays as plain text: the operator sees that the
  field carries a sequence, and no byte of it reaches the terminal as a control.
- Bidi embeddings, overrides and isolates (U+202A–202E, U+2066–2069) and lone surrogates
  become ``�`` (U+FFFD); the implicit marks (LRM, RLM) stay, they reorder nothing.
- Line breaks (LF, CR, CRLF, U+2028/2029) and tabs: a one-line field (names, labels,
  codes, statuses: the default) reads them as one space each; a :data:`~pupitre.providers.core.api.MultiLine` field
  (free comments) keeps ``\\n`` (CRLF and lone CR become ``\\n``) and reads tabs as spaces.

Everything else — accents, ``€``, ``«»``, any printable Unicode — is kept as is. The
common case costs one ``str.isprintable()`` (then one regular-expression search when the
text holds a non-printable character that is harmless, such as a no-break space).

Every provider's types are read with :func:`pupitre.providers.core.api.from_data`, which
applies :func:`clean_text` to every string of the data (fields, lists, dicts, nested types,
raw JSON blocks, keys); :func:`clean_data` does the same for raw JSON shown as is, and
:func:`clean_column` for the park-scale column paths that read no type.
Markup is still escaped where text is shown (``core.http.safe_text``, Rich ``escape``):
this module deals with the terminal, not with markup.

Outputs get a last line of defence: :func:`csv_cell` (spreadsheet formula injection),
:class:`SafeLogFormatter` (the log file), and ``pupitre check``'s text output.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Iterable, Sequence

#: Characters that must not reach a terminal as they are.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_LINE_BREAK = re.compile("\r\n|[\n\r\u2028\u2029]")
_REPLACEMENT = "\ufffd"


def _picture(char: str) -> str:
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # ␀ … ␟ (␛ for ESC, ␇ for BEL)
    if code == 0x7F:
        return "\u2421"  # ␡
    if code <= 0x9F:
        return "\u241b" + chr(code - 0x40)  # 8-bit C1 → its 7-bit ESC form, made visible
    return _REPLACEMENT  # bidi control or lone surrogate


_SINGLE = {chr(c): _picture(chr(c)) for c in (*range(0x20), *range(0x7F, 0xA0))}
_SINGLE.update({"\t": " ", "\n": " ", "\r": " ", "\u2028": " ", "\u2029": " "})
_MULTI = {**_SINGLE, "\n": "\n"}


def _visible_single(match: re.Match[str]) -> str:
    char = match.group()
    return _SINGLE.get(char) or _REPLACEMENT


def _visible_multi(match: re.Match[str]) -> str:
    char = match.group()
    return _MULTI.get(char) or _REPLACEMENT


def clean_text(text: str, *, multiline: bool = False) -> str:
    """``text`` with no character a terminal would act on (see the module docstring)."""
    if text.isprintable() or not _UNSAFE.search(text):  # isprintable: C speed, the common case
        return text
    if multiline:
        return _UNSAFE.sub(_visible_multi, _LINE_BREAK.sub("\n", text))
    if "\r\n" in text:
        text = text.replace("\r\n", " ")
    return _UNSAFE.sub(_visible_single, text)


def is_clean(text: str, *, multiline: bool = False) -> bool:
    """No character :func:`clean_text` would change (a newline allowed if ``multiline``)."""
    return clean_text(text, multiline=multiline) == text


def clean_multiline(text: str) -> str:
    """:func:`clean_text` for a multi-line field: line breaks kept as ``\\n``."""
    return clean_text(text, multiline=True)


def clean_data(value: Any, multiline_keys: frozenset[str] = frozenset()) -> Any:
    """Raw JSON-like data (dicts, lists, strings, numbers) with every string — keys
    included — passed through :func:`clean_text`: one-line, or multi-line for the string
    value of a key in ``multiline_keys``. Other values are returned as they are."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {
            (clean_text(k) if isinstance(k, str) else k): (
                clean_text(v, multiline=True)
                if k in multiline_keys and isinstance(v, str)
                else clean_data(v, multiline_keys)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [clean_data(v, multiline_keys) for v in value]
    if isinstance(value, tuple):
        return tuple(clean_data(v, multiline_keys) for v in value)
    return value


def clean_column(values: Sequence[str]) -> Sequence[str]:
    """A column of one-line strings, cleaned: the column itself when every value is
    already clean (one check over the joined column: a few ms for 100,000 values), else a
    new list."""
    joined = "".join(values)
    if joined.isprintable() or not _UNSAFE.search(joined):
        return values
    return [clean_text(value) for value in values]


def clean_strings(values: Iterable[Any]) -> tuple[Any, ...]:
    """A row: each string value cleaned (one-line), other values as they are."""
    return tuple(clean_text(v) if isinstance(v, str) else v for v in values)


def unknown_word(value: str) -> str:
    """How a value the API's document does not list is shown, on its one row:
    ``? unknown (PURPLE)`` (the rest of the feed stays readable)."""
    return f"? unknown ({clean_text(value)})"


# -- outputs: CSV cells and the log ---------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?")


def csv_cell(value: Any) -> str:
    """A CSV cell safe to open in a spreadsheet: text starting with ``=`` ``+`` ``-`` ``@``,
    a tab or a CR gets a leading ``'`` (OWASP, CSV injection), a number written as text
    (``-3.5``, ``+1e3``, ``-0,25``) stays a number, and control characters are made
    visible. Line breaks inside a cell are kept (the CSV quoting holds them)."""
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    text = str(value)
    if text.startswith(_FORMULA_START) and not _NUMBER.fullmatch(text):
        text = "'" + text
    return clean_text(text, multiline=True)


class SafeLogFormatter(logging.Formatter):
    """A formatter whose every record — message, arguments, exception text — comes out
    with control characters made visible (:func:`clean_text`, multi-line: a traceback
    keeps its lines), so reading the log with ``cat`` or ``tail -f`` is harmless."""

    def format(self, record: logging.LogRecord) -> str:
        return clean_text(super().format(record), multiline=True)
