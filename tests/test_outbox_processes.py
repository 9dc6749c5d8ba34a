"""The outbox across real processes on one store: every action is delivered exactly once
when two processes drain the same queue, and a process killed (SIGKILL) in the middle of an
attempt loses its claim at once to the next one, which says that it resumes."""

from __future__ import annotations

import datetime as dt
import signal
import time
from pathlib import Path

from pupitre.providers.core.outbox import Outbox
from pupitre.providers.core.store import OUTBOX_DELIVERED, Store
from tests.processes.outbox import lines, start

NOW = dt.datetime(2026, 11, 22, 14, 0, tzinfo=dt.timezone.utc)


class _Queue:
    """Only enqueues (the checks and sending happen in the worker processes)."""

    def key(self, payload: dict[str, str]) -> str:
        return payload["id"]

    def check(self, payload: object, now: dt.datetime) -> None:
        pass

    def describe(self, payload: dict[str, str]) -> str:
        return payload["id"]


def _queue(store: Store, count: int) -> list[str]:
    from pupitre.providers.core.clock import ManualClock

    outbox = Outbox(store, ManualClock(NOW), {("test", "act"): _Queue()})  # type: ignore[dict-item]  # enqueue only
    ids = [f"A{n:02d}" for n in range(count)]
    for ident in ids:
        outbox.enqueue("test", "act", {"id": ident})
    return ids


def _wait_for(predicate, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]  # a test helper
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_two_processes_draining_one_queue_deliver_each_action_exactly_once(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite3")
    ids = _queue(store, 12)
    api = tmp_path / "api"
    api.mkdir()
    workers = [start(tmp_path / "s.sqlite3", api, delay=0.05, mode="all") for _ in range(2)]
    for worker in workers:
        _, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
    assert sorted(lines(api, "received")) == ids  # each once
    assert lines(api, "received") == ids  # in queue order
    assert {i.status for i in store.outbox()} == {OUTBOX_DELIVERED}
    senders = {line.split()[0] for line in lines(api, "started")}
    assert len(senders) == 2, "both processes took part"
    delivered = [row for row in store.audit_log(limit=200) if row[3] == "delivered"]
    assert len(delivered) == 12


def test_a_process_killed_mid_attempt_loses_its_claim_and_the_next_one_resumes(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite3")
    _queue(store, 2)
    api = tmp_path / "api"
    api.mkdir()
    first = start(tmp_path / "s.sqlite3", api, delay=60, mode="once")
    _wait_for(lambda: lines(api, "started"))
    item = store.outbox()[0]
    assert item.claimed_by is not None and item.sending_since is not None
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    assert lines(api, "received") == []  # it died before the API had it

    second = start(tmp_path / "s.sqlite3", api, delay=0.01, mode="all")
    _, err = second.communicate(timeout=60)
    assert second.returncode == 0, err
    assert lines(api, "received") == ["A00", "A01"]  # at once: no wait for the dead claim's lease
    assert {i.status for i in store.outbox()} == {OUTBOX_DELIVERED}
    trail = [row[3] for row in reversed(store.audit_log(limit=50)) if row[4].startswith("#1 ")]
    assert trail == ["queued", "resumed", "delivered", "verified"]
