"""A pupitre process (the real runtime, built from the settings file like the dashboard) that
optionally queues one action, then drains the outbox once, as the dashboard does at start.
For tests of environments across processes: what a ``--sandbox`` session does to a real
environment's pending actions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: argv: "sandbox" or "real", then optionally provider, action and a JSON payload file to queue.
WORKER = r"""
import asyncio, json, sys
from pathlib import Path
from pupitre.runtime import build_runtime

mode, queue = sys.argv[1], sys.argv[2:]


async def main():
    runtime = build_runtime(sandbox=mode == "sandbox")
    try:
        if queue:
            provider, action, payload = queue[0], queue[1], json.loads(Path(queue[2]).read_text())
            runtime.outbox.enqueue(provider, action, payload)
        deliveries = await asyncio.wait_for(runtime.outbox.drain(), 60)
        print(json.dumps([[d.item_id, d.outcome, d.message] for d in deliveries]))
        print(json.dumps(runtime.environment_notes()))
    finally:
        await runtime.aclose()


asyncio.run(main())
"""


def run(mode: str, config_dir: Path, data_dir: Path, *queue: str) -> tuple[list[list[object]], list[str]]:
    """Run one such process to its end; its deliveries ``[id, outcome, message]`` and notes."""
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        PUPITRE_CONFIG_DIR=str(config_dir),
        PUPITRE_DATA_DIR=str(data_dir),
    )
    for name in list(env):
        if name.startswith("PUPITRE_") and name not in ("PUPITRE_CONFIG_DIR", "PUPITRE_DATA_DIR"):
            del env[name]
    done = subprocess.run(
        [sys.executable, "-c", WORKER, mode, *queue], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    deliveries, notes = done.stdout.strip().splitlines()[-2:]
    return json.loads(deliveries), json.loads(notes)
