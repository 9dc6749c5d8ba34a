"""``pupitre check`` never becomes CRITICAL by its own slowness (issue 18): 37 watched GRDF
requests against the OMEGA simulator served on loopback, which refuses a call less than a
second after the last (§1.3). The old check gave up after a fixed 30 s and said CRITICAL; the
feed's time budget now follows its quota, and a budget cut short (``--timeout``) reports what
it read as partial."""

from __future__ import annotations

import datetime as dt
import time
import tomllib
from pathlib import Path

import pytest

from pupitre import check
from pupitre.providers.core.clock import PARIS, ManualClock
from pupitre.providers.core.retry import RetryPolicy
from pupitre.providers.core.secrets import SecretStore
from pupitre.providers.core.store import Store
from pupitre.providers.grdf_omega import feeds as omega
from pupitre.providers.grtgaz.sandbox import calm_scenario
from pupitre.runtime import Runtime, build_runtime
from pupitre.sandbox_server import SandboxServer
from pupitre.settings import Settings
from tests.processes.omega import omega_settings

WATCHED = 37
NOW = dt.datetime(2025, 1, 15, 10, 30, tzinfo=PARIS)


@pytest.fixture
def served(served: SandboxServer) -> SandboxServer:
    served["grdf_omega"].simulator.quota_leeway = 0.0  # strict: one call per second, no tolerance
    return served


def runtime_on(served: SandboxServer, tmp_path: Path) -> Runtime:
    """GRDF OMEGA real, on the served simulator, watching 37 requests; the other providers on
    their in-process simulators, calm (so the only thing that could go wrong is the time)."""
    settings = Settings.from_dict(tomllib.loads(omega_settings(served, margin=0.1)))
    secrets = SecretStore(
        credentials_file=tmp_path / "c.toml", env={"PUPITRE_GRDF_OMEGA_CLIENT_SECRET": omega.SANDBOX_CLIENT_SECRET}
    )
    runtime = build_runtime(
        settings,
        clock=ManualClock(NOW),
        store=Store(tmp_path / "s.sqlite3"),
        data_dir=tmp_path,
        retry=RetryPolicy(attempts=1),
        secrets=secrets,
    )
    assert runtime.sandboxed == {"grtgaz", "edf_oa", "grdf_adict", "switchgrid"}
    runtime.simulators["grtgaz"].scenario = calm_scenario
    runtime.simulators["grdf_adict"].rights.clear()
    numbers = served["grdf_omega"].simulator.numbers()[:WATCHED]
    assert len(numbers) == WATCHED
    runtime.store.watch_add(omega.PROVIDER, numbers, NOW)
    return runtime


async def test_37_watched_requests_are_read_whole_within_their_budget(served: SandboxServer, tmp_path: Path) -> None:
    runtime = runtime_on(served, tmp_path)
    started = time.monotonic()
    try:
        report = await check.run_checks(runtime)
    finally:
        await runtime.aclose()
        runtime.store.close()
    took = time.monotonic() - started
    feed = report["feeds"][omega.REQUESTS_FEED]
    assert feed["source"] == "fetched" and feed["ok"]
    assert feed["budget_seconds"] >= check.ANSWER_SECONDS + WATCHED / 0.9 - 1  # 37 calls at 0.9/s
    assert took > check.ANSWER_SECONDS  # what the fixed 30 s cap turned into CRITICAL
    assert report["status"] == "ok" and report["exit_code"] == 0, report["findings"]
    items = report["providers"]["grdf_omega"]["items"]
    assert len(items) == WATCHED and all(i["read_at"] and not i["error"] for i in items)
    assert served["grdf_omega"].simulator.quota_refusals == 0


async def test_a_budget_cut_short_is_partial_never_critical(served: SandboxServer, tmp_path: Path) -> None:
    runtime = runtime_on(served, tmp_path)
    started = time.monotonic()
    try:
        report = await check.run_checks(runtime, check.Options(timeout=6))
    finally:
        await runtime.aclose()
        runtime.store.close()
    assert time.monotonic() - started < 8
    feed = report["feeds"][omega.REQUESTS_FEED]
    assert feed["source"] == "partial" and feed["ok"] and feed["total"] == WATCHED
    assert 1 <= feed["read"] < WATCHED
    (partial,) = [f for f in report["findings"] if "partial" in f["message"]]
    assert partial["level"] == "attention" and partial["provider"] == "GRDF OMEGA"
    assert f"{feed['read']} of {WATCHED} read" in partial["message"]
    assert report["status"] == "attention" and report["exit_code"] == 1
    read = [i for i in report["providers"]["grdf_omega"]["items"] if i["read_at"]]
    assert len(read) == feed["read"]
