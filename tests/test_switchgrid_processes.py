"""Switchgrid asks and orders across real processes: a pupitre process is killed (SIGKILL)
while its request is in flight — Switchgrid has acted, the answer never reached pupitre —
and another process on the same store takes over: the ask is found at Switchgrid, the order
is held (never ordered twice) until the operator identifies it; each ends delivered once,
verified, followed, with its whole audit trail."""

from __future__ import annotations

import signal
import subprocess
import time
import tomllib
from pathlib import Path
from typing import Callable

import pytest

from pupitre.providers.core.clock import SystemClock
from pupitre.providers.core.outbox import Outbox
from pupitre.providers.core.store import Store
from pupitre.providers.switchgrid import feeds as switchgrid
from pupitre.providers.switchgrid.actions import ASK_ACTION, ORDER_ACTION, ask_payload, order_payload
from pupitre.providers.switchgrid.feeds import ORDERS_LIST, PROVIDER
from pupitre.sandbox_server import SandboxServer
from pupitre.settings import Settings
from tests.processes.switchgrid import run, settings, start

ASK_ROUTE = "/enedis/v2/ask"
ORDER_ROUTE = "/enedis/v2/order"


@pytest.fixture
def served(served: SandboxServer) -> SandboxServer:
    served.plan.timeout_seconds = 8.0  # a late answer: long after the process is killed
    return served


def _wait_for(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _console(tmp_path: Path, served: SandboxServer) -> tuple[Path, Path, Store, Outbox]:
    config, data = tmp_path / "config", tmp_path / "data"
    config.mkdir()
    (config / "settings.toml").write_text(settings(served), encoding="utf-8")
    store = Store(data / "pupitre.sqlite3")
    from pupitre.runtime import build_runtime

    runtime = build_runtime(sandbox=True, store=store, data_dir=data)  # its handlers only check and describe
    # what this test queues must be in the environment the processes use: the served
    # simulator as a real endpoint
    real = Settings.from_dict(tomllib.loads(settings(served)))
    store.bind_environments({PROVIDER: switchgrid.environment(real.switchgrid).id})
    return config, data, store, Outbox(store, SystemClock(), runtime.connections[PROVIDER].handlers)


def _trail(store: Store, item_id: int) -> list[str]:
    return [row[3] for row in reversed(store.audit_log(PROVIDER, limit=100)) if row[4].startswith(f"#{item_id} ")]


def _kill_in_flight(proc: subprocess.Popen[str], store: Store, item_id: int, arrived: Callable[[], bool]) -> None:
    _wait_for(lambda: next(i for i in store.outbox() if i.id == item_id).sending_since is not None)
    _wait_for(arrived)  # Switchgrid has acted; its answer is held back by the "late" fault
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)


def test_killed_while_an_ask_and_then_an_order_are_in_flight(served: SandboxServer, tmp_path: Path) -> None:
    sim = served["switchgrid"].simulator
    config, data, store, outbox = _console(tmp_path, served)
    contract = sim.contracts[0]
    body = {
        "electricityContracts": [contract.id],
        "signer": {"firstName": "Jean", "lastName": "Dupont"},
        "consentDuration": "1 year",
    }

    # the ask: the process dies while Switchgrid's answer is on its way
    ask_id = outbox.enqueue(PROVIDER, ASK_ACTION, ask_payload(body, [contract.prm], SystemClock().now()))
    served.plan.add(ASK_ROUTE, "late", method="POST")
    first = start(config, data, sim.token, "drain")
    _kill_in_flight(first, store, ask_id, lambda: len(sim.asks) == 1)
    assert run(config, data, sim.token, "drain") == [f"{ask_id} delivered True"]
    assert len(sim.asks) == 1  # found at Switchgrid, not asked twice
    assert _trail(store, ask_id) == ["queued", "resumed", "found", "verified"]
    (ask,) = sim.asks
    sim.accept(ask)

    # the order: the same, but Switchgrid cannot be asked for an order without its id
    body_order = {"requests": [{"type": "C68", "prms": [contract.prm]}]}
    order_item = outbox.enqueue(PROVIDER, ORDER_ACTION, order_payload(body_order, SystemClock().now()))
    served.plan.add(ORDER_ROUTE, "late", method="POST")
    second = start(config, data, sim.token, "drain")
    _kill_in_flight(second, store, order_item, lambda: len(sim.orders) == 1)
    posts = sim.posts
    assert run(config, data, sim.token, "drain") == [f"{order_item} held None"]
    assert run(config, data, sim.token, "drain") == [f"{order_item} held None"]
    assert sim.posts == posts and len(sim.orders) == 1  # never ordered twice
    (order_id,) = sim.orders
    assert run(config, data, sim.token, "identify", str(order_item), order_id) == [f"{order_item} delivered True"]
    assert len(sim.orders) == 1
    assert [key for key, _ in store.watch_list(ORDERS_LIST)] == [order_id]  # followed from now on
    assert _trail(store, order_item) == ["queued", "held", "identified", "resumed", "found", "verified"]
    assert {i.status for i in store.outbox()} == {"delivered"}
    assert all(i.sending_since is None and i.claimed_by is None for i in store.outbox())
