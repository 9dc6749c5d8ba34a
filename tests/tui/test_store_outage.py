"""A team store that stops answering never stops the dashboard (issue 19): PostgreSQL frozen
(its postmaster stopped with SIGSTOP after the console's connection was ended: a connection
attempt then waits for its whole timeout), the dashboard keeps ticking and repainting — the
largest gap between two ticks of the UI's event loop stays far under the 5 s connection
timeout — its header says "STORE UNREACHABLE since …", the last data stays on screen, and it
reconnects by itself once the server answers again."""

from __future__ import annotations

import asyncio
import os
import signal
import time

from textual.coordinate import Coordinate
from textual.widgets import DataTable

from pupitre.tui.widgets.header import HeaderBar
from tests.tui.helpers import wait_for, wait_runs
from tests.tui.requests import watch


async def test_a_frozen_team_store_never_blocks_the_ui_and_the_last_data_stays(
    dirs, postgres_url: str, postgres_server
) -> None:
    import psycopg

    from pupitre.providers.core.store_pg import CONNECT_TIMEOUT
    from pupitre.providers.grdf_omega.feeds import REQUESTS_FEED as FEED
    from pupitre.tui.app import PupitreApp
    from tests.tui.helpers import team_runtime

    runtime, database = team_runtime(dirs, postgres_url)
    store = runtime.store
    postmaster = postgres_server.server.get_postmaster_info().pid
    app = PupitreApp(runtime, start_screen="requests")

    def header() -> str:
        return str(app.screen.query_one(HeaderBar).query_one("#header-clock").render())

    async with app.run_test(size=(120, 30)) as pilot:
        await wait_runs(pilot, app, timeout=20.0)
        await wait_for(pilot, lambda: header().endswith("· polls"), timeout=20.0)
        watch(app, runtime.simulators["grdf_omega"].numbers()[:3])
        app.feeds.updated.publish(FEED)
        screen = app.screen
        table = screen.query_one("#req-table", DataTable)
        await wait_for(pilot, lambda: table.row_count > 0, timeout=20.0)
        shown = [str(table.get_cell_at(Coordinate(row, 1))) for row in range(table.row_count)]
        with psycopg.connect(postgres_server.url(), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (database,))
        os.kill(postmaster, signal.SIGSTOP)  # nothing answers a new connection now
        try:
            gaps: list[float] = []
            last = time.monotonic()

            def beat() -> None:
                nonlocal last
                now = time.monotonic()
                gaps.append(now - last)
                last = now

            timer = app.set_interval(0.05, beat)
            until = time.monotonic() + 2 * CONNECT_TIMEOUT
            while time.monotonic() < until:  # a measuring window, with repaints that read the store
                app.feeds.updated.publish(FEED)  # as a followed feed's new result does
                app.feeds.refresh(FEED, forced=True)
                await asyncio.sleep(0.2)
            timer.stop()
            await wait_for(pilot, lambda: "STORE UNREACHABLE since" in header(), timeout=20.0)
            assert app.screen is screen and len(gaps) > 20
            assert max(gaps) < CONNECT_TIMEOUT / 2, f"the UI stopped for {max(gaps):.1f} s"
            # the last data stays: the watch-list as read before, the same rows painted
            assert [str(table.get_cell_at(Coordinate(row, 1))) for row in range(table.row_count)] == shown
        finally:
            os.kill(postmaster, signal.SIGCONT)
        await wait_for(pilot, lambda: header().endswith("· polls"), timeout=30.0)  # reconnected by itself
    store.close()
