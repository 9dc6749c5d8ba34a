"""One GRDF OMEGA quota (1 call/s per supplier, §1.3) shared by every pupitre process on a
store: real processes against the simulator served on loopback, which refuses a call that
arrives less than a second after the previous one, like GRDF's gateway.

Each slot counts from the call's answer (the API counted the call on arrival, before), so
a loaded machine cannot bring two arrivals closer than the period. The rate used with 3 × 20
requests is measured by ``tests/bench/test_bench_quota.py``; a control shows that the same
processes on separate stores collide."""

from __future__ import annotations

from pathlib import Path

import pytest

from pupitre.providers.core.clock import SystemClock
from pupitre.providers.grdf_omega import feeds as omega
from pupitre.sandbox_server import SandboxServer
from tests.processes.omega import environment, omega_settings, real_store, run_together


@pytest.fixture
def served(served: SandboxServer) -> SandboxServer:
    served["grdf_omega"].simulator.quota_leeway = 0.0  # strict: one call per second, no tolerance
    return served


def _console(tmp_path: Path, name: str, served: SandboxServer, numbers: list[str], margin: float) -> dict[str, str]:
    """One operator's settings and data dir, watching ``numbers``."""
    config, data = tmp_path / name / "config", tmp_path / name / "data"
    config.mkdir(parents=True, exist_ok=True)
    text = omega_settings(served, margin=margin)
    (config / "settings.toml").write_text(text, encoding="utf-8")
    store = real_store(data / "pupitre.sqlite3", text)
    store.watch_add(omega.PROVIDER, numbers, SystemClock().now())
    store.close()
    return environment(config, data)


def test_three_processes_on_one_store_share_one_quota(served: SandboxServer, tmp_path: Path) -> None:
    sim = served["grdf_omega"].simulator
    numbers = sim.numbers()[:3]
    env = _console(tmp_path, "shared", served, numbers, margin=0.1)
    runs = run_together([env, env, env], timeout=90)
    assert all(run.read == 3 and not run.errors for run in runs)
    assert sim.quota_refusals == 0 and sim.calls == 9
    # Interleaved, not one after another: all three were reading at the same time.
    assert max(run.start for run in runs) < min(run.end for run in runs)
    span = max(run.end for run in runs) - min(run.start for run in runs)
    assert span >= 8 / 0.9  # 9 calls at 0.9/s: the shared window paced them all


def test_control_processes_on_separate_stores_collide(served: SandboxServer, tmp_path: Path) -> None:
    """Without a shared store each process paces itself alone (here exactly at 1 call/s):
    two streams of calls one second apart always meet within a second, and GRDF refuses."""
    sim = served["grdf_omega"].simulator
    numbers = sim.numbers()[:3]
    envs = [_console(tmp_path, name, served, numbers, margin=0.0) for name in ("a", "b")]
    runs = run_together(envs, timeout=90)
    assert all(run.read == 3 for run in runs)
    assert sim.quota_refusals > 0


def test_two_hosts_on_one_postgresql_store_share_one_quota(
    served: SandboxServer, tmp_path: Path, postgres_url: str
) -> None:
    """Team mode: two processes with their own data dirs (two "hosts") on one PostgreSQL store
    share one OMEGA credential: the server's advisory lock and clock pace them both."""
    from pupitre.providers.core.store_pg import PostgresStore

    sim = served["grdf_omega"].simulator
    numbers = sim.numbers()[:3]
    text = omega_settings(served, margin=0.1)
    envs = []
    for host in ("host-a", "host-b"):
        config, data = tmp_path / host / "config", tmp_path / host / "data"
        config.mkdir(parents=True)
        (config / "settings.toml").write_text(text, encoding="utf-8")
        envs.append(dict(environment(config, data), PUPITRE_STORE_URL=postgres_url))
    shared = PostgresStore(postgres_url)
    settings = real_store(tmp_path / "env.sqlite3", text)  # only to name the environment
    shared.bind_environments({omega.PROVIDER: settings.env_of(omega.PROVIDER)})
    settings.close()
    shared.watch_add(omega.PROVIDER, numbers, SystemClock().now())  # the team's watch-list
    shared.close()
    runs = run_together(envs, timeout=90)
    assert all(run.read == 3 and not run.errors for run in runs)
    assert sim.quota_refusals == 0 and sim.calls == 6
    assert max(run.start for run in runs) < min(run.end for run in runs)
    assert not any((tmp_path / host / "data" / "pupitre.sqlite3").exists() for host in ("host-a", "host-b"))
