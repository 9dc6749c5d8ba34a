"""``pupitre check``: the daily checks against the GRTgaz sandbox, on a frozen clock.

Exit codes: 0 all fine, 1 attention (RED now or announced), 2 critical (GREY
shortage, data unavailable). The simulator is scripted through
``runtime.simulators["grtgaz"]`` on a calm (all green) scenario.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from pupitre import check
from pupitre.providers.core.certs import sandbox_credentials
from pupitre.providers.core.clock import PARIS, ManualClock
from pupitre.providers.core.faults import FaultPlan
from pupitre.providers.core.retry import RetryPolicy
from pupitre.providers.core.secrets import SecretStore
from pupitre.providers.core.store import Store
from pupitre.providers.grtgaz.models import Flex, IndicatorStatus
from pupitre.providers.grtgaz.sandbox import calm_scenario
from pupitre.runtime import PROVIDERS, Runtime, build_runtime
from pupitre.settings import Settings

GREEN, RED = IndicatorStatus.GREEN, IndicatorStatus.RED
DAY = dt.date(2025, 1, 15)  # winter: Paris is UTC+1, no DST change near


def at(hour: int, minute: int = 0, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=PARIS)


@pytest.fixture(scope="session")
def sandbox_pair(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One sandbox key pair for the session (RSA generation costs ~0.3 s a test)."""
    directory = tmp_path_factory.mktemp("pair")
    sandbox_credentials(directory, "grtgaz")
    return directory


@pytest.fixture(autouse=True)
def dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sandbox_pair: Path) -> Path:
    (tmp_path / "data").mkdir(mode=0o700)
    shutil.copytree(sandbox_pair, tmp_path / "data" / "sandbox")
    monkeypatch.setenv("PUPITRE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PUPITRE_CONFIG_DIR", str(tmp_path / "config"))
    return tmp_path


Make = Callable[..., Runtime]


@pytest.fixture
def make(tmp_path: Path) -> Iterator[Make]:
    stores: list[Store] = []

    def build(now: dt.datetime, *, faults: FaultPlan | None = None, retry: RetryPolicy | None = None) -> Runtime:
        store = Store(tmp_path / "data" / "pupitre.sqlite3")
        stores.append(store)
        runtime = build_runtime(
            Settings(),
            sandbox=True,
            clock=ManualClock(now),
            store=store,
            data_dir=tmp_path / "data",
            faults=faults,
            retry=retry or RetryPolicy(attempts=1),
            secrets=SecretStore(credentials_file=tmp_path / "config" / "c.toml", env={}),
        )
        runtime.simulators["grtgaz"].scenario = calm_scenario
        runtime.simulators["grdf_adict"].rights.clear()  # calm: no proof awaited, none lost
        return runtime

    yield build
    for store in stores:
        store.close()


def run(runtime: Runtime, capsys: pytest.CaptureFixture[str], *, as_json: bool) -> tuple[int, str]:
    code = check.main(runtime, fmt="json" if as_json else "text")
    return code, capsys.readouterr().out


def grtgaz_findings(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["provider"] == "GRTgaz"]


# -- levels ----------------------------------------------------------------------------


def test_all_green_is_ok(make: Make, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(make(at(10, 30)), capsys, as_json=False)
    assert code == 0
    first = out.splitlines()[0]
    assert first.startswith("pupitre check — OK (2025-01-15T10:30:00")
    assert "SIMULATED (sandbox data, not the real APIs): GRTgaz, EDF OA, GRDF OMEGA, GRDF ADICT" in out
    assert "all 13 sites green, no change announced" in out


def test_red_now_needs_attention(make: Make, capsys: pytest.CaptureFixture[str]) -> None:
    runtime = make(at(10, 30))
    simulator = runtime.simulators["grtgaz"]
    simulator.schedule("LI1003", Flex.Q_TO_QPLUS, RED, at(9, 52))  # applied since 10:15
    code, out = run(runtime, capsys, as_json=False)
    assert code == 1
    assert out.splitlines()[0].startswith("pupitre check — ATTENTION")
    assert "Cycofos (Provence): RED on Q→Q+" in out
    assert "[ATTENTION] GRTgaz:" in out


def test_announced_red_needs_attention_with_its_time(make: Make, capsys: pytest.CaptureFixture[str]) -> None:
    """Published at 09:52 (before now, 10:00), applies at 10:15 (after): ``nextIndicator``."""
    runtime = make(at(10, 0))
    simulator = runtime.simulators["grtgaz"]
    assert simulator.schedule("LI1001", Flex.PARTIAL, RED, at(9, 45)) == at(9, 52)
    site = simulator.site_indicators("LI1001")
    assert site.currentIndicator.indicator(Flex.PARTIAL).status is GREEN
    assert site.nextIndicator is not None
    code, out = run(runtime, capsys, as_json=True)
    report = json.loads(out)
    assert code == 1 == report["exit_code"] and report["status"] == "attention"
    messages = [f["message"] for f in report["findings"] if f["level"] == "attention"]
    assert messages == ["DK6: partial turns RED at 10:15"]


def test_grey_shortage_is_critical(make: Make, capsys: pytest.CaptureFixture[str]) -> None:
    runtime = make(at(10, 30))
    start, end = runtime.simulators["grtgaz"].declare_shortage(DAY)
    assert start <= at(10, 30) < end
    code, out = run(runtime, capsys, as_json=False)
    assert code == 2
    assert out.splitlines()[0].startswith("pupitre check — CRITICAL")
    assert "GREY (flexibility shortage) at DK6" in out


def test_grey_on_some_sites_outranks_red(make: Make, capsys: pytest.CaptureFixture[str]) -> None:
    runtime = make(at(10, 30))
    simulator = runtime.simulators["grtgaz"]
    simulator.declare_shortage(DAY, site_ids={"LI1006"})
    simulator.schedule("LI1003", Flex.Q_TO_QMINUS, RED, at(9, 52))
    code, out = run(runtime, capsys, as_json=True)
    report = json.loads(out)
    assert code == 2 and report["status"] == "critical"
    levels = sorted(f["level"] for f in grtgaz_findings(report))
    assert levels == ["attention", "critical"]


def test_data_unavailable_is_unknown(make: Make, capsys: pytest.CaptureFixture[str]) -> None:
    """A provider that cannot be read leaves the check unable to say: UNKNOWN (3), as Nagios
    plugins do, never CRITICAL by itself."""
    plan = FaultPlan()
    plan.add("/sfm/v1/sites/*", "status", count=10, status=503)
    runtime = make(at(10, 30), faults=plan, retry=RetryPolicy(attempts=1))
    code, out = run(runtime, capsys, as_json=False)
    assert code == 3
    assert out.splitlines()[0].startswith("pupitre check — UNKNOWN")
    assert "data unavailable" in out and "HTTP 503" in out
    assert plan.faults[0].count == 9  # one attempt only


def test_a_critical_finding_outranks_a_provider_not_read(make: Make, capsys: pytest.CaptureFixture[str]) -> None:
    plan = FaultPlan()
    plan.add("/api/v1/*", "status", count=10, status=503)  # EDF OA down
    runtime = make(at(10, 30), faults=plan)
    runtime.simulators["grtgaz"].declare_shortage(DAY)
    code, out = run(runtime, capsys, as_json=True)
    report = json.loads(out)
    assert code == 2 and report["status"] == "critical"
    assert {f["level"] for f in report["findings"] if f["provider"] == "EDF OA"} == {"unknown"}


def test_data_unavailable_names_the_last_good_data(make: Make, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(make(at(9, 0)), capsys, as_json=False)[0] == 0  # stores a snapshot
    plan = FaultPlan()
    plan.add("/sfm/v1/sites/*", "status", count=10, status=503)
    code, out = run(make(at(10, 30), faults=plan), capsys, as_json=True)
    report = json.loads(out)
    assert code == 3
    (finding,) = grtgaz_findings(report)
    assert finding["level"] == "unknown"
    assert finding["message"].startswith("data unavailable: GRTgaz:")
    assert finding["message"].endswith("last good data from 15/01 09:00")
    assert report["feeds"]["grtgaz.indicators"]["ok"] is False


async def test_run_checks_records_the_snapshot(make: Make) -> None:
    runtime = make(at(10, 30))
    try:
        report = await check.run_checks(runtime)
    finally:
        await runtime.aclose()
    assert report["exit_code"] == 0
    snapshot = runtime.store.load_snapshot("grtgaz.indicators")
    assert snapshot is not None and snapshot.fetched_at == at(10, 30)
    assert len(snapshot.payload) == 13


# -- JSON ------------------------------------------------------------------------------


def test_json_structure(make: Make, capsys: pytest.CaptureFixture[str]) -> None:
    runtime = make(at(10, 30))
    runtime.simulators["grtgaz"].schedule("LI1003", Flex.Q_TO_QPLUS, RED, at(9, 52))
    code, out = run(runtime, capsys, as_json=True)
    report: dict[str, Any] = json.loads(out)
    assert set(report) >= {"status", "exit_code", "checked_at", "sandbox", "feeds", "findings"}
    assert report["status"] == "attention" and report["exit_code"] == code == 1
    assert dt.datetime.fromisoformat(report["checked_at"]) == at(10, 30)
    assert report["sandbox"] == sorted(PROVIDERS)
    feed = report["feeds"]["grtgaz.indicators"]
    assert feed["ok"] is True and feed["source"] == "fetched" and feed["sandbox"] is True
    assert feed["fetched_at"] == feed["last_success"] == at(10, 30).isoformat() and feed["age_seconds"] == 0
    assert set(report["feeds"]) >= {"edf_oa.curtailments", "edf_oa.acknowledgements"}
    assert isinstance(report["findings"], list) and report["findings"]
    for finding in report["findings"]:
        assert set(finding) == {"provider", "level", "message"}
        assert finding["provider"] in {m.TITLE for m in PROVIDERS.values()}
        assert finding["level"] in ("ok", "attention", "critical", "unknown")
    assert set(report["providers"]) == set(PROVIDERS)


def test_json_ok(make: Make, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(make(at(10, 30)), capsys, as_json=True)
    report = json.loads(out)
    assert code == 0 and report["status"] == "ok" and report["exit_code"] == 0
    # GRTgaz; EDF OA before 13:00; GRDF OMEGA with an empty watch-list; Switchgrid with no order
    assert [f["level"] for f in report["findings"]] == ["ok"] * len(PROVIDERS)


# -- the command -----------------------------------------------------------------------


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """``cli.main`` points the root logger at the data dir's log file: undo it."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("restore_logging")
def test_cli_check_json_returns_the_reported_code(dirs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pupitre import cli

    code = cli.main(["check", "--sandbox", "--json"])
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert code == report["exit_code"] == {"ok": 0, "attention": 1, "critical": 2}[report["status"]]
    assert report["sandbox"] == sorted(PROVIDERS)
    assert report["feeds"]["grtgaz.indicators"]["ok"] is True
    assert (dirs / "data" / "pupitre.sqlite3").exists()
    assert (dirs / "data" / "sandbox" / "grtgaz.cert.pem").exists()


# -- the client certificate (§12.2) ----------------------------------------------------------


def test_certificate_expiry_warned_a_month_before(make: Make, capsys: pytest.CaptureFixture[str], dirs: Path) -> None:
    """§12.2 « Une nouvelle version du certificat devra être transmise par les Clients un (1)
    mois avant son expiration »: from 30 days before (``certificate_warn_days``) the check says so."""
    from pupitre.providers.core.certs import generate_self_signed

    key, certificate = generate_self_signed("pupitre sandbox grtgaz", days=40)
    (dirs / "data" / "sandbox" / "grtgaz.key.pem").write_bytes(key)
    (dirs / "data" / "sandbox" / "grtgaz.cert.pem").write_bytes(certificate)
    soon = dt.datetime.now(PARIS) + dt.timedelta(days=20)
    code, out = run(make(soon), capsys, as_json=False)
    assert code == 1
    assert "[ATTENTION] GRTgaz: client certificate expires on" in out
    assert "§12.2 asks for the new one a month before" in out


def test_certificate_findings_levels() -> None:
    from pupitre.providers.core.certs import generate_self_signed
    from pupitre.providers.grtgaz.feeds import certificate_findings

    _, certificate = generate_self_signed("test", days=40)
    now = dt.datetime.now(PARIS)
    assert certificate_findings(certificate, now, 30) == []
    assert [f.level for f in certificate_findings(certificate, now + dt.timedelta(days=11), 30)] == ["attention"]
    assert certificate_findings(certificate, now + dt.timedelta(days=11), 5) == []
    expired = certificate_findings(certificate, now + dt.timedelta(days=41), 30)
    assert [f.level for f in expired] == ["critical"] and "expired" in expired[0].message
    assert certificate_findings(None, now, 30) == [] and certificate_findings(b"not a pem", now, 30) == []
