"""The providers' API types, and how raw JSON-like data becomes them, cleaned.

Every provider's types derive from :class:`ApiStruct`, a frozen, keyword-only
``msgspec.Struct``: building one in code checks nothing and costs almost nothing; data from
outside — an API answer, a stored result, a body the sandbox receives — goes through
:func:`from_data`, which

0. reads the quirks the types declare (other names of a field, a whole-object quirk, a raw
   value's reading: :class:`ApiStruct`, :class:`Before`), worked out once per type;
1. makes every string harmless for the terminal (:func:`~pupitre.providers.core.text.clean_text`:
   one-line, or multi-line for a :data:`MultiLine` field), keys and unknown fields included.
   The common case — nothing to clean — costs one C-speed encoding and one regular-expression
   search over it; only data holding a control character, a line break or a bidi override is
   walked in Python;
2. converts the data to the type (``msgspec.convert``, lax as the APIs' documents are read:
   ``"3"`` reads as 3 for an ``int`` field; an unknown field is ignored, so an additive
   change of an API never breaks the dashboard);
3. reports a mismatch as one :class:`~pupitre.providers.core.errors.PayloadError` sentence
   naming where it is.

:func:`to_data` is the way back (JSON-ready builtins, the fields' wire names, ISO dates), as
the store and the request bodies need it. A token is a
:class:`~pupitre.providers.core.secrets.Secret`: never in a ``repr``, a log or :func:`to_data`'s
output. A body the operator fills in derives from :class:`ApiBody`,
whose text is cleaned when it is built in code too.
"""

from __future__ import annotations

import collections.abc
import datetime as dt
import functools
import re
import typing
from typing import Annotated, Any, Callable, ClassVar, Mapping, TypeVar

import msgspec

from pupitre.providers.core.errors import PayloadError
from pupitre.providers.core.secrets import Secret
from pupitre.providers.core.text import clean_data, clean_text

T = TypeVar("T")


class ApiStruct(msgspec.Struct, frozen=True, kw_only=True):
    """The base of every provider's API type: frozen, keyword-only, compared by value.

    A type whose payloads have quirks says so, and :func:`from_data` reads them before it
    converts (data is never changed in place):

    - ``ALIASES``: the other names a field goes by in the documents → its wire name (used
      only when the wire name is absent);
    - :meth:`before`: a whole-object quirk (a typo'd key, a bare string for an object);
    - :class:`Before` on a field's type: a raw value's reading (``"Vrai"`` → ``True``).
    """

    ALIASES: ClassVar[Mapping[str, str]] = {}

    @classmethod
    def before(cls, data: Any) -> Any:
        """The raw object (after ``ALIASES``) as the fields read it; ``data`` as it is here."""
        return data


class Before:
    """``Annotated`` mark of a field whose raw value :func:`from_data` first reads with
    ``read`` (``"Vrai"`` → ``True``, ``" 2018-07-05 "`` → a date, ``""`` → ``None``) before
    converting it; ``read`` raises ``ValueError`` on what it refuses, and is never asked about
    ``None`` (absent stays absent). msgspec ignores the mark."""

    __slots__ = ("read",)

    def __init__(self, read: Callable[[Any], Any]) -> None:
        self.read = read

    def __repr__(self) -> str:
        return f"Before({self.read.__name__})"


class ApiBody(ApiStruct, frozen=True, kw_only=True):
    """A body the operator fills in: its text — ``str`` fields and lists of them — is cleaned
    when it is built in code too (a control character typed or pasted is made visible before
    it is sent). A subclass with its own ``__post_init__`` calls this one first."""

    def __post_init__(self) -> None:
        multiline = _multiline_fields(type(self))
        for name in self.__struct_fields__:
            value = getattr(self, name)
            if isinstance(value, str):
                cleaned: Any = clean_text(value, multiline=name in multiline)
            elif isinstance(value, (list, tuple)) and any(isinstance(v, str) for v in value):
                cleaned = type(value)(clean_text(v) if isinstance(v, str) else v for v in value)
            else:
                continue
            if cleaned != value:
                msgspec.structs.force_setattr(self, name, cleaned)


class _MultiLineMark:
    """The mark of a free-text field whose line breaks are kept (:data:`MultiLine`)."""

    def __repr__(self) -> str:
        return "MULTILINE"


MULTILINE = _MultiLineMark()

#: A free-text field (comments): its line breaks are kept as ``\\n``, every other control
#: character is made visible as in a one-line field.
MultiLine = Annotated[str, MULTILINE]


#: An instant that must carry its offset (a naive one is refused).
AwareDatetime = Annotated[dt.datetime, msgspec.Meta(tz=True)]

# -- from outside: cleaned, then converted -------------------------------------------------------

#: What :func:`clean_text` would change, as it appears in msgspec's JSON: an escaped control
#: character (``\\n``, ``\\u001b``…, not an escaped backslash followed by ``n``), a raw DEL, a C1
#: control, a line or paragraph separator, a bidi embedding, override or isolate. A lone
#: surrogate cannot be encoded at all.
_UNCLEAN_JSON = re.compile(
    rb"(?<!\\)(?:\\\\)*\\(?:[bfnrt]|u00[01]|u007f|u00[89]|u20(?:2[89a-e]|6[6-9])|ud[89a-f])"
    rb"|\x7f|\xc2[\x80-\x9f]|\xe2\x80[\xa8-\xae]|\xe2\x81[\xa6-\xa9]",
    re.IGNORECASE,
)
#: The bytes every match of :data:`_UNCLEAN_JSON` starts with.
_FIRST_BYTES = (b"\\", b"\x7f", b"\xc2", b"\xe2")
_ENCODER = msgspec.json.Encoder()


def _is_clean(data: object) -> bool:
    """No string in ``data`` (keys included) that :func:`clean_text` would change."""
    try:
        encoded = _ENCODER.encode(data)
    except (TypeError, UnicodeEncodeError, OverflowError):  # a lone surrogate, or not JSON-like
        return False
    if not any(byte in encoded for byte in _FIRST_BYTES):  # numbers only, or plain text: no regex to run
        return True
    return _UNCLEAN_JSON.search(encoded) is None


def _hints(kind: Any) -> dict[str, Any]:
    try:
        return typing.get_type_hints(kind, include_extras=True)
    except (NameError, TypeError):  # a forward reference that does not resolve: no mark found
        return {}


@functools.cache
def _multiline_fields(kind: type) -> frozenset[str]:
    """The attribute names of ``kind``'s :data:`MultiLine` fields."""
    return frozenset(name for name, hint in _hints(kind).items() if _holds_mark(hint))


def _holds_mark(hint: Any) -> bool:
    if typing.get_origin(hint) is Annotated:
        return any(extra is MULTILINE for extra in hint.__metadata__) or _holds_mark(typing.get_args(hint)[0])
    return any(_holds_mark(arg) for arg in typing.get_args(hint))


@functools.cache
def multiline_keys(kind: Any) -> frozenset[str]:
    """The wire names of every :data:`MultiLine` field in ``kind`` and the types it holds."""
    keys: set[str] = set()
    seen: set[Any] = set()

    def walk(hint: Any) -> None:
        if hint in seen:
            return
        seen.add(hint)
        if isinstance(hint, type) and issubclass(hint, msgspec.Struct):
            wire = dict(zip(hint.__struct_fields__, hint.__struct_encode_fields__, strict=True))
            keys.update(wire[name] for name in _multiline_fields(hint))
            for field_hint in _hints(hint).values():
                walk(field_hint)
            return
        for arg in typing.get_args(hint):
            walk(arg)

    walk(kind)
    return frozenset(keys)


def clean_for(data: object, kind: Any) -> Any:
    """``data`` with every string cleaned as ``kind`` reads it: the values of its
    :data:`MultiLine` fields' keys keep their line breaks (wherever such a key appears),
    every other string is one line. Unchanged data is returned as it is."""
    if _is_clean(data):
        return data
    return clean_data(data, multiline_keys(kind))


@functools.cache  # one per provider hook, not one per read
def _decode_hook(extra: Callable[[type, Any], Any] | None) -> Callable[[type, Any], Any]:
    """msgspec's hook for the types it does not know: :class:`Secret`, then ``extra``'s."""

    def hook(kind: type, value: Any) -> Any:
        if kind is Secret and isinstance(value, str):
            return Secret(value)
        if extra is not None:
            return extra(kind, value)
        raise NotImplementedError

    return hook


# -- quirks: read before converting ----------------------------------------------------------------

Reader = Callable[[Any], Any]
_UnionType = type(int | None)


class _Unreadable(Exception):
    """A quirk reader refused a value: where (wire names, outermost first) and why."""

    def __init__(self, where: list[str], why: str) -> None:
        super().__init__(why)
        self.where, self.why = where, why


@functools.cache
def quirk_reader(hint: Any) -> Reader | None:
    """How a raw value of ``hint`` is read before conversion (:class:`ApiStruct`'s quirks),
    worked out once per type; ``None`` when nothing reached from ``hint`` has a quirk."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Annotated:
        inner = quirk_reader(args[0])
        marks = [mark.read for mark in hint.__metadata__ if isinstance(mark, Before)]
        read = functools.reduce(_then, marks) if marks else None
        if read is None or inner is None:
            return read or inner
        return _then(read, inner)
    if isinstance(hint, type) and issubclass(hint, ApiStruct):
        return _struct_reader(hint)
    if isinstance(origin, type) and issubclass(origin, ApiStruct):  # a generic one: Envelope[Order]
        return _struct_reader(origin)
    if origin in (list, tuple, collections.abc.Sequence):
        inner = quirk_reader(args[0]) if args else None
        return None if inner is None else _each(inner)
    if origin is dict and len(args) == 2:
        inner = quirk_reader(args[1])
        return None if inner is None else _values(inner)
    readers = [r for r in map(quirk_reader, args) if r is not None] if origin in (typing.Union, _UnionType) else []
    if len(readers) > 1:
        return functools.reduce(_then, readers)
    return readers[0] if readers else None  # ``X | None``: X's reader


def _struct_reader(kind: type[ApiStruct]) -> Reader | None:
    aliases = tuple(kind.ALIASES.items())
    before = kind.before if kind.before.__func__ is not ApiStruct.before.__func__ else None  # type: ignore[attr-defined]  # a bound classmethod has __func__
    hints = _hints(kind)
    wire = dict(zip(kind.__struct_fields__, kind.__struct_encode_fields__, strict=True))
    steps = tuple((wire[name], step) for name in kind.__struct_fields__ if (step := quirk_reader(hints[name])))
    if not aliases and before is None and not steps:
        return None

    def prepare(data: Any) -> Any:
        if type(data) is not dict:
            return before(data) if before is not None and data is not None else data
        for alias, name in aliases:
            if alias in data and name not in data:
                data = {(name if key == alias else key): value for key, value in data.items()}
        if before is not None:
            data = before(data)
            if type(data) is not dict:
                return data
        out = None
        for key, step in steps:
            value = data.get(key)
            if value is None:
                continue
            try:
                new = step(value)
            except _Unreadable as exc:
                exc.where.insert(0, key)
                raise
            except (ValueError, TypeError, AttributeError) as exc:
                raise _Unreadable([key], str(exc) or type(exc).__name__) from None
            if new is not value:
                if out is None:
                    out = dict(data)
                out[key] = new
        return data if out is None else out

    return prepare


def _each(read: Reader) -> Reader:
    def each(value: Any) -> Any:
        if type(value) is not list:
            return value  # not a list: the conversion says so
        out = []
        changed = False
        for i, item in enumerate(value):
            try:
                new = read(item)
            except _Unreadable as exc:
                exc.where.insert(0, f"[{i}]")
                raise
            changed = changed or new is not item
            out.append(new)
        return out if changed else value

    return each


def _values(read: Reader) -> Reader:
    def values(value: Any) -> Any:
        if type(value) is not dict:
            return value
        out = {}
        changed = False
        for key, item in value.items():
            try:
                new = read(item)
            except _Unreadable as exc:
                exc.where.insert(0, str(key))
                raise
            changed = changed or new is not item
            out[key] = new
        return out if changed else value

    return values


def _then(first: Reader, second: Reader) -> Reader:
    return lambda value: second(first(value))


def _read_quirks(data: object, kind: Any, provider: str) -> Any:
    prepare = quirk_reader(kind)
    if prepare is None or data is None:
        return data
    try:
        return prepare(data)
    except _Unreadable as exc:
        where = "".join(p if p.startswith("[") else f".{p}" for p in exc.where).lstrip(".") or "root"
        raise PayloadError(
            "the API sent data of an unexpected shape", provider=provider, detail=f"at {where}: {exc.why}"
        ) from None


_WHERE = re.compile(r" - at `\$(?P<where>[^`]*)`$")


def from_data(
    data: object,
    kind: type[T],
    *,
    provider: str,
    dec_hook: Callable[[type, Any], Any] | None = None,
) -> T:
    """``data`` (JSON-like, as parsed or stored) as ``kind`` — an :class:`ApiStruct`, a list
    or dict of them, any type msgspec converts — with its text cleaned (module docstring).

    The types' quirks are read first (:class:`ApiStruct`). ``dec_hook`` reads a provider's
    own field types (it is asked for a type it does not know with ``NotImplementedError``;
    :class:`Secret` is read here). A mismatch raises one :class:`PayloadError`: ``the API
    sent data of an unexpected shape``, with where and why.
    """
    data = _read_quirks(data, kind, provider)
    try:
        return msgspec.convert(clean_for(data, kind), kind, strict=False, dec_hook=_decode_hook(dec_hook))
    except msgspec.ValidationError as exc:
        raise PayloadError(
            "the API sent data of an unexpected shape", provider=provider, detail=shape_problem(exc)
        ) from exc


def shape_problem(exc: msgspec.ValidationError) -> str:
    """A validation error as one line: ``at sites[2].siteId: Expected `str`, got `int```."""
    text = str(exc)
    match = _WHERE.search(text)
    if match is None:
        return f"at root: {text}"
    where = match.group("where").lstrip(".") or "root"
    return f"at {where}: {text[: match.start()]}"


def _encode_hook(value: Any) -> Any:
    if isinstance(value, Secret):
        return str(value)
    raise NotImplementedError(f"{type(value).__name__} has no JSON form")


def to_data(value: Any, *, enc_hook: Callable[[Any], Any] | None = None) -> Any:
    """``value`` as JSON-ready builtins: structs as dicts under their wire names, instants
    and dates in ISO 8601, a :class:`~pupitre.providers.core.secrets.Secret` as ``***`` (what
    :func:`from_data` reads back, the secret aside)."""
    return msgspec.to_builtins(value, enc_hook=enc_hook or _encode_hook)
