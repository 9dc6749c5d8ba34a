"""``pupitre agent`` follows actions to their verdict, one process at a time: a GRTgaz
declaration queued on a console is delivered by an agent, which then follows its feasibility
under the follow-up's lease; a second agent on the same store waits (it polls nothing for it);
the first is killed (SIGKILL) before GRTgaz decided, the second takes over, and the verdict is
audited and logged exactly once."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import signal
import subprocess
import tomllib
from pathlib import Path
from typing import Callable

from pupitre.providers.core.store import Store
from pupitre.providers.grtgaz import feasibility
from pupitre.providers.grtgaz import feeds as grtgaz
from pupitre.sandbox_server import SandboxServer
from pupitre.settings import Settings
from tests.processes.grtgaz import declaration_file, settings_dir, start, start_agent


def _holder(store: Store, lease: str) -> str | None:
    rows = store._query("SELECT holder FROM feed_leases WHERE feed=?", (lease,))
    return str(rows[0][0]) if rows else None


async def _until(what: str, condition: Callable[[], bool], timeout: float = 90.0) -> None:
    waited = 0.0
    while not condition():
        if waited >= timeout:
            raise AssertionError(f"{what}: not within {timeout} s")
        await asyncio.sleep(0.2)
        waited += 0.2


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait(timeout=10)


async def test_an_agent_delivers_and_follows_one_at_a_time_and_another_takes_over_after_a_kill(
    served: SandboxServer, tmp_path: Path
) -> None:
    config, data = settings_dir(served, tmp_path), tmp_path / "data"
    payload, program_id = await declaration_file(tmp_path)
    served["grtgaz"].simulator.feasibility_delay = dt.timedelta(seconds=25)  # long after the kill

    console = start(config, data, "enqueue", str(payload))  # confirmed on a console, not sent by it
    out, err = console.communicate(timeout=60)
    assert console.returncode == 0 and json.loads(out)[0] == "queued", err
    store = Store(data / "pupitre.sqlite3")
    real = Settings.from_dict(tomllib.loads((config / "settings.toml").read_text(encoding="utf-8")))
    store.bind_environments({grtgaz.PROVIDER: grtgaz.environment(real.grtgaz).id})

    first = start_agent(config, data, tmp_path / "first.out")
    second: subprocess.Popen[str] | None = None
    try:
        # the agent delivers the declaration, then follows its feasibility under the lease
        await _until("the first agent follows", lambda: _holder(store, feasibility.TOPIC) is not None)
        assert store.watch_list(feasibility.FOLLOWED) == [(program_id, None)]
        assert f":{first.pid}:" in (_holder(store, feasibility.TOPIC) or "")
        second = taker = start_agent(config, data, tmp_path / "second.out")
        await _until(
            "the second agent waits for the first",
            lambda: "grtgaz.feasibility: followed by" in (tmp_path / "second.out").read_text(),
        )
        assert store.watch_list(feasibility.FOLLOWED) == [(program_id, None)]  # not decided yet
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        await _until(
            "the second agent takes over", lambda: f":{taker.pid}:" in (_holder(store, feasibility.TOPIC) or "")
        )
        await _until("the verdict", lambda: store.watch_list(feasibility.FOLLOWED) == [(program_id, "ACCEPTED")])
        await _until("the lease given up", lambda: _holder(store, feasibility.TOPIC) is None)
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=60) == 0
    finally:
        _stop(first)
        if second is not None:
            _stop(second)
    verdicts = [e for e in store.audit_entries(grtgaz.PROVIDER) if e.action == feasibility.AUDIT_ACTION]
    assert [(e.outcome, e.detail.split()[0]) for e in verdicts] == [("ACCEPTED", program_id)]
    first_out, second_out = (tmp_path / "first.out").read_text(), (tmp_path / "second.out").read_text()
    assert "outbox #1 delivered" in first_out and "Program ACCEPTED" not in first_out
    assert second_out.count(f"Program ACCEPTED: {program_id} ACCEPTED by GRTgaz") == 1
    holders = [str(row[0]) for row in store._query("SELECT holder FROM feed_leases")]
    assert not [h for h in holders if f":{second.pid}:" in h]  # the stopped agent gave up every lease
