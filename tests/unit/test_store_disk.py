"""The store when the disk fails: full (SQLite's error and ENOSPC), read-only, a damaged page;
backups before migrations and on demand; the integrity check. Faults are injected at the
store layer (tests/unit/disk_faults.py); a read-only directory is made with chmod when the
tests do not run as root, and by an injected EROFS otherwise (root writes through chmod)."""

from __future__ import annotations

import datetime as dt
import errno
import os
import sqlite3
import threading
from pathlib import Path

import pytest

from pupitre.providers.core import store as store_module
from pupitre.providers.core.clock import ManualClock
from pupitre.providers.core.outbox import Outbox
from pupitre.providers.core.store import (
    OUTBOX_DELIVERED,
    OUTBOX_PENDING,
    READBACK_OWED,
    Store,
    StoreDamaged,
    StoreError,
    StoreWriteError,
    backup,
    integrity_check,
    open_store,
)
from tests.unit.disk_faults import DISK_FULL, corrupt_middle_page, fail_writes, no_space
from tests.unit.fakes import FakeHandler

NOW = dt.datetime(2026, 11, 22, 14, 0)
ACK = ("edf_oa", "acknowledge")


def outbox_of(store: Store) -> tuple[Outbox, FakeHandler]:
    handler = FakeHandler()
    return Outbox(store, ManualClock(NOW), {ACK: handler}), handler


def filled(path: Path, rows: int = 300) -> Store:
    """A real store with data on many pages (snapshots, history, an outbox)."""
    store = Store(path)
    store.save_snapshot("grdf_adict.rights", [{"pce": f"GI{i:06d}", "holder": "GARAGE " * 8} for i in range(rows)], NOW)
    for i in range(rows):
        store.add_history("grtgaz.indicators", f"LI{i % 13}", NOW, "GREEN", "RED", "x" * 40)
    return store


@pytest.mark.parametrize("error", [DISK_FULL, no_space()], ids=["sqlite-full", "ENOSPC"])
def test_a_full_disk_refuses_the_action_whole_and_nothing_is_sent(tmp_path, error):
    store = Store(tmp_path / "s.sqlite3")
    outbox, handler = outbox_of(store)
    older = outbox.enqueue(*ACK, {"order_id": "O1", "value": True})
    fail_writes(store, "INSERT INTO audit", error)  # the last write of the transaction
    with pytest.raises(StoreWriteError, match="the disk is full"):
        outbox.enqueue(*ACK, {"order_id": "O1", "value": False})
    # one transaction: no half-written action, the older one not superseded
    assert [(i.id, i.payload["value"], i.status) for i in store.outbox()] == [(older, True, OUTBOX_PENDING)]
    assert handler.sent == []


async def test_after_the_disk_is_freed_the_same_decision_is_saved_and_sent(tmp_path):
    store = Store(tmp_path / "s.sqlite3")
    outbox, handler = outbox_of(store)
    failing = fail_writes(store)
    with pytest.raises(StoreWriteError):
        outbox.enqueue(*ACK, {"order_id": "O1", "value": True})
    assert store.outbox() == [] and failing.refused == 1
    failing.armed = False
    outbox.enqueue(*ACK, {"order_id": "O1", "value": True})
    (delivery,) = await outbox.drain()
    assert delivery.outcome == "delivered" and handler.sent == [{"order_id": "O1", "value": True}]


def test_a_store_in_memory_refuses_actions(tmp_path):
    store = Store(":memory:", problem="Nothing can be saved: the data directory is read-only")
    outbox, handler = outbox_of(store)
    with pytest.raises(StoreWriteError, match="read-only"):
        outbox.enqueue(*ACK, {"order_id": "O1", "value": True})
    assert store.outbox() == []


def test_read_only_directory_starts_in_memory_and_says_nothing_can_be_saved(tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    if os.geteuid() == 0:  # root writes through chmod: inject the error the kernel gives others
        real_open = os.open

        def read_only(path, flags, mode=0o777, **kwargs):
            if str(path).startswith(str(data)) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
                raise OSError(errno.EROFS, "Read-only file system", str(path))
            return real_open(path, flags, mode, **kwargs)

        monkeypatch.setattr(store_module.os, "open", read_only)
    else:
        data.chmod(0o500)
    try:
        store, notice = open_store(data / "pupitre.sqlite3", NOW)
    finally:
        data.chmod(0o700)
    assert not store.durable and notice is not None and notice.level == "critical"
    assert "Nothing can be saved: the data directory is read-only" in notice.message
    store.save_snapshot("grtgaz.indicators", [1], NOW)  # the dashboard still works from memory
    assert store.load_snapshot("grtgaz.indicators").payload == [1]
    assert not (data / "pupitre.sqlite3").exists()


def test_a_damaged_store_is_detected_at_open(tmp_path):
    path = tmp_path / "pupitre.sqlite3"
    filled(path).close()
    corrupt_middle_page(path)
    with pytest.raises(StoreDamaged, match="damaged"):
        Store(path)
    assert integrity_check(path)  # the findings


def test_a_damaged_store_is_moved_aside_and_its_pending_actions_carried_over(tmp_path):
    path = tmp_path / "pupitre.sqlite3"
    store = filled(path)
    outbox, _ = outbox_of(store)
    outbox.enqueue(*ACK, {"order_id": "O1", "value": True})
    # delivered, its read-back owed (the process died before reading back): resumed after the move
    owed = outbox.enqueue(*ACK, {"order_id": "O2", "value": False})
    store.outbox_update(owed, OUTBOX_DELIVERED, NOW, response="accepted", readback=READBACK_OWED)
    store.close()
    corrupt_middle_page(path)

    fresh, notice = open_store(path, NOW)
    aside = tmp_path / "pupitre.sqlite3.damaged-20261122T140000"
    assert aside.exists() and fresh.durable and integrity_check(path) == []
    assert notice is not None and notice.level == "attention"
    assert str(aside) in notice.message
    assert f"sqlite3 {aside} .recover | sqlite3 {path}.recovered" in notice.message
    assert "2 unfinished action(s) (pending, or delivered and not yet read back) were carried over" in notice.message
    assert [(i.action, i.payload, i.status, i.readback) for i in fresh.outbox()] == [
        ("acknowledge", {"order_id": "O1", "value": True}, OUTBOX_PENDING, None),
        ("acknowledge", {"order_id": "O2", "value": False}, OUTBOX_DELIVERED, READBACK_OWED),
    ]


def test_not_a_database_at_all_is_moved_aside(tmp_path):
    path = tmp_path / "pupitre.sqlite3"
    path.write_bytes(b"this is not SQLite" * 500)
    fresh, notice = open_store(path, NOW)
    assert fresh.durable and notice is not None and "could not be read" in notice.message
    assert (tmp_path / "pupitre.sqlite3.damaged-20261122T140000").read_bytes().startswith(b"this is not")


def test_a_store_is_backed_up_before_each_migration(tmp_path, monkeypatch):
    path = tmp_path / "s.sqlite3"
    monkeypatch.setattr(store_module, "MIGRATIONS", store_module.MIGRATIONS[:1])
    old = Store(path)
    old._exec(  # as schema 1 wrote it
        "INSERT INTO snapshots (feed, fetched_at, payload) VALUES (?, ?, ?)",
        ("grtgaz.indicators", NOW.isoformat(), "[1]"),
    )
    old.close()
    monkeypatch.undo()
    assert list(tmp_path.glob("*.pre-v*")) == []  # a new store needs no backup
    Store(path)
    (copy,) = tmp_path.glob("s.sqlite3.pre-v2-*")
    assert os.stat(copy).st_mode & 0o777 == 0o600
    db = sqlite3.connect(copy)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 1  # the store as it was
    assert db.execute("SELECT feed FROM snapshots").fetchall() == [("grtgaz.indicators",)]


def test_no_backup_no_migration(tmp_path, monkeypatch):
    path = tmp_path / "s.sqlite3"
    monkeypatch.setattr(store_module, "MIGRATIONS", store_module.MIGRATIONS[:1])
    Store(path).close()
    monkeypatch.undo()

    def full(*args, **kwargs):
        raise no_space()

    monkeypatch.setattr(store_module, "backup", full)
    with pytest.raises(StoreError, match="could not be backed up first.*the disk is full; nothing was changed"):
        Store(path)
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == 1


def test_backup_while_a_writer_runs_is_consistent(tmp_path):
    path = tmp_path / "pupitre.sqlite3"
    store = filled(path)
    stop = threading.Event()

    def write() -> None:
        n = 0
        while not stop.is_set():
            store.add_history("f", "k", NOW, None, str(n))
            n += 1

    writer = threading.Thread(target=write)
    writer.start()
    try:
        copy = backup(path, tmp_path / "copies" / "b.sqlite3")
    finally:
        stop.set()
        writer.join()
    assert integrity_check(copy) == []
    assert os.stat(copy).st_mode & 0o777 == 0o600
    assert sqlite3.connect(copy).execute("SELECT count(*) FROM snapshots").fetchone()[0] == 1
    assert not list(copy.parent.glob("*.part"))


def test_a_failed_save_is_a_store_error_with_the_reason(tmp_path):
    store = Store(tmp_path / "s.sqlite3")
    fail_writes(store, "INSERT INTO snapshots", sqlite3.DatabaseError("database disk image is malformed"))
    with pytest.raises(StoreDamaged, match="pupitre store check"):
        store.save_snapshot("grdf_adict.rights", [1], NOW)
