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
from typing import Any

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
            "last_error, response FROM outbox WHERE 1=1"
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
            OutboxItem(r[0], r[1], r[2], json.loads(r[3]), r[4], _dt(r[5]), _dt(r[6]), r[7], r[8], r[9]) for r in rows
        ]

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

    def quota_increment(self, credential: str, day: dt.date, by: int = 1) -> int:
        with self._lock:
            self._db.execute(
                "INSERT INTO quota (credential, day, count) VALUES (?, ?, ?) "
                "ON CONFLICT(credential, day) DO UPDATE SET count=count+excluded.count",
                (credential, day.isoformat(), by),
            )
            return int(
                self._db.execute(
                    "SELECT count FROM quota WHERE credential=? AND day=?", (credential, day.isoformat())
                ).fetchone()[0]
            )
