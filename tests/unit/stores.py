"""A store as pupitre wrote it before environments (schema 4): migration and outbox CLI tests."""

from __future__ import annotations

import datetime as dt
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from pupitre.providers.core import store as store_module
from pupitre.providers.core.clock import PARIS
from pupitre.providers.core.store import Store

#: When the rows of that store were written.
NOW = dt.datetime(2026, 11, 22, 14, 0, tzinfo=PARIS)


def _version_4_store(path: Path) -> None:
    """A store as pupitre wrote it before environments, with a row in every table."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(store_module, "MIGRATIONS", store_module.MIGRATIONS[:4])
        Store(path).close()
    at = NOW.isoformat()
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 4
        db.execute("INSERT INTO snapshots VALUES ('edf_oa.curtailments', ?, ?)", (at, '["old"]'))
        db.execute(
            "INSERT INTO history (feed, key, at, old, new) VALUES ('grtgaz.indicators', 'LI1001', ?, 'G', 'R')", (at,)
        )
        for status in ("pending", "delivered"):
            db.execute(
                "INSERT INTO outbox (provider, action, payload, status, created_at, updated_at, claimed_by, "
                "claim_until, sending_since) VALUES ('grtgaz', 'declare program', '{}', ?, ?, ?, 'h:1:2:3', 9e9, ?)",
                (status, at, at, at),
            )
        db.execute(
            "INSERT INTO audit (at, provider, action, outcome) VALUES (?, 'grtgaz', 'declare program', 'queued')", (at,)
        )
        db.execute("INSERT INTO watchlist VALUES ('grdf_omega', 'D1', ?, 'AN')", (at,))
        db.execute("INSERT INTO quota VALUES ('grdf_adict:c', ?, 7)", (NOW.date().isoformat(),))
        db.execute("INSERT INTO quota_calls VALUES ('grdf_adict:c', 1.0)")
        db.commit()
