"""The audit trail for shift handover (issue 18): who did what (the OS user or ``[app]
operator``), ``pupitre audit`` filtered by time, provider and outcome as text, JSON or CSV, and
the retention of audit lines, history and snapshots, pruned in the background."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import socket
import threading
from pathlib import Path
from typing import Iterator

import pytest

from pupitre import cli
from pupitre.cli_outbox import parse_since
from pupitre.providers.core.clock import PARIS, ManualClock
from pupitre.providers.core.environments import SANDBOX
from pupitre.providers.core.leases import operator_name
from pupitre.providers.core.secrets import SecretStore
from pupitre.providers.core.store import Retention, Store
from pupitre.runtime import build_runtime
from pupitre.settings import Settings

NOW = dt.datetime(2026, 12, 6, 9, 0, tzinfo=PARIS)


def days_ago(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


@pytest.fixture
def dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("PUPITRE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PUPITRE_CONFIG_DIR", str(tmp_path / "config"))
    (tmp_path / "config").mkdir()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield tmp_path
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)


def test_the_operator_is_the_setting_or_the_os_user(monkeypatch: pytest.MonkeyPatch) -> None:
    assert operator_name(Settings.from_dict({"app": {"operator": "Alice (shift B)"}}).app.operator) == "Alice (shift B)"
    monkeypatch.setenv("LOGNAME", "bob")
    monkeypatch.setenv("USER", "bob")
    assert operator_name(Settings().app.operator) == "bob"


def test_audit_lines_name_who_and_filter(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite3")
    store.operator = "alice"
    store.audit("grtgaz", "declare program", "delivered", days_ago(3), "#1")
    store.audit("edf_oa", "acknowledge", "failed", days_ago(1), "#2 HTTP 503")
    store.operator = "bob"
    store.audit("edf_oa", "acknowledge", "delivered", NOW.astimezone(dt.timezone.utc), "#2")  # another offset
    entries = store.audit_entries(limit=None)
    assert [(e.operator, e.provider, e.outcome) for e in entries] == [
        ("bob", "edf_oa", "delivered"),
        ("alice", "edf_oa", "failed"),
        ("alice", "grtgaz", "delivered"),
    ]
    assert [e.detail for e in store.audit_entries(since=days_ago(2), limit=None)] == ["#2", "#2 HTTP 503"]
    # the UTC line is 08:00Z = 09:00 Paris: compared as instants, not as text
    assert [e.detail for e in store.audit_entries(since=NOW - dt.timedelta(minutes=1))] == ["#2"]
    assert [e.detail for e in store.audit_entries("edf_oa", outcome="failed")] == ["#2 HTTP 503"]
    # one day's lines (the Audit screen's day filter): since its start, until the next one's
    assert [e.detail for e in store.audit_entries(until=days_ago(2), limit=None)] == ["#1"]
    assert [e.detail for e in store.audit_entries(since=days_ago(2), until=NOW, limit=None)] == ["#2 HTTP 503"]
    # what was written since a line (the Audit screen reads only what is new)
    first = entries[-1].id
    assert [e.detail for e in store.audit_entries(after=first, limit=None)] == ["#2", "#2 HTTP 503"]
    assert store.audit_entries(after=entries[0].id) == []
    store.close()


def test_prune_keeps_what_the_retention_keeps_in_short_transactions(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite3")
    for day in (400, 366, 100, 10):
        store.audit("grtgaz", "declare program", "delivered", days_ago(day), f"{day} days")
        store.add_history("grtgaz.indicators", "LI1001", days_ago(day), "GREEN", "RED", f"{day} days")
    store.save_snapshot("grtgaz.programs/LI1001/2026-10-01", {"old": True}, days_ago(60))
    store.save_snapshot("grtgaz.indicators", {"new": True}, days_ago(0.01))
    for key, cleared in (("grtgaz:red:", 100), ("grtgaz:grey:", 10), ("grtgaz:token:", None)):
        alert = store.alert_raise(key, "grtgaz", "attention", key, days_ago(400))
        assert alert is not None
        if cleared is not None:
            store.alert_clear(alert.id, days_ago(cleared))
    store.bind_environments({"grtgaz": "https://elsewhere#client=x"})  # another environment's rows too
    store.audit("grtgaz", "declare program", "delivered", days_ago(500), "real, 500 days")

    stop = threading.Event()
    calls = []
    original = store._exec

    def exec_and_stop(sql: str, params: tuple = ()) -> object:  # stop after the first batch
        calls.append(sql)
        cursor = original(sql, params)
        stop.set()
        return cursor

    store._exec = exec_and_stop  # type: ignore[method-assign]  # counts the transactions
    partly = store.prune(NOW, Retention(365, 90, 30), batch=1, stop=stop)
    assert partly == {"audit": 1, "history": 0, "snapshots": 0, "alerts": 0} and len(calls) == 1
    store._exec = original  # type: ignore[method-assign]  # back to the store's own

    rest = store.prune(NOW, Retention(365, 90, 30), batch=1)
    assert rest == {"audit": 2, "history": 3, "snapshots": 1, "alerts": 1}
    store.bind_environments({})
    assert sorted(a.key for a in store.alert_history()) == ["grtgaz:grey:", "grtgaz:token:"]  # open: kept
    assert [e.detail for e in store.audit_entries(all_environments=True)] == ["10 days", "100 days"]  # newest first
    assert [h.detail for h in store.history("grtgaz.indicators")] == ["10 days"]
    assert store.load_snapshot("grtgaz.indicators") is not None
    assert store.load_snapshot("grtgaz.programs/LI1001/2026-10-01") is None
    store.close()


async def test_the_runtime_prunes_in_the_background(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite3")
    store.audit("grtgaz", "declare program", "delivered", days_ago(40), "old")
    store.audit("grtgaz", "declare program", "delivered", days_ago(2), "recent")
    settings = Settings.from_dict({"app": {"keep_audit_days": 30, "operator": "carol"}})
    runtime = build_runtime(
        settings,
        sandbox=True,
        clock=ManualClock(NOW),
        store=store,
        data_dir=tmp_path,
        secrets=SecretStore(credentials_file=tmp_path / "c", env={}),
    )
    thread = runtime.start_pruning()
    assert thread.daemon and thread.name == "pupitre-prune"
    await runtime.aclose()  # waits for it (one short transaction at most)
    assert not thread.is_alive()
    assert [e.detail for e in store.audit_entries(all_environments=True)] == ["recent"]
    runtime.store.audit("grtgaz", "x", "ok", NOW)
    assert store.audit_entries(limit=1)[0].operator == f"carol@{socket.gethostname()}"  # who, and from where
    store.close()


def test_since_spellings() -> None:
    assert parse_since("24h", NOW) == NOW - dt.timedelta(hours=24)
    assert parse_since("7d", NOW) == NOW - dt.timedelta(days=7)
    assert parse_since("90m", NOW) == NOW - dt.timedelta(minutes=90)
    assert parse_since("2026-12-01", NOW) == dt.datetime(2026, 12, 1, tzinfo=PARIS)
    assert parse_since("2026-12-01T06:00+00:00", NOW) == dt.datetime(2026, 12, 1, 6, tzinfo=dt.timezone.utc)


def _seed(dirs: Path) -> None:
    (dirs / "config" / "settings.toml").write_text('[app]\noperator = "Dana"\n')
    store = Store(dirs / "data" / "pupitre.sqlite3")
    store.bind_environments({})  # every provider in the sandbox environment
    store.operator = "Dana"
    now = dt.datetime.now(PARIS)
    store.audit("edf_oa", "acknowledge", "delivered", now - dt.timedelta(days=3), "#1 BOA0001")
    store.audit("edf_oa", "acknowledge", "failed", now - dt.timedelta(hours=2), '#2 =HYPERLINK("x") refused')
    store.audit("grtgaz", "declare program", "delivered", now - dt.timedelta(hours=1), "#3 LI1001")
    store.close()


def test_cli_audit_filters_as_text_json_and_csv(dirs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _seed(dirs)
    assert cli.main(["--sandbox", "audit", "--since", "1d"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and all("  Dana  [sandbox]  " in line for line in lines)
    assert lines[1].endswith("GRTgaz · declare program · delivered  #3 LI1001")

    assert cli.main(["audit", "--sandbox", "--provider", "edf_oa", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["outcome"], r["who"], r["provider"], r["environment"]) for r in rows] == [
        ("delivered", "Dana", "EDF OA", "sandbox"),
        ("failed", "Dana", "EDF OA", "sandbox"),
    ]
    assert dt.datetime.fromisoformat(rows[0]["at"]).utcoffset() is not None

    assert cli.main(["audit", "--sandbox", "--outcome", "failed", "--csv"]) == 0
    table = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert table[0] == ["at", "who", "environment", "provider", "action", "outcome", "detail"]
    assert len(table) == 2 and table[1][1:6] == ["Dana", "sandbox", "EDF OA", "acknowledge", "failed"]
    assert not table[1][6].startswith("=") and "HYPERLINK" in table[1][6]  # starts with "#2", kept as text


def test_cli_audit_refuses_an_unknown_provider(dirs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["audit", "--provider", "grdf"]) == 2
    assert "grdf_omega" in capsys.readouterr().err
    assert cli.main(["audit", "--json", "--csv"]) == 2  # one shape at a time (argparse)
    assert cli.main(["audit", "--since", "last week"]) == 2


def test_audit_lines_written_by_the_outbox_commands_name_who(dirs: Path) -> None:
    """``pupitre outbox release|drop`` writes its decision with the OS user or the setting."""
    from pupitre.cli_outbox import _store

    (dirs / "config" / "settings.toml").write_text('[app]\noperator = "Eve"\n')
    store = _store()
    assert store.operator == f"Eve@{socket.gethostname()}"
    store.audit("grtgaz", "declare program", "dropped", NOW, env=SANDBOX)
    assert store.audit_entries(all_environments=True)[0].operator == f"Eve@{socket.gethostname()}"
    store.close()
