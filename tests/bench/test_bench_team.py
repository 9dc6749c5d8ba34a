"""Benchmark (issue 19): one ``pupitre agent`` and N consoles on one PostgreSQL store (started
by the test run), against the simulators served by ``pupitre sandbox serve`` in a process of
its own (every process configured with the settings it prints, as real endpoints).

Prints: the API calls per minute of the whole team (the simulators' access log) against one
console's (the agent's, which polls on a console's schedule: ratio 1.0 means nobody else
polled), the quota refusals (429 answers), the delay from the agent's fetch to a console's read
of the new result (median, 95th percentile; goal ≤ 1 s p95), and the console cold start (open
the store, read every feed's last result) on PostgreSQL against SQLite (goal: within 10 %).

    pytest -m bench -n0 -s tests/bench/test_bench_team.py   # 20 consoles, 10 minutes
    PUPITRE_BENCH_CONSOLES=3 PUPITRE_BENCH_SECONDS=60 pytest -m bench -n0 -s tests/bench/test_bench_team.py
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from pupitre.providers.core.store import Store
from pupitre.providers.core.store_pg import PostgresStore
from pupitre.runtime import PROVIDERS, environment_of
from pupitre.settings import Settings
from tests.processes.agent import start_agent, wait_for_leases
from tests.processes.served import ServedSandbox, serve
from tests.terminal import REPO, subprocess_env

pytestmark = pytest.mark.bench
CONSOLES = int(os.environ.get("PUPITRE_BENCH_CONSOLES", "20"))
SECONDS = float(os.environ.get("PUPITRE_BENCH_SECONDS", "600"))


def _configured(env: dict[str, str], sandbox: ServedSandbox) -> dict[str, str]:
    """``env`` with the served simulators' settings (in its config dir) and secrets."""
    config = Path(env["PUPITRE_CONFIG_DIR"])
    config.mkdir(parents=True, exist_ok=True)
    (config / "settings.toml").write_text(sandbox.settings, encoding="utf-8")
    return {**env, **sandbox.secrets}


def _environments(sandbox: ServedSandbox) -> dict[str, str]:
    """Each provider's environment id, as the processes configured by ``sandbox`` use it."""
    settings = Settings.model_validate(tomllib.loads(sandbox.settings))
    return {
        name: environment_of(name, settings, sandboxed=f"[{name}]" not in sandbox.settings).id for name in PROVIDERS
    }


def _bound(store: Store, envs: dict[str, str]) -> Store:
    store.bind_environments(envs)
    return store


def _console_start(env: dict[str, str], rounds: int = 5) -> float:
    """Median seconds from a console process's start (its imports done) to every feed's last
    result read from the store (``tests/processes/follower.py`` with no time to follow)."""
    times = []
    for _ in range(rounds):
        out = subprocess.run(
            [sys.executable, "-m", "tests.processes.follower", "0", "--served"],
            capture_output=True,
            text=True,
            env=env,
            cwd=REPO,
            timeout=120,
            check=True,
        )
        times.append(json.loads(out.stdout.strip().splitlines()[-1])["cold_start"])
    return statistics.median(times)


def _cold_start(open_store, feeds: list[str], rounds: int = 7) -> float:
    """Median seconds to open the store and read every feed's last result."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        store = open_store()
        for feed in feeds:
            store.load_snapshot(feed)
        times.append(time.perf_counter() - start)
        store.close()
    return statistics.median(times)


async def test_bench_one_agent_and_consoles_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    sandbox = serve(tmp_path)
    env = _configured(dict(subprocess_env(tmp_path / "agent"), PUPITRE_STORE_URL=postgres_url), sandbox)
    agent = start_agent(tmp_path, env=env, sandbox=False)
    consoles: list[subprocess.Popen[str]] = []
    try:
        shared = PostgresStore(postgres_url)
        await wait_for_leases(shared, 8)
        answers_before = dict(sandbox.answers)
        began = time.monotonic()
        for n in range(CONSOLES):
            console_env = _configured(
                dict(subprocess_env(tmp_path / f"console{n}"), PUPITRE_STORE_URL=postgres_url), sandbox
            )
            consoles.append(
                subprocess.Popen(
                    [sys.executable, "-m", "tests.processes.follower", str(SECONDS), "--served"],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    env=console_env,
                    cwd=REPO,
                    text=True,
                )
            )
        results = [json.loads(c.communicate(timeout=SECONDS + 120)[0].strip().splitlines()[-1]) for c in consoles]
        minutes = (time.monotonic() - began) / 60
        answers = {k: v - answers_before.get(k, 0) for k, v in sandbox.answers.items()}
    finally:
        for console in consoles:
            if console.poll() is None:
                console.kill()
        agent.terminate()
        agent.wait(timeout=60)
        sandbox.stop()
    log = (tmp_path / "agent.out").read_text()
    agent_runs = log.count(": fetched")  # one line per feed run that reached the API and was saved
    console_polls = sum(r["polls"] for r in results)
    calls, refusals = sum(answers.values()), answers.get(429, 0)
    latencies = sorted(x for r in results for x in r["latencies"])
    assert latencies, "no result reached a console"
    p50 = statistics.median(latencies)
    p95 = latencies[int(0.95 * (len(latencies) - 1))]

    envs = _environments(sandbox)
    shared.bind_environments(envs)
    names = sorted({row[0] for row in shared._query("SELECT feed FROM snapshots")})
    feeds = [feed for feed in names if shared.load_snapshot(feed) is not None]  # of the served environments
    sqlite_path = tmp_path / "copy" / "data" / "pupitre.sqlite3"
    copy = Store(sqlite_path)
    copy.bind_environments(envs)
    for feed in feeds:
        snap = shared.load_snapshot(feed)
        assert snap is not None
        copy.save_snapshot(feed, snap.payload, snap.fetched_at)
    copy.close()
    pg_start = _cold_start(lambda: _bound(PostgresStore(postgres_url), envs), feeds)
    sqlite_start = _cold_start(lambda: _bound(Store(sqlite_path), envs), feeds)
    shared.close()
    pg_console = _console_start(
        _configured(dict(subprocess_env(tmp_path / "cold-pg"), PUPITRE_STORE_URL=postgres_url), sandbox)
    )
    sqlite_console = _console_start(_configured(subprocess_env(tmp_path / "copy"), sandbox))

    print(
        f"\n1 agent + {CONSOLES} consoles on PostgreSQL, served simulators, {minutes:.1f} min: "
        f"API calls {calls / minutes:.1f}/min ({dict(sorted(answers.items()))}), quota refusals {refusals}; "
        f"feed runs {agent_runs / minutes:.1f}/min by the agent, {console_polls} by the consoles "
        f"(team/one console = {(agent_runs + console_polls) / max(agent_runs, 1):.2f}); "
        f"fetch -> console read: median {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms over {len(latencies)} reads; "
        f"cold start (store + every feed's last result): PostgreSQL {pg_start * 1000:.1f} ms, "
        f"SQLite {sqlite_start * 1000:.1f} ms; console start to every feed's data read: "
        f"PostgreSQL {pg_console:.3f} s, SQLite {sqlite_console:.3f} s ({pg_console / sqlite_console - 1:+.0%})"
    )
    assert console_polls == 0
    assert refusals == 0
    assert p95 <= 1.0
