"""GRDF ADICT wiring: settings → OAuth2 client credentials, the quota-shared client, the
rights feed (a streamed copy of every access right, kept in the store) and the findings.

Park scale: a third party may hold up to a million rights. The list is kept as compact
columns (:class:`RightsTable`: a text blob or dictionary codes per field) rather than one
API struct per right, so a million rights load in seconds, take a couple of hundred MB,
and a screen can filter, count or sort them on the codes. Each arriving record is checked
by :func:`row_of` (the same quirks as :class:`~pupitre.providers.grdf_adict.models.AccessRight`:
v1/v2 names, blank strings, roles with spaces, dates with stray spaces); a record
that the fast path cannot read goes through the full model, whose error is the
typed :class:`PayloadError`.

A load under way is visible (:attr:`AdictSession.live`) so rows show while the
stream still arrives; a stream cut halfway keeps what arrived and says why.
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from collections import Counter
from itertools import compress
from operator import attrgetter, itemgetter
from typing import TYPE_CHECKING, AbstractSet, Any, Callable, Iterable, Mapping, Sequence

import msgspec

from pupitre.providers.core.checks import Finding, Level
from pupitre.providers.core.clock import PARIS, paris
from pupitre.providers.core.columns import CodedColumn, Column, TextColumn, changed_rows, dump_column, load_column
from pupitre.providers.core.context import Connection, ProviderContext
from pupitre.providers.core.environments import Environment, real
from pupitre.providers.core.errors import ApiError, PayloadError
from pupitre.providers.core.feeds import Change, Feed, Severity, fixed_interval
from pupitre.providers.core.secrets import env_var
from pupitre.providers.core.store import BINARY
from pupitre.providers.core.text import clean_column, clean_strings, clean_text, unknown_word
from pupitre.providers.grdf_adict import rights as m
from pupitre.providers.grdf_adict import rules
from pupitre.settings import GrdfAdictSettings

if TYPE_CHECKING:
    from pupitre.providers.core.quota import QuotaLimiter
    from pupitre.providers.core.sandbox import SimulatorApp
    from pupitre.providers.grdf_adict.client import AdictClient

PROVIDER = "grdf_adict"
TITLE = "GRDF ADICT"
RIGHTS_FEED = "grdf_adict.rights"
SANDBOX_HOST = "grdf-adict.sandbox.invalid"
SANDBOX_BASE_URL = f"http://{SANDBOX_HOST}/adict/v2"
SANDBOX_TOKEN_URL = f"http://{SANDBOX_HOST}/oauth2/token"
SECRET = "client_secret"
#: States a right leaves the operator's reach in (reported "since yesterday").
LOST_STATES = (m.REFUSED, m.OBSOLETE, m.REVOKED)
#: The fields of a right kept in the copy, one list each (all strings, "" when absent).
#: ``published`` / ``informative``: the data perimeter's ``perim_donnees_publiees`` /
#: ``_informatives`` ("1" Vrai, "0" Faux, "" not said).
COLUMNS = (
    "id",
    "pce",
    "role",
    "holder",
    "state",
    "proof",
    "start",
    "end",
    "perim_start",
    "perim_end",
    "deadline",
    "route",
    "changed",
    "postcode",
    "email",
    "person",
    "published",
    "informative",
)
_OLDER_COLUMNS = COLUMNS[:-2]  # copies stored before the perimeter flags were kept
_SEP = "\x1f"  # the older stored form joined each column on it
#: Marks a stored copy whose text was cleaned when parsed (core.text): read back as it is.
_CLEANED = "clean"
_FILTER_KEYS = {"state": "etat_droit_acces", "role": "role_tiers", "proof": "statut_controle_preuve"}


#: The secrets the real API needs (looked for in the environment, the keyring, the credentials file).
SECRETS = (SECRET,)


def quota_of(settings: GrdfAdictSettings) -> tuple[float, int]:
    """(per second, per day): the document's row for the park size, unless overridden."""
    return rules.quota_limits(
        settings.park_size, per_second=settings.per_second or None, per_day=settings.per_day or None
    )


def sandbox_app(settings: GrdfAdictSettings, ctx: ProviderContext) -> SimulatorApp:
    from pupitre.providers.grdf_adict.sandbox import AdictSimulator

    per_second, per_day = quota_of(settings)
    return AdictSimulator(
        ctx.clock, ctx.faults, park_size=settings.sandbox_park_size, per_second=per_second, per_day=per_day
    ).app


def serve_settings(simulator: Any) -> dict[str, Any]:
    """For ``pupitre sandbox serve``: the client id the served simulator registers."""
    return {"client_id": next(iter(simulator.clients))}


def serve_notes(simulator: Any) -> list[str]:
    """For ``pupitre sandbox serve``: the client secret of this sandbox (not a real one)."""
    registration = next(iter(simulator.clients.values()))
    return ["client secret of this sandbox:", f"  export {env_var(PROVIDER, SECRET)}={registration.secret}"]


# -- the copy of the rights, as columns -------------------------------------------------------------


def _iso(day: dt.date | dt.datetime | None) -> str:
    return "" if day is None else (day.date() if isinstance(day, dt.datetime) else day).isoformat()


def row_of(item: Mapping[str, Any]) -> tuple[str, ...]:
    """One right as a row of :data:`COLUMNS`; :class:`PayloadError` if it cannot be read.
    The data perimeter is the consumption one, or the injection one for an injection
    right (``perim_donnees_inj_debut``/``_fin``).

    The common case is read directly (3× faster than building a
    :class:`~models.RightRow`: 100k rights load a couple of seconds sooner); anything
    unusual goes through ``RightRow`` — and a test checks both give the same row."""
    try:
        return clean_strings(_direct_row(item))
    except (KeyError, ValueError, TypeError, AttributeError):
        pass
    try:
        r = m.RightRow.from_api(item)
    except (ValueError, TypeError, AttributeError):
        from pupitre.providers.grdf_adict.models import AccessRight, read

        read(item, AccessRight)  # the typed error, with where
        raise PayloadError("the API sent an access right that cannot be read", provider=rules.PROVIDER) from None
    return clean_strings(
        (
            r.id_droit_acces,
            r.id_pce,
            r.role_tiers or "",
            r.holder,
            r.etat_droit_acces or "",
            r.statut_controle_preuve or "",
            _iso(r.date_debut_droit_acces),
            _iso(r.date_fin_droit_acces),
            _iso(r.perim_donnees_conso_debut) or _iso(m.parse_date(item.get("perim_donnees_inj_debut"))),
            _iso(r.perim_donnees_conso_fin) or _iso(m.parse_date(item.get("perim_donnees_inj_fin"))),
            _iso(r.date_limite_transmission_preuve),
            r.parcours or "",
            _iso(r.state_changed_at),
            _text(item.get("code_postal")),
            _text(item.get("courriel_titulaire")),
            "1" if r.is_person else "",
            _lenient_flag(item.get("perim_donnees_publiees")),
            _lenient_flag(item.get("perim_donnees_informatives")),
        )
    )


def _flag(value: Any) -> str:
    """``"Vrai"``/``"Faux"`` (and the other spellings of :func:`models.parse_bool`) → "1"/"0";
    absent → ""; anything else raises ``ValueError``."""
    flag = m.parse_bool(value)
    return "" if flag is None else "1" if flag else "0"


def _lenient_flag(value: Any) -> str:
    """:func:`_flag`, an unreadable flag read as not said (the right itself stays)."""
    try:
        return _flag(value)
    except (ValueError, TypeError, AttributeError):
        return ""


_CHANGED_AT = {m.REVOKED: "date_revocation", m.OBSOLETE: "date_passage_a_obsolete", m.REFUSED: "date_passage_a_refuse"}


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _date(value: Any) -> str:
    """An ISO date (or the date of a ``YYYY-MM-DD HH:MM:SS``), checked; "" when absent.
    A date-time with an offset goes to ``RightRow`` (its Paris date may differ)."""
    if not value:
        return ""
    if not isinstance(value, str):
        raise TypeError("a date that is not text")
    text = value.strip()
    if len(text) > 10 and ("+" in text[10:] or text.endswith("Z") or "-" in text[10:]):
        raise ValueError("a zoned date-time")
    day = text[:10]
    dt.date.fromisoformat(day)
    return day


def _direct_row(d: Mapping[str, Any]) -> tuple[str, ...]:
    get = d.get
    ident, pce = d["id_droit_acces"], d["id_pce"]
    if not isinstance(ident, str) or not isinstance(pce, str):
        raise TypeError("ids must be strings")
    name = _text(get("nom_titulaire"))
    company = _text(get("raison_sociale_du_titulaire")) or _text(get("raison_sociale"))
    state = m.normalise_state(get("etat_droit_acces")) or ""
    changed = _CHANGED_AT.get(state)
    return (
        ident,
        pce,
        m.normalise_role(get("role_tiers")) or "",
        name or company,
        state,
        _text(get("statut_controle_preuve")),
        _date(get("date_debut_droit_acces")),
        _date(get("date_fin_droit_acces")),
        _date(get("perim_donnees_conso_debut")) or _date(get("perim_donnees_inj_debut")),
        _date(get("perim_donnees_conso_fin")) or _date(get("perim_donnees_inj_fin")),
        _date(get("date_limite_transmission_preuve")),
        _text(get("parcours")),
        _date(get(changed)) if changed else "",
        _text(get("code_postal")),
        _text(get("courriel_titulaire")),
        "1" if name and not company else "",
        _flag(get("perim_donnees_publiees")),
        _flag(get("perim_donnees_informatives")),
    )


class _Memo(dict[Any, str]):
    """``memo[raw]``: ``fn(raw)``, computed once per distinct raw value."""

    def __init__(self, fn: Callable[[Any], str]) -> None:
        super().__init__()
        self.fn = fn

    def __missing__(self, raw: Any) -> str:
        value = self.fn(raw)
        self[raw] = value
        return value


class _Codes(list[int]):
    """A batch of a coded column given as the column's codes, not as strings."""


class _CodeMemo(dict[Any, int]):
    """``memo[raw]``: the code in ``column`` of ``values[raw]``, computed once per raw value."""

    def __init__(self, column: CodedColumn, texts: _Memo) -> None:
        super().__init__()
        self.column, self.texts = column, texts

    def __missing__(self, raw: Any) -> int:
        code = self.column.code(self.texts[raw])
        self[raw] = code
        return code


#: The v2 fields a right of the list always carries (null when empty), in this order.
_V2_FIELDS = (
    "id_droit_acces",
    "id_pce",
    "role_tiers",
    "nom_titulaire",
    "raison_sociale_du_titulaire",
    "etat_droit_acces",
    "statut_controle_preuve",
    "date_debut_droit_acces",
    "date_fin_droit_acces",
    "perim_donnees_conso_debut",
    "perim_donnees_inj_debut",
    "perim_donnees_conso_fin",
    "perim_donnees_inj_fin",
    "date_limite_transmission_preuve",
    "parcours",
    "code_postal",
    "courriel_titulaire",
    "date_revocation",
    "date_passage_a_obsolete",
    "date_passage_a_refuse",
    "perim_donnees_publiees",
    "perim_donnees_informatives",
)
_v2_values = itemgetter(*_V2_FIELDS)
_v2_attrs = attrgetter(*_V2_FIELDS)


@functools.cache
def right_record() -> type[Any]:
    """A right of the list as the stream reads it (:class:`rules.NdjsonDecoder`): the
    :data:`_V2_FIELDS`, all required, text or null (anything else: the block is read as
    dicts). Fewer objects than a dict of the ~33 fields GRDF sends, and read in one call
    a block: a million rights in ~3 s less CPU. Built on first use (msgspec is imported
    only by the rights stream)."""
    import msgspec

    fields: list[tuple[str, Any] | tuple[str, Any, Any]] = [(name, str | None) for name in _V2_FIELDS]
    fields.append(("statut_restitution", Any, msgspec.UNSET))  # an in-stream error: read as dicts
    return msgspec.defstruct("RightRecord", fields, gc=False)


def _as_dict(item: Any) -> Mapping[str, Any]:
    """A right as a mapping: a record of :func:`right_record` as a dict of its fields."""
    return item if isinstance(item, Mapping) else dict(zip(_V2_FIELDS, _v2_attrs(item), strict=True))


_TEXT_TYPES = {str, type(None)}


def _texts(values: Sequence[Any]) -> list[str]:
    if not set(map(type, values)) <= _TEXT_TYPES:
        raise TypeError("a text field that is not a string")
    return [value.strip() if value else "" for value in values]


def _stripped(value: Any) -> str:
    """A text field as :func:`_texts` reads it, for one value."""
    if type(value) not in _TEXT_TYPES:
        raise TypeError("a text field that is not a string")
    return value.strip() if value else ""


def _holder(names: tuple[Any, Any]) -> str:
    """The holder of (``nom_titulaire``, ``raison_sociale_du_titulaire``): the name, else the company."""
    return clean_text(_stripped(names[0])) or clean_text(_stripped(names[1]))


def _person(names: tuple[Any, Any]) -> str:
    """ "1" when the holder is a person: a name and no company."""
    return "1" if _stripped(names[0]) and not _stripped(names[1]) else ""


class _Columns:
    """Rows of many rights at once, column by column, with each distinct date, state and
    role read once: :meth:`of` gives the same values as :func:`row_of` for rights carrying
    every v2 field (a test checks it), about twice as fast; anything else raises."""

    def __init__(self, col: Mapping[str, Column] | None = None) -> None:
        self.dates = _Memo(_date)
        self.states = _Memo(lambda raw: clean_text(m.normalise_state(raw) or ""))
        self.roles = _Memo(lambda raw: clean_text(m.normalise_role(raw) or ""))
        # few distinct values (postcodes, routes, proof statuses): one string each
        self.codes = _Memo(lambda raw: clean_text(_text(raw)))
        self.flags = _Memo(_flag)
        # of two raw fields at once (a pair of a few distinct values: one lookup a row, no
        # column of strings built, cleaned and coded for each field)
        self.holders, self.persons = _Memo(_holder), _Memo(_person)
        self.perims = _Memo(lambda pair: self.dates[pair[0]] or self.dates[pair[1]])
        # with the table's coded columns: raw value → the column's code, at once (no list of
        # strings to look up again: a third of the columns' CPU at a million rights)
        memos = {"role": self.roles, "proof": self.codes, "start": self.dates, "end": self.dates}
        memos |= {"deadline": self.dates, "route": self.codes, "postcode": self.codes}
        memos |= {"published": self.flags, "informative": self.flags}
        memos |= {"holder": self.holders, "person": self.persons, "perim_start": self.perims, "perim_end": self.perims}
        self.coders: dict[str, Callable[[Any], int]] = {}
        self.coded: dict[str, CodedColumn] = {}
        for name, memo in memos.items():
            column = col.get(name) if col is not None else None
            if isinstance(column, CodedColumn):
                self.coders[name] = _CodeMemo(column, memo).__getitem__
                self.coded[name] = column

    def _coded(self, name: str, fallback: Callable[[Any], str], raw: Iterable[Any]) -> Sequence[str] | _Codes:
        coder = self.coders.get(name)
        return _Codes(map(coder, raw)) if coder is not None else list(map(fallback, raw))

    def of(self, items: Sequence[Any]) -> list[Sequence[str] | _Codes]:
        """The columns of ``items``: rights as dicts, or records of :func:`right_record`."""
        (
            ids,
            pces,
            roles,
            names,
            companies,
            states,
            proofs,
            starts,
            ends,
            conso_starts,
            inj_starts,
            conso_ends,
            inj_ends,
            deadlines,
            routes,
            postcodes,
            emails,
            revoked,
            obsolete,
            refused,
            published,
            informative,
        ) = zip(*map(_v2_values if isinstance(items[0], Mapping) else _v2_attrs, items), strict=True)
        if not set(map(type, ids)) | set(map(type, pces)) <= {str}:
            raise TypeError("ids must be strings")
        date, code = self.dates.__getitem__, self.codes.__getitem__
        # text typed by third parties, cleaned for the terminal (core.text); dates are
        # checked by ``_date``, flags are "1"/"0"/"", the others memoised cleaned
        clean_ids, clean_pces = clean_column(ids), clean_column(pces)
        names_pairs = list(zip(names, companies, strict=True))
        state_list = list(map(self.states.__getitem__, states))
        changed = [
            date(r if s == m.REVOKED else o if s == m.OBSOLETE else f) if s in _CHANGED_AT else ""
            for s, r, o, f in zip(state_list, revoked, obsolete, refused, strict=True)
        ]
        coded = self._coded
        return [
            clean_ids,
            clean_pces,
            coded("role", self.roles.__getitem__, roles),
            coded("holder", self.holders.__getitem__, names_pairs),
            state_list,
            coded("proof", code, proofs),
            coded("start", date, starts),
            coded("end", date, ends),
            coded("perim_start", self.perims.__getitem__, zip(conso_starts, inj_starts, strict=True)),
            coded("perim_end", self.perims.__getitem__, zip(conso_ends, inj_ends, strict=True)),
            coded("deadline", date, deadlines),
            coded("route", code, routes),
            changed,
            coded("postcode", code, postcodes),
            clean_column(_texts(emails)),
            coded("person", self.persons.__getitem__, names_pairs),
            coded("published", self.flags.__getitem__, published),
            coded("informative", self.flags.__getitem__, informative),
        ]


def right_row(row: Mapping[str, str]) -> m.RightRow:
    """The provider's :class:`~models.RightRow` of a row of the copy (for the action forms)."""

    def day(key: str) -> dt.date | None:
        return dt.date.fromisoformat(row[key]) if row[key] else None

    changed = row["changed"]
    return m.RightRow(
        row["id"],
        row["pce"],
        row["role"] or None,
        row["holder"],
        row["person"] == "1",
        row["state"] or None,
        row["proof"] or None,
        day("start"),
        day("end"),
        day("perim_start"),
        day("perim_end"),
        day("deadline"),
        row["route"] or None,
        dt.datetime.combine(dt.date.fromisoformat(changed), dt.time()) if changed else None,
    )


#: Columns whose values are nearly all distinct: one text blob each; the others are coded.
_TEXT_COLUMNS = frozenset({"id", "pce", "email"})
#: The stored form of :meth:`RightsTable.dump` (columns' arrays, no value-by-value JSON).
_COLUMNAR = "columnar"


def _column(name: str, values: Iterable[str] = ()) -> Column:
    return TextColumn(values) if name in _TEXT_COLUMNS else CodedColumn(values)


class RightsTable:
    """Access rights as columns (``table.col["state"][i]``); rows only ever appended.

    Each column is compact (:mod:`pupitre.providers.core.columns`): ids, PCEs and e-mails
    as one text blob each, every other field dictionary-coded (a park has a few states,
    roles, routes and postcodes, a few thousand distinct days, and holders that repeat).
    Measured on the simulator's park: ~18 MB a 100,000 rights against ~100 MB as lists of
    strings, so a million-right park stays far under a gigabyte."""

    def __init__(self, data: Mapping[str, Iterable[str]] | None = None) -> None:
        """Empty, or holding ``data`` (a column, or any strings, per name)."""
        self.col: dict[str, Column] = {}
        for name in COLUMNS:
            values = data[name] if data else ()
            self.col[name] = values if isinstance(values, (CodedColumn, TextColumn)) else _column(name, values)
        self._last = self.col[COLUMNS[-1]]  # extended last: its length counts whole rows
        self._columns = _Columns(self.col)

    def __len__(self) -> int:
        return len(self._last)

    @property
    def coded(self) -> dict[str, CodedColumn]:
        """The dictionary-coded columns (filters, counts and sorts run on their codes)."""
        return {name: column for name, column in self.col.items() if isinstance(column, CodedColumn)}

    def add(self, row: Sequence[str]) -> None:
        for name, value in zip(COLUMNS, row, strict=True):
            self.col[name].append(value)

    def add_raw(self, items: Iterable[Any]) -> int:
        """Append rights as the API sends them (dicts, or records of :func:`right_record`);
        how many. A right that cannot be read raises its :class:`PayloadError`, the rights
        before it stay."""
        items = list(items)
        if not items:
            return 0
        try:
            columns = self._columns.of(items)
        except (KeyError, ValueError, TypeError, AttributeError):
            for item in items:  # one by one: v1 names, missing fields, zoned dates, a bad right
                self.add(row_of(_as_dict(item)))
            return len(items)
        for name, values in zip(COLUMNS, columns, strict=True):
            if isinstance(values, _Codes):  # the codes of this table's coded column
                self._columns.coded[name].extend_codes(values)
            else:
                self.col[name].extend(values)
        return len(items)

    def row(self, i: int) -> dict[str, str]:
        return {name: self.col[name][i] for name in COLUMNS}

    def find(self, *, id: str | None = None, pce: str | None = None) -> int | None:
        key, value = ("id", id) if id is not None else ("pce", pce)
        if value is None:
            return None
        try:
            return self.col[key].index(value)
        except ValueError:
            return None

    def states(self) -> dict[str, str]:
        return dict(zip(self.col["id"], self.col["state"], strict=True))

    def changed_states(self, old: "RightsTable") -> list[tuple[int, str]] | None:
        """``(row, state before)`` of each right whose state differs from ``old``'s, when
        both hold the same rights in the same order (the daily reload of an unchanged park:
        compared code by code, without a dict of a million ids); else ``None``."""
        if self.col["id"] != old.col["id"]:
            return None
        new_state, old_state = self.col["state"], old.col["state"]
        if not isinstance(new_state, CodedColumn) or not isinstance(old_state, CodedColumn):
            return None
        return [(i, old_state[i]) for i in changed_rows(old_state, new_state)]

    def dump(self) -> dict[str, Any]:
        """For the store: each column's arrays as they are in memory, as the store's binary
        parts (:data:`BINARY`), read back by a copy, without parsing a row or decoding text
        (a million rights: ~100 MB, written and read in a fraction of a second)."""
        parts: dict[str, Any] = {}
        return {
            "columns": list(COLUMNS),
            "rows": len(self),
            "form": _COLUMNAR,
            "data": {name: dump_column(column, parts, name) for name, column in self.col.items()},
            "text": _CLEANED,
            BINARY: parts,
        }

    @classmethod
    def load(cls, payload: Mapping[str, Any]) -> "RightsTable":
        """A copy from the store; also reads older forms (lists of strings, each column
        joined on ``\x1f``; without the perimeter flags, then read as not said)."""
        columns = tuple(payload.get("columns", ()))
        if columns not in (COLUMNS, _OLDER_COLUMNS):
            raise ValueError("a copy of another shape")
        n = int(payload["rows"])
        if payload.get("form") == _COLUMNAR:
            stored = payload["data"]
            if not isinstance(stored, Mapping) or set(stored) != set(COLUMNS):
                raise ValueError("a damaged copy")
            parts = payload.get(BINARY)
            if parts is not None and not isinstance(parts, Mapping):
                raise ValueError("a damaged copy")
            table = cls({name: load_column(stored[name], parts) for name in COLUMNS})
            if any(len(column) != n for column in table.col.values()):
                raise ValueError("a damaged copy")
            return table
        data = {
            name: (value.split(_SEP) if n else []) if isinstance(value, str) else value
            for name, value in payload["data"].items()
        }
        for name in COLUMNS[len(columns) :]:
            data[name] = [""] * n
        for name, values in data.items() if payload.get("text") != _CLEANED else ():
            # a copy written before text was cleaned at parse time: cleaned once, here
            if isinstance(values, list):
                try:
                    cleaned = clean_column(values)
                except TypeError:
                    raise ValueError("a damaged copy") from None
                if cleaned is not values:
                    data[name] = list(cleaned)
        if set(data) != set(COLUMNS) or any(
            not isinstance(v, list) or len(v) != n or not all(isinstance(x, str) for x in v) for v in data.values()
        ):
            raise ValueError("a damaged copy")
        return cls(data)


class RightsLoad(msgspec.Struct):
    """One streamed read (the whole park, or a search): rows appear in :attr:`table` as they
    arrive; :attr:`error` tells why it stopped early (the rows received stay)."""

    kind: str = "all"  # "all" | "search" | "local" (the offline search on the stored copy)
    filters: dict[str, list[str]] = msgspec.field(default_factory=dict)
    table: RightsTable = msgspec.field(default_factory=RightsTable)
    started: float = msgspec.field(default_factory=time.monotonic)
    first_row_after: float | None = None
    done: bool = False
    error: str | None = None
    trailer: str | None = None

    @property
    def streaming(self) -> bool:
        return not self.done


def search_body(filters: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """``POST /droits_acces`` body from the screen's filters (the provider's spellings)."""
    return rules.search_body({_FILTER_KEYS[name]: list(values) for name, values in filters.items() if values})


# -- the session ------------------------------------------------------------------------------------


class AdictSession(msgspec.Struct, dict=True):
    settings: GrdfAdictSettings
    ctx: ProviderContext
    sandboxed: bool
    live: RightsLoad | None = None  # the rights feed's load under way (or its last one)

    def __post_init__(self) -> None:
        # runtime state, not fields (out of the constructor, the repr and equality)
        self._client: AdictClient | None = None

    @property
    def client_id(self) -> str:
        return rules.SANDBOX_CLIENT_ID if self.sandboxed else self.settings.client_id

    @property
    def quota(self) -> "QuotaLimiter":
        """The credential's one limiter, shared through the store by every process using it.

        Paced ``quota_margin`` (10 %) under GRDF's per-second rate: GRDF counts a call when it
        arrives, so a client pacing exactly at the rate gets refused whenever one call travels
        faster than the one before it ("2 calls in the same second: one is in error")."""
        per_second, per_day = quota_of(self.settings)
        return self.ctx.quota(
            f"{PROVIDER}:{self.client_id}",
            provider=TITLE,
            per_second=per_second,
            per_day=per_day,
            margin=self.settings.quota_margin,
        )

    @property
    def client(self) -> "AdictClient":
        """Built on first use; the token (4 h) is reused until it nears expiry."""
        if self._client is None:
            from pupitre.providers.grdf_adict.client import AdictClient, adict_auth

            http = self.ctx.client()
            if self.sandboxed:
                base, token_url, secret = SANDBOX_BASE_URL, SANDBOX_TOKEN_URL, rules.SANDBOX_CLIENT_SECRET
            else:
                base, token_url = self.settings.base_url, self.settings.token_url
                secret = self.ctx.connect_real(PROVIDER, TITLE, self.settings, SECRET) or ""
            auth = adict_auth(
                http, self.client_id, secret, self.ctx.clock, token_url=token_url, scope=self.settings.scope or None
            )
            self._client = AdictClient(http, base, auth, quota=self.quota, retry=self.ctx.retry)
        return self._client

    async def stream_into(self, load: RightsLoad) -> RightsLoad:
        """Stream ``GET`` (or ``POST`` with the search filters) into ``load``; on a failure
        the rows received stay in ``load.table`` and the typed error is raised."""
        client = self.client
        method, body = ("POST", search_body(load.filters)) if load.kind == "search" else ("GET", None)
        stream = client.stream_batches(method, "/droits_acces", json=body, record=right_record())
        table = load.table
        try:
            async for batch in stream:
                table.add_raw(batch)
                if load.first_row_after is None:
                    load.first_row_after = time.monotonic() - load.started
        except ApiError as error:
            load.error = f"{error} — {len(table)} right(s) received before the error" if len(table) else str(error)
            raise
        finally:
            await stream.aclose()
            load.done = True
        return load

    async def refresh(self) -> RightsTable:
        """The rights feed: the whole park, streamed (rows visible at once through :attr:`live`)."""
        load = RightsLoad("all")
        self.live = load
        await self.stream_into(load)
        return load.table

    async def search(self, load: RightsLoad, stored: RightsTable | None) -> RightsLoad:
        """Online: ``POST /droits_acces`` with ``load.filters``, streamed into ``load``. When
        the API cannot be reached and nothing arrived, the stored copy instead
        (``kind == "local"``: the caller applies the same filters to it, offline)."""
        try:
            return await self.stream_into(load)
        except ApiError as error:
            if error.kind not in ("network", "timeout") or len(load.table) or stored is None:
                return load
            return RightsLoad(
                "local", load.filters, stored, done=True, error=f"offline ({error}): filters applied to the stored copy"
            )


def status_changes(old: RightsTable | None, new: RightsTable) -> list[Change]:
    """Every right whose state changed is a history row (key: its id); those that became
    Refusée / Obsolète / Révoquée are ``attention``, summed up in one notification."""
    if old is None:
        return []
    col = new.col
    changed = new.changed_states(old)
    if changed is None:  # rights added, removed or moved: matched by id
        before = old.states()
        changed = [
            (i, was)
            for i, (ident, state) in enumerate(zip(col["id"], col["state"], strict=True))
            if (was := before.get(ident)) is not None and was != state
        ]
    changes: list[Change] = []
    lost = 0
    for i, was in changed:
        ident, state = col["id"][i], col["state"][i]
        severity: Severity = "attention" if state in LOST_STATES else "info"
        lost += severity == "attention"
        changes.append(
            Change(ident, was, state, f"PCE {col['pce'][i]} ({col['holder'][i] or '?'}): {was} → {state}", severity)
        )
    if lost:
        changes.append(
            Change(
                "*",
                None,
                f"{lost} lost",
                f"{lost} right(s) became {' / '.join(LOST_STATES)}",
                "attention",
                f"GRDF ADICT: {lost} access right(s) became {' / '.join(LOST_STATES)}: see the access rights (5).",
            )
        )
    return changes


# -- what needs action ------------------------------------------------------------------------------


class RightsSummary(msgspec.Struct):
    total: int
    by_state: dict[str, int]
    awaiting: int  # proofs awaited (« Preuve en attente »)
    overdue: int  # of which the deadline is past
    due_soon: int  # of which the deadline falls within 5 working days
    next_deadline: str
    lost_recently: list[int]  # rows that became Refusée / Obsolète / Révoquée since yesterday
    ended: int = 0  # « Active » rights whose end date is past (:func:`is_ended`)

    @property
    def unknown_states(self) -> dict[str, int]:
        """States the document does not list (``? unknown (…)`` on their rows), with counts."""
        return {state: n for state, n in self.by_state.items() if state and state not in m.STATES}


def is_ended(state: str, end: str, today: dt.date | str) -> bool:
    """An « Active » right whose end date (``date_fin_droit_acces``, the last day it covers)
    is before ``today``: GRDF may still say Active, but it no longer gives access."""
    day = today if isinstance(today, str) else today.isoformat()
    return state == m.ACTIVE and bool(end) and end < day


class DeadlineCache:
    """Working-day arithmetic per distinct deadline (a park has few distinct dates)."""

    def __init__(self, today: dt.date) -> None:
        self.today = today
        self._cache: dict[str, tuple[bool, bool, int]] = {}

    def __call__(self, deadline: str) -> tuple[bool, bool, int]:
        """(overdue, due within 5 working days, working days left) of an ISO date."""
        if deadline not in self._cache:
            day = dt.date.fromisoformat(deadline)
            self._cache[deadline] = (
                rules.overdue(day, self.today),
                rules.due_soon(day, self.today),
                rules.working_days_until(self.today, day),
            )
        return self._cache[deadline]


def _coded(column: Column) -> CodedColumn:
    return column if isinstance(column, CodedColumn) else CodedColumn(column)


def summarise(
    table: RightsTable, today: dt.date, recent_ids: AbstractSet[str] = frozenset(), *, dated: bool = True
) -> RightsSummary:
    """The rights' counts for the findings. Rights lost since yesterday are those ``recent_ids``
    (seen changing by this store) and, when ``dated`` (the store read the rights before today),
    those whose change date is yesterday or today.

    Counted on the coded columns (C loops over codes, each distinct deadline or date judged
    once): a million rights in tens of ms, not the ~1.5 s of a loop over rows that every
    start-up paid before the stored copy was on screen (the alerts read the findings)."""
    col = table.col
    n = len(table)
    state, proof, deadline = _coded(col["state"]), _coded(col["proof"]), _coded(col["deadline"])
    by_state = state.counts(0, n)
    deadlines = DeadlineCache(today)
    awaiting = overdue = soon = 0
    nearest = ""
    pending = proof.code_of(m.PROOF_PENDING)
    if pending is not None:
        for code, count in Counter(compress(deadline.codes[:n], proof.flags({pending}, 0, n))).items():
            awaiting += count
            day = deadline.values[code]
            if day:
                late, close, _ = deadlines(day)
                overdue += late * count
                soon += close * count
                if not late and (not nearest or day < nearest):
                    nearest = day
    since = (today - dt.timedelta(days=1)).isoformat()
    changed, ids = _coded(col["changed"]), col["id"]
    recent = changed.codes_where(lambda day: bool(day) and day >= since) if dated else set()
    lost: list[int] = []
    if recent or recent_ids:
        codes = changed.codes
        candidates = compress(range(n), state.flags(state.codes_of(LOST_STATES), 0, n))
        lost = [i for i in candidates if codes[i] in recent or (recent_ids and ids[i] in recent_ids)]
    ended = 0
    end, active, day = _coded(col["end"]), state.code_of(m.ACTIVE), today.isoformat()
    past = end.codes_where(lambda value: bool(value) and value < day)
    if active is not None and past:
        ended = sum(map(past.__contains__, compress(end.codes[:n], state.flags({active}, 0, n))))
    return RightsSummary(n, by_state, awaiting, overdue, soon, nearest, lost, ended)


def summary_of(ctx: ProviderContext, table: RightsTable, now: dt.datetime) -> RightsSummary:
    """:func:`summarise` for ``now``: rights lost since yesterday as far as this store can tell
    (the API's change dates count once the store has a yesterday: it read the rights before today)."""
    midnight = dt.datetime.combine(paris(now).date(), dt.time(), tzinfo=PARIS)
    dated = ctx.store.read_before(RIGHTS_FEED, midnight)
    return summarise(table, paris(now).date(), recent_lost_ids(ctx, now), dated=dated)


def recent_lost_ids(ctx: ProviderContext, now: dt.datetime) -> set[str]:
    """Ids of rights the stored history saw become Refusée / Obsolète / Révoquée since yesterday."""
    today = paris(now).date()  # Paris days, whatever the offset ``now`` comes with
    since = dt.datetime.combine(today - dt.timedelta(days=1), dt.time(), tzinfo=paris(now).tzinfo)
    return {h.key for h in ctx.store.history(RIGHTS_FEED, limit=5000) if h.new in LOST_STATES and h.at >= since}


def findings(ctx: ProviderContext, results: dict[str, Any], now: dt.datetime) -> list[Finding]:
    table: RightsTable | None = results.get(RIGHTS_FEED)
    if table is None:
        return []
    return summary_findings(summary_of(ctx, table, now), table)


def summary_findings(summary: RightsSummary, table: RightsTable) -> list[Finding]:
    out: list[Finding] = []
    if summary.awaiting:
        level: Level = "critical" if summary.overdue else "attention"
        text = f"{summary.awaiting} right(s) awaiting proofs"
        if summary.overdue:
            text += f", {summary.overdue} past their deadline"
        if summary.due_soon:
            text += f", {summary.due_soon} due within 5 working days"
        if summary.next_deadline:
            text += f" (next deadline {summary.next_deadline})"
        out.append(Finding(TITLE, level, text, "proofs"))
    if summary.lost_recently:
        col = table.col
        sample = ", ".join(f"{col['pce'][i]} {col['state'][i]}" for i in summary.lost_recently[:5])
        more = f" and {len(summary.lost_recently) - 5} more" if len(summary.lost_recently) > 5 else ""
        out.append(
            Finding(
                TITLE,
                "attention",
                f"{len(summary.lost_recently)} right(s) became Refusée/"
                f"Obsolète/Révoquée since yesterday: {sample}{more}",
                "lost",
            )
        )
    unknown = summary.unknown_states
    if unknown:
        words = ", ".join(f"{n} {unknown_word(state)}" for state, n in sorted(unknown.items())[:3])
        out.append(
            Finding(TITLE, "attention", f"right(s) in a state the document does not list: {words}", "unknown-states")
        )
    if not out:
        out.append(
            Finding(
                TITLE,
                "ok",
                f"{summary.total} access right(s), {summary.by_state.get(m.ACTIVE, 0) - summary.ended} active"
                + (f", {summary.ended} ended (past their end date)" if summary.ended else "")
                + ", no proof awaited",
            )
        )
    return out


def _load(payload: Any) -> RightsTable:
    return RightsTable.load(payload)


def environment(settings: GrdfAdictSettings) -> Environment:
    """The real endpoint's data world: the base URL and the ADICT client id."""
    return real(settings.base_url, client=settings.client_id)


def read_today(fetched_at: dt.datetime, now: dt.datetime) -> bool:
    """Whether the rights list was read on ``now``'s day (Paris): the document recommends
    reading it once a day — « Préconisations d'appels », *Consulter mes Droits d'accès*:
    « 1 fois par jour (1 appel pour tous les PCE) ». ``pupitre check`` answers from the stored
    copy until the next day (``--force`` reads it again)."""
    return paris(fetched_at).date() == paris(now).date() and paris(fetched_at) <= paris(now)


def connect(settings: GrdfAdictSettings, ctx: ProviderContext, *, sandboxed: bool) -> Connection:
    session = AdictSession(settings, ctx, sandboxed)
    feed: Feed[Any] = Feed(
        RIGHTS_FEED,
        PROVIDER,
        "GRDF access rights",
        session.refresh,
        RightsTable.dump,
        _load,
        fixed_interval(settings.refresh_seconds),
        status_changes,
        reuse=read_today,
    )
    return Connection(
        PROVIDER,
        TITLE,
        [feed],
        lambda results, now: findings(ctx, results, now),
        handlers=_handlers(session),
        session=session,
        items=lambda results, now: items(ctx, results, now),
        quota=lambda: session.quota,
    )


def items(ctx: ProviderContext, results: dict[str, Any], now: dt.datetime) -> list[dict[str, Any]]:
    """The rights behind the findings (``pupitre check --json``): every right awaiting proofs
    (deadline, past or due within 5 working days) and every right lost since yesterday."""
    table: RightsTable | None = results.get(RIGHTS_FEED)
    if table is None:
        return []
    col, deadlines = table.col, DeadlineCache(paris(now).date())
    out: list[dict[str, Any]] = []
    for i, proof in enumerate(col["proof"]):
        if proof != m.PROOF_PENDING:
            continue
        late, soon, _ = deadlines(col["deadline"][i]) if col["deadline"][i] else (False, False, 0)
        out.append(
            {
                "key": col["id"][i],
                "state": proof,
                "pce": col["pce"][i],
                "right_state": col["state"][i],
                "deadline": col["deadline"][i] or None,
                "overdue": late,
                "due_soon": soon,
            }
        )
    for i in summary_of(ctx, table, now).lost_recently:
        out.append(
            {"key": col["id"][i], "state": col["state"][i], "pce": col["pce"][i], "changed": col["changed"][i] or None}
        )
    return out


def _handlers(session: AdictSession) -> dict[tuple[str, str], Any]:
    from pupitre.providers.grdf_adict import actions

    return actions.handlers(lambda: session.client)
