"""Every fault the sandbox injects leaves the app running, the error visible on the panel,
and the last good data on screen with its age; clearing the fault recovers."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable

from tests.tui.helpers import refreshed, screen_text, wait_for, wait_runs

ROUTE = "/sfm/v1/sites/*"

CASES = [
    pytest.param("status", 500, 1, "server error", id="5xx"),
    pytest.param("timeout", 0, 1, "timed out waiting for the API", id="timeout"),
    pytest.param("malformed", 0, 1, "not valid JSON", id="malformed"),
    pytest.param("truncated", 0, 1, "not valid JSON", id="truncated"),
    # Once: the auth flow gets a new token and retries, so the operator sees nothing.
    pytest.param("expired_token", 0, 1, None, id="401-once-recovers"),
    # Twice: the retry also fails, the panel says authentication was refused.
    pytest.param("expired_token", 0, 2, "authentication refused", id="401-twice"),
    pytest.param("quota", 0, 1, "quota exceeded", id="quota"),
]


@pytest.mark.parametrize("kind,status,count,message", CASES)
async def test_fault_keeps_app_running_and_last_good_data(make_app, kind, status, count, message):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_runs(pilot, app)
        await pilot.press("2")
        good_at = app.feeds.state("grtgaz.indicators").fetched_at
        app.runtime.faults.add(ROUTE, kind, count=count, status=status or 500)
        await refreshed(pilot, app)

        assert app.is_running
        state = app.feeds.state("grtgaz.indicators")
        table = app.screen.query_one("#flex-table", DataTable)
        assert table.row_count == 13  # the last good data stays on screen
        # the status line redraws from the feed's message, after the run: wait for it
        await wait_for(pilot, lambda: ("ERROR" in screen_text(app)) == (message is not None))
        text = screen_text(app)
        if message is None:
            assert state.error is None and "ERROR" not in text
            return
        assert state.fetched_at == good_at
        assert "ERROR" in text and message in text
        assert "data 0s old (fetched 10:53:00)" in text  # its age, still shown
        assert "Traceback" not in text

        app.runtime.faults.clear()
        await refreshed(pilot, app)
        assert state.error is None
        await wait_for(pilot, lambda: "ERROR" not in screen_text(app))


async def test_error_text_never_carries_the_token(make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_runs(pilot, app)
        app.runtime.faults.add(ROUTE, "expired_token", count=2)
        await refreshed(pilot, app)
        text = screen_text(app)
        for token in app.runtime.simulators["grtgaz"].issuer.tokens:
            assert token not in text
        assert "sbx-" not in text
