"""Helpers of the GRDF requests pilot tests (shared with the snapshot tests)."""

from __future__ import annotations

import datetime as dt

from pupitre.providers.grdf_omega.feeds import PROVIDER, REQUESTS_FEED
from tests.tui.helpers import wait_runs

NOW = dt.datetime(2026, 11, 23, 10, 0)


def watch(app, numbers) -> None:
    app.runtime.store.watch_add(PROVIDER, list(numbers), app.runtime.clock.now())


async def refreshed(pilot, app, runs: int) -> None:
    await wait_runs(pilot, app, runs, feed=REQUESTS_FEED, timeout=20)
    await pilot.pause()
