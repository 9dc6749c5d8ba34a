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
  codes, statuses: the default) reads them as one space each; a :data:`MultiLine` field
  (free comments) keeps ``\\n`` (CRLF and lone CR become ``\\n``) and reads tabs as spaces.

Everything else — accents, ``€``, ``«»``, any printable Unicode — is kept as is. The
common case costs one ``str.isprintable()`` (then one regular-expression search when the
text holds a non-printable character that is harmless, such as a no-break space).

Every provider's pydantic models derive from :class:`ApiModel`, which applies
:func:`clean_text` to every ``str`` the model validates (fields, lists, dicts, nested
models, ``Any`` values such as raw JSON blocks, unknown extra fields); :func:`clean_data`
does the same for raw JSON shown as is, and :func:`clean_column` for the park-scale
column paths that skip pydantic.
Markup is still escaped where text is shown (``core.http.safe_text``, Rich ``escape``):
this module deals with the terminal, not with markup.

Outputs get a last line of defence: :func:`csv_cell` (spreadsheet formula injection),
:class:`SafeLogFormatter` (the log file), and ``pupitre check``'s text output.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Iterable, Sequence, cast

from pydantic import BaseModel, GetCoreSchemaHandler
from pydantic_core import CoreSchema
from pydantic_core import core_schema as cs

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


def clean_data(value: Any) -> Any:
    """Raw JSON-like data (dicts, lists, strings, numbers) with every string — keys
    included — passed through :func:`clean_text`. Unchanged parts are returned as they are."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(k) if isinstance(k, str) else k: clean_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_data(v) for v in value]
    if isinstance(value, tuple):
        return tuple(clean_data(v) for v in value)
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


# -- pydantic: every str of a model ------------------------------------------------------------------

_MARK = "pupitre_clean"


def _marked(schema: CoreSchema) -> CoreSchema:
    writable = cast(dict[str, Any], schema)  # every core schema is a dict with a "metadata" key
    writable["metadata"] = {**(writable.get("metadata") or {}), _MARK: True}
    return schema


def _clean_schema(schema: Any) -> Any:
    """``schema`` with every ``str`` validator followed by :func:`clean_text` (in place)."""
    if not isinstance(schema, dict) or "type" not in schema:
        return schema
    if (schema.get("metadata") or {}).get(_MARK):
        return schema
    kind = schema["type"]
    if kind == "str":
        return _marked(cs.no_info_after_validator_function(clean_text, schema))
    if kind == "any":  # raw JSON kept as it is (``dict[str, Any]`` blocks): every string in it
        return _marked(cs.no_info_after_validator_function(clean_data, schema))
    for key in (
        "schema",
        "items_schema",
        "keys_schema",
        "values_schema",
        "lax_schema",
        "strict_schema",
        "json_schema",
        "python_schema",
    ):
        inner = schema.get(key)
        if isinstance(inner, dict):
            schema[key] = _clean_schema(inner)
        elif isinstance(inner, list):  # tuple items
            schema[key] = [_clean_schema(item) for item in inner]
    if kind == "model" and (schema.get("config") or {}).get("extra_fields_behavior") == "allow":
        fields = schema["schema"]
        if fields.get("type") == "model-fields" and not fields.get("extras_schema"):
            # unknown fields kept by the model (``extra="allow"``) are cleaned too
            fields["extras_schema"] = _marked(cs.no_info_after_validator_function(clean_data, cs.any_schema()))
    if kind in ("model-fields", "typed-dict"):
        for item in schema["fields"].values():
            item["schema"] = _clean_schema(item["schema"])
        if schema.get("extras_schema"):
            schema["extras_schema"] = _clean_schema(schema["extras_schema"])
    elif kind == "dataclass-args":
        for item in schema["fields"]:
            item["schema"] = _clean_schema(item["schema"])
    elif kind == "union":
        schema["choices"] = [
            (_clean_schema(c[0]), c[1]) if isinstance(c, tuple) else _clean_schema(c) for c in schema["choices"]
        ]
    elif kind == "tagged-union":
        schema["choices"] = {tag: _clean_schema(c) for tag, c in schema["choices"].items()}
    elif kind == "definitions":
        schema["definitions"] = [_clean_schema(d) for d in schema["definitions"]]
    elif kind == "chain":
        schema["steps"] = [_clean_schema(s) for s in schema["steps"]]
    return schema


class ApiModel(BaseModel):
    """Base of every model of API data: each ``str`` it validates is cleaned with
    :func:`clean_text` (one-line), or kept multi-line where the field is :data:`MultiLine`.
    Serialising is unchanged. Models the operator fills in (request bodies) derive from it
    too: a control character typed or pasted there is made visible before it is sent."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return _clean_schema(handler(source))  # type: ignore[no-any-return]  # a CoreSchema dict


class _MultiLineMarker:
    """``Annotated[str, MULTILINE]``: a free-text field whose line breaks are kept."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return _marked(cs.no_info_after_validator_function(clean_multiline, handler(source)))


MULTILINE = _MultiLineMarker()


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
