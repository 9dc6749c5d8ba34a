"""Helpers of the EDF OA curtailment pilot tests (shared with the snapshot and disk tests)."""

from __future__ import annotations

import datetime as dt

from pupitre.providers.edf_oa.feeds import ACKS_FEED, CURTAILMENTS_FEED, PROVIDER
from pupitre.tui.screens.curtailments import CurtailmentsScreen
from tests.tui.helpers import wait_for, wait_runs

# Monday 23/11/2026 at 14:00: tomorrow's order was published at 13:00; the window is open.
NOW = dt.datetime(2026, 11, 23, 14, 0)


ACK_ROUTE = "/api/v1/acknowledgements"


async def ready(pilot, app) -> None:
    await wait_runs(pilot, app, feed=CURTAILMENTS_FEED)
    await wait_runs(pilot, app, feed=ACKS_FEED)
    await pilot.press("3")
    assert isinstance(app.screen, CurtailmentsScreen)


def order(app):
    return app.feeds.state(CURTAILMENTS_FEED).data


def last_item(app):
    return app.runtime.store.outbox(provider=PROVIDER)[-1]


async def delivered(pilot, app) -> None:
    """Wait until the last acknowledgement is delivered, verified, and read back on screen."""
    await wait_for(
        pilot,
        lambda: (
            app.runtime.store.outbox(provider=PROVIDER)
            and last_item(app).status == "delivered"
            and app.outbox.last.get(last_item(app).id) is not None
        ),
        timeout=10,
    )
    runs = app.feeds.state(ACKS_FEED).runs
    await wait_for(pilot, lambda: app.feeds.state(ACKS_FEED).runs > runs - 1 and not app.feeds.state(ACKS_FEED).running)
    await pilot.pause()
