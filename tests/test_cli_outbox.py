"""``pupitre outbox`` and ``pupitre audit``: actions held since the store's upgrade are listed
with one clear word, released to an environment or dropped by the operator (each audited),
and the audit log shows every line's environment."""

from __future__ import annotations

import datetime as dt
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

    real = build_runtime(Settings.from_dict({"grtgaz": {"base_url": BASE, "client_id": "c-1"}}), store=store)
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


def test_failed_and_waiting_actions_are_listed_with_what_to_do(dirs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Shift handover: each pending, refused or read-back-different action says what to do, in
    the words of outbox_words; a refusal older than RECENT_DAYS is no longer news."""
    from pupitre.providers.core.outbox_words import ACTION_TODO, RECENT_DAYS, TODO, OutboxState

    now = dt.datetime.now(dt.timezone.utc)
    store = Store(dirs / "data" / "pupitre.sqlite3")
    refused = store.outbox_add("edf_oa", "acknowledge", {}, now)
    store.outbox_update(refused, "failed", now, error="HTTP 422: RG_ACK_0010")
    old = store.outbox_add("edf_oa", "acknowledge", {}, now)
    store.outbox_update(old, "failed", now - dt.timedelta(days=RECENT_DAYS, hours=1), error="HTTP 422")
    retrying = store.outbox_add("grtgaz", "declare program", {}, now)
    store.outbox_update(retrying, "pending", now, error="HTTP 503")
    differs = store.outbox_add("switchgrid", "order", {}, now)
    store.outbox_update(differs, "delivered", now, response="accepted", readback="owed")
    store.outbox_readback(differs, "differs", "not in the orders list")
    queued = store.outbox_add("grdf_adict", "declare", {}, now)
    store.close()

    assert cli.main(["outbox"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()

    def todo(item_id: int) -> str:
        index = next(i for i, line in enumerate(lines) if line.startswith(f"#{item_id} "))
        assert lines[index + 1].startswith("       → ")
        return lines[index + 1].removeprefix("       → ")

    assert f"#{refused:<5} NOT ACCEPTED EDF OA · acknowledge" in out and "RG_ACK_0010" in out
    assert todo(refused) == ACTION_TODO[("edf_oa", "acknowledge")][OutboxState.NOT_ACCEPTED]
    assert "PORTAL" in todo(refused) and "Curtailments" in todo(refused)
    assert f"#{old} " not in out  # refused more than RECENT_DAYS ago
    assert f"#{retrying:<5} RETRYING" in out and "`x` in the program editor" in todo(retrying)
    assert "compare on the provider's side" in todo(differs)
    assert todo(queued) == TODO[OutboxState.QUEUED]
    assert "NOT ACCEPTED: refused; never retried." in out  # each word shown is explained

    assert cli.main(["outbox", "--all"]) == 0
    out = capsys.readouterr().out
    assert f"#{old:<5} NOT ACCEPTED" in out and out.count("→") == 4  # the old refusal: no advice


def test_no_action_to_hand_over(dirs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Store(dirs / "data" / "pupitre.sqlite3").close()
    assert cli.main(["outbox"]) == 0
    assert capsys.readouterr().out.startswith("No held, pending or failed action")
