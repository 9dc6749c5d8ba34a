"""``pupitre agent``: headless (Textual never imported), every feed polled and recorded in the
store, stopped cleanly by SIGTERM (leases given up, exit 0), logging to stdout and the log file."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from pupitre.providers.core.store import Store
from tests.processes.agent import start_agent, wait_for_leases
from tests.terminal import subprocess_env


async def test_the_agent_polls_every_feed_without_textual_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    env = subprocess_env(tmp_path)
    env["PYTHONPROFILEIMPORTTIME"] = "1"  # -X importtime: every module imported, on stderr
    agent = start_agent(tmp_path, env=env)
    store_path = Path(env["PUPITRE_DATA_DIR"]) / "pupitre.sqlite3"
    try:
        for _ in range(600):
            if store_path.exists():
                break
            await asyncio.sleep(0.1)
        store = Store(store_path)
        await wait_for_leases(store, 8)
        for _ in range(600):  # every feed's first result is in the store
            feeds = {row[0] for row in store._query("SELECT feed FROM snapshots")}
            if {"grtgaz.indicators", "edf_oa.curtailments", "grdf_adict.rights"} <= feeds:
                break
            await asyncio.sleep(0.1)
        assert {"grtgaz.indicators", "edf_oa.curtailments", "grdf_adict.rights"} <= feeds
        agent.send_signal(signal.SIGTERM)
        assert agent.wait(timeout=30) == 0
        assert store._query("SELECT count(*) FROM feed_leases") == [(0,)]  # given up: dashboards take over
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.wait(timeout=10)
    output = (tmp_path / "agent.out").read_text()
    imported = {line.rsplit("|", 1)[1].strip() for line in output.splitlines() if line.startswith("import time:")}
    assert "pupitre.agent" in imported and "httpx" in imported  # the probe works
    assert not {name for name in imported if name == "textual" or name.startswith("textual.")}
    assert "pupitre.agent: agent started" in output and "feed grtgaz.indicators: fetched" in output
    assert 0 < output.index("agent stopping") < output.index("agent stopped")
    log = (Path(env["PUPITRE_DATA_DIR"]) / "pupitre.log").read_text()
    assert "agent stopped" in log


async def test_the_agent_raises_alerts_and_runs_the_alert_command(tmp_path: Path) -> None:
    import json

    from tests.processes.alert_hook import recorder

    env = subprocess_env(tmp_path)
    config = Path(env["PUPITRE_CONFIG_DIR"])
    config.mkdir(parents=True, exist_ok=True)
    command = recorder(tmp_path)
    (config / "settings.toml").write_text(f"[alerts]\ncommand = {json.dumps(command)}\n")
    agent = start_agent(tmp_path, env=env)
    received = tmp_path / "received"
    try:
        for _ in range(1200):  # the ADICT simulator's park has rights awaiting proofs
            if received.exists() and "grdf_adict:proofs:" in received.read_text():
                break
            await asyncio.sleep(0.1)
        agent.send_signal(signal.SIGTERM)
        assert agent.wait(timeout=60) == 0
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.wait(timeout=10)
    got = [json.loads(line) for line in received.read_text().splitlines()]
    keys = [g["key"] for g in got]
    assert "grdf_adict:proofs:" in keys and len(keys) == len(set(keys))  # each alert once
    store = Store(Path(env["PUPITRE_DATA_DIR"]) / "pupitre.sqlite3")
    proofs = next(a for a in store.alerts_open() if a.key == "grdf_adict:proofs:")
    assert proofs.announced_at is not None
    output = (tmp_path / "agent.out").read_text()
    assert "ALERT " in output and "GRDF ADICT" in output
