"""A dashboard's copy of the feed results it last read from the team's store (team mode).

A console on PostgreSQL paints its first frame from this copy, like a console alone paints from
its SQLite file, and connects to the team's server after that frame; the server's newer results
replace the copy's at once. While the server does not answer (at start, or lost later) the copy's
results stay on screen with their age, and "store unreachable since …" in the header. The copy is
never written back to the team's store and never read while the server answers.

One SQLite file in the user's data dir (0600): one row per environment and feed, as the team's
store holds it (the payload's JSON and its binary parts). Snapshots hold no secret. The copy is
only a cache: a file that cannot be opened, read or written is logged once and set aside, and the
console goes on without it.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

from pupitre.providers.core.store import write_ahead_log

log = logging.getLogger("pupitre.store")

#: One row of the copy: (fetched_at as stored, payload JSON, binary parts or ``None``).
Row = tuple[str, Any, Any]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS copied (
    env TEXT NOT NULL,
    feed TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    payload BLOB NOT NULL,
    data BLOB,
    PRIMARY KEY (env, feed)
)
"""


class SnapshotCopy:
    """The copy's file (thread-safe: one connection, one lock)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        #: (env, feed) -> the ``fetched_at`` copied: an unchanged result is not written again
        self._stamps: dict[tuple[str, str], str] = {}
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not path.exists():
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
            db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            write_ahead_log(db)
            db.execute(_SCHEMA)
            self._stamps = {(env, feed): at for env, feed, at in db.execute("SELECT env, feed, fetched_at FROM copied")}
            self._db = db
        except (OSError, sqlite3.Error) as exc:
            self._give_up(exc)

    @property
    def usable(self) -> bool:
        return self._db is not None

    def _give_up(self, exc: BaseException) -> None:
        """Logged once; the console goes on without its copy (a damaged file is set aside)."""
        log.warning("the local copy of the team store's results (%s) is not used: %s", self.path, exc)
        db, self._db = self._db, None
        if db is not None:
            db.close()
        if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError):
            try:
                self.path.replace(self.path.with_name(self.path.name + ".damaged"))
            except OSError:
                pass

    def row(self, env: str, feed: str) -> Row | None:
        """The copied result of ``feed`` in ``env``, if any."""
        with self._lock:
            if self._db is None:
                return None
            try:
                found = self._db.execute(
                    "SELECT fetched_at, payload, data FROM copied WHERE env=? AND feed=?", (env, feed)
                ).fetchone()
            except sqlite3.Error as exc:
                self._give_up(exc)
                return None
        return None if found is None else (found[0], found[1], found[2])

    def stamp(self, env: str, feed: str) -> str | None:
        """When the copied result of ``feed`` was fetched (as stored), without reading it."""
        with self._lock:
            return self._stamps.get((env, feed)) if self._db is not None else None

    def keep(self, env: str, feed: str, row: Row) -> None:
        """Copy ``row`` (what the team's store answered or was given) unless it is already."""
        fetched_at, payload, data = row
        with self._lock:
            if self._db is None or self._stamps.get((env, feed)) == fetched_at:
                return
            try:
                self._db.execute(
                    "INSERT INTO copied (env, feed, fetched_at, payload, data) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT(env, feed) DO UPDATE SET fetched_at=excluded.fetched_at, "
                    "payload=excluded.payload, data=excluded.data",
                    (env, feed, fetched_at, payload, data),
                )
            except sqlite3.Error as exc:
                self._give_up(exc)
                return
            self._stamps[(env, feed)] = fetched_at

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
