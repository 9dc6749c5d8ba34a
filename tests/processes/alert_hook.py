"""A pupitre process that evaluates the alerts on a store and runs ``[alerts] command`` for each
open one (what a dashboard or ``pupitre agent`` does), for tests that run several and kill one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.terminal import REPO, subprocess_env

#: argv: data dir, the command. Raises "GRTgaz unavailable", announces every open alert, prints
#: one line per announcement this process made ("ran <key>") or left to another ("skipped <key>").
WORKER = r"""
import asyncio, sys
from pathlib import Path
from pupitre.alerts import AlertEngine, CommandHook, Observed
from pupitre.runtime import build_runtime
from pupitre.settings import AlertsSettings, Settings

data_dir, command = Path(sys.argv[1]), sys.argv[2]


async def main():
    settings = Settings(alerts=AlertsSettings(command=command, command_timeout_seconds=120))
    runtime = build_runtime(settings, sandbox=True, data_dir=data_dir)
    engine = AlertEngine(runtime)
    evaluation = engine.evaluate(Observed(failures={"grtgaz": ["GRTgaz: HTTP 503"]}), runtime.clock.now())
    hook = CommandHook(runtime)
    due = hook.due(evaluation.open)
    results = await asyncio.gather(*(hook.announce(alert, engine.title(alert.provider)) for alert in due))
    for alert, result in zip(due, results):
        print("ran" if result is not None else "skipped", alert.key, flush=True)
    runtime.store.close()


asyncio.run(main())
"""


def start_worker(tmp_path: Path, command: str) -> subprocess.Popen[str]:
    """One worker on ``tmp_path``'s data dir (the store every worker of the test shares)."""
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, str(tmp_path / "data"), command],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=subprocess_env(tmp_path),
        cwd=REPO,
        text=True,
    )


RECORDER = r"""
import os, sys, time
out, pids, wait = sys.argv[1], sys.argv[2], float(sys.argv[3])
with open(pids, "a") as f:
    f.write(f"{os.getpid()}\n")
time.sleep(wait)
data = sys.stdin.read()
with open(out, "a") as f:  # O_APPEND: whole lines from every process
    f.write(data)
"""


def recorder(tmp_path: Path, wait: float = 0.0) -> str:
    """A command that notes its pid, waits ``wait`` seconds, then appends its stdin to
    ``tmp_path/received``."""
    script = tmp_path / "record.py"
    script.write_text(RECORDER)
    return f"{sys.executable} {script} {tmp_path / 'received'} {tmp_path / 'pids'} {wait}"
