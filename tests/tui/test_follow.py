"""A dashboard on a store where another process polls: it polls no API, paints that process's
results within a second of their saving, says in the header who polls, and takes over the
polling once that process has gone (its lease given up or its process dead)."""

from __future__ import annotations

import signal
import time

from pupitre.providers.core.leases import FeedLeases
from pupitre.providers.core.store import Store
from pupitre.tui.widgets.header import HeaderBar
from tests.processes.agent import start_agent, wait_for_leases
from tests.tui.helpers import FEED, wait_for, wait_runs


async def test_a_console_follows_the_process_that_polls_and_takes_over_when_it_leaves(make_runtime, make_app):
    runtime = make_runtime()
    other_store = Store(runtime.store.path)  # another process on the same store
    agent = FeedLeases(other_store, "ana@jump-2 (agent)")  # alive: this test's own pid
    for feed in runtime.feeds:
        assert agent.take(feed.name, 600).mine
    app = make_app(runtime)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_runs(pilot, app)
        state = app.feeds.state(FEED)
        assert state.follows == "ana@jump-2 (agent)"
        assert app.feeds.following() == ["ana@jump-2 (agent)"]
        assert runtime.simulators["grtgaz"].requests == 0  # no API polled from here
        header = app.screen.query_one(HeaderBar)
        await wait_for(pilot, lambda: "follows ana@jump-2 (agent)" in str(header.query_one("#header-clock").render()))

        # the agent saves a result: this console shows it within a second, without a request
        fetched = runtime.clock.now()
        saved = time.monotonic()
        other_store.save_snapshot(FEED, state.feed.dump(await _fetch_elsewhere(make_runtime)), fetched)
        await wait_for(pilot, lambda: state.fetched_at == fetched, timeout=10.0)
        # within a second on a calm machine (tests/bench/test_bench_team.py measures it); a loaded
        # CI machine gets some slack here
        assert time.monotonic() - saved < 3.0
        assert state.data is not None and runtime.simulators["grtgaz"].requests == 0

        agent.release()  # the agent stops: this console polls at its next run
        runs = state.runs
        app.feeds.refresh(FEED, forced=True)
        await wait_runs(pilot, app, runs + 1)
        assert state.follows is None and runtime.simulators["grtgaz"].requests > 0
    other_store.close()


async def _fetch_elsewhere(make_runtime) -> object:
    """What the agent fetched (another runtime's simulator, same sandbox data)."""
    elsewhere = make_runtime()
    try:
        return await elsewhere.feed(FEED).fetch()
    finally:
        await elsewhere.aclose()


async def test_a_console_takes_over_when_the_agent_is_killed(make_runtime, make_app, tmp_path):
    """A real ``pupitre agent`` process polls; the console follows it; SIGKILL the agent (no
    clean exit, its leases still in the store): the console's next run polls the APIs."""
    agent = start_agent(tmp_path)
    try:
        runtime = make_runtime()
        await wait_for_leases(runtime.store, len(runtime.feeds))
        app = make_app(runtime)
        async with app.run_test(size=(120, 30)) as pilot:
            await wait_runs(pilot, app)
            state = app.feeds.state(FEED)
            assert state.follows is not None and state.follows.endswith("(agent)")
            await wait_for(pilot, lambda: state.fetched_at is not None, timeout=30.0)  # the agent's result
            assert runtime.simulators["grtgaz"].requests == 0

            agent.send_signal(signal.SIGKILL)
            agent.wait(timeout=10)
            runs = state.runs
            app.feeds.refresh(FEED, forced=True)  # its next run (here now, not a minute later)
            await wait_runs(pilot, app, runs + 1)
            assert state.follows is None and runtime.simulators["grtgaz"].requests > 0
            assert state.error is None
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.wait(timeout=10)


async def test_a_lost_team_store_is_said_with_its_time_the_data_stays_and_it_reconnects(
    dirs, postgres_url: str, postgres_server
) -> None:
    import psycopg

    from pupitre.tui.app import PupitreApp
    from tests.tui.helpers import team_runtime

    runtime, database = team_runtime(dirs, postgres_url)
    store = runtime.store
    app = PupitreApp(runtime)

    def header() -> str:
        return str(app.screen.query_one(HeaderBar).query_one("#header-clock").render())

    async with app.run_test(size=(120, 30)) as pilot:
        await wait_runs(pilot, app, timeout=20.0)
        await wait_for(pilot, lambda: header().endswith("· polls"), timeout=20.0)
        state = app.feeds.state(FEED)
        with psycopg.connect(postgres_server.url(), autocommit=True) as admin:  # the server goes away
            admin.execute(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS false')
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (database,))
        runs = state.runs
        app.feeds.refresh(FEED, forced=True)
        await wait_runs(pilot, app, runs + 1, timeout=20.0)
        await wait_for(pilot, lambda: "STORE UNREACHABLE since" in header(), timeout=20.0)
        assert state.data is not None and state.error is None  # fetched, shown, not saved (said)
        assert any("not saved" in n.message and "store unreachable since" in n.message for n in app._notifications)

        with psycopg.connect(postgres_server.url(), autocommit=True) as admin:  # back
            admin.execute(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS true')
        app.feeds.refresh(FEED, forced=True)
        await wait_runs(pilot, app, runs + 2, timeout=20.0)
        await wait_for(pilot, lambda: header().endswith("· polls"), timeout=20.0)
        assert store.load_snapshot(FEED) is not None
    store.close()
