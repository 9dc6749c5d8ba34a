"""Environments never mix, across processes: a real GRTgaz declaration left pending (the real
endpoint failing) is never sent by a ``--sandbox`` session, and is delivered to the real
endpoint once pupitre runs in real mode again; a real check never reports the sandbox's data
as its "last good data"."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import tomllib
from contextlib import closing
from pathlib import Path
from typing import Any

from pupitre import sandbox_server
from pupitre.check import run_checks
from pupitre.providers.core.environments import SANDBOX
from pupitre.providers.core.secrets import SecretStore
from pupitre.providers.core.store import OUTBOX_DELIVERED, OUTBOX_PENDING, Store
from pupitre.providers.grtgaz import feeds as grtgaz
from pupitre.runtime import build_runtime
from pupitre.sandbox_server import SandboxServer
from pupitre.settings import Settings
from tests.processes.grtgaz import declaration, settings_dir
from tests.processes.pupitre_outbox import run


def _outbox_rows(data: Path) -> list[tuple[int, str, int]]:
    """``(id, status, attempts)`` of every outbox row, read with plain SQL (any schema)."""
    with closing(sqlite3.connect(data / "pupitre.sqlite3")) as db:
        return [tuple(r) for r in db.execute("SELECT id, status, attempts FROM outbox ORDER BY id")]


def _received(served: SandboxServer) -> list[str]:
    """Program ids the served (real) endpoint received through ``POST /hmsProfiles``."""
    calls: list[str] = []
    sim = served["grtgaz"].simulator
    original = sim.declare

    def declare(profiles: Any, now: dt.datetime | None = None) -> Any:
        calls.extend(p.hmsProfileId for p in profiles)
        return original(profiles, now)

    sim.declare = declare
    return calls


async def test_a_sandbox_session_never_sends_a_real_pending_action(served: SandboxServer, tmp_path: Path) -> None:
    config, data = settings_dir(served, tmp_path), tmp_path / "data"
    received = _received(served)
    payload = tmp_path / "payload.json"
    payload.write_text(json.dumps(await declaration(tmp_path)), encoding="utf-8")
    served.plan.add("/sfm/v1/hmsProfiles", "status", count=1000, status=503, method="POST")

    # real mode: the declaration is queued, the real endpoint answers 503, it waits
    [(item_id, outcome, _)], _ = run("real", config, data, grtgaz.PROVIDER, grtgaz.DECLARE_ACTION, str(payload))
    assert outcome == "retry"
    assert _outbox_rows(data) == [(item_id, OUTBOX_PENDING, 1)]

    # the operator quits and starts `pupitre --sandbox` for training: nothing is sent anywhere
    deliveries, notes = run("sandbox", config, data)
    assert deliveries == []
    assert _outbox_rows(data) == [(item_id, OUTBOX_PENDING, 1)]
    assert received == []
    store = Store(data / "pupitre.sqlite3")
    [row] = store.outbox_any_environment()
    real_env = row.env
    assert real_env == f"{served['grtgaz'].base_url}#client={grtgaz.SANDBOX_CLIENT_ID}"
    assert "503" in row.last_error
    assert not [e for e in store.audit_entries(all_environments=True) if e.env == SANDBOX]
    assert any(note.startswith("GRTgaz: first use of sandbox") for note in notes)

    # back in real mode, the endpoint answering again: delivered there, once
    served.plan.clear()
    [(again, outcome, message)], _ = run("real", config, data)
    assert (again, outcome) == (item_id, "delivered"), message
    assert len(received) == 1 and received[0] in message
    [row] = store.outbox_any_environment()
    assert (row.status, row.env) == (OUTBOX_DELIVERED, real_env)
    trail = [(e.env, e.outcome) for e in reversed(store.audit_entries(all_environments=True))]
    assert trail == [(real_env, o) for o in ("queued", "retrying", "resumed", "delivered", "verified")]


async def test_a_real_check_never_reports_sandbox_data_as_its_last_good_data(
    served: SandboxServer, tmp_path: Path
) -> None:
    store = Store(tmp_path / "s.sqlite3")
    secrets = SecretStore(credentials_file=tmp_path / "none.toml", env={})
    sandboxed = build_runtime(Settings(), sandbox=True, store=store, data_dir=tmp_path, secrets=secrets)
    report = await run_checks(sandboxed)
    assert report["feeds"][grtgaz.INDICATORS_FEED]["ok"]

    snippet = sandbox_server.settings_snippet(served["grtgaz"], tmp_path / "served")
    settings = Settings.from_dict(tomllib.loads("\n".join(snippet)))
    served.plan.add("/sfm/v1/*", "status", count=1000, status=503)
    real = build_runtime(settings, store=store, data_dir=tmp_path, secrets=secrets)
    report = await run_checks(real)
    await real.aclose()
    failed = report["feeds"][grtgaz.INDICATORS_FEED]
    assert not failed["ok"] and "503" in failed["error"]
    [finding] = [f for f in report["findings"] if f["provider"] == "GRTgaz" and "data unavailable" in f["message"]]
    assert "last good data" not in finding["message"]
    assert [n for n in report["notes"] if n.startswith("GRTgaz: first use of 127.0.0.1:")]
