"""In the pilot: an error in a screen's callback ends the app with EXIT_CRASH, keeps nothing
for Textual to print (its traceback shows local variables), and logs the traceback without them."""

from __future__ import annotations

import logging

import pytest

from pupitre.crash import EXIT_CRASH
from tests.tui.helpers import wait_runs


async def test_a_crash_in_a_screen_is_logged_without_locals_and_not_printed(make_app, caplog):
    app = make_app()

    def boom() -> None:
        client_secret = "pilot-secret-value"  # noqa: F841 (a local that must never be shown)
        raise ValueError("a bug in a screen")

    caplog.set_level(logging.ERROR, logger="pupitre.crash")
    with pytest.raises(ValueError, match="a bug in a screen"):  # run_test still re-raises it
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_runs(pilot, app)
            app.screen.call_later(boom)
            await pilot.pause()
    assert app.return_code == EXIT_CRASH and isinstance(app.crashed, ValueError)
    assert app._exit_renderables == []  # Textual's Rich traceback (with locals) was never built
    (record,) = [r for r in caplog.records if r.name == "pupitre.crash"]
    assert record.getMessage() == "unexpected error in the dashboard" and record.exc_info is not None
    assert "ValueError: a bug in a screen" in caplog.text and "pilot-secret-value" not in caplog.text
