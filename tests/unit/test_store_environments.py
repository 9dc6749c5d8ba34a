"""The store's environments: every row belongs to one, each provider reads and writes only
its bound environment's rows, and a version-4 store migrates with its rows unattributed and
its pending actions held (never sent)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pupitre.providers.core import store as store_module
from pupitre.providers.core.clock import PARIS
from pupitre.providers.core.environments import SANDBOX, UNATTRIBUTED, label_of, real
from pupitre.providers.core.store import OUTBOX_DELIVERED, OUTBOX_HELD, OUTBOX_PENDING, Store
from tests.unit.stores import _version_4_store

NOW = dt.datetime(2026, 11, 22, 14, 0, tzinfo=PARIS)
REAL = "https://api.grdf.fr/fournisseur#client=okta-123,cdgf=X1"


def _in(store: Store, env: str) -> Store:
    store.bind_environments({"grtgaz": env, "grdf_omega": env, "switchgrid": env, "grdf_adict": env})
    return store


def test_every_kind_of_row_stays_in_its_environment(any_store: Store) -> None:
    store = _in(any_store, SANDBOX)
    store.save_snapshot("grtgaz.indicators", ["sandbox"], NOW)
    store.add_history("grtgaz.indicators", "LI1001", NOW, "GREEN", "RED")
    store.outbox_add("grtgaz", "declare program", {"id": "sim"}, NOW)
    store.audit("grtgaz", "declare program", "queued", NOW, "#1")
    store.watch_add("grdf_omega", ["D1"], NOW)
    store.watch_add("switchgrid.orders", ["O1"], NOW)
    assert store.quota_take("grdf_adict:c", day=NOW.date(), per_day=2, window=1, period=1.0, now=10.0) == 0.0

    _in(store, REAL)  # the same store, a real session: it sees none of it
    assert store.load_snapshot("grtgaz.indicators") is None
    assert store.history("grtgaz.indicators") == []
    assert store.outbox() == [] and store.outbox(provider="grtgaz") == []
    assert store.audit_log() == []
    assert store.watch_list("grdf_omega") == [] and store.watch_list("switchgrid.orders") == []
    assert store.quota_count("grdf_adict:c", NOW.date()) == 0
    # ... its own rows, with the same keys, do not touch the sandbox's
    assert store.quota_take("grdf_adict:c", day=NOW.date(), per_day=2, window=1, period=1.0, now=10.0) == 0.0
    store.save_snapshot("grtgaz.indicators", ["real"], NOW)
    assert store.watch_add("grdf_omega", ["D1"], NOW) == ["D1"]
    real_id = store.outbox_add("grtgaz", "declare program", {"id": "real"}, NOW)

    _in(store, SANDBOX)
    assert store.load_snapshot("grtgaz.indicators").payload == ["sandbox"]  # type: ignore[union-attr]  # saved above
    assert [i.payload["id"] for i in store.outbox()] == ["sim"]
    assert [h.new for h in store.history("grtgaz.indicators")] == ["RED"]
    assert store.quota_count("grdf_adict:c", NOW.date()) == 1
    # the sandbox can neither claim nor change the real action, even by its id
    assert not store.outbox_claim(real_id, "me", 100.0, 1.0, lambda owner: True)
    store.outbox_update(real_id, OUTBOX_DELIVERED, NOW)
    store.outbox_sending(real_id, NOW)
    [untouched] = [i for i in store.outbox_any_environment() if i.id == real_id]
    assert (untouched.status, untouched.env, untouched.sending_since) == (OUTBOX_PENDING, REAL, None)
    assert {e.env for e in store.audit_entries(all_environments=True)} == {SANDBOX}
    assert store.environments_of("grtgaz") == {SANDBOX, REAL}
    assert store.environments_of("grdf_omega") == {SANDBOX, REAL}
    assert store.environments_of("edf_oa") == set()
    assert store.has_rows("grtgaz", SANDBOX) and store.has_rows("grtgaz", REAL)
    assert store.has_rows("switchgrid", SANDBOX) and not store.has_rows("switchgrid", REAL)  # its followed orders
    assert not store.has_rows("edf_oa", SANDBOX) and not store.has_rows("grtgaz", "elsewhere")


def test_an_unbound_store_is_the_sandbox(any_store: Store) -> None:
    store = any_store
    store.save_snapshot("grtgaz.indicators", [1], NOW)
    store.outbox_add("test", "act", {}, NOW)
    assert store._query("SELECT env FROM snapshots UNION ALL SELECT env FROM outbox") == [(SANDBOX,), (SANDBOX,)]
    assert len(store.outbox()) == 1


def test_a_version_4_store_migrates_its_rows_unattributed_and_holds_its_pending_actions(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    _version_4_store(path)
    store = Store(path)
    assert store.schema_version == len(store_module.MIGRATIONS)
    for table in ("snapshots", "history", "outbox", "audit", "watchlist", "quota", "quota_calls"):
        assert store._query(f"SELECT DISTINCT env FROM {table}") == [(UNATTRIBUTED,)], table
    # nobody reads them automatically: neither the sandbox nor a real session
    for env in (SANDBOX, REAL):
        _in(store, env)
        assert store.load_snapshot("edf_oa.curtailments") is None
        assert store.history("grtgaz.indicators") == []
        assert store.outbox() == [] and store.audit_log() == []
        assert store.watch_list("grdf_omega") == []
        assert store.quota_count("grdf_adict:c", NOW.date()) == 0
    # the pending action is held (no claim left), shown to screens that ask for held ones
    held, delivered = store.outbox_any_environment()
    assert (held.status, held.claimed_by, delivered.status) == (OUTBOX_HELD, None, OUTBOX_DELIVERED)
    assert [i.id for i in store.outbox(provider="grtgaz", include_held=True)] == [held.id]
    assert not store.outbox_claim(held.id, "me", 100.0, 1.0, lambda owner: True)
    # the operator releases it to an environment: it is that environment's pending action
    assert store.outbox_resolve_held(held.id, OUTBOX_PENDING, REAL, NOW, "released")
    assert not store.outbox_resolve_held(held.id, OUTBOX_PENDING, SANDBOX, NOW, "twice")
    assert [i.id for i in store.outbox(status=OUTBOX_PENDING)] == [held.id]
    _in(store, SANDBOX)
    assert store.outbox(status=OUTBOX_PENDING) == []


def test_environment_ids_and_labels_carry_no_secret() -> None:
    env = real("https://api.grdf.fr/fournisseur/", client="okta-123", cdgf="X1")
    assert env.id == REAL
    assert env.label == "api.grdf.fr · client okta-123 · cdgf X1"
    assert label_of(env.id) == env.label
    assert real("https://oa.edf.fr/api").id == "https://oa.edf.fr/api"
    assert label_of(SANDBOX) == "sandbox" and "unattributed" in label_of(UNATTRIBUTED)
