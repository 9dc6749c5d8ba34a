"""Benchmarks (not timed tests): ``pytest -m bench -s tests/bench`` prints the numbers.

* cold start → first painted Flexibility data from the store (budget 0.8 s);
* ``pupitre check --sandbox`` wall time (budget 0.5 s), which must not import Textual, and
  ``pupitre check --max-age`` answering from a fresh store (budget 0.25 s), beside the anchor
  ``python -c "import textual.app"`` in the same run. The sandbox's training day watches 3 GRDF
  requests, and GRDF allows 1 call/s per supplier (document 001, §1.3): reading all three takes
  2 s whatever pupitre does (2.2 s with its 10 % quota margin), so the check is measured on the
  training day (budget 0.5 s + that floor) and with the watch-list emptied (the issue's anchor
  conditions: budget 0.5 s).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.bench
RUNS = 5

PAINT_PROBE = r"""
from pupitre.runtime import build_runtime
from pupitre.tui.app import PupitreApp
from textual.css.query import NoMatches
from textual.widgets import DataTable

class Probe(PupitreApp):
    def on_mount(self) -> None:
        self.feeds.start = lambda: None  # measure the paint from the store, not a fetch
        super().on_mount()
        self.polls = 0
        self.set_interval(0.002, self.check_painted)

    def check_painted(self) -> None:
        self.polls += 1
        try:
            rows = self.screen.query_one("#flex-table", DataTable).row_count
        except NoMatches:
            rows = 0
        if rows:
            print("PAINTED", rows, flush=True)
            self.exit()
        elif self.polls > 5000:
            print("TIMEOUT", flush=True)
            self.exit()

Probe(build_runtime(sandbox=True), start_screen="flexibility").run(headless=True, size=(100, 30))
"""


def _env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ, PUPITRE_DATA_DIR=str(tmp / "data"), PUPITRE_CONFIG_DIR=str(tmp / "config"))
    env.pop("NO_COLOR", None)
    # as on an installed copy: bytecode cached (pip compiles it; a first run writes it)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _timed(cmd: list[str], env: dict[str, str], marker: str | None = None) -> float:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if marker is None:
        proc.communicate(timeout=60)
        return time.perf_counter() - start
    assert proc.stdout is not None
    for line in proc.stdout:
        assert not line.startswith("TIMEOUT"), "the probe never saw painted data"
        if line.startswith(marker):
            elapsed = time.perf_counter() - start
            proc.wait(timeout=30)
            return elapsed
    raise AssertionError(f"no {marker} line; stderr: {proc.stderr.read() if proc.stderr else ''}")


def _report(name: str, samples: list[float], budget: float) -> None:
    median = statistics.median(samples)
    print(
        f"\n{name}: median {median * 1000:.0f} ms, min {min(samples) * 1000:.0f} ms, "
        f"max {max(samples) * 1000:.0f} ms over {len(samples)} runs"
        + (f" (budget {budget * 1000:.0f} ms)" if budget == budget else "")
    )


def test_cold_start_to_first_painted_flexibility_data(tmp_path):
    env = _env(tmp_path)
    check = [sys.executable, "-m", "pupitre", "check", "--sandbox"]
    subprocess.run(check, env=env, capture_output=True, timeout=60)  # fills the store, makes sandbox keys
    samples = [_timed([sys.executable, "-c", PAINT_PROBE], env, "PAINTED") for _ in range(RUNS)]
    _report("cold start to first painted Flexibility data (from the store)", samples, 0.8)


UNWATCH = """
from pupitre.runtime import build_runtime
store = build_runtime(sandbox=True).store
for key, _ in store.watch_list("grdf_omega"):
    store.watch_remove("grdf_omega", key)
print(len(store.watch_list("grdf_omega")))
"""


def test_check_sandbox_wall_time(tmp_path):
    env = _env(tmp_path)
    empty = _env(tmp_path / "empty")
    cmd = [sys.executable, "-m", "pupitre", "check", "--sandbox", "--json"]
    fresh = [sys.executable, "-m", "pupitre", "check", "--sandbox", "--json", "--max-age", "3600"]
    anchor = [sys.executable, "-c", "import textual.app"]
    first = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    assert json.loads(first.stdout)["status"] in ("ok", "attention", "critical", "unknown")
    subprocess.run(cmd, env=empty, capture_output=True, text=True, timeout=60)  # the training day's store
    unwatched = subprocess.run([sys.executable, "-c", UNWATCH], env=empty, capture_output=True, text=True, timeout=60)
    assert unwatched.stdout.strip() == "0", unwatched.stderr
    answered = json.loads(subprocess.run(fresh, env=env, capture_output=True, text=True, timeout=60).stdout)
    # from the store, but GRDF OMEGA's which reads only the requests older than --max-age (none here)
    assert {n for n, f in answered["feeds"].items() if f["source"] != "store"} <= {"grdf_omega.requests"}
    samples: dict[str, list[float]] = {"full": [], "empty": [], "fresh": [], "anchor": []}
    for _ in range(RUNS):  # interleaved: the machine's load weighs on each alike
        # GRDF's quota window is shared through the store: the last run's calls must be more than
        # a window (1 s, 10 % margin) old, or this run's first call waits for them (not its own cost)
        time.sleep(1.2)
        samples["full"].append(_timed(cmd, env))
        samples["empty"].append(_timed(cmd, empty))
        samples["fresh"].append(_timed(fresh, env))
        samples["anchor"].append(_timed(anchor, env))
    _report("pupitre check --sandbox wall time, the watch-list emptied (the issue's anchor)", samples["empty"], 0.5)
    _report(
        "pupitre check --sandbox wall time, the training day's 3 watched GRDF requests at 1 call/s "
        "(GRDF's quota alone, with pupitre's 10 % margin: 2.2 s)",
        samples["full"],
        2.7,
    )
    _report("pupitre check --sandbox --max-age 3600 (a fresh store) wall time", samples["fresh"], 0.25)
    _report("anchor: python -c 'import textual.app'", samples["anchor"], float("nan"))
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, runpy; sys.argv=['pupitre','check','--sandbox'];"
            "\ntry:\n runpy.run_module('pupitre', run_name='__main__')\nexcept SystemExit: pass\n"
            "print('TEXTUAL' if 'textual' in sys.modules else 'NO-TEXTUAL')",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert probe.stdout.strip().endswith("NO-TEXTUAL")


def test_omega_refresh_of_60_requests_at_one_call_per_second(tmp_path):
    """The GRDF watch-list at the quota's pace: budget ≤ 62 s and zero refusals (§1.3)."""
    import asyncio

    from pupitre.providers.core.clock import ManualClock
    from pupitre.providers.core.secrets import SecretStore
    from pupitre.runtime import build_runtime
    from pupitre.settings import Settings

    async def run() -> tuple[float, int, int, int]:
        runtime = build_runtime(
            Settings(),
            sandbox=True,
            clock=ManualClock(dt.datetime(2026, 11, 23, 10)),
            data_dir=tmp_path,
            secrets=SecretStore(credentials_file=tmp_path / "c", env={}),
        )
        sim = runtime.simulators["grdf_omega"]
        runtime.store.watch_add("grdf_omega", sim.numbers()[:60], runtime.clock.now())
        session = runtime.connections["grdf_omega"].session
        start = time.perf_counter()
        tracked = await session.refresh()
        elapsed = time.perf_counter() - start
        errors = sum(1 for t in tracked.values() if t.error)
        await runtime.aclose()
        return elapsed, sim.quota_refusals, errors, sim.calls

    elapsed, refusals, errors, calls = asyncio.run(run())
    print(
        f"\nGRDF OMEGA refresh of 60 requests: {elapsed:.1f} s, {calls} calls, {refusals} quota refusal(s), "
        f"{errors} error(s) (budget 62 s, 0 refusals; {59 / elapsed * 100:.0f} % of the allowed rate)"
    )
    assert refusals == 0 and errors == 0
