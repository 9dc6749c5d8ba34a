"""SQLite store: file mode, WAL, migrations, snapshots, history, outbox, audit, quota."""

import datetime as dt
import os
import sqlite3
from array import array
from contextlib import closing

import pytest

from pupitre.providers.core import store as store_module
from pupitre.providers.core.clock import PARIS
from pupitre.providers.core.store import OUTBOX_DELIVERED, OUTBOX_PENDING, Store, StoreError

NOW = dt.datetime(2026, 11, 22, 14, 0, tzinfo=PARIS)


def test_file_is_user_only_and_wal(tmp_path):
    path = tmp_path / "data" / "pupitre.sqlite3"
    store = Store(path)
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert os.stat(path.parent).st_mode & 0o077 == 0
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    assert store.schema_version == len(store_module.MIGRATIONS)


def test_existing_group_readable_file_is_tightened(tmp_path):
    path = tmp_path / "s.sqlite3"
    Store(path).close()
    os.chmod(path, 0o644)
    Store(path)
    assert os.stat(path).st_mode & 0o777 == 0o600


def test_migrations_upgrade_an_older_store(tmp_path, monkeypatch):
    path = tmp_path / "s.sqlite3"
    Store(path).close()
    known = len(store_module.MIGRATIONS)
    monkeypatch.setattr(
        store_module,
        "MIGRATIONS",
        store_module.MIGRATIONS + ["ALTER TABLE audit ADD COLUMN reviewer TEXT NOT NULL DEFAULT ''"],
    )
    upgraded = Store(path)
    assert upgraded.schema_version == known + 1
    columns = [row[1] for row in upgraded._query("PRAGMA table_info(audit)")]
    assert "reviewer" in columns


def test_newer_store_is_refused(tmp_path):
    path = tmp_path / "s.sqlite3"
    Store(path).close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version=99")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="upgrade pupitre"):
        Store(path)


def test_snapshot_roundtrip_and_replace(any_store):
    store = any_store
    assert store.load_snapshot("grtgaz.indicators") is None
    store.save_snapshot("grtgaz.indicators", [{"a": 1}], NOW)
    store.save_snapshot("grtgaz.indicators", [{"a": 2}], NOW + dt.timedelta(minutes=1))
    snap = store.load_snapshot("grtgaz.indicators")
    assert snap is not None and snap.payload == [{"a": 2}]
    assert snap.fetched_at == NOW + dt.timedelta(minutes=1)


def test_a_large_snapshot_reads_back_the_same(any_store, monkeypatch):
    """From LARGE_SNAPSHOT bytes a snapshot is decoded by the standard library (orjson would
    reserve ~12× its size): the same value either way, odd text included."""
    payload = {"text": 'é\x1f"' + "x" * 3000, "n": [1, 2.5, None, True], "nested": {"k": ["a"] * 50}}
    any_store.save_snapshot("grdf_adict.rights", payload, NOW)
    small = any_store.load_snapshot("grdf_adict.rights")
    monkeypatch.setattr(store_module, "LARGE_SNAPSHOT", 1000)
    large = any_store.load_snapshot("grdf_adict.rights")
    assert small is not None and large is not None and small.payload == large.payload == payload


def test_binary_parts_are_stored_raw_and_read_back(new_store):
    """A payload's ``BINARY`` parts (bytes, a bytearray, an array) go to the ``data`` column
    as they are, read back by another connection as byte views; without parts, no data."""
    codes = array("H", [0, 1, 65535])
    parts = {"a": b"\x00\xff raw", "empty": b"", "codes": codes, "blob": bytearray("é".encode())}
    new_store().save_snapshot("grdf_adict.rights", {"rows": 3, store_module.BINARY: parts}, NOW)
    store = new_store()
    snap = store.load_snapshot("grdf_adict.rights")
    assert snap is not None and snap.payload["rows"] == 3
    again = snap.payload[store_module.BINARY]
    assert {name: bytes(part) for name, part in again.items()} == {
        "a": b"\x00\xff raw",
        "empty": b"",
        "codes": codes.tobytes(),
        "blob": "é".encode(),
    }
    store.save_snapshot("grdf_adict.rights", {"rows": 0}, NOW)  # a replacement without parts drops them
    snap = store.load_snapshot("grdf_adict.rights")
    assert snap is not None and snap.payload == {"rows": 0}
    assert store._query("SELECT data FROM snapshots WHERE feed = ?", ("grdf_adict.rights",)) == [(None,)]


@pytest.mark.parametrize(
    "index",
    [{"a": [0, 99]}, {"a": [-1, 2]}, {"a": "0,2"}, None],  # beyond the data, negative, not a place, missing
)
def test_a_damaged_index_of_binary_parts_is_no_snapshot(tmp_path, index):
    store = Store(tmp_path / "s.sqlite3")
    store.save_snapshot("grdf_adict.rights", {store_module.BINARY: {"a": b"ab"}}, NOW)
    payload = {} if index is None else {store_module.BINARY: index}
    store._exec("UPDATE snapshots SET payload = ?", (store_module._json_bytes(payload),))
    assert store.load_snapshot("grdf_adict.rights") is None


def test_history_newest_first(any_store):
    store = any_store
    store.add_history("grtgaz.indicators", "LI0001", NOW, "GREEN", "RED", "Q→Q+")
    store.add_history("grtgaz.indicators", "LI0001", NOW + dt.timedelta(hours=1), "RED", "GREEN", "Q→Q+")
    store.add_history("grtgaz.indicators", "LI0002", NOW, None, "GREY", "partial")
    entries = store.history("grtgaz.indicators", "LI0001")
    assert [e.new for e in entries] == ["GREEN", "RED"]
    assert len(store.history("grtgaz.indicators")) == 3


def test_outbox_survives_reopen(new_store):
    store = new_store()
    item_id = store.outbox_add("edf_oa", "acknowledge", {"order_id": "X"}, NOW)
    store.close()
    reopened = new_store()
    pending = reopened.outbox(status=OUTBOX_PENDING)
    assert [(i.id, i.payload) for i in pending] == [(item_id, {"order_id": "X"})]
    reopened.outbox_update(item_id, OUTBOX_DELIVERED, NOW, response="201")
    assert reopened.outbox(status=OUTBOX_PENDING) == []
    assert reopened.outbox()[0].attempts == 1


def test_audit_and_quota(any_store):
    store = any_store
    store.audit("grtgaz", "refresh", "ok", NOW, "13 sites")
    assert store.audit_log()[0][1:4] == ("grtgaz", "refresh", "ok")
    day = NOW.date()
    assert store.quota_count("adict", day) == 0
    for _ in range(5):
        assert store.quota_take("adict", day=day, per_day=5, window=0, period=0.0, now=0.0) == 0.0
    assert store.quota_count("adict", day) == 5
    assert store.quota_take("adict", day=day, per_day=5, window=0, period=0.0, now=0.0) is None


def test_watchlist_add_dedupe_remove_seen_and_persist(new_store):
    store = new_store()
    assert store.watch_add("grdf_omega", ["WD0004MX", "WD00053H", "WD0004MX"], NOW) == ["WD0004MX", "WD00053H"]
    assert store.watch_add("grdf_omega", ["WD00053H"], NOW) == []
    store.watch_seen("grdf_omega", "WD0004MX", "ATTRDV")
    store.close()
    reopened = new_store()
    assert reopened.watch_list("grdf_omega") == [("WD0004MX", "ATTRDV"), ("WD00053H", None)]
    assert reopened.watch_remove("grdf_omega", "WD0004MX") is True
    assert reopened.watch_remove("grdf_omega", "WD0004MX") is False
    assert reopened.watch_list("grdf_omega") == [("WD00053H", None)]


def test_a_version_1_store_is_upgraded_with_its_data(tmp_path, monkeypatch):
    path = tmp_path / "s.sqlite3"
    monkeypatch.setattr(store_module, "MIGRATIONS", store_module.MIGRATIONS[:1])
    Store(path).close()
    with closing(sqlite3.connect(path)) as db:
        db.execute("INSERT INTO snapshots VALUES ('grtgaz.indicators', ?, '[1]')", (NOW.isoformat(),))
        db.commit()
    monkeypatch.undo()
    upgraded = Store(path)
    assert upgraded.schema_version == len(store_module.MIGRATIONS)
    assert upgraded.load_snapshot("grtgaz.indicators") is None  # kept, but unattributed
    assert upgraded._query("SELECT env, feed FROM snapshots") == [("unattributed", "grtgaz.indicators")]
    assert upgraded.watch_list("grdf_omega") == []


def test_a_version_5_store_gains_read_back_states_after_a_backup(tmp_path, monkeypatch):
    path = tmp_path / "s.sqlite3"
    with monkeypatch.context() as patch:
        patch.setattr(store_module, "MIGRATIONS", store_module.MIGRATIONS[:5])
        Store(path).close()
    with closing(sqlite3.connect(path)) as db:  # a delivered action, as schema 5 wrote it
        db.execute(
            "INSERT INTO outbox (env, provider, action, payload, status, created_at, updated_at, response) "
            "VALUES ('sandbox', 'grtgaz', 'declare program', '{}', 'delivered', ?, ?, '201')",
            (NOW.isoformat(), NOW.isoformat()),
        )
        db.commit()
    upgraded = Store(path)
    assert upgraded.schema_version == len(store_module.MIGRATIONS)
    (backup,) = tmp_path.glob("s.sqlite3.pre-v6-*")
    assert sqlite3.connect(backup).execute("PRAGMA user_version").fetchone()[0] == 5
    (item,) = upgraded.outbox()
    assert (item.status, item.readback, item.readback_note) == ("delivered", None, "")  # not known: never resumed
    assert upgraded.outbox(readback="owed") == []
    later = upgraded.outbox_add("grtgaz", "declare program", {"id": "B"}, NOW)
    upgraded.outbox_update(later, "delivered", NOW, response="201", readback="owed")
    assert [i.id for i in upgraded.outbox(status="delivered", readback="owed")] == [later]
    upgraded.outbox_readback(later, "verified", "read back")
    assert upgraded.outbox(item_id=later)[0].readback == "verified" and upgraded.outbox(readback="owed") == []


def test_state_timeline_keeps_changes_only_and_is_shared_by_processes(tmp_path):
    """``record_states``: one row per change of a key's state, whichever store handle (process)
    writes it; every handle reads the same timeline (issue 16: not only what one process saw)."""
    path = tmp_path / "s.sqlite3"
    first, second = Store(path), Store(path)
    t0 = dt.datetime(2026, 11, 18, 6, 15, tzinfo=PARIS)
    assert first.record_states("grtgaz.indicators#states", [("LI1006/PARTIAL", t0, "GREEN", "")]) == 1
    assert second.record_states("grtgaz.indicators#states", [("LI1006/PARTIAL", t0, "GREEN", "")]) == 0
    later = t0 + dt.timedelta(hours=2)
    assert second.record_states("grtgaz.indicators#states", [("LI1006/PARTIAL", later, "RED", "x")]) == 1
    rows = first.history("grtgaz.indicators#states", "LI1006/PARTIAL")
    assert [(r.at, r.old, r.new) for r in rows] == [(later, "GREEN", "RED"), (t0, None, "GREEN")]
    assert first.record_states("grtgaz.indicators#states", []) == 0


def test_processes_starting_together_on_a_new_store_create_it_once(tmp_path):
    """Four connections opening a new file at once, 200 times: the schema is made once, and the
    file's switch to WAL, found locked by another (an error at once whatever the busy timeout:
    a few times in a hundred rounds), is tried again."""
    import threading

    errors: list[StoreError] = []

    def start(path):
        try:
            Store(path).close()
        except StoreError as error:  # e.g. "table snapshots already exists", "database is locked"
            errors.append(error)

    for round_ in range(200):
        path = tmp_path / f"s{round_}.sqlite3"
        threads = [threading.Thread(target=start, args=(path,)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == [] and Store(path).schema_version == len(store_module.MIGRATIONS)


def test_every_audit_line_and_action_carries_the_operator(new_store):
    console, tool = new_store(), new_store()
    console.bind_operator("ana@jump-2")
    item_id = console.outbox_add("edf_oa", "acknowledge", {"order_id": "X"}, NOW)
    console.audit("edf_oa", "acknowledge", "queued", NOW, f"#{item_id}")
    tool.audit("edf_oa", "acknowledge", "released", NOW)  # a tool that names nobody
    assert [(e.outcome, e.operator) for e in tool.audit_entries()] == [("released", ""), ("queued", "ana@jump-2")]
    assert tool.outbox()[0].operator == "ana@jump-2"


def test_audit_entries_between_instants_and_after_a_line(new_store):
    """The audit screen's reads: a Paris day (``since``/``until`` compared as instants, whatever
    the offsets written) and only what was written after the newest line shown."""
    store = new_store()
    paris = dt.timezone(dt.timedelta(hours=1))
    store.audit("edf_oa", "acknowledge", "queued", dt.datetime(2026, 11, 17, 23, 30, tzinfo=paris))
    store.audit("edf_oa", "acknowledge", "delivered", dt.datetime(2026, 11, 17, 23, 10, tzinfo=dt.timezone.utc))
    store.audit("grtgaz", "declare program", "delivered", dt.datetime(2026, 11, 18, 23, 30, tzinfo=dt.timezone.utc))
    day = store.audit_entries(
        since=dt.datetime(2026, 11, 18, tzinfo=paris), until=dt.datetime(2026, 11, 19, tzinfo=paris)
    )
    assert [e.outcome for e in day] == ["delivered"] and day[
        0
    ].provider == "edf_oa"  # 00:10 Paris on the 18th; 00:30 on the 19th is not
    newest = store.audit_entries(limit=1)[0]
    assert store.audit_entries(after=newest.id) == []
    store.audit("grtgaz", "declare program", "refused", dt.datetime(2026, 11, 19, 9, 0, tzinfo=paris))
    assert [e.outcome for e in store.audit_entries(after=newest.id)] == ["refused"]
