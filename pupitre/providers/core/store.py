"""The SQLite store: feed snapshots, history, outbox, audit log, quota counters.

One file in the platformdirs data dir, WAL journal, mode 0600. The schema is
versioned with ``PRAGMA user_version`` and upgraded by the ordered migrations
below, after a backup of the file; a store written by a newer pupitre is refused
rather than damaged.

Disk failures become :class:`StoreError` subclasses with a sentence for the operator
(:class:`StoreWriteError`: full, read-only, I/O; :class:`StoreDamaged`). The store is
checked (``PRAGMA quick_check``) when it opens; :func:`open_store` then starts pupitre
anyway where it can: a damaged file is moved aside (its pending actions carried over
when they can be read), an unwritable one is replaced by a store in memory that says
nothing can be saved (:attr:`Store.durable` is false, the outbox refuses actions).

Every row belongs to an environment (:mod:`pupitre.providers.core.environments`): the
runtime binds each provider to its environment once (:meth:`Store.bind_environments`), and
every query reads and writes only that environment's rows, so the call sites keep their
signatures and a sandbox session never touches a real environment's rows.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import logging
import os
import re
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Protocol, Sequence

import msgspec
import orjson

from pupitre.providers.core.alerts import Alert
from pupitre.providers.core.checks import Level
from pupitre.providers.core.environments import SANDBOX

#: The schema's history, one entry per version, for both backends: written in SQLite's spelling,
#: which :func:`pupitre.providers.core.store_pg.postgres_sql` translates for PostgreSQL
#: (``INTEGER PRIMARY KEY AUTOINCREMENT`` → an identity column, ``REAL`` → ``DOUBLE PRECISION``,
#: ``TEXT`` → ``TEXT COLLATE "C"``: SQLite's byte order). A new migration is one more entry;
#: it stays in the portable subset (``ALTER TABLE … ADD COLUMN``, ``CREATE TABLE|INDEX``,
#: ``INSERT … SELECT``, ``ON CONFLICT``) and uses no ``rowid`` (PostgreSQL has none; the old ones
#: below run on PostgreSQL on empty tables only, where it is translated to ``ctid``).
MIGRATIONS: list[str] = [
    # 1: the initial schema.
    """
    CREATE TABLE snapshots (
        feed TEXT PRIMARY KEY,
        fetched_at TEXT NOT NULL,
        payload TEXT NOT NULL
    );
    CREATE TABLE history (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        feed TEXT NOT NULL,
        key TEXT NOT NULL,
        at TEXT NOT NULL,
        old TEXT,
        new TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX history_by_key ON history (feed, key, at);
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        provider TEXT NOT NULL,
        action TEXT NOT NULL,
        payload TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT NOT NULL DEFAULT '',
        response TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX outbox_by_status ON outbox (status, provider);
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        provider TEXT NOT NULL,
        action TEXT NOT NULL,
        outcome TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE quota (
        credential TEXT NOT NULL,
        day TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (credential, day)
    );
    """,
    # 2: watch-lists (e.g. GRDF request numbers), with the status the operator last saw.
    """
    CREATE TABLE watchlist (
        provider TEXT NOT NULL,
        key TEXT NOT NULL,
        added_at TEXT NOT NULL,
        seen TEXT,
        PRIMARY KEY (provider, key)
    );
    """,
    # 3: the per-second quota window of each credential, shared by every process on this store.
    """
    CREATE TABLE quota_calls (
        credential TEXT NOT NULL,
        at REAL NOT NULL
    );
    CREATE INDEX quota_calls_by_credential ON quota_calls (credential, at);
    """,
    # 4: outbox claims: one process at a time delivers an action (a lease a dead process
    # loses), and the start of an attempt that may have reached the API before a crash.
    """
    ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
    ALTER TABLE outbox ADD COLUMN claim_until REAL;
    ALTER TABLE outbox ADD COLUMN sending_since TEXT;
    """,
    # 5: environments. Every row belongs to one environment (the simulator, or one real endpoint:
    # see providers/core/environments.py). Nothing tells whether an older row was sandbox or
    # real: they go to 'unattributed', read by nobody automatically, and the actions still
    # pending are 'held' (never sent until the operator releases or drops them: `pupitre outbox`).
    """
    CREATE TABLE snapshots_by_env (
        env TEXT NOT NULL,
        feed TEXT NOT NULL,
        fetched_at TEXT NOT NULL,
        payload TEXT NOT NULL,
        PRIMARY KEY (env, feed)
    );
    INSERT INTO snapshots_by_env (env, feed, fetched_at, payload)
        SELECT 'unattributed', feed, fetched_at, payload FROM snapshots;
    DROP TABLE snapshots;
    ALTER TABLE snapshots_by_env RENAME TO snapshots;
    ALTER TABLE history ADD COLUMN env TEXT NOT NULL DEFAULT 'unattributed';
    DROP INDEX history_by_key;
    CREATE INDEX history_by_key ON history (env, feed, key, at);
    ALTER TABLE outbox ADD COLUMN env TEXT NOT NULL DEFAULT 'unattributed';
    UPDATE outbox SET status='held', claimed_by=NULL, claim_until=NULL WHERE status='pending';
    DROP INDEX outbox_by_status;
    CREATE INDEX outbox_by_status ON outbox (env, status, provider);
    ALTER TABLE audit ADD COLUMN env TEXT NOT NULL DEFAULT 'unattributed';
    CREATE INDEX audit_by_provider ON audit (provider, env);
    CREATE TABLE watchlist_by_env (
        env TEXT NOT NULL,
        provider TEXT NOT NULL,
        key TEXT NOT NULL,
        added_at TEXT NOT NULL,
        seen TEXT,
        PRIMARY KEY (env, provider, key)
    );
    INSERT INTO watchlist_by_env (env, provider, key, added_at, seen)
        SELECT 'unattributed', provider, key, added_at, seen FROM watchlist ORDER BY rowid;
    DROP TABLE watchlist;
    ALTER TABLE watchlist_by_env RENAME TO watchlist;
    CREATE TABLE quota_by_env (
        env TEXT NOT NULL,
        credential TEXT NOT NULL,
        day TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (env, credential, day)
    );
    INSERT INTO quota_by_env (env, credential, day, count)
        SELECT 'unattributed', credential, day, count FROM quota;
    DROP TABLE quota;
    ALTER TABLE quota_by_env RENAME TO quota;
    ALTER TABLE quota_calls ADD COLUMN env TEXT NOT NULL DEFAULT 'unattributed';
    DROP INDEX quota_calls_by_credential;
    CREATE INDEX quota_calls_by_credential ON quota_calls (env, credential, at);
    """,
    # 6: read-backs. A delivered action's read-back is 'owed' from the moment its answer is
    # recorded until it is done ('verified', 'differs', or 'given up' when it could not be done
    # in time): a process killed in between leaves it owed, and the next drain resumes it.
    # Older delivered rows: not known (NULL), never resumed.
    """
    ALTER TABLE outbox ADD COLUMN readback TEXT;
    ALTER TABLE outbox ADD COLUMN readback_note TEXT NOT NULL DEFAULT '';
    CREATE INDEX outbox_readbacks_owed ON outbox (env, provider) WHERE readback = 'owed';
    """,
    # 7: watch-lists keep their order in a column of their own (SQLite's rowid, which gave it,
    # does not exist in PostgreSQL). A PostgreSQL store starts at this schema with empty tables:
    # its "rowid" (ctid) below orders no row.
    """
    CREATE TABLE watchlist_ordered (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        env TEXT NOT NULL,
        provider TEXT NOT NULL,
        key TEXT NOT NULL,
        added_at TEXT NOT NULL,
        seen TEXT,
        UNIQUE (env, provider, key)
    );
    INSERT INTO watchlist_ordered (env, provider, key, added_at, seen)
        SELECT env, provider, key, added_at, seen FROM watchlist ORDER BY added_at, rowid;
    DROP TABLE watchlist;
    ALTER TABLE watchlist_ordered RENAME TO watchlist;
    """,
    # 8: team mode. Feed leases: one process polls a feed of an environment, the others follow
    # from the store. Who did what: the operator (and host) of every audit line and action.
    """
    CREATE TABLE feed_leases (
        env TEXT NOT NULL,
        feed TEXT NOT NULL,
        holder TEXT NOT NULL,
        label TEXT NOT NULL DEFAULT '',
        lease_until REAL NOT NULL,
        PRIMARY KEY (env, feed)
    );
    ALTER TABLE audit ADD COLUMN operator TEXT NOT NULL DEFAULT '';
    ALTER TABLE outbox ADD COLUMN operator TEXT NOT NULL DEFAULT '';
    """,
    # 9: when this store first read each feed (of each environment): a finding "since yesterday"
    # needs a yesterday in this store. NULL: read before this column existed (long enough).
    """
    ALTER TABLE snapshots ADD COLUMN first_fetched_at TEXT;
    """,
    # 10: alerts (providers.core.alerts): at most one open alert per key and environment (the
    # partial unique index), seen by whom, and the command hook's claim (run once across processes).
    """
    CREATE TABLE alerts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        env TEXT NOT NULL,
        key TEXT NOT NULL,
        provider TEXT NOT NULL,
        severity TEXT NOT NULL,
        message TEXT NOT NULL,
        raised_at TEXT NOT NULL,
        cleared_at TEXT,
        seen_at TEXT,
        seen_by TEXT NOT NULL DEFAULT '',
        announce_by TEXT,
        announce_until REAL,
        announced_at TEXT
    );
    CREATE UNIQUE INDEX alerts_open_key ON alerts (env, key) WHERE cleared_at IS NULL;
    CREATE INDEX alerts_by_env ON alerts (env, id);
    """,
    # 11: a snapshot's binary parts (see :data:`BINARY`), stored as they are in memory: a million
    # access rights' columns read back by a copy, not decoded from base64 inside JSON.
    """
    ALTER TABLE snapshots ADD COLUMN data BLOB;
    """,
]

OUTBOX_PENDING = "pending"
OUTBOX_DELIVERED = "delivered"
OUTBOX_FAILED = "failed"
#: An action from before environments (schema 5): never sent until the operator releases it.
OUTBOX_HELD = "held"
#: A held action the operator dropped (never sent).
OUTBOX_DROPPED = "dropped"
#: A delivered action's read-back (:attr:`OutboxItem.readback`): still to be done (resumed by the
#: next drain, in whichever process), done and matching, done and differing, or given up.
READBACK_OWED = "owed"
READBACK_VERIFIED = "verified"
READBACK_DIFFERS = "differs"
READBACK_GIVEN_UP = "given up"


log = logging.getLogger("pupitre.store")

_ALERT_SELECT = "id, env, key, provider, severity, message, raised_at, cleared_at, seen_at, seen_by, announced_at"

_OUTBOX_SELECT = (
    "id, provider, action, payload, status, created_at, updated_at, attempts, last_error, response, "
    "claimed_by, sending_since, env, readback, readback_note, operator"
)


class StoreError(Exception):
    """The store cannot be opened or is of an unknown (newer) schema."""


class StoreWriteError(StoreError):
    """A write did not reach the disk (full, read-only, I/O error); the message says why."""


class StoreDamaged(StoreError):
    """The file is not a sound SQLite database (a corrupted page, not a database at all)."""


class StoreUnreachable(StoreWriteError):
    """The store's server (PostgreSQL) does not answer; the message says since when."""


class Cursor(Protocol):
    """What the store's methods read from a statement's cursor (sqlite3's and psycopg's)."""

    @property
    def rowcount(self) -> int: ...


_FULL = ("database or disk is full", "disk is full")
_READ_ONLY = ("readonly database", "read-only", "unable to open database")
_DAMAGED = ("malformed", "not a database", "corrupt")


def disk_problem(error: BaseException) -> str:
    """A few words for the operator about a failed store operation."""
    number = getattr(error, "errno", None)
    text = str(error).lower()
    if number == errno.ENOSPC or any(word in text for word in _FULL):
        return "the disk is full"
    if number in (errno.EROFS, errno.EACCES, errno.EPERM) or any(word in text for word in _READ_ONLY):
        return "the data directory is read-only or not writable"
    if any(word in text for word in _DAMAGED):
        return "the store file is damaged"
    if number == errno.EIO or "disk i/o error" in text:
        return "a disk I/O error"
    return f"{type(error).__name__}: {error}"


#: How long a statement waits for another process's lock on the file.
BUSY_SECONDS = 5.0


def write_ahead_log(db: sqlite3.Connection) -> None:
    """The file in WAL mode (it stays so). Processes opening a new file at the same moment may
    find it locked there: SQLite does not wait for that lock, whatever the busy timeout, so the
    switch is tried again, for :data:`BUSY_SECONDS` at most."""
    deadline = time.monotonic() + BUSY_SECONDS
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def store_error(error: BaseException, path: Path) -> StoreError:
    """The :class:`StoreError` for a ``sqlite3`` or ``OSError`` failure on the store at ``path``."""
    problem = disk_problem(error)
    if problem == "the store file is damaged":
        return StoreDamaged(f"the store {path} is damaged ({error}); `pupitre store check` tells more")
    return StoreWriteError(f"{problem} ({error}) — store {path}")


class Snapshot(msgspec.Struct, frozen=True):
    feed: str
    fetched_at: dt.datetime
    payload: Any


class HistoryEntry(msgspec.Struct, frozen=True):
    feed: str
    key: str
    at: dt.datetime
    old: str | None
    new: str
    detail: str


class OutboxItem(msgspec.Struct, frozen=True):
    id: int
    provider: str
    action: str
    payload: Any
    status: str
    created_at: dt.datetime
    updated_at: dt.datetime
    attempts: int
    last_error: str
    response: str
    claimed_by: str | None = None
    sending_since: dt.datetime | None = None
    env: str = SANDBOX
    #: a delivered action's read-back (``READBACK_*``; ``None``: not delivered, or before schema 6)
    readback: str | None = None
    #: what the read-back found, or why it is still owed or was given up
    readback_note: str = ""
    operator: str = ""  # who decided it: "ana@jump-2"


class AuditEntry(msgspec.Struct, frozen=True):
    at: str
    env: str
    provider: str
    action: str
    outcome: str
    detail: str
    operator: str = ""  # who: "ana@jump-2" ("" before team mode, or a tool)
    id: int = 0  # the line's number: later lines have higher ones (``audit_entries(after=…)``)


class Retention(msgspec.Struct, frozen=True):
    """How many days each kind of row is kept (``[app] keep_*_days``)."""

    audit_days: int = 365
    history_days: int = 90
    snapshots_days: int = 30


def _iso(value: dt.datetime) -> str:
    return value.isoformat()


def _dt(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


#: From this size a snapshot is decoded by the standard library's ``json``: orjson (yyjson)
#: reserves about 12 times the document's size while it parses (a 10 MB copy of 100,000
#: access rights peaks at 134 MB, a million rights' would at 1.3 GB), where ``json`` reads a
#: few long strings as fast (15 ms against 13 ms there) within their own size.
LARGE_SNAPSHOT = 32 * 1024 * 1024


def _json_value(raw: bytes | str) -> Any:
    """A stored snapshot's value (see :data:`LARGE_SNAPSHOT`)."""
    return json.loads(raw) if len(raw) >= LARGE_SNAPSHOT else orjson.loads(raw)


#: The key of a snapshot payload's binary parts (``{name: buffer}``, e.g. a table's arrays):
#: stored raw in the ``data`` column, not in the JSON, and read back as ``memoryview`` slices
#: of one buffer (a million access rights: tens of MB copied, nothing decoded).
BINARY = "$binary"


def _packed(payload: Any) -> tuple[bytes, bytearray | None]:
    """A payload as its JSON and its binary parts (one buffer, ``None`` without parts); the
    JSON keeps where each part lies (``[offset, length]``)."""
    parts = payload.get(BINARY) if isinstance(payload, dict) else None
    if parts is None:
        return _json_bytes(payload), None
    index: dict[str, list[int]] = {}
    data = bytearray()
    for name, part in parts.items():  # any buffer: bytes, a bytearray, an array
        with memoryview(part) as view:
            index[name] = [len(data), view.nbytes]
            data += view
    return _json_bytes({**payload, BINARY: index}), data


def _unpacked(payload: Any, data: bytes | None) -> Any:
    """A payload from :func:`_packed`'s JSON and buffer; ``ValueError`` when they disagree."""
    index = payload.get(BINARY) if isinstance(payload, dict) else None
    if index is None and data is None:
        return payload
    if not isinstance(index, dict) or data is None:
        raise ValueError("a snapshot's binary parts without their index, or the reverse")
    view = memoryview(data)
    parts: dict[str, memoryview] = {}
    for name, where in index.items():
        if not (isinstance(where, list) and len(where) == 2 and all(isinstance(x, int) and x >= 0 for x in where)):
            raise ValueError("a damaged index of binary parts")
        start, length = where
        if start + length > len(view):
            raise ValueError("a binary part beyond the stored data")
        parts[name] = view[start : start + length]
    payload[BINARY] = parts
    return payload


def _json_bytes(payload: Any) -> bytes:
    """A snapshot as UTF-8 JSON (orjson: a 100,000-right copy encodes in ~30 ms, not ~100),
    kept as bytes: no second 30 MB copy as text."""
    return orjson.dumps(payload, option=orjson.OPT_NON_STR_KEYS)


class Store:
    """Thread-safe access to the SQLite file (one connection, one lock).

    :class:`pupitre.providers.core.store_pg.PostgresStore` is the same store on PostgreSQL: it
    overrides the connection, transactions, migrations and the few hooks below that differ
    (:meth:`clock`, :meth:`_lock_credential`, :attr:`_skip_locked`); every query is shared."""

    #: Appended to the ``SELECT`` of a claim: PostgreSQL's row lock (SQLite locks the whole file).
    _skip_locked = ""
    #: Appended to a ``SELECT`` whose row is updated next in the same transaction (idem).
    _for_update = ""
    #: A stored ISO time (with its offset) as a comparable instant, ``{}`` for the column.
    _instant = "julianday({})"
    #: The hidden row id of a table without a key of its own (snapshots).
    _row_id = "rowid"
    #: Where the store is, for messages (a file, or a PostgreSQL URL without its password).
    location = ""
    #: A team's store (PostgreSQL: many hosts), rather than one user's file.
    shared = False
    #: Since when the store's server has not answered (PostgreSQL); ``None``: it answers.
    unreachable_since: dt.datetime | None = None
    #: The store's server not asked yet (PostgreSQL: a dashboard connects after its first frame).
    connecting = False

    def __init__(self, path: Path | str, *, problem: str = "") -> None:
        """Open (create, check, migrate) the store; :class:`StoreError` if it cannot be.
        ``problem`` (an in-memory stand-in only): why nothing can be saved."""
        self.path = Path(path)
        self.location = str(self.path)
        #: False for the in-memory stand-in: nothing written to it survives the process.
        self.durable = str(self.path) != ":memory:"
        self.problem = problem
        self._lock = threading.RLock()
        self._envs: dict[str, str] = {}
        #: Who this session's audit lines and actions name: ``ana@jump-2`` (:meth:`bind_operator`).
        self.operator = ""
        try:
            if self.durable:
                self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                if not self.path.exists():
                    os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
                os.chmod(self.path, 0o600)
            self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise store_error(exc, self.path) from exc
        try:
            self._db.execute(f"PRAGMA busy_timeout={BUSY_SECONDS * 1000:.0f}")
            write_ahead_log(self._db)
            self._db.execute("PRAGMA synchronous=NORMAL")
            found = self._db.execute("PRAGMA quick_check(1)").fetchone()[0]
            if found != "ok":
                raise StoreDamaged(f"the store {self.path} is damaged ({found})")
            self._migrate()
        except StoreError:
            self._db.close()
            raise
        except (OSError, sqlite3.Error) as exc:
            self._db.close()
            raise store_error(exc, self.path) from exc

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        version = self.schema_version
        if version > len(MIGRATIONS):
            raise StoreError(
                f"the store {self.path} has schema {version}, newer than this "
                f"pupitre knows ({len(MIGRATIONS)}): upgrade pupitre"
            )
        if 0 < version < len(MIGRATIONS) and self.durable:
            self.backup_before_migration(version)
        if version == len(MIGRATIONS):
            return
        with self._lock:  # every step in one transaction: another process never sees half of them
            self._db.execute("BEGIN IMMEDIATE")
            try:
                current = self.schema_version  # under the lock: a process starting at once may have done it
                for number, script in enumerate(MIGRATIONS[current:], start=current + 1):
                    for statement in script.split(";"):
                        if statement.strip():
                            self._db.execute(statement)
                    self._db.execute(f"PRAGMA user_version={number}")
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def backup_before_migration(self, version: int) -> Path:
        """A consistent copy next to the file before schema ``version`` is upgraded
        (``pupitre.sqlite3.pre-v2-20261122T140000``); no copy, no upgrade."""
        stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S")
        target = self.path.with_name(f"{self.path.name}.pre-v{version + 1}-{stamp}")
        try:
            backup(self._db, target)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(
                f"the store {self.path} must be upgraded, and it could not be backed up first to {target}: "
                f"{disk_problem(exc)}; nothing was changed"
            ) from exc
        log.info("store backed up before its upgrade to schema %d: %s", version + 1, target)
        return target

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def clock(self) -> float:
        """The clock the quota windows of this store are kept on, shared by every process that
        uses the store: the host's monotonic clock (a SQLite file is on one host)."""
        return time.monotonic()

    def _lock_credential(self, env: str, credential: str) -> None:
        """Inside a transaction: make the other processes' quota takes of ``credential`` wait
        (SQLite: ``BEGIN IMMEDIATE`` has already locked the whole file)."""

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """One transaction for several writes: all of them reach the disk, or none."""
        with self._lock:
            self._do(self._db.execute, "BEGIN IMMEDIATE")
            try:
                yield
                self._do(self._db.execute, "COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
                raise

    def _do(self, call: Any, *args: Any) -> Any:
        try:
            return call(*args)
        except (OSError, sqlite3.Error) as exc:
            if isinstance(exc, sqlite3.IntegrityError | sqlite3.ProgrammingError):
                raise
            raise store_error(exc, self.path) from exc

    # -- environments --------------------------------------------------------------------
    def connect(self) -> None:
        """Connect to the store's server, off the event loop (PostgreSQL: a dashboard after its
        first frame); a file is open already."""

    def bind_environments(self, envs: Mapping[str, str]) -> None:
        """Bind each provider id to its environment id (done once by the runtime): every read
        and write of a provider's rows is then scoped to that environment. Unbound (unit
        tests, tools), every provider is in the sandbox environment."""
        self._envs = dict(envs)

    def bind_operator(self, operator: str) -> None:
        """Who works through this store handle (``ana@jump-2``): written on every audit line
        and action from now on."""
        self.operator = operator

    def env_of(self, name: str) -> str:
        """The environment of a provider, feed (``grtgaz.indicators``), watch-list
        (``switchgrid.orders``) or credential (``grdf_omega:X``): named by its provider prefix."""
        return self._envs.get(re.split(r"[.:/]", name, maxsplit=1)[0], SANDBOX)

    def _row_scope(self) -> tuple[str, list[Any]]:
        """SQL (and parameters) true for a row whose ``env`` is its ``provider``'s environment."""
        if not self._envs:
            return "env = ?", [SANDBOX]
        cases = " ".join("WHEN ? THEN ?" for _ in self._envs)
        params: list[Any] = [value for pair in self._envs.items() for value in pair]
        return f"env = CASE provider {cases} ELSE ? END", [*params, SANDBOX]

    def has_rows(self, provider: str, env: str) -> bool:
        """Whether ``env`` holds any row of ``provider`` (index lookups only: cheap at start)."""
        prefix, after = provider + ".", provider + "/"  # "/" sorts right after "."
        row = self._query(
            "SELECT EXISTS (SELECT 1 FROM audit WHERE provider = ? AND env = ?) "
            "OR EXISTS (SELECT 1 FROM snapshots WHERE env = ? AND feed >= ? AND feed < ?) "
            "OR EXISTS (SELECT 1 FROM outbox WHERE env = ? AND provider = ?) "
            "OR EXISTS (SELECT 1 FROM watchlist WHERE env = ? AND (provider = ? OR (provider >= ? AND provider < ?)))",
            (provider, env, env, prefix, after, env, provider, env, provider, prefix, after),
        )
        return bool(row[0][0])

    def environments_of(self, provider: str) -> set[str]:
        """The environments holding rows of ``provider`` (snapshots, outbox, audit, watch-lists)."""
        prefix = provider + "."
        rows = self._query(
            "SELECT env FROM snapshots WHERE substr(feed, 1, ?) = ? "
            "UNION SELECT env FROM outbox WHERE provider = ? "
            "UNION SELECT env FROM audit WHERE provider = ? "
            "UNION SELECT env FROM watchlist WHERE provider = ? OR substr(provider, 1, ?) = ?",
            (len(prefix), prefix, provider, provider, provider, len(prefix), prefix),
        )
        return {r[0] for r in rows}

    def _exec(self, sql: str, params: tuple[Any, ...] = ()) -> Cursor:
        with self._lock:
            return self._do(self._db.execute, sql, params)  # type: ignore[no-any-return]  # sqlite3's own type

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._do(lambda: self._db.execute(sql, params).fetchall())  # type: ignore[no-any-return]  # idem

    # -- snapshots ---------------------------------------------------------------------
    def save_snapshot(self, feed: str, payload: Any, fetched_at: dt.datetime) -> None:
        self._save_snapshot_row(feed, (_iso(fetched_at), *_packed(payload)))

    def _save_snapshot_row(self, feed: str, row: tuple[str, bytes, bytearray | None]) -> None:
        """Save ``feed``'s result as stored: (fetched_at, payload JSON, binary parts)."""
        fetched_at, payload, data = row
        self._exec(
            "INSERT INTO snapshots (env, feed, fetched_at, first_fetched_at, payload, data) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(env, feed) DO UPDATE SET fetched_at=excluded.fetched_at, "
            "payload=excluded.payload, data=excluded.data",
            (self.env_of(feed), feed, fetched_at, fetched_at, payload, data),
        )

    def read_before(self, feed: str, moment: dt.datetime) -> bool:
        """Whether this store (in ``feed``'s environment) first read ``feed`` before ``moment``:
        what it can say happened "since yesterday" needs a yesterday here. A feed read before
        the store recorded first reads counts as read long ago."""
        rows = self._query("SELECT first_fetched_at FROM snapshots WHERE env=? AND feed=?", (self.env_of(feed), feed))
        if not rows:
            return False
        return rows[0][0] is None or _dt(rows[0][0]) < moment

    def load_snapshot(self, feed: str) -> Snapshot | None:
        row = self._snapshot_row(feed)
        if row is None:
            return None
        try:
            return Snapshot(feed, _dt(row[0]), _unpacked(_json_value(row[1]), row[2]))
        except ValueError:
            return None

    def _snapshot_row(self, feed: str) -> tuple[str, Any, Any] | None:
        """``feed``'s result as stored: (fetched_at, payload JSON, binary parts or ``None``)."""
        rows = self._query(
            "SELECT fetched_at, payload, data FROM snapshots WHERE env=? AND feed=?", (self.env_of(feed), feed)
        )
        return (rows[0][0], rows[0][1], rows[0][2]) if rows else None

    def snapshot_times(self, feeds: list[str]) -> dict[str, dt.datetime]:
        """When each of ``feeds`` was last fetched, by any process (cheap: no payload read)."""
        times: dict[str, dt.datetime] = {}
        for feed in feeds:
            stamp = self._snapshot_stamp(feed)
            if stamp is not None:
                times[feed] = _dt(stamp)
        return times

    def _snapshot_stamp(self, feed: str) -> str | None:
        """When ``feed`` was last fetched, as stored."""
        rows = self._query("SELECT fetched_at FROM snapshots WHERE env=? AND feed=?", (self.env_of(feed), feed))
        return str(rows[0][0]) if rows else None

    def change_watch(self) -> "ChangeWatch":
        """A way to wait for another process's writes (:class:`ChangeWatch`)."""
        return _DataVersionWatch(self)

    # -- feed leases ---------------------------------------------------------------------
    def lease_take(
        self, feed: str, owner: str, label: str, until: float, now: float, alive: Callable[[str], bool]
    ) -> tuple[bool, str]:
        """Take or renew the lease of ``feed`` (in its environment) for ``owner`` until ``until``,
        in one transaction: refused while another owner's lease runs (not expired, owner
        ``alive``). Returns ``(taken, the label of the process that polls it)``."""
        env = self.env_of(feed)
        with self.batch():
            inserted = self._exec(
                "INSERT INTO feed_leases (env, feed, holder, label, lease_until) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (env, feed, owner, label, until),
            )
            if inserted.rowcount:
                return True, label
            rows = self._query(
                f"SELECT holder, label, lease_until FROM feed_leases WHERE env=? AND feed=?{self._for_update}",
                (env, feed),
            )
            if rows:
                holder, holder_label, holder_until = rows[0]
                if holder != owner and float(holder_until) >= now and alive(holder):
                    return False, str(holder_label)
            self._exec(
                "UPDATE feed_leases SET holder=?, label=?, lease_until=? WHERE env=? AND feed=?",
                (owner, label, until, env, feed),
            )
        return True, label

    def lease_release(self, owner: str, feed: str | None = None) -> None:
        """Give up every lease of ``owner`` (a clean exit: the followers take over at once),
        or only its lease of ``feed``."""
        if feed is None:
            self._exec("DELETE FROM feed_leases WHERE holder=?", (owner,))
        else:
            self._exec("DELETE FROM feed_leases WHERE env=? AND feed=? AND holder=?", (self.env_of(feed), feed, owner))

    # -- history -----------------------------------------------------------------------
    def add_history(self, feed: str, key: str, at: dt.datetime, old: str | None, new: str, detail: str = "") -> None:
        self._exec(
            "INSERT INTO history (env, feed, key, at, old, new, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (self.env_of(feed), feed, key, _iso(at), old, new, detail),
        )

    def history(self, feed: str, key: str | None = None, limit: int = 50) -> list[HistoryEntry]:
        if key is None:
            rows = self._query(
                "SELECT feed, key, at, old, new, detail FROM history WHERE env=? AND feed=? ORDER BY id DESC LIMIT ?",
                (self.env_of(feed), feed, limit),
            )
        else:
            rows = self._query(
                "SELECT feed, key, at, old, new, detail FROM history "
                "WHERE env=? AND feed=? AND key=? ORDER BY id DESC LIMIT ?",
                (self.env_of(feed), feed, key, limit),
            )
        return [HistoryEntry(r[0], r[1], _dt(r[2]), r[3], r[4], r[5]) for r in rows]

    def record_states(self, feed: str, states: Sequence[tuple[str, dt.datetime, str, str]]) -> int:
        """Keep a timeline of each key's state: ``(key, since, state, detail)`` rows are added
        only when ``state`` differs from the key's latest stored one (history rows of ``feed``,
        ``at`` in UTC, ``old`` = the state before). Any process recording a result writes for every key, so
        every process reads the same timeline. Returns how many rows were added."""
        if not states:
            return 0
        env = self.env_of(feed)
        added = 0
        with self.batch():  # read and write under one write lock: two processes never both add a row
            last: dict[str, str] = {}
            for key, since, state, detail in states:
                if key not in last:
                    # ``at`` is written in UTC, so its text orders as the instants do: one index seek
                    found = self._query(
                        "SELECT new FROM history WHERE env=? AND feed=? AND key=? ORDER BY at DESC, id DESC LIMIT 1",
                        (env, feed, key),
                    )
                    last[key] = found[0][0] if found else ""
                if last[key] == state:
                    continue
                self._exec(
                    "INSERT INTO history (env, feed, key, at, old, new, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (env, feed, key, _iso(since.astimezone(dt.timezone.utc)), last[key] or None, state, detail),
                )
                last[key] = state
                added += 1
        return added

    def states(self, feed: str, key: str, limit: int = 200) -> list[HistoryEntry]:
        """The latest ``limit`` rows of one key's timeline (:meth:`record_states`), newest first."""
        rows = self._query(
            "SELECT feed, key, at, old, new, detail FROM history "
            "WHERE env=? AND feed=? AND key=? ORDER BY at DESC, id DESC LIMIT ?",
            (self.env_of(feed), feed, key, limit),
        )
        return [HistoryEntry(r[0], r[1], _dt(r[2]), r[3], r[4], r[5]) for r in rows]

    # -- outbox ------------------------------------------------------------------------
    def outbox_add(self, provider: str, action: str, payload: Any, now: dt.datetime) -> int:
        rows = self._query(
            "INSERT INTO outbox (env, provider, action, payload, created_at, updated_at, operator) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (self.env_of(provider), provider, action, json.dumps(payload), _iso(now), _iso(now), self.operator),
        )
        return int(rows[0][0])

    def outbox_update(
        self,
        item_id: int,
        status: str,
        now: dt.datetime,
        *,
        error: str = "",
        response: str = "",
        attempted: bool = True,
        readback: str | None = None,
    ) -> None:
        """``readback``: set in the same write (``READBACK_OWED`` as the answer is recorded)."""
        scope, params = self._row_scope()
        self._exec(
            "UPDATE outbox SET status=?, updated_at=?, last_error=?, response=?, attempts=attempts+?, "
            f"readback=COALESCE(?, readback) WHERE id=? AND {scope}",
            (status, _iso(now), error, response, 1 if attempted else 0, readback, item_id, *params),
        )

    def outbox_readback(self, item_id: int, state: str, note: str) -> None:
        """Record where a delivered action's read-back stands (``READBACK_*``) and what it found."""
        scope, params = self._row_scope()
        self._exec(
            f"UPDATE outbox SET readback=?, readback_note=? WHERE id=? AND {scope}", (state, note, item_id, *params)
        )

    def outbox(
        self,
        provider: str | None = None,
        status: str | None = None,
        *,
        include_held: bool = False,
        readback: str | None = None,
        item_id: int | None = None,
    ) -> list[OutboxItem]:
        """This session's actions (of each provider's environment), oldest first; with
        ``include_held``, the held actions from before environments too (to show them);
        only those whose read-back is ``readback``, or only ``item_id``."""
        scope, params = self._row_scope()
        if provider is not None:
            scope, params = "env=?", [self.env_of(provider)]
        if include_held:
            scope = f"({scope} OR status='{OUTBOX_HELD}')"
        sql = f"SELECT {_OUTBOX_SELECT} FROM outbox WHERE {scope}"
        for column, value in (("provider", provider), ("status", status), ("readback", readback), ("id", item_id)):
            if value is not None:
                sql += f" AND {column}=?"
                params.append(value)
        return self._outbox_items(sql + " ORDER BY id", tuple(params))

    def outbox_any_environment(self, status: str | None = None) -> list[OutboxItem]:
        """Every environment's actions (``pupitre outbox``), oldest first."""
        where, params = ("WHERE status=?", (status,)) if status is not None else ("", ())
        return self._outbox_items(f"SELECT {_OUTBOX_SELECT} FROM outbox {where} ORDER BY id", params)

    def _outbox_items(self, sql: str, params: tuple[Any, ...]) -> list[OutboxItem]:
        return [
            OutboxItem(
                r[0],
                r[1],
                r[2],
                json.loads(r[3]),
                r[4],
                _dt(r[5]),
                _dt(r[6]),
                r[7],
                r[8],
                r[9],
                r[10],
                _dt(r[11]) if r[11] else None,
                r[12],
                r[13],
                r[14],
                r[15],
            )
            for r in self._query(sql, params)
        ]

    def outbox_resolve_held(self, item_id: int, status: str, env: str, now: dt.datetime, note: str) -> bool:
        """The operator's decision on a held action: ``pending`` in ``env`` (released: sent
        there next) or ``dropped``. False when ``item_id`` is not held (any more)."""
        cursor = self._exec(
            "UPDATE outbox SET status=?, env=?, updated_at=?, last_error=? WHERE id=? AND status=?",
            (status, env, _iso(now), note, item_id, OUTBOX_HELD),
        )
        return bool(cursor.rowcount)

    def outbox_claim(
        self,
        item_id: int,
        owner: str,
        until: float,
        now: float,
        alive: Callable[[str], bool],
        *,
        readback: bool = False,
    ) -> bool:
        """Claim a pending action of this session's environments for ``owner`` until ``until``
        (seconds since the epoch), in one transaction: refused while another owner's claim runs
        (not expired, owner ``alive``), and for another environment's action. With ``readback``:
        a delivered action whose read-back is owed, instead."""
        scope, params = self._row_scope()
        with self.batch():
            rows = self._query(
                f"SELECT status, claimed_by, claim_until, readback FROM outbox "
                f"WHERE id=? AND {scope}{self._skip_locked}",
                (item_id, *params),
            )
            status, holder, holder_until, state = rows[0] if rows else (None, None, None, None)
            free = holder is None or holder == owner or (holder_until or 0.0) < now or not alive(holder)
            due = (status, state) == (OUTBOX_DELIVERED, READBACK_OWED) if readback else status == OUTBOX_PENDING
            claimed = due and free
            if claimed:
                self._exec("UPDATE outbox SET claimed_by=?, claim_until=? WHERE id=?", (owner, until, item_id))
        return bool(claimed)

    def outbox_release(self, item_id: int, owner: str) -> None:
        """Give up ``owner``'s claim (after an attempt, whatever its outcome)."""
        self._exec("UPDATE outbox SET claimed_by=NULL, claim_until=NULL WHERE id=? AND claimed_by=?", (item_id, owner))

    def outbox_sending(self, item_id: int, since: dt.datetime | None) -> None:
        """Mark the start of an attempt that may reach the API (``None``: it has been answered)."""
        scope, params = self._row_scope()
        self._exec(
            f"UPDATE outbox SET sending_since=? WHERE id=? AND {scope}",
            (_iso(since) if since else None, item_id, *params),
        )

    # -- audit -------------------------------------------------------------------------
    def audit(
        self, provider: str, action: str, outcome: str, at: dt.datetime, detail: str = "", *, env: str | None = None
    ) -> None:
        """One audit line, in ``provider``'s environment (or ``env``, for the operator's
        decisions on held actions), naming :attr:`operator`."""
        self._exec(
            "INSERT INTO audit (env, at, provider, action, outcome, detail, operator) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (env or self.env_of(provider), _iso(at), provider, action, outcome, detail, self.operator),
        )

    def audit_log(self, provider: str | None = None, limit: int = 100) -> list[tuple[str, str, str, str, str]]:
        """This session's audit lines (each provider's environment), newest first:
        ``(at, provider, action, outcome, detail)``."""
        return [(e.at, e.provider, e.action, e.outcome, e.detail) for e in self.audit_entries(provider, limit)]

    def audit_entries(
        self,
        provider: str | None = None,
        limit: int | None = 100,
        *,
        all_environments: bool = False,
        since: dt.datetime | None = None,
        outcome: str | None = None,
        until: dt.datetime | None = None,
        after: int | None = None,
    ) -> list[AuditEntry]:
        """Audit lines with their environment and who, newest first: this session's
        environments, or every environment's (``pupitre audit --all``); only ``provider``'s,
        those at or after ``since`` and before ``until``, those of ``outcome``, those written
        after the line numbered ``after``; at most ``limit`` (``None``: all)."""
        scope, params = self._row_scope()
        if all_environments:
            scope, params = "1=1", []
        if provider is not None:
            scope += " AND provider=?"
            params.append(provider)
        if since is not None:
            scope += f" AND {self._instant.format('at')} >= {self._instant.format('?')}"  # offsets differ
            params.append(_iso(since))
        if until is not None:
            scope += f" AND {self._instant.format('at')} < {self._instant.format('?')}"
            params.append(_iso(until))
        if outcome is not None:
            scope += " AND outcome=?"
            params.append(outcome)
        if after is not None:
            scope += " AND id > ?"
            params.append(after)
        rows = self._query(
            f"SELECT at, env, provider, action, outcome, detail, operator, id FROM audit WHERE {scope} ORDER BY id DESC"
            + ("" if limit is None else " LIMIT ?"),
            (*params,) if limit is None else (*params, limit),
        )
        return [AuditEntry(*r) for r in rows]

    # -- alerts ----------------------------------------------------------------------------
    def _alerts(self, where: str, params: tuple[Any, ...], limit: int | None = None) -> list[Alert]:
        rows = self._query(
            f"SELECT {_ALERT_SELECT} FROM alerts WHERE {where} ORDER BY id DESC"
            + ("" if limit is None else " LIMIT ?"),
            params if limit is None else (*params, limit),
        )
        return [
            Alert(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                r[5],
                _dt(r[6]),
                _dt(r[7]) if r[7] else None,
                _dt(r[8]) if r[8] else None,
                r[9],
                _dt(r[10]) if r[10] else None,
            )
            for r in rows
        ]

    def alerts_open(self) -> list[Alert]:
        """The open alerts of this session's environments, newest first."""
        scope, params = self._row_scope()
        return self._alerts(f"{scope} AND cleared_at IS NULL", tuple(params))

    def alert_history(self, limit: int = 500) -> list[Alert]:
        """This session's alerts, open and cleared, newest first."""
        scope, params = self._row_scope()
        return self._alerts(scope, tuple(params), limit)

    def alert(self, alert_id: int) -> Alert | None:
        found = self._alerts("id=?", (alert_id,))
        return found[0] if found else None

    def alert_raise(self, key: str, provider: str, severity: str, message: str, now: dt.datetime) -> Alert | None:
        """Open the alert ``key`` in ``provider``'s environment; ``None`` when it is open already
        (another process raised it: the partial unique index keeps one open row per key)."""
        rows = self._query(
            "INSERT INTO alerts (env, key, provider, severity, message, raised_at) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING RETURNING id",
            (self.env_of(provider), key, provider, severity, message, _iso(now)),
        )
        return self.alert(int(rows[0][0])) if rows else None

    def alert_update(self, alert_id: int, severity: str, message: str) -> None:
        """An open alert's cause is still there, worded or graded otherwise. Graded worse
        (attention → critical), it is new news: unseen and unannounced again (the bell, the
        desktop and ``[alerts] command`` say it once more, across processes)."""
        self._exec(
            "UPDATE alerts SET severity=?, message=?, "
            "seen_at=CASE WHEN severity='attention' AND ?='critical' THEN NULL ELSE seen_at END, "
            "seen_by=CASE WHEN severity='attention' AND ?='critical' THEN '' ELSE seen_by END, "
            "announced_at=CASE WHEN severity='attention' AND ?='critical' THEN NULL ELSE announced_at END, "
            "announce_by=CASE WHEN severity='attention' AND ?='critical' THEN NULL ELSE announce_by END "
            "WHERE id=? AND cleared_at IS NULL",
            (severity, message, severity, severity, severity, severity, alert_id),
        )

    def alert_clear(self, alert_id: int, now: dt.datetime) -> bool:
        """Its cause went away; False when it was cleared already."""
        cursor = self._exec("UPDATE alerts SET cleared_at=? WHERE id=? AND cleared_at IS NULL", (_iso(now), alert_id))
        return bool(cursor.rowcount)

    def alert_seen(self, alert_id: int, by: str, now: dt.datetime) -> bool:
        """The operator ``by`` has seen it (acknowledged on a console); False when seen already."""
        cursor = self._exec(
            "UPDATE alerts SET seen_at=?, seen_by=? WHERE id=? AND seen_at IS NULL", (_iso(now), by, alert_id)
        )
        return bool(cursor.rowcount)

    def alert_claim(self, alert_id: int, owner: str, until: float, now: float, alive: Callable[[str], bool]) -> bool:
        """Claim the announcement of an alert (the ``[alerts] command``) for ``owner`` until
        ``until`` (seconds since the epoch), in one transaction: refused once it was announced,
        and while another owner's claim runs (not expired, owner ``alive``)."""
        with self.batch():
            rows = self._query(
                f"SELECT announce_by, announce_until, announced_at FROM alerts WHERE id=?{self._skip_locked}",
                (alert_id,),
            )
            if not rows or rows[0][2] is not None:
                return False
            holder, holder_until = rows[0][0], rows[0][1]
            if holder is not None and holder != owner and (holder_until or 0.0) >= now and alive(holder):
                return False
            self._exec("UPDATE alerts SET announce_by=?, announce_until=? WHERE id=?", (owner, until, alert_id))
        return True

    def alert_announced(self, alert_id: int, owner: str, now: dt.datetime) -> None:
        """The claimed announcement was made (the command ran, whatever its outcome)."""
        self._exec(
            "UPDATE alerts SET announced_at=?, announce_until=NULL WHERE id=? AND announce_by=?",
            (_iso(now), alert_id, owner),
        )

    # -- retention -------------------------------------------------------------------------
    def prune(
        self,
        now: dt.datetime,
        retention: Retention,
        *,
        batch: int = 2000,
        stop: threading.Event | None = None,
    ) -> dict[str, int]:
        """Delete audit lines, history rows, snapshots and cleared alerts older than ``retention``
        keeps them, every environment's, ``batch`` rows per transaction (the lock is free between two: a
        dashboard's reads and writes go on). Returns the rows deleted per table; stops early
        when ``stop`` is set."""
        deleted: dict[str, int] = {}
        plan = (
            ("audit", "id", "at", retention.audit_days),
            ("history", "id", "at", retention.history_days),
            ("snapshots", self._row_id, "fetched_at", retention.snapshots_days),
            ("alerts", "id", "cleared_at", retention.history_days),  # an open alert has none: kept
        )
        for table, key, column, days in plan:
            cutoff = _iso(now - dt.timedelta(days=days))
            deleted[table] = 0
            while stop is None or not stop.is_set():
                cursor = self._exec(
                    f"DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table} "
                    f"WHERE {self._instant.format(column)} < {self._instant.format('?')} LIMIT ?)",
                    (cutoff, batch),
                )
                deleted[table] += max(cursor.rowcount, 0)
                if cursor.rowcount < batch:
                    break
        return deleted

    # -- watch-lists ----------------------------------------------------------------------
    def watch_add(self, provider: str, keys: list[str], now: dt.datetime) -> list[str]:
        """Add keys (in one transaction); return those that were new (duplicates are skipped)."""
        added = []
        env = self.env_of(provider)
        with self.batch():
            for key in keys:
                cursor = self._exec(
                    "INSERT INTO watchlist (env, provider, key, added_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    (env, provider, key, _iso(now)),
                )
                if cursor.rowcount:
                    added.append(key)
        return added

    def watch_remove(self, provider: str, key: str) -> bool:
        return bool(
            self._exec(
                "DELETE FROM watchlist WHERE env=? AND provider=? AND key=?", (self.env_of(provider), provider, key)
            ).rowcount
        )

    def watch_list(self, provider: str) -> list[tuple[str, str | None]]:
        """``(key, seen)`` in the order they were added."""
        return [
            (r[0], r[1])
            for r in self._query(
                "SELECT key, seen FROM watchlist WHERE env=? AND provider=? ORDER BY added_at, id",
                (self.env_of(provider), provider),
            )
        ]

    def watch_seen(self, provider: str, key: str, seen: str) -> None:
        """Record what the operator has now seen of ``key`` (e.g. its status)."""
        self._exec(
            "UPDATE watchlist SET seen=? WHERE env=? AND provider=? AND key=?",
            (seen, self.env_of(provider), provider, key),
        )

    def watch_settle(self, provider: str, key: str, seen: str) -> bool:
        """Record ``seen`` for ``key`` only if nothing is recorded for it yet, in one statement:
        of several processes settling the same key, exactly one gets ``True`` (the one that
        then audits and tells the operator, e.g. a program's feasibility verdict)."""
        cursor = self._exec(
            "UPDATE watchlist SET seen=? WHERE env=? AND provider=? AND key=? AND seen IS NULL",
            (seen, self.env_of(provider), provider, key),
        )
        return bool(cursor.rowcount)

    # -- quota counters ----------------------------------------------------------------
    def quota_count(self, credential: str, day: dt.date) -> int:
        rows = self._query(
            "SELECT count FROM quota WHERE env=? AND credential=? AND day=?",
            (self.env_of(credential), credential, day.isoformat()),
        )
        return int(rows[0][0]) if rows else 0

    def quota_take(
        self,
        credential: str,
        *,
        day: dt.date,
        per_day: int | None,
        window: int,
        period: float,
        now: float | Callable[[], float],
    ) -> float | None:
        """Take one call of ``credential``'s quota for every process on this store, atomically.

        The rate is a sliding window: at most ``window`` calls in any ``period`` seconds; ``now``
        is on a clock every process on this store shares (:meth:`clock`) — a clock is read
        once the transaction holds the credential's lock, so no other process's stamp is later than it
        (slots move to their answer's time: :meth:`quota_answered`). Returns ``None``
        when today's ``per_day`` calls are used up (nothing taken), ``0.0`` when the call was
        taken (and counted for ``day``), else the seconds to wait before asking again.
        Timestamps later than ``now`` come from before a reboot and are dropped.
        Counted in the credential's environment (the simulator's calls spend no real quota)."""
        env = self.env_of(credential)
        with self.batch():
            self._lock_credential(env, credential)
            at = now() if callable(now) else now
            return self._quota_take(env, credential, day.isoformat(), per_day, window, period, at)

    def quota_answered(self, credential: str, stamp: float, now: Callable[[], float]) -> None:
        """The call taken at ``stamp`` has had its answer: its slot counts from ``now()``, read
        once the transaction holds the store (as :meth:`quota_take` reads its clock)."""
        env = self.env_of(credential)
        with self.batch():
            self._lock_credential(env, credential)
            self._exec(
                "UPDATE quota_calls SET at=? WHERE env=? AND credential=? AND at=?",
                (now(), self.env_of(credential), credential, stamp),
            )

    def _quota_take(
        self, env: str, credential: str, day: str, per_day: int | None, window: int, period: float, now: float
    ) -> float | None:
        if per_day is not None:
            rows = self._query("SELECT count FROM quota WHERE env=? AND credential=? AND day=?", (env, credential, day))
            if rows and int(rows[0][0]) >= per_day:
                return None
        if window > 0:
            self._exec(
                "DELETE FROM quota_calls WHERE env=? AND credential=? AND (at <= ? OR at > ?)",
                (env, credential, now - period, now),
            )
            ((count, oldest),) = self._query(
                "SELECT count(*), min(at) FROM quota_calls WHERE env=? AND credential=?", (env, credential)
            )
            if count >= window:
                return max(float(oldest) + period - now, 1e-3)
            self._exec("INSERT INTO quota_calls (env, credential, at) VALUES (?, ?, ?)", (env, credential, now))
        self._exec(
            "INSERT INTO quota (env, credential, day, count) VALUES (?, ?, ?, 1) "
            "ON CONFLICT(env, credential, day) DO UPDATE SET count=quota.count+1",
            (env, credential, day),
        )
        return 0.0


class ChangeWatch(Protocol):
    """Waits for other processes' writes to the store (new feed results)."""

    def wait(self, timeout: float) -> bool:
        """Block up to ``timeout`` seconds; true when another process wrote meanwhile."""

    def close(self) -> None: ...


class _DataVersionWatch:
    """SQLite: ``PRAGMA data_version`` changes when another connection commits to the file; it
    is read every :data:`POLL` seconds (a read of the file's header, no table)."""

    POLL = 0.1

    def __init__(self, store: Store) -> None:
        self.store = store
        self.seen = self._version()

    def _version(self) -> int:
        return int(self.store._query("PRAGMA data_version")[0][0])

    def wait(self, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while True:
            version = self._version()
            if version != self.seen:
                self.seen = version
                return True
            left = end - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(self.POLL, left))

    def close(self) -> None:
        """Nothing of its own to close (it reads through the store's connection)."""


# -- integrity, backups, and starting anyway ----------------------------------------------
def _connect_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection (a dashboard may be writing: WAL readers do not block it)."""
    if not path.is_file():
        raise StoreError(f"no store at {path}")
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)


def integrity_check(path: Path) -> list[str]:
    """``PRAGMA integrity_check`` of the store at ``path``: ``[]`` when sound, else the findings.
    :class:`StoreError` when it cannot be read at all."""
    try:
        db = _connect_read_only(path)
        try:
            rows = db.execute("PRAGMA integrity_check").fetchall()
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        return [str(exc)]
    findings = [str(row[0]) for row in rows]
    return [] if findings == ["ok"] else findings


def backup(source: sqlite3.Connection | Path, target: Path) -> Path:
    """A consistent copy of the store with SQLite's backup API (safe while pupitre runs),
    written user-only (0600) and in full, or not at all (a ``.part`` file renamed at the end)."""
    own = not isinstance(source, sqlite3.Connection)
    db = _connect_read_only(source) if isinstance(source, Path) else source
    part = target.with_name(f"{target.name}.{os.getpid()}.part")  # two processes may copy at once
    try:
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if part.exists():
            part.unlink()
        os.close(os.open(part, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600))
        copy = sqlite3.connect(str(part))
        try:
            db.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")
        finally:
            copy.close()
        os.replace(part, target)
    except BaseException:
        with contextlib.suppress(OSError):
            part.unlink()
        raise
    finally:
        if own:
            db.close()
    return target


class StoreNotice(msgspec.Struct, frozen=True):
    """Why the store in use is not the usual one; shown as a banner and by ``pupitre check``."""

    level: Level  # "attention" (damaged, replaced) or "critical" (nothing can be saved)
    message: str


_OUTBOX_COLUMNS = ("provider", "action", "payload", "status", "created_at", "updated_at", "attempts", "last_error")
# Carried over too when the damaged store has them: the answer, the mark of an attempt that
# got no answer (the next attempt must look for its trace at the API before sending again), and
# a delivered action's read-back state (an owed read-back is resumed in the new store).
_OUTBOX_LATER_COLUMNS = ("response", "sending_since", "env", "operator", "readback", "readback_note")


def _carry_over_pending(damaged: Path, store: Store) -> int | None:
    """Copy the damaged store's unfinished actions into the new one — pending ones, and
    delivered ones whose read-back is owed; ``None`` if unreadable."""
    try:
        db = _connect_read_only(damaged)
        try:
            present = {row[1] for row in db.execute("PRAGMA table_info(outbox)")}
            columns = ", ".join(_OUTBOX_COLUMNS + tuple(c for c in _OUTBOX_LATER_COLUMNS if c in present))
            owed = " OR (status=? AND readback=?)" if "readback" in present else ""
            params = (OUTBOX_PENDING, OUTBOX_DELIVERED, READBACK_OWED) if owed else (OUTBOX_PENDING,)
            rows = db.execute(f"SELECT {columns} FROM outbox WHERE status=?{owed} ORDER BY id", params)
            pending = rows.fetchall()
        finally:
            db.close()
    except (sqlite3.Error, StoreError):
        return None
    with store.batch():
        for row in pending:
            marks = ", ".join("?" * len(row))
            store._exec(f"INSERT INTO outbox ({columns}) VALUES ({marks})", tuple(row))
    return len(pending)


def move_aside(path: Path, now: dt.datetime) -> Path:
    """Rename the store (and its WAL files) to ``<name>.damaged-<timestamp>``; return the new path."""
    target = path.with_name(f"{path.name}.damaged-{now:%Y%m%dT%H%M%S}")
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{path}{suffix}")
        if source.exists():
            os.replace(source, Path(f"{target}{suffix}"))
    return target


def open_store(path: Path, now: dt.datetime | None = None) -> tuple[Store, StoreNotice | None]:
    """The store at ``path``, or the best pupitre can start with, and a notice saying what happened:

    * damaged: moved aside with a timestamp, a new store started, its pending actions carried
      over when readable; the notice names the file and the command that recovers the rest;
    * not writable (read-only directory, disk full, I/O): a store in memory; nothing can be saved.
    A store of a newer pupitre, or one that could not be backed up before its upgrade, is refused.
    """
    now = now or dt.datetime.now()
    try:
        return Store(path), None
    except StoreDamaged as damage:
        log.error("%s", damage)
        try:
            aside = move_aside(path, now)
            store = Store(path)
        except (OSError, StoreError) as exc:
            problem = f"the store {path} is damaged and could not be replaced ({disk_problem(exc)})"
            return Store(":memory:", problem=problem), StoreNotice("critical", f"Nothing can be saved: {problem}.")
        carried = _carry_over_pending(aside, store)
        kept = (
            f" {carried} unfinished action(s) (pending, or delivered and not yet read back) were carried over."
            if carried
            else " Its pending actions could not be read."
            if carried is None
            else ""
        )
        recover = f"sqlite3 {aside} .recover | sqlite3 {path}.recovered"
        message = (
            f"The store was damaged: moved aside to {aside}, a new one was started "
            f"(history and last data start again).{kept} To recover the rest: {recover}"
        )
        log.warning("%s", message)
        return store, StoreNotice("attention", message)
    except StoreWriteError as failure:
        log.error("%s", failure)
        problem = disk_problem(failure.__cause__ or failure)
        message = (
            f"Nothing can be saved: {problem} ({path.parent}). pupitre runs from memory; "
            "actions cannot be sent from here until this is fixed and pupitre restarted."
        )
        return Store(":memory:", problem=message), StoreNotice("critical", message)
