"""Benchmark (issue 13): one GRDF OMEGA credential (1 call/s per supplier, §1.3) shared by
three pupitre processes — two dashboards' refreshes and a ``pupitre check`` — on one store,
each reading the 20 watched requests, against the simulator served on loopback, refusing
like GRDF (no tolerance: a call less than 1 s after the last accepted one is a 429).

Budget: **0 refusals**, and **≥ 85 %** of the allowed rate used while work is queued (the
default ``quota_margin`` paces at 90 %). ``pytest -m bench -n0 -s tests/bench/test_bench_quota.py``
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from pupitre.providers.core.clock import SystemClock
from pupitre.providers.grdf_omega import feeds as omega
from pupitre.sandbox_server import SandboxServer
from tests.processes.omega import environment, omega_settings, real_store, run_together

pytestmark = pytest.mark.bench
WATCHED = 20
PROCESSES = 3


@pytest.fixture
def served(served: SandboxServer) -> SandboxServer:
    served["grdf_omega"].simulator.quota_leeway = 0.0  # strict: one call per second, no tolerance
    return served


def test_bench_three_processes_share_one_omega_quota(served: SandboxServer, tmp_path: Path) -> None:
    sim = served["grdf_omega"].simulator
    config, data = tmp_path / "config", tmp_path / "data"
    config.mkdir()
    text = omega_settings(served, margin=0.1)
    (config / "settings.toml").write_text(text, encoding="utf-8")
    store = real_store(data / "pupitre.sqlite3", text)
    store.watch_add(omega.PROVIDER, sim.numbers()[:WATCHED], SystemClock().now())
    store.close()

    samples: list[tuple[float, int]] = []  # (time, accepted calls so far), seen by the server
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            samples.append((time.monotonic(), sim.calls))
            time.sleep(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        runs = run_together([environment(config, data)] * PROCESSES, timeout=PROCESSES * WATCHED * 2 + 60)
    finally:
        done.set()
        sampler.join()

    calls = PROCESSES * WATCHED
    first = next(t for t, n in samples if n >= 1)
    last = next(t for t, n in samples if n >= calls)
    rate = (calls - 1) / (last - first)
    print(
        f"\nGRDF OMEGA quota shared by {PROCESSES} processes x {WATCHED} watched requests "
        f"(one store, default quota_margin 0.1):\n"
        f"  calls accepted {sim.calls}, refused {sim.quota_refusals} (budget 0)\n"
        f"  rate while queued {rate:.3f} call/s = {rate:.0%} of the allowed 1 call/s (budget >= 85 %)\n"
        f"  wall time {max(r.end for r in runs) - min(r.start for r in runs):.1f} s; "
        f"per process: {', '.join(f'{r.end - r.start:.1f} s' for r in runs)}"
    )
    assert all(run.read == WATCHED and not run.errors for run in runs)
    assert sim.quota_refusals == 0 and sim.calls == calls
    assert rate >= 0.85
