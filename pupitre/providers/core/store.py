"""The SQLite store: feed snapshots, history, outbox, audit log, quota counters.

One file in the platformdirs data dir, WAL journal, mode 0600. The schema is
versioned with ``PRAGMA user_version`` and upgraded by the ordered migrations
below; a store written by a newer pupitre is refused rather than damaged.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import orjson

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
]

OUTBOX_PENDING = "pending"
OUTBOX_DELIVERED = "delivered"
OUTBOX_FAILED = "failed"


class StoreError(Exception):
    """The store cannot be opened or is of an unknown (newer) schema."""


@dataclass(frozen=True)
class Snapshot:
    feed: str
    fetched_at: dt.datetime
    payload: Any


@dataclass(frozen=True)
class HistoryEntry:
    feed: str
    key: str
    at: dt.datetime
    old: str | None
    new: str
    detail: str


@dataclass(frozen=True)
class OutboxItem:
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


def _iso(value: dt.datetime) -> str:
    return value.isoformat()


def _dt(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def _json_bytes(payload: Any) -> bytes:
    """A snapshot as UTF-8 JSON (orjson: a 100,000-right copy encodes in ~30 ms, not ~100),
    kept as bytes: no second 30 MB copy as text."""
    return orjson.dumps(payload, option=orjson.OPT_NON_STR_KEYS)


class Store:
    """Thread-safe access to the SQLite file (one connection, one lock)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not self.path.exists():
                os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
            os.chmod(self.path, 0o600)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open the store {self.path}: {exc}") from exc

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
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            with self._lock:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    for statement in script.split(";"):
                        if statement.strip():
                            self._db.execute(statement)
                    self._db.execute(f"PRAGMA user_version={number}")
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _exec(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        with self._lock:
            return self._db.execute(sql, params)

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    # -- snapshots ---------------------------------------------------------------------
    def save_snapshot(self, feed: str, payload: Any, fetched_at: dt.datetime) -> None:
        self._exec(
            "INSERT INTO snapshots (feed, fetched_at, payload) VALUES (?, ?, ?) "
            "ON CONFLICT(feed) DO UPDATE SET fetched_at=excluded.fetched_at, "
            "payload=excluded.payload",
            (feed, _iso(fetched_at), _json_bytes(payload)),
        )

    def load_snapshot(self, feed: str) -> Snapshot | None:
        rows = self._query("SELECT fetched_at, payload FROM snapshots WHERE feed=?", (feed,))
        if not rows:
            return None
        try:
            return Snapshot(feed, _dt(rows[0][0]), orjson.loads(rows[0][1]))
        except ValueError:
            return None

    # -- history -----------------------------------------------------------------------
    def add_history(self, feed: str, key: str, at: dt.datetime, old: str | None, new: str, detail: str = "") -> None:
        self._exec(
            "INSERT INTO history (feed, key, at, old, new, detail) VALUES (?, ?, ?, ?, ?, ?)",
            (feed, key, _iso(at), old, new, detail),
        )

    def history(self, feed: str, key: str | None = None, limit: int = 50) -> list[HistoryEntry]:
        if key is None:
            rows = self._query(
                "SELECT feed, key, at, old, new, detail FROM history WHERE feed=? ORDER BY id DESC LIMIT ?",
                (feed, limit),
            )
        else:
            rows = self._query(
                "SELECT feed, key, at, old, new, detail FROM history WHERE feed=? AND key=? ORDER BY id DESC LIMIT ?",
                (feed, key, limit),
            )
        return [HistoryEntry(r[0], r[1], _dt(r[2]), r[3], r[4], r[5]) for r in rows]

    # -- outbox ------------------------------------------------------------------------
    def outbox_add(self, provider: str, action: str, payload: Any, now: dt.datetime) -> int:
        cursor = self._exec(
            "INSERT INTO outbox (provider, action, payload, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
            (provider, action, json.dumps(payload), _iso(now), _iso(now)),
        )
        return int(cursor.lastrowid or 0)

    def outbox_update(
        self,
        item_id: int,
        status: str,
        now: dt.datetime,
        *,
        error: str = "",
        response: str = "",
        attempted: bool = True,
    ) -> None:
        self._exec(
            "UPDATE outbox SET status=?, updated_at=?, last_error=?, response=?, attempts=attempts+? WHERE id=?",
            (status, _iso(now), error, response, 1 if attempted else 0, item_id),
        )

    def outbox(self, provider: str | None = None, status: str | None = None) -> list[OutboxItem]:
        sql = (
            "SELECT id, provider, action, payload, status, created_at, updated_at, attempts, "
            "last_error, response, claimed_by, sending_since FROM outbox WHERE 1=1"
        )
        params: list[Any] = []
        if provider is not None:
            sql += " AND provider=?"
            params.append(provider)
        if status is not None:
            sql += " AND status=?"
            params.append(status)
        rows = self._query(sql + " ORDER BY id", tuple(params))
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
            )
            for r in rows
        ]

    def outbox_claim(self, item_id: int, owner: str, until: float, now: float, alive: Callable[[str], bool]) -> bool:
        """Claim a pending action for ``owner`` until ``until`` (seconds since the epoch), in one
        transaction: refused while another owner's claim runs (not expired, owner ``alive``)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute("SELECT status, claimed_by, claim_until FROM outbox WHERE id=?", (item_id,))
                status, holder, holder_until = row.fetchone() or (None, None, None)
                free = holder is None or holder == owner or (holder_until or 0.0) < now or not alive(holder)
                claimed = status == OUTBOX_PENDING and free
                if claimed:
                    self._db.execute(
                        "UPDATE outbox SET claimed_by=?, claim_until=? WHERE id=?", (owner, until, item_id)
                    )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return claimed

    def outbox_release(self, item_id: int, owner: str) -> None:
        """Give up ``owner``'s claim (after an attempt, whatever its outcome)."""
        self._exec("UPDATE outbox SET claimed_by=NULL, claim_until=NULL WHERE id=? AND claimed_by=?", (item_id, owner))

    def outbox_sending(self, item_id: int, since: dt.datetime | None) -> None:
        """Mark the start of an attempt that may reach the API (``None``: it has been answered)."""
        self._exec("UPDATE outbox SET sending_since=? WHERE id=?", (_iso(since) if since else None, item_id))

    # -- audit -------------------------------------------------------------------------
    def audit(self, provider: str, action: str, outcome: str, at: dt.datetime, detail: str = "") -> None:
        self._exec(
            "INSERT INTO audit (at, provider, action, outcome, detail) VALUES (?, ?, ?, ?, ?)",
            (_iso(at), provider, action, outcome, detail),
        )

    def audit_log(self, provider: str | None = None, limit: int = 100) -> list[tuple[str, str, str, str, str]]:
        if provider is None:
            return [
                tuple(r)
                for r in self._query(
                    "SELECT at, provider, action, outcome, detail FROM audit ORDER BY id DESC LIMIT ?", (limit,)
                )
            ]
        return [
            tuple(r)
            for r in self._query(
                "SELECT at, provider, action, outcome, detail FROM audit WHERE provider=? ORDER BY id DESC LIMIT ?",
                (provider, limit),
            )
        ]

    # -- watch-lists ----------------------------------------------------------------------
    def watch_add(self, provider: str, keys: list[str], now: dt.datetime) -> list[str]:
        """Add keys (in one transaction); return those that were new (duplicates are skipped)."""
        added = []
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for key in keys:
                    cursor = self._db.execute(
                        "INSERT OR IGNORE INTO watchlist (provider, key, added_at) VALUES (?, ?, ?)",
                        (provider, key, _iso(now)),
                    )
                    if cursor.rowcount:
                        added.append(key)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return added

    def watch_remove(self, provider: str, key: str) -> bool:
        return bool(self._exec("DELETE FROM watchlist WHERE provider=? AND key=?", (provider, key)).rowcount)

    def watch_list(self, provider: str) -> list[tuple[str, str | None]]:
        """``(key, seen)`` in the order they were added."""
        return [
            (r[0], r[1])
            for r in self._query(
                "SELECT key, seen FROM watchlist WHERE provider=? ORDER BY added_at, rowid", (provider,)
            )
        ]

    def watch_seen(self, provider: str, key: str, seen: str) -> None:
        """Record what the operator has now seen of ``key`` (e.g. its status)."""
        self._exec("UPDATE watchlist SET seen=? WHERE provider=? AND key=?", (seen, provider, key))

    # -- quota counters ----------------------------------------------------------------
    def quota_count(self, credential: str, day: dt.date) -> int:
        rows = self._query("SELECT count FROM quota WHERE credential=? AND day=?", (credential, day.isoformat()))
        return int(rows[0][0]) if rows else 0

    def quota_take(
        self, credential: str, *, day: dt.date, per_day: int | None, window: int, period: float, now: float
    ) -> float | None:
        """Take one call of ``credential``'s quota for every process on this store, atomically.

        The rate is a sliding window: at most ``window`` calls in any ``period`` seconds; ``now``
        is on a clock every process of the host shares (``time.monotonic``). Returns ``None``
        when today's ``per_day`` calls are used up (nothing taken), ``0.0`` when the call was
        taken (and counted for ``day``), else the seconds to wait before asking again.
        Timestamps later than ``now`` come from before a reboot and are dropped."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                wait = self._quota_take(credential, day.isoformat(), per_day, window, period, now)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return wait

    def _quota_take(
        self, credential: str, day: str, per_day: int | None, window: int, period: float, now: float
    ) -> float | None:
        if per_day is not None:
            row = self._db.execute("SELECT count FROM quota WHERE credential=? AND day=?", (credential, day)).fetchone()
            if row is not None and int(row[0]) >= per_day:
                return None
        if window > 0:
            self._db.execute(
                "DELETE FROM quota_calls WHERE credential=? AND (at <= ? OR at > ?)", (credential, now - period, now)
            )
            count, oldest = self._db.execute(
                "SELECT count(*), min(at) FROM quota_calls WHERE credential=?", (credential,)
            ).fetchone()
            if count >= window:
                return max(float(oldest) + period - now, 1e-3)
            self._db.execute("INSERT INTO quota_calls (credential, at) VALUES (?, ?)", (credential, now))
        self._db.execute(
            "INSERT INTO quota (credential, day, count) VALUES (?, ?, 1) "
            "ON CONFLICT(credential, day) DO UPDATE SET count=count+1",
            (credential, day),
        )
        return 0.0
