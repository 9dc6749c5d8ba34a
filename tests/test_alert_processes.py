"""``[alerts] command`` across real processes on one store: run once per alert when several
processes announce at once, and when the process that claimed it is SIGKILLed before its
command finished, the next process runs it (the alert is never lost), still once."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

from tests.processes.alert_hook import recorder, start_worker


def received(tmp_path: Path) -> list[dict[str, object]]:
    path = tmp_path / "received"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_several_processes_announce_an_alert_once(tmp_path: Path) -> None:
    command = recorder(tmp_path)
    workers = [start_worker(tmp_path, command) for _ in range(3)]
    outputs = [w.communicate(timeout=120)[0] for w in workers]
    assert all(w.returncode == 0 for w in workers), outputs
    ran = [line for out in outputs for line in out.splitlines() if line.startswith("ran ")]
    assert ran == ["ran grtgaz:unavailable:"], outputs
    got = received(tmp_path)
    assert [g["key"] for g in got] == ["grtgaz:unavailable:"]
    assert got[0]["severity"] == "unknown" and got[0]["provider_title"] == "GRTgaz"


def test_a_process_killed_while_announcing_leaves_the_alert_to_the_next_once(tmp_path: Path) -> None:
    first = start_worker(tmp_path, recorder(tmp_path, wait=60))  # claims, its command hangs
    pids = tmp_path / "pids"
    deadline = time.monotonic() + 120
    while not (pids.exists() and pids.read_text().strip()):
        assert time.monotonic() < deadline and first.poll() is None, "the first worker never ran its command"
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    os.kill(int(pids.read_text().split()[0]), signal.SIGKILL)  # its command dies with it (own session)
    assert received(tmp_path) == []
    second = start_worker(tmp_path, recorder(tmp_path))
    out = second.communicate(timeout=120)[0]
    assert second.returncode == 0 and "ran grtgaz:unavailable:" in out, out  # the dead claim taken over
    third = start_worker(tmp_path, recorder(tmp_path))
    out = third.communicate(timeout=120)[0]
    assert third.returncode == 0 and "ran " not in out, out  # announced: never again
    assert [g["key"] for g in received(tmp_path)] == ["grtgaz:unavailable:"]
