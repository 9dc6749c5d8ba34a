"""``pupitre outbox`` and ``pupitre audit``: actions held since the store's upgrade are listed
with one clear word, released to an environment or dropped by the operator (each audited),
and the audit log shows every line's environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from pupitre import cli
from pupitre.providers.core.environments import SANDBOX, UNATTRIBUTED
from pupitre.providers.core.store import OUTBOX_DROPPED, OUTBOX_HELD, OUTBOX_PENDING, Store
from pupitre.providers.grtgaz import feeds as grtgaz
from pupitre.runtime import build_runtime
from pupitre.settings import Settings
from tests.unit.stores import NOW, _version_4_store

BASE = "https://sfm.example.test/sfm/v1"


@pytest.fixture
def dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PUPITRE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PUPITRE_CONFIG_DIR", str(tmp_path / "config"))
    for name in ("GRDF_OMEGA", "GRDF_ADICT", "EDF_OA", "SWITCHGRID"):
        monkeypatch.delenv(f"PUPITRE_{name}_CLIENT_SECRET", raising=False)
    (tmp_path / "data").mkdir()
    return tmp_path


def _store(dirs: Path) -> Store:
    path = dirs / "data" / "pupitre.sqlite3"
    _version_4_store(path)  # action #1 pending (now held), #2 delivered
    store = Store(path)
    store.outbox_add("edf_oa", "acknowledge", {}, NOW)  # #3, a sandbox action of today
    with store._lock:
        store._db.execute("UPDATE outbox SET status='pending' WHERE id=1")  # a second held one, #4:
        store._db.execute(
            "INSERT INTO outbox (env, provider, action, payload, status, created_at, updated_at) "
            "SELECT env, provider, action, payload, 'held', created_at, updated_at FROM outbox WHERE id=1"
        )
        store._db.execute("UPDATE outbox SET status='held' WHERE id=1")
    return store


def test_held_actions_are_listed_released_or_dropped_and_audited(
    dirs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = _store(dirs)
    assert cli.main(["outbox"]) == 0
    out = capsys.readouterr().out
    assert "#1     HELD         GRTgaz · declare program" in out and "#4     HELD" in out
    assert "#3     QUEUED       EDF OA · acknowledge" in out and "#2 " not in out
    assert "QUEUED: saved in the outbox, not sent yet." in out  # each word shown is explained
    assert "release ID --to sandbox|real" in out

    # GRTgaz has no real settings: nothing to release it to
    assert cli.main(["outbox", "release", "1", "--to", "real"]) == 2
    assert "no real settings" in capsys.readouterr().err
    (dirs / "config").mkdir()
    (dirs / "config" / "settings.toml").write_text(f'[grtgaz]\nbase_url = "{BASE}"\nclient_id = "c-1"\n')
    assert cli.main(["outbox", "release", "1", "--to", "real"]) == 0
    assert "#1 released to sfm.example.test · client c-1" in capsys.readouterr().out
    assert cli.main(["outbox", "drop", "4"]) == 0
    assert cli.main(["outbox", "drop", "4"]) == 2  # not held any more
    assert "dropped, not held" in capsys.readouterr().err

    real = build_runtime(Settings.model_validate({"grtgaz": {"base_url": BASE, "client_id": "c-1"}}), store=store)
    [released] = real.outbox.pending(grtgaz.PROVIDER)
    assert released.id == 1 and released.env == f"{BASE}#client=c-1"
    assert [e.outcome for e in store.audit_entries(grtgaz.PROVIDER)] == ["released"]
    by_id = {i.id: i for i in store.outbox_any_environment()}
    assert (by_id[4].status, by_id[4].env) == (OUTBOX_DROPPED, UNATTRIBUTED)
    sandboxed = build_runtime(Settings(), sandbox=True, store=store)
    assert sandboxed.outbox.pending(grtgaz.PROVIDER) == []  # neither the released one nor the dropped one
    assert by_id[3].env == SANDBOX and by_id[3].status == OUTBOX_PENDING
    assert not [i for i in store.outbox_any_environment() if i.status == OUTBOX_HELD]

    assert cli.main(["audit", "--all"]) == 0
    out = capsys.readouterr().out
    assert "[sfm.example.test · client c-1]  GRTgaz · declare program · released  #1 held since" in out
    assert "[before environments (unattributed)]  GRTgaz · declare program · dropped  #4" in out
    assert "[before environments (unattributed)]  GRTgaz · declare program · queued" in out
    assert cli.main(["audit", "--sandbox"]) == 0
    assert capsys.readouterr().out == "No audit line.\n"


def test_an_owed_read_back_is_listed_with_what_happens_next(dirs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = Store(dirs / "data" / "pupitre.sqlite3")
    owed = store.outbox_add("edf_oa", "acknowledge", {}, NOW)
    store.outbox_update(owed, "delivered", NOW, response="accepted", readback="owed")
    done = store.outbox_add("edf_oa", "acknowledge", {}, NOW)
    store.outbox_update(done, "delivered", NOW, response="accepted", readback="owed")
    store.outbox_readback(done, "verified", "read back")
    store.close()
    assert cli.main(["outbox"]) == 0
    out = capsys.readouterr().out
    assert f"#{owed:<5} DELIVERED    EDF OA · acknowledge" in out and "READ-BACK OWED" in out
    assert f"#{done} " not in out
    assert cli.main(["outbox", "--all"]) == 0
    assert f"#{done:<5} DELIVERED    EDF OA · acknowledge · queued 22/11 14:00 · sandbox · read-back verified" in (
        capsys.readouterr().out
    )
