"""Helpers for tests that run several real pupitre processes against the GRDF OMEGA
simulator served on loopback (one quota per supplier, §1.3)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pupitre.providers.core.config import toml_value
from pupitre.providers.core.store import Store
from pupitre.providers.grdf_omega import feeds as omega
from pupitre.sandbox_server import SandboxServer
from pupitre.settings import Settings

ROOT = Path(__file__).resolve().parents[2]

#: One pupitre process reading its watch-list once (what a dashboard's refresh or
#: `pupitre check` does), printing when it started and ended and what it got.
WORKER = r"""
import asyncio, json, sys, time
from pupitre.runtime import build_runtime

runtime = build_runtime()
assert "grdf_omega" not in runtime.sandboxed, "GRDF OMEGA must use the served simulator"
feed = runtime.feed("grdf_omega.requests")
print("ready", flush=True)
sys.stdin.readline()  # every process starts reading at once


async def go():
    start = time.monotonic()
    try:
        data = await feed.fetch()
    finally:
        await runtime.aclose()
    return start, time.monotonic(), data


start, end, data = asyncio.run(go())
errors = [t.error for t in data.values() if t.error]
print(json.dumps({"start": start, "end": end, "read": len(data), "errors": errors}), flush=True)
"""


@dataclass(frozen=True)
class Run:
    """What one worker process printed."""

    start: float
    end: float
    read: int
    errors: list[str]


def omega_settings(served: SandboxServer, *, margin: float) -> str:
    """A settings file pointing GRDF OMEGA (as a real provider) at the served simulator."""
    site = served["grdf_omega"]
    values: dict[str, Any] = {
        "base_url": site.base_url,
        "token_url": site.token_url,
        "client_id": omega.SANDBOX_CLIENT_ID,
        "code_cdgf": omega.SANDBOX_CDGF,
        "user_login": omega.SANDBOX_LOGIN,
        "quota_margin": margin,
    }
    return "[grdf_omega]\n" + "".join(f"{key} = {toml_value(value)}\n" for key, value in values.items())


def real_store(path: Path, settings_text: str) -> Store:
    """The store at ``path``, in the environment the processes will use for GRDF OMEGA (the
    served simulator as a real endpoint), so that what a test writes there they read."""
    settings = Settings.from_dict(tomllib.loads(settings_text))
    store = Store(path)
    store.bind_environments({omega.PROVIDER: omega.environment(settings.grdf_omega).id})
    return store


def environment(config: Path, data: Path) -> dict[str, str]:
    return dict(
        os.environ,
        PUPITRE_CONFIG_DIR=str(config),
        PUPITRE_DATA_DIR=str(data),
        PUPITRE_GRDF_OMEGA_CLIENT_SECRET=omega.SANDBOX_CLIENT_SECRET,
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    )


def run_together(envs: list[dict[str, str]], timeout: float) -> list[Run]:
    """Start one worker per environment, release them at once, return what each printed."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for env in envs
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert line.strip() == "ready", proc.stderr.read() if proc.stderr else line
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        deadline = time.monotonic() + timeout
        outputs = [proc.communicate(timeout=max(1.0, deadline - time.monotonic())) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    runs = []
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        runs.append(Run(**json.loads(out.strip().splitlines()[-1])))
    return runs
