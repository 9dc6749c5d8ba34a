"""A pupitre sandbox process (as ``pupitre --sandbox`` builds it) acting on the simulated world
of its data dir: for tests that run several at once, kill them (SIGKILL) and start others."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: argv: "order" (order the load curve of a PRM of the signed ask, print the order id, then wait
#: to be killed) or "get ORDER_ID" (print the order's status, or "404").
WORKER = r"""
import asyncio, sys, time
from pupitre.providers.core.errors import ApiError
from pupitre.runtime import build_runtime

runtime = build_runtime(sandbox=True, training_day=True)


async def go():
    client = runtime.connections["switchgrid"].session.client
    try:
        if sys.argv[1] == "order":
            signed = [a for a in await client.all_asks() if a.status == "ACCEPTED"]
            order = await client.post_order({"requests": [{"type": "LOADCURVE", "prms": [signed[0].prms[0]]}]})
            print(order.id, flush=True)
            return True
        try:
            print((await client.get_order(sys.argv[2])).status, flush=True)
        except ApiError as error:
            print(error.status, flush=True)
    finally:
        await runtime.aclose()


if asyncio.run(go()):
    time.sleep(600)  # alive, as a dashboard would be, until killed
"""


def env(config: Path, data: Path) -> dict[str, str]:
    return dict(
        {k: v for k, v in os.environ.items() if not k.startswith("PUPITRE_")},
        PUPITRE_CONFIG_DIR=str(config),
        PUPITRE_DATA_DIR=str(data),
        PYTHONPATH=str(ROOT),
    )


def start(config: Path, data: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, *args], env=env(config, data), stdout=subprocess.PIPE, text=True
    )


def pupitre(config: Path, data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pupitre", *args], env=env(config, data), capture_output=True, text=True, timeout=120
    )
