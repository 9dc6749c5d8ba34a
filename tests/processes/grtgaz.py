"""Real pupitre processes declaring a GRTgaz program to the simulator served on loopback (as a
real provider) and following its feasibility: for tests that kill one (SIGKILL) after it sent
the program, and start others on the same store."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from pupitre import sandbox_server
from pupitre.providers.core.clock import SystemClock, gas_day_hours, gas_day_of
from pupitre.providers.core.secrets import SecretStore
from pupitre.providers.core.store import Store
from pupitre.providers.grtgaz import feeds as grtgaz
from pupitre.providers.grtgaz import rules
from pupitre.runtime import build_runtime
from pupitre.sandbox_server import SandboxServer
from pupitre.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
MONTOIR = "LI1006"

#: argv: "send PAYLOAD_FILE" (queue the declaration, deliver it, say so, then follow its
#: feasibility), "enqueue PAYLOAD_FILE" (only queue it, for another process to deliver) or
#: "follow" (follow what the store says is followed, until it is settled).
#: Prints one JSON line per event: ["delivered", outcome] and ["verdict", title, message].
WORKER = r"""
import asyncio, json, sys
from pathlib import Path
from pupitre.providers.core.followups import run_follow_up
from pupitre.runtime import build_runtime

runtime = build_runtime()
assert "grtgaz" not in runtime.sandboxed, "GRTgaz must use the served simulator"
follow_up = runtime.connections["grtgaz"].session.feasibility


def say(*what):
    print(json.dumps(what), flush=True)


async def go():
    try:
        if sys.argv[1] == "enqueue":
            payload = json.loads(Path(sys.argv[2]).read_text())
            say("queued", runtime.outbox.enqueue("grtgaz", "declare program", payload))
            return
        if sys.argv[1] == "send":
            runtime.outbox.enqueue("grtgaz", "declare program", json.loads(Path(sys.argv[2]).read_text()))
            for delivery in await runtime.outbox.drain():
                say("delivered", delivery.outcome)
        await run_follow_up(follow_up, lambda report: say("verdict", report.title, report.message))
    finally:
        await runtime.aclose()


asyncio.run(go())
"""


def settings_dir(served: SandboxServer, tmp_path: Path) -> Path:
    """A config dir whose settings point GRTgaz at the served endpoint (a "real" API)."""
    config = tmp_path / "config"
    config.mkdir()
    snippet = sandbox_server.settings_snippet(served["grtgaz"], tmp_path / "served")
    (config / "settings.toml").write_text("\n".join(snippet) + "\n", encoding="utf-8")
    return config


async def declaration_file(tmp_path: Path) -> tuple[Path, str]:
    """:func:`declaration` written to ``payload.json`` for a subprocess, and its program id."""
    import json

    payload = await declaration(tmp_path)
    path = tmp_path / "payload.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    return path, payload["program"]["hmsProfileId"]


async def declaration(tmp_path: Path) -> dict[str, Any]:
    """A valid declaration of tomorrow's Montoir program (built on a throw-away simulator)."""
    runtime = build_runtime(
        Settings(),
        sandbox=True,
        clock=SystemClock(),
        store=Store(":memory:"),
        data_dir=tmp_path / "scratch",
        secrets=SecretStore(credentials_file=tmp_path / "none.toml", env={}),
    )
    try:
        now = runtime.clock.now()
        session = runtime.connections[grtgaz.PROVIDER].session
        # tomorrow's program once GRTgaz has it (from 15:00), else the last hour of today's
        # gas day: either way far beyond the H+5 window, whatever the time the test runs at
        day, slot = gas_day_of(now) + dt.timedelta(days=1), 12
        programs = await session.programs(MONTOIR, day)
        if programs.rebuilt is None:
            day, slot = gas_day_of(now), len(gas_day_hours(gas_day_of(now))) - 1
            programs = await session.programs(MONTOIR, day)
        site = runtime.simulators["grtgaz"].site(MONTOIR)
        context = rules.ProgramContext.from_api(site, day, profiles=programs.declared, rebuilt=programs.rebuilt)
        values = list(programs.rebuilt.quantities)
        values[slot] = 500_000.0
        profile = rules.input_profile(context, values, declared_at=now)
        return grtgaz.declaration_payload(profile, edited=[slot], base_label="rebuilt program", now=now)
    finally:
        await runtime.aclose()


def env_for(config: Path, data: Path) -> dict[str, str]:
    """This run's environment, with ``config`` and ``data`` as pupitre's directories."""
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        PUPITRE_CONFIG_DIR=str(config),
        PUPITRE_DATA_DIR=str(data),
    )
    for name in list(env):
        if name.startswith("PUPITRE_") and name not in ("PUPITRE_CONFIG_DIR", "PUPITRE_DATA_DIR"):
            del env[name]
    return env


def start(config: Path, data: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env_for(config, data),
    )


def start_agent(config: Path, data: Path, out: Path) -> subprocess.Popen[str]:
    """``pupitre agent`` on these directories (GRTgaz on the served simulator, the other
    providers on their in-process simulators), its output to ``out``."""
    with open(out, "w") as output:  # the child keeps its own descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "pupitre", "agent"],
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env_for(config, data),
            cwd=ROOT,
        )
