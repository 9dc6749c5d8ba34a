"""Feed leases on each backend: one holder per feed and environment, renewed by it, lost when
its process dies or its lease runs out, given up at a clean exit."""

from __future__ import annotations

from typing import Callable

import pytest

from pupitre.providers.core.environments import SANDBOX
from pupitre.providers.core.leases import FeedLeases, console_label, operator_name
from pupitre.providers.core.store import Store

FEED = "grtgaz.indicators"


def test_one_holder_per_feed_until_it_dies_runs_out_or_leaves(
    new_store: Callable[[], Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [1000.0]
    agent = FeedLeases(new_store(), "ana@jump-2 (agent)", owner="h:1:1:agent", wall=lambda: clock[0])
    console = FeedLeases(new_store(), "bob@ws-1 (dashboard)", owner="h:2:1:console", wall=lambda: clock[0])
    alive = {"h:1:1:agent": True}
    monkeypatch.setattr("pupitre.providers.core.leases.owner_alive", lambda owner: alive.get(owner, True))
    assert agent.take(FEED, 60).mine
    follow = console.take(FEED, 60)
    assert (follow.mine, follow.holder) == (False, "ana@jump-2 (agent)")
    assert console.take("grtgaz.programs", 60).mine  # another feed: its own lease
    clock[0] += 70
    assert agent.take(FEED, 60).mine  # renewed within its interval + slack
    assert not console.take(FEED, 60).mine
    clock[0] += 60 + 16  # not renewed in time (another host's agent is gone)
    assert console.take(FEED, 60).mine
    assert not agent.take(FEED, 60).mine  # it came back: it follows now
    alive["h:2:1:console"] = False  # the console's process died
    assert agent.take(FEED, 60).mine
    agent.release()  # a clean exit: taken at once
    assert console.take(FEED, 60).mine


def test_a_lease_is_per_environment(any_store: Store) -> None:
    sandbox = FeedLeases(any_store, "sandbox console", owner="h:1:1:a")
    assert sandbox.take(FEED, 60).mine
    any_store.bind_environments({"grtgaz": "https://sfm.grtgaz.com"})
    assert FeedLeases(any_store, "real console", owner="h:1:1:b").take(FEED, 60).mine
    rows = any_store._query("SELECT env, holder FROM feed_leases ORDER BY holder")
    assert rows == [(SANDBOX, "h:1:1:a"), ("https://sfm.grtgaz.com", "h:1:1:b")]


def test_another_processs_result_is_seen_by_the_change_watch(new_store: Callable[[], Store]) -> None:
    import datetime as dt
    import threading

    follower, poller = new_store(), new_store()
    watch = follower.change_watch()
    try:
        assert not watch.wait(0.2)
        at = dt.datetime(2026, 11, 18, 10, 53)
        threading.Timer(0.2, lambda: poller.save_snapshot(FEED, [1], at)).start()
        assert watch.wait(5.0)
        assert follower.snapshot_times([FEED, "grtgaz.programs"]) == {FEED: at}
    finally:
        watch.close()


def test_the_operator_is_the_setting_or_the_os_user() -> None:
    import getpass
    import socket

    assert operator_name("ana") == "ana"
    assert operator_name("") == getpass.getuser()
    assert console_label("ana", "agent") == f"ana@{socket.gethostname()} (agent)"


def test_a_run_longer_than_its_interval_keeps_its_lease(
    new_store: Callable[[], Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A GRDF OMEGA round of a thousand requests lasts far beyond its interval: the holder keeps
    renewing while it runs, so another host's console never polls the same feed half-way."""
    import asyncio

    clock = [1000.0]
    monkeypatch.setattr("pupitre.providers.core.leases.LEASE_SLACK", 0.0)
    monkeypatch.setattr("pupitre.providers.core.leases.owner_alive", lambda owner: True)  # another host
    poller = FeedLeases(new_store(), "ana@jump-2 (agent)", owner="h:1:1:agent", wall=lambda: clock[0])
    console = FeedLeases(new_store(), "bob@ws-1 (dashboard)", owner="h:2:1:console", wall=lambda: clock[0])

    async def a_long_round() -> list[bool]:
        taken = []
        assert poller.take(FEED, 3.0).mine
        async with poller.kept(FEED, 3.0):  # renewed every second
            for _ in range(10):  # the lease's clock runs 2.5× faster: 5 s of it, past a 3 s lease
                await asyncio.sleep(0.2)
                clock[0] += 0.5
                taken.append(console.take(FEED, 3.0).mine)
        return taken

    assert asyncio.run(a_long_round()) == [False] * 10
    clock[0] += 3.5  # no run under way: the lease runs out, another host takes over
    assert console.take(FEED, 3.0).mine
