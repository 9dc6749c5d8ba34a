"""The headless runners (:mod:`pupitre.runners`, shared by the dashboard and ``pupitre agent``):
a Switchgrid order followed by another process is not polled here, and its end is told by the
process that settled it only; operations report their failures in one sentence."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Callable

import pytest

from pupitre import runners
from pupitre.providers.core.clock import ManualClock
from pupitre.providers.core.errors import ApiError
from pupitre.providers.core.followups import Report
from pupitre.providers.core.leases import FeedLeases
from pupitre.providers.core.secrets import SecretStore
from pupitre.providers.core.store import Store
from pupitre.providers.switchgrid.feeds import ORDERS_LIST, PROVIDER, SwitchgridSession
from pupitre.runners import Runners
from pupitre.runtime import Runtime, build_runtime
from pupitre.settings import Settings

BODY = {"requests": [{"type": "C68", "prms": ["00000000000022"]}]}


class Recorded:
    """:class:`pupitre.runners.Reports` that keeps what it is told."""

    def __init__(self) -> None:
        self.reports: list[Report] = []
        self.topics: list[str] = []

    def report(self, report: Report) -> None:
        self.reports.append(report)

    def updated(self, topic: str) -> None:
        self.topics.append(topic)


def make(tmp_path: Path) -> Runtime:
    settings = Settings()
    settings.switchgrid.poll_first_seconds = 0.05
    settings.switchgrid.poll_max_seconds = 0.1
    return build_runtime(
        settings,
        sandbox=True,
        clock=ManualClock(dt.datetime(2024, 12, 17, 10)),
        store=Store(tmp_path / "s.sqlite3"),
        data_dir=tmp_path,
        secrets=SecretStore(credentials_file=tmp_path / "c", env={}),
    )


async def placed(runtime: Runtime) -> str:
    session = runtime.connections[PROVIDER].session_as(SwitchgridSession)
    simulator = runtime.simulators[PROVIDER]
    ask = await session.create_ask(
        {
            "electricityContracts": [simulator.contracts[0].id],
            "signer": {"firstName": "A", "lastName": "B"},
            "consentDuration": "1 year",
        }
    )
    simulator.accept(ask.id)
    order = await session.place_order(BODY)
    assert isinstance(runtime.clock, ManualClock)
    runtime.clock.advance(seconds=5)  # the order is done at its next read
    return order.id


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    waited = 0.0
    while not condition():
        assert waited < timeout, "not in time"
        await asyncio.sleep(0.02)
        waited += 0.02


async def test_an_order_followed_by_another_process_is_not_polled_here_nor_told_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runners, "WAIT_SECONDS", 0.05)
    runtime = make(tmp_path)
    session = runtime.connections[PROVIDER].session_as(SwitchgridSession)
    order_id = await placed(runtime)
    other = FeedLeases(runtime.store, "ana@jump-2 (agent)")  # another process, alive, follows it
    assert other.take(f"{ORDERS_LIST}/{order_id}", 60).mine
    told = Recorded()
    here = Runners(runtime, told, FeedLeases(runtime.store, "bob@jump-1 (dashboard)"))
    here.follow_order(order_id)
    await asyncio.sleep(0.3)
    assert f"order:{order_id}" in here.running and order_id not in session.following  # waits, polls nothing
    assert session.settle_order(order_id, "SUCCESS")  # the other process read it done and told it
    await until(lambda: not here.running)
    assert told.reports == []

    second = await placed(runtime)  # followed here: polled, settled and told once
    here.follow_order(second)
    await until(lambda: not here.running)
    assert [(r.title, r.message) for r in told.reports] == [("Switchgrid", f"Order {second[:8]}: done.")]
    assert dict(runtime.store.watch_list(ORDERS_LIST))[second] == "SUCCESS"
    assert runtime.store._query("SELECT count(*) FROM feed_leases") == [(1,)]  # only the other's: given up here
    here.follow_order(second)  # settled: nothing more to follow, nothing told again
    await until(lambda: not here.running)
    assert len(told.reports) == 1
    await here.stop()
    await runtime.aclose()


async def test_an_operation_reports_an_api_refusal_and_a_bug_in_one_sentence(tmp_path: Path) -> None:
    runtime = make(tmp_path)
    told = Recorded()
    here = Runners(runtime, told, FeedLeases(runtime.store, "bob@jump-1 (dashboard)"))
    results: list[int] = []

    async def refused() -> int:
        raise ApiError("the ask is unknown", provider="Switchgrid")

    async def broken() -> int:
        raise KeyError("token")

    async def fine() -> int:
        return 7

    here.operate(PROVIDER, "Cancel ask", refused, results.append)
    here.operate(PROVIDER, "Refresh ask", broken, results.append)
    here.operate(PROVIDER, "Refresh ask", fine, results.append)
    await until(lambda: not here.running)
    assert results == [7]
    assert [(r.title, r.level) for r in told.reports] == [("Cancel ask", "error"), ("Refresh ask", "error")]
    assert "the ask is unknown" in told.reports[0].message
    assert told.reports[1].message == "Unexpected error (KeyError); details in the log."  # never the key's text
    await runtime.aclose()
