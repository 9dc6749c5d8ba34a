"""Start-up beside a bare Textual app: ``pytest -m bench -n0 -s tests/bench/test_bench_startup.py``.

Interleaved in one run, each started in tmux (120×40) and timed from the process start to the
data painted (``capture-pane`` polled every few milliseconds):

* the anchor: a minimal Textual app (Header, a 20-row DataTable, Footer), painted when its last
  row shows;
* ``pupitre --sandbox --screen flexibility``: painted when its 13 sites from the store show;
* ``pupitre --sandbox`` (the Overview): painted when each of its 5 tiles shows its data age (from
  the store, or fresh).

Budgets (issue #20): Flexibility ≤ 1.3×, Overview ≤ 1.5× the minimal app's median. The store is
filled first by ``pupitre check --sandbox``; the dashboards run their feeds as usual. Numbers
are printed, never asserted (the machine is shared, timings are noisy).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import pytest

pytestmark = pytest.mark.bench
RUNS = int(os.environ.get("PUPITRE_BENCH_RUNS", "7"))
SIZE = ("120", "40")

MINIMAL_APP = """
from textual.app import App, ComposeResult
from textual.widgets import DataTable, Footer, Header


class Minimal(App[None]):
    BINDINGS = [("q", "quit", "Quit")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable()
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Site", "Mesh", "Now", "Next")
        table.add_rows([(f"site {i:02}", "mesh", "green", "row-end-%02d" % i) for i in range(20)])


Minimal().run()
"""


def _tmux(socket: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["tmux", "-L", socket, *args], capture_output=True, text=True, timeout=30)


def _time_to_paint(
    socket: str, command: str, painted: Callable[[str], bool], timeout: float = 30.0, linger: float = 0.0
) -> float:
    """Seconds from starting ``command`` in a fresh tmux window to ``painted(screen)``; the
    process then runs ``linger`` seconds more before its window is closed."""
    _tmux(socket, "kill-session", "-t", "run")
    start = time.perf_counter()
    _tmux(socket, "new-session", "-d", "-s", "run", "-x", SIZE[0], "-y", SIZE[1], command)
    try:
        while time.perf_counter() - start < timeout:
            screen = _tmux(socket, "capture-pane", "-p", "-t", "run").stdout
            if painted(screen):
                elapsed = time.perf_counter() - start
                time.sleep(linger)
                return elapsed
            time.sleep(0.003)
        raise AssertionError(f"never painted: {command}\n{screen}")
    finally:
        _tmux(socket, "kill-session", "-t", "run")


def _command(env: dict[str, str], *argv: str) -> str:
    exports = " ".join(f"{k}={v}" for k, v in env.items())
    return f"env {exports} {' '.join(argv)}"


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_start_up_beside_a_minimal_textual_app(tmp_path: Path) -> None:
    env = {
        "PUPITRE_DATA_DIR": str(tmp_path / "data"),
        "PUPITRE_CONFIG_DIR": str(tmp_path / "config"),
        "TERM": "xterm-256color",
    }
    full_env = {**os.environ, **env}
    full_env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: bytecode cached
    full_env.pop("NO_COLOR", None)
    subprocess.run(  # fills the store (and writes the bytecode caches)
        [sys.executable, "-m", "pupitre", "check", "--sandbox"], env=full_env, capture_output=True, timeout=120
    )
    minimal = tmp_path / "minimal.py"
    minimal.write_text(MINIMAL_APP)
    py = sys.executable
    cases: dict[str, tuple[str, Callable[[str], bool]]] = {
        "minimal Textual app": (_command(env, py, str(minimal)), lambda s: "row-end-19" in s),
        "pupitre --sandbox --screen flexibility": (
            _command(env, py, "-m", "pupitre", "--sandbox", "--screen", "flexibility"),
            lambda s: "Martigues" in s and "Montoir" in s,
        ),
        "pupitre --sandbox (Overview, every tile's age)": (
            _command(env, py, "-m", "pupitre", "--sandbox"),
            lambda s: s.count("fetched ") >= 5,  # "STALE: from the store, fetched …" or fresh
        ),
    }
    socket = f"pupitre-bench-{os.getpid()}"
    subprocess.run(["tmux", "-L", socket, "new-session", "-d", "-s", "keep"], env=full_env, timeout=30)
    samples: dict[str, list[float]] = {name: [] for name in cases}
    try:
        for command, painted in cases.values():  # a first start of each, not counted, that runs on for
            _time_to_paint(socket, command, painted, linger=2.0)  # a while as an operator's does: what a
            # start keeps for the next (bytecode, the parsed stylesheets) is there for the counted ones
        for _ in range(RUNS):
            for name, (command, painted) in cases.items():
                samples[name].append(_time_to_paint(socket, command, painted))
    finally:
        _tmux(socket, "kill-server")
    anchor = statistics.median(samples["minimal Textual app"])
    budgets = {"pupitre --sandbox --screen flexibility": 1.3, "pupitre --sandbox (Overview, every tile's age)": 1.5}
    print()
    for name, times in samples.items():
        median = statistics.median(times)
        line = (
            f"start-up, {name}: median {median * 1000:.0f} ms (min {min(times) * 1000:.0f}, "
            f"max {max(times) * 1000:.0f}, {len(times)} runs)"
        )
        if name in budgets:
            line += f" = {median / anchor:.2f}× the minimal app (budget {budgets[name]:.1f}×)"
        else:
            line += " (the anchor)"
        print(line)
