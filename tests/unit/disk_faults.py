"""Disk faults injected at the store layer: the store's SQLite connection, wrapped."""

from __future__ import annotations

import errno
import sqlite3
from typing import Any

from pupitre.providers.core.store import Store

DISK_FULL = sqlite3.OperationalError("database or disk is full")


def no_space() -> OSError:
    return OSError(errno.ENOSPC, "No space left on device")


class FailingConnection:
    """Delegates to the real connection; statements containing ``match`` raise ``error``
    while ``armed`` (a write the disk refuses)."""

    def __init__(self, real: sqlite3.Connection, match: str, error: BaseException) -> None:
        self.real = real
        self.match = match
        self.error = error
        self.armed = True
        self.refused = 0

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        if self.armed and self.match in sql:
            self.refused += 1
            raise self.error
        return self.real.execute(sql, params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def fail_writes(store: Store, match: str = "INSERT INTO outbox", error: BaseException = DISK_FULL) -> FailingConnection:
    """From now on, ``match`` statements of ``store`` raise ``error`` (``.armed = False`` heals)."""
    failing = FailingConnection(store._db, match, error)
    store._db = failing  # type: ignore[assignment]  # a stand-in with the same methods
    return failing


def corrupt_middle_page(path) -> None:
    """Write garbage over the page in the middle of the file (after a checkpoint)."""
    import os

    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    size = os.path.getsize(path)
    page = 4096
    with open(path, "r+b") as file:
        file.seek((size // page // 2) * page)
        file.write(b"\xa5\x5a" * (page // 2))
