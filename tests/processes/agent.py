"""``pupitre agent`` as a subprocess of a test (its own output file), and waiting for its leases."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from pupitre.providers.core.store import Store
from tests.terminal import REPO, subprocess_env


def start_agent(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None, sandbox: bool = True
) -> subprocess.Popen[str]:
    """``pupitre agent --sandbox`` on ``tmp_path``'s data dir (as the dashboards of the test use
    it; ``sandbox=False``: the providers its settings say); its output goes to ``tmp_path/agent.out``."""
    out = open(tmp_path / "agent.out", "w")  # noqa: SIM115 — the child writes to it until it ends
    return subprocess.Popen(
        [sys.executable, "-m", "pupitre", "agent", *(["--sandbox"] if sandbox else []), *args],
        stdout=out,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env or subprocess_env(tmp_path),
        cwd=REPO,
        text=True,
    )


async def wait_for_leases(store: Store, count: int, timeout: float = 60.0) -> None:
    """Until ``count`` feed leases are held in ``store`` (the agent has started polling)."""
    waited = 0.0
    while store._query("SELECT count(*) FROM feed_leases")[0][0] < count:
        if waited >= timeout:
            raise AssertionError(f"fewer than {count} leases after {timeout} s")
        await asyncio.sleep(0.1)
        waited += 0.1
