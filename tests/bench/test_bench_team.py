"""Benchmark (issue 19): one ``pupitre agent`` and N consoles on one PostgreSQL store (started
by the test run), against the simulators served by ``pupitre sandbox serve`` in a process of
its own (every process configured with the settings it prints, as real endpoints).

Prints: the API calls per minute of the whole team (the simulators' access log) against one
console's (the agent's, which polls on a console's schedule: ratio 1.0 means nobody else
polled), the quota refusals (429 answers), the delay from the agent's fetch to a console's read
of the new result (median, 95th percentile; goal ≤ 1 s p95), and the console cold start on
PostgreSQL against SQLite (goal: within 10 %): ``pupitre`` (the dashboard) started in tmux, from
the process start to every Overview tile painted with its data's age (as
``test_bench_startup.py`` measures it), interleaved, median of ``PUPITRE_BENCH_RUNS`` (7); beside
it the store-only figure (open the store, read every feed's last result).

Every provider the served simulators offer must be connected (its settings and secrets as
printed, and the agent fetching its feeds): a provider "not connected" fails the bench, since
its quota (GRDF OMEGA, ADICT) would then not be exercised and "0 refusals" would say nothing.

    pytest -m bench -n0 -s tests/bench/test_bench_team.py   # 20 consoles, 10 minutes
    PUPITRE_BENCH_CONSOLES=3 PUPITRE_BENCH_SECONDS=60 pytest -m bench -n0 -s tests/bench/test_bench_team.py
"""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from pupitre.providers.core.errors import ConfigError
from pupitre.providers.core.secrets import SecretStore
from pupitre.providers.core.store import Store
from pupitre.providers.core.store_pg import PostgresStore
from pupitre.runtime import PROVIDERS, build_runtime, environment_of
from pupitre.settings import Settings
from tests.processes.agent import start_agent, wait_for_leases
from tests.processes.served import ServedSandbox, serve
from tests.terminal import REPO, subprocess_env

pytestmark = pytest.mark.bench
CONSOLES = int(os.environ.get("PUPITRE_BENCH_CONSOLES", "20"))
SECONDS = float(os.environ.get("PUPITRE_BENCH_SECONDS", "600"))
RUNS = int(os.environ.get("PUPITRE_BENCH_RUNS", "7"))
SIZE = ("120", "40")


def _configured(env: dict[str, str], sandbox: ServedSandbox) -> dict[str, str]:
    """``env`` with the served simulators' settings (in its config dir) and secrets."""
    config = Path(env["PUPITRE_CONFIG_DIR"])
    config.mkdir(parents=True, exist_ok=True)
    (config / "settings.toml").write_text(sandbox.settings, encoding="utf-8")
    return {**env, **sandbox.secrets}


def _environments(sandbox: ServedSandbox) -> dict[str, str]:
    """Each provider's environment id, as the processes configured by ``sandbox`` use it."""
    settings = Settings.from_dict(tomllib.loads(sandbox.settings))
    return {
        name: environment_of(name, settings, sandboxed=f"[{name}]" not in sandbox.settings).id for name in PROVIDERS
    }


def _connected_feeds(tmp_path: Path, sandbox: ServedSandbox) -> dict[str, str]:
    """Feed -> provider, once every provider is checked *connected* with the settings and secrets
    ``sandbox`` printed (none left on its simulator, every required setting and secret there);
    fails naming the providers that are not."""
    settings = Settings.from_dict(tomllib.loads(sandbox.settings))
    secrets = SecretStore(credentials_file=tmp_path / "no-credentials.toml", env=dict(sandbox.secrets))
    store = Store(tmp_path / "connected" / "pupitre.sqlite3")
    runtime = build_runtime(settings, store=store, secrets=secrets, data_dir=tmp_path / "connected")
    try:
        problems = [f"{name}: on its simulator (not in the printed settings)" for name in sorted(runtime.sandboxed)]
        for name, module in PROVIDERS.items():
            if name in runtime.sandboxed:
                continue
            for secret in module.SECRETS or (None,):
                try:
                    runtime.ctx.connect_real(name, runtime.connections[name].title, getattr(settings, name), secret)
                except ConfigError as error:
                    problems.append(str(error))
        assert not problems, "providers not connected in the bench:\n" + "\n".join(problems)
        return {feed.name: feed.provider for feed in runtime.feeds}
    finally:
        store.close()


def _providers_fetched(log: str, feeds: dict[str, str]) -> set[str]:
    """The providers of which the agent's log shows a feed fetched."""
    return {provider for name, provider in feeds.items() if f"feed {name}: fetched" in log}


async def _wait_for_every_provider(agent_out: Path, feeds: dict[str, str], timeout: float = 120.0) -> None:
    """Until the agent has fetched a feed of every provider; fails loudly on "not connected"."""
    waited, want = 0.0, set(feeds.values())
    while True:
        log = agent_out.read_text()
        assert "not connected" not in log, f"a provider is not connected in the bench:\n{log[-3000:]}"
        if _providers_fetched(log, feeds) == want:
            return
        if waited >= timeout:
            missing = sorted(want - _providers_fetched(log, feeds))
            raise AssertionError(f"no feed fetched after {timeout:.0f} s for {missing}:\n{log[-3000:]}")
        await asyncio.sleep(0.5)
        waited += 0.5


def _tmux(socket: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["tmux", "-L", socket, *args], capture_output=True, text=True, timeout=30)


def _time_to_paint(socket: str, command: str, timeout: float = 60.0) -> tuple[float, float]:
    """Seconds from starting ``command`` (a dashboard) in a fresh tmux window to its Overview
    painted: each of its 5 tiles showing its data's age ("fetched …", from the store, the team
    console's copy of it, or fresh); and to the team's store answering as well (the header says
    who polls: "· polls", "· follows …"; a console alone with its file: the same instant)."""
    _tmux(socket, "kill-session", "-t", "run")
    start = time.perf_counter()
    _tmux(socket, "new-session", "-d", "-s", "run", "-x", SIZE[0], "-y", SIZE[1], command)
    screen, painted = "", None
    team = "PUPITRE_STORE_URL" in command
    try:
        while time.perf_counter() - start < timeout:
            screen = _tmux(socket, "capture-pane", "-p", "-t", "run").stdout
            if painted is None and screen.count("fetched ") >= 5:
                painted = time.perf_counter() - start
            if painted is not None and (not team or "· polls" in screen or "· follows" in screen):
                return painted, time.perf_counter() - start
            time.sleep(0.003)
        raise AssertionError(f"never painted: {command}\n{screen}")
    finally:
        _tmux(socket, "kill-session", "-t", "run")


def _dashboard(env: dict[str, str]) -> str:
    """The shell command starting ``pupitre`` (the dashboard) with ``env``'s pupitre variables."""
    keep = {k: v for k, v in env.items() if k.startswith("PUPITRE_") or k in ("TERM", "PYTHONPATH")}
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in keep.items())
    return f"env -u NO_COLOR -u PYTHONDONTWRITEBYTECODE {exports} {shlex.quote(sys.executable)} -m pupitre"


def _dashboard_starts(commands: dict[str, str]) -> dict[str, list[tuple[float, float]]]:
    """Each command's start → data painted in tmux, interleaved, ``RUNS`` times (after one start
    of each not counted: bytecode caches, the server's first connection)."""
    socket = f"pupitre-team-bench-{os.getpid()}"
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("PUPITRE_", "TEXTUAL", "NO_COLOR"))}
    subprocess.run(["tmux", "-L", socket, "new-session", "-d", "-s", "keep"], env=environ, timeout=30)
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    try:
        for command in commands.values():
            _time_to_paint(socket, command)
        for _ in range(RUNS):
            for name, command in commands.items():
                samples[name].append(_time_to_paint(socket, command))
    finally:
        _tmux(socket, "kill-server")
    return samples


def _bound(store: Store, envs: dict[str, str]) -> Store:
    store.bind_environments(envs)
    return store


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


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
async def test_bench_one_agent_and_consoles_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    sandbox = serve(tmp_path)
    consoles: list[subprocess.Popen[str]] = []
    agent: subprocess.Popen[str] | None = None
    try:
        feed_providers = _connected_feeds(tmp_path, sandbox)
        env = _configured(dict(subprocess_env(tmp_path / "agent"), PUPITRE_STORE_URL=postgres_url), sandbox)
        agent = start_agent(tmp_path, env=env, sandbox=False)
        shared = PostgresStore(postgres_url)
        await wait_for_leases(shared, 8)
        await _wait_for_every_provider(tmp_path / "agent.out", feed_providers)
        answers_before = dict(sandbox.answers)
        log_before = len((tmp_path / "agent.out").read_text())  # the runs before the consoles: not counted
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
        agent.terminate()
        agent.wait(timeout=60)
        whole = (tmp_path / "agent.out").read_text()
        assert "not connected" not in whole, f"a provider was not connected during the bench:\n{whole[-3000:]}"
        log = whole[log_before:]
        agent_runs = log.count(": fetched")  # one line per feed run that reached the API and was saved
        fetched_by = {
            provider: sum(log.count(f"feed {name}: fetched") for name, p in feed_providers.items() if p == provider)
            for provider in sorted(set(feed_providers.values()))
        }

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
        pg_store = _cold_start(lambda: _bound(PostgresStore(postgres_url), envs), feeds)
        sqlite_store = _cold_start(lambda: _bound(Store(sqlite_path), envs), feeds)
        shared.close()
        # the dashboards poll the served simulators themselves (the agent is stopped): both alike
        starts = _dashboard_starts(
            {
                "PostgreSQL": _dashboard(
                    _configured(dict(subprocess_env(tmp_path / "cold-pg"), PUPITRE_STORE_URL=postgres_url), sandbox)
                ),
                "SQLite": _dashboard(_configured(subprocess_env(tmp_path / "copy"), sandbox)),
            }
        )
    finally:
        for console in consoles:
            if console.poll() is None:
                console.kill()
        if agent is not None and agent.poll() is None:
            agent.terminate()
            agent.wait(timeout=60)
        sandbox.stop()
    console_polls = sum(r["polls"] for r in results)
    calls, refusals = sum(answers.values()), answers.get(429, 0)
    latencies = sorted(x for r in results for x in r["latencies"])
    p50 = statistics.median(latencies) if latencies else float("nan")
    p95 = latencies[int(0.95 * (len(latencies) - 1))] if latencies else float("nan")
    pg_console, sqlite_console = (statistics.median(t[0] for t in starts[name]) for name in ("PostgreSQL", "SQLite"))
    ratio = pg_console / sqlite_console - 1
    pg_answered = statistics.median(t[1] for t in starts["PostgreSQL"])

    print(
        f"\n1 agent + {CONSOLES} consoles on PostgreSQL, served simulators, {minutes:.1f} min: "
        f"API calls {calls / minutes:.1f}/min ({dict(sorted(answers.items()))}), quota refusals {refusals}; "
        f"feed runs {agent_runs / minutes:.1f}/min by the agent (by provider: {fetched_by}), "
        f"{console_polls} by the consoles "
        f"(team/one console = {(agent_runs + console_polls) / max(agent_runs, 1):.2f}); "
        f"fetch -> console read: median {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms over {len(latencies)} reads"
    )
    for name, samples in starts.items():
        times = [t[0] for t in samples]
        print(
            f"console cold start, `pupitre` in tmux to every Overview tile's data painted, store on {name}: "
            f"median {statistics.median(times):.3f} s (min {min(times):.3f}, max {max(times):.3f}, {len(times)} runs)"
        )
    print(
        f"console cold start, PostgreSQL against SQLite: {ratio:+.1%} (goal within +10 %: "
        f"{'met' if ratio <= 0.10 else 'not met'}; the first frame from the console's copy of the team's "
        f"results); the team's store answering too: median {pg_answered:.3f} s "
        f"({pg_answered / sqlite_console - 1:+.1%}); store only (open it, read every feed's last result): "
        f"PostgreSQL {pg_store * 1000:.1f} ms, SQLite {sqlite_store * 1000:.1f} ms"
    )
    assert latencies, "no result reached a console"
    assert console_polls == 0
    assert refusals == 0
    assert p95 <= 1.0
