"""A real pupitre process delivering Switchgrid asks and orders from its outbox to the
simulator served on loopback (as a real provider): for tests that kill it (SIGKILL) while a
request is in flight and start another on the same store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pupitre.providers.core.config import toml_value
from pupitre.sandbox_server import SandboxServer

ROOT = Path(__file__).resolve().parents[2]

#: argv: "drain" (deliver what is pending, once each) or "identify ITEM ORDER_ID" (the operator
#: gives the id of a held order, then the outbox runs). Prints one line per delivery.
WORKER = r"""
import asyncio, sys
from pupitre.providers.switchgrid.actions import operator_found
from pupitre.runtime import build_runtime

runtime = build_runtime()
assert "switchgrid" not in runtime.sandboxed, "Switchgrid must use the served simulator"


async def go():
    try:
        if sys.argv[1] == "identify":
            session = runtime.connections["switchgrid"].session
            await operator_found(session, runtime.outbox.item(int(sys.argv[2])), sys.argv[3])
        for delivery in await runtime.outbox.drain():
            print(delivery.item_id, delivery.outcome, delivery.verified, flush=True)
    finally:
        await runtime.aclose()


asyncio.run(go())
"""


def settings(served: SandboxServer) -> str:
    """Switchgrid as a real provider at the served simulator (its test environment)."""
    return f"[switchgrid]\nbase_url = {toml_value(served['switchgrid'].base_url)}\ntest_env = true\n"


def start(config: Path, data: Path, token: str, *args: str) -> subprocess.Popen[str]:
    env = dict(
        os.environ,
        PUPITRE_CONFIG_DIR=str(config),
        PUPITRE_DATA_DIR=str(data),
        PUPITRE_SWITCHGRID_API_TOKEN=token,
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    )
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


def run(config: Path, data: Path, token: str, *args: str) -> list[str]:
    """Run one worker to its end; the lines it printed."""
    proc = start(config, data, token, *args)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return out.splitlines()
