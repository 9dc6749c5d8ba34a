"""A dashboard on the team's PostgreSQL store paints from its copy of the results it last read
(``store_copy``), connects after its first frame, and keeps the copy's results on screen while
the server does not answer — at start as after a loss. Against a real server."""

from __future__ import annotations

import datetime as dt
import sqlite3
import sys
from pathlib import Path

import pytest

from pupitre.providers.core.clock import PARIS
from pupitre.providers.core.store import StoreError, StoreUnreachable
from pupitre.providers.core.store_copy import SnapshotCopy
from pupitre.providers.core.store_pg import PostgresStore

NOW = dt.datetime(2026, 11, 22, 14, 0, tzinfo=PARIS)
FEED = "grtgaz.indicators"
FEEDS = (FEED, "edf_oa.curtailments")


def _console(url: str, copy_path: Path) -> PostgresStore:
    store = PostgresStore(url, deferred=True)
    store.keep_copy(SnapshotCopy(copy_path), FEEDS)
    return store


def test_a_deferred_console_paints_from_its_copy_then_reads_the_team_store(postgres_url: str, tmp_path: Path) -> None:
    team = PostgresStore(postgres_url)
    team.save_snapshot(FEED, {"sites": ["Martigues"], "$binary": {"col": b"\x01\x02"}}, NOW)
    first = _console(postgres_url, tmp_path / "copy.sqlite")
    first.connect()
    loaded = first.load_snapshot(FEED)
    assert loaded is not None and bytes(loaded.payload["$binary"]["col"]) == b"\x01\x02"
    first.close()  # the console quits; the agent fetches again meanwhile
    team.save_snapshot(FEED, {"sites": ["Montoir"]}, NOW + dt.timedelta(minutes=5))

    console = _console(postgres_url, tmp_path / "copy.sqlite")
    assert console.connecting and console.unreachable_since is None
    painted = console.load_snapshot(FEED)  # before the server is asked: the copy's result, its age kept
    assert painted is not None and painted.payload["sites"] == ["Martigues"] and painted.fetched_at == NOW
    assert console.snapshot_times([FEED]) == {FEED: NOW}
    assert console.load_snapshot("edf_oa.curtailments") is None  # a copied feed never read: nothing yet
    with pytest.raises(StoreUnreachable, match="connecting"):
        console.watch_add("grdf_omega", ["D1"], NOW)  # nothing written before the server answers
    with pytest.raises(StoreUnreachable, match="connecting"):
        console.load_snapshot("switchgrid.asks")  # not a copied feed
    console.connect()
    assert not console.connecting
    assert console.snapshot_times([FEED]) == {FEED: NOW + dt.timedelta(minutes=5)}
    fresh = console.load_snapshot(FEED)
    assert fresh is not None and fresh.payload["sites"] == ["Montoir"]
    console.close()
    again = SnapshotCopy(tmp_path / "copy.sqlite")
    assert again.stamp(console.env_of(FEED), FEED) == (NOW + dt.timedelta(minutes=5)).isoformat()


def test_the_first_frame_from_the_copy_imports_no_driver(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 20: before its first connection a console's reads are answered from the copy without
    importing psycopg (its import is the connection's work, off the UI thread, after the frame)."""
    team = PostgresStore(postgres_url)
    team.save_snapshot(FEED, {"sites": ["Martigues"]}, NOW)
    first = _console(postgres_url, tmp_path / "copy.sqlite")
    first.connect()
    assert first.load_snapshot(FEED) is not None  # copied
    first.close()
    team.close()
    console = _console(postgres_url, tmp_path / "copy.sqlite")
    with monkeypatch.context() as patched:
        patched.setitem(sys.modules, "psycopg", None)  # importing it now fails
        painted = console.load_snapshot(FEED)
        assert painted is not None and painted.payload["sites"] == ["Martigues"]
        assert console.snapshot_times([FEED]) == {FEED: NOW}
    console.connect()
    console.close()


def test_what_the_console_saves_is_copied_and_not_what_decides_an_action(postgres_url: str, tmp_path: Path) -> None:
    console = _console(postgres_url, tmp_path / "copy.sqlite")
    console.connect()
    console.save_snapshot(FEED, {"sites": ["DK6"]}, NOW)
    console.save_snapshot("switchgrid.sent.R1", {"order": "O1"}, NOW)  # an "already sent" record
    console.close()
    copy = SnapshotCopy(tmp_path / "copy.sqlite")
    assert copy.row(console.env_of(FEED), FEED) is not None
    assert copy.row(console.env_of("switchgrid.sent.R1"), "switchgrid.sent.R1") is None


def test_a_server_down_at_start_leaves_the_copy_on_screen_and_is_said(
    postgres_url: str, tmp_path: Path, postgres_server
) -> None:
    import psycopg

    team = PostgresStore(postgres_url)
    team.save_snapshot(FEED, {"sites": ["Cycofos"]}, NOW)
    warm = _console(postgres_url, tmp_path / "copy.sqlite")
    warm.connect()
    assert warm.load_snapshot(FEED) is not None
    warm.close()
    database = postgres_url.split("/")[3].split("?")[0]
    with psycopg.connect(postgres_server.url(), autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS false')
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (database,))
    try:
        console = _console(postgres_url, tmp_path / "copy.sqlite")
        with pytest.raises(StoreUnreachable, match="store unreachable since"):
            console.connect()
        assert console.unreachable_since is not None and not console.connecting
        shown = console.load_snapshot(FEED)
        assert shown is not None and shown.payload["sites"] == ["Cycofos"] and shown.fetched_at == NOW
        with pytest.raises(StoreUnreachable):
            console.save_snapshot(FEED, {"sites": []}, NOW)
    finally:
        with psycopg.connect(postgres_server.url(), autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS true')
    console.connect()
    assert console.unreachable_since is None
    console.close()


def test_another_schema_found_at_the_first_connection_refuses_every_call(postgres_url: str, tmp_path: Path) -> None:
    PostgresStore(postgres_url)._exec("UPDATE pupitre_schema SET version=99")
    console = _console(postgres_url, tmp_path / "copy.sqlite")
    with pytest.raises(StoreError, match="schema 99, newer.*upgrade pupitre"):
        console.connect()
    with pytest.raises(StoreError, match="schema 99"):
        console.watch_list("grdf_omega")
    assert "schema 99" in console.problem
    with pytest.raises(StoreError, match="schema 99"):
        console.load_snapshot(FEED)  # not answered from the copy: the dashboard says it and stops


def test_a_damaged_copy_is_set_aside_and_the_console_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "copy.sqlite"
    path.write_bytes(b"not a database at all" * 100)
    copy = SnapshotCopy(path)
    assert not copy.usable and copy.row("sandbox", FEED) is None
    copy.keep("sandbox", FEED, (NOW.isoformat(), b"{}", None))  # nothing, no error
    assert (tmp_path / "copy.sqlite.damaged").exists()
    fresh = SnapshotCopy(path)
    assert fresh.usable
    fresh.keep("sandbox", FEED, (NOW.isoformat(), b"[1]", None))
    assert fresh.row("sandbox", FEED) == (NOW.isoformat(), b"[1]", None)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM copied").fetchone() == (1,)
