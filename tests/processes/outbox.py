"""A pupitre outbox in its own process, delivering to a stand-in API that records in files
what reached it: for tests that run several processes on one store and kill them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: argv: store path, API directory, send delay (s), "once" (one attempt) or "all" (until empty).
WORKER = r"""
import asyncio, datetime as dt, os, sys
from pathlib import Path
from pupitre.providers.core.clock import SystemClock
from pupitre.providers.core.outbox import Outbox
from pupitre.providers.core.store import Store

store_path, api, delay, mode = Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3]), sys.argv[4]


def note(name, line):
    with open(api / name, "a", encoding="utf-8") as f:  # O_APPEND: whole lines from every process
        f.write(line + "\n")


class FileApi:
    def key(self, payload):
        return payload["id"]

    def check(self, payload, now):
        pass

    def describe(self, payload):
        return payload["id"]

    async def find(self, payload, since):  # what reached the stand-in API is its trace
        path = api / "received"
        received = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        return f"found {payload['id']}" if payload["id"] in received else None

    async def send(self, payload):
        note("started", f"{os.getpid()} {payload['id']}")
        await asyncio.sleep(delay)
        note("received", payload["id"])
        return f"received {payload['id']}"

    async def verify(self, payload):
        return "read back"


async def main():
    outbox = Outbox(Store(store_path), SystemClock(), {("test", "act"): FileApi()})
    while pending := outbox.pending():
        await outbox.deliver(pending[0])  # the oldest first, as drain() does; or "claimed" elsewhere
        if mode == "once":
            return
        await asyncio.sleep(0.01)  # as a dashboard between two kicks: the other process may take the next


asyncio.run(main())
"""


def start(store: Path, api: Path, *, delay: float, mode: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, str(store), str(api), str(delay), mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def lines(api: Path, name: str) -> list[str]:
    path = api / name
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []
