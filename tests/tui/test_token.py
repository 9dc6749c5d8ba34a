"""EDF OA token rotation from the Curtailments screen (RG_TOK_NEW_0010): saved at once; when
saving fails, the token is shown once rather than lost; the old token stops working."""

from __future__ import annotations

import datetime as dt

from textual.widgets import Static

from pupitre.providers.edf_oa.feeds import PROVIDER, TOKEN_FEED
from pupitre.tui.dialogs.confirm import ConfirmScreen
from pupitre.tui.dialogs.token import TokenScreen, UnsavedTokenScreen
from tests.tui.helpers import wait_for, wait_runs

NOW = dt.datetime(2026, 11, 23, 14, 0)


def text_of(screen) -> str:
    return "\n".join(str(w.render()) for w in screen.query(Static))


async def open_token_screen(pilot, app) -> None:
    await wait_runs(pilot, app, feed=TOKEN_FEED)
    await pilot.press("3", "t")
    assert isinstance(app.screen, TokenScreen)
    assert "days left" in text_of(app.screen)


async def confirm_rotation(pilot, app) -> None:
    """``R`` asks first (the old token dies at once, RG_TOK_NEW_0010); ``y`` rotates."""
    await pilot.press("R")
    await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
    assert "stops working AT ONCE" in text_of(app.screen)
    await pilot.press("y")


async def test_rotation_asks_first_and_declining_keeps_the_token(make_app):
    app = make_app(now=NOW, scripted=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_token_screen(pilot, app)
        sim = app.runtime.simulators[PROVIDER]
        old = sim.current_token
        await pilot.press("R")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: "Not rotated" in text_of(app.screen))
        assert isinstance(app.screen, TokenScreen)
        assert sim.current_token == old
        assert not [row for row in app.runtime.store.audit_log(PROVIDER) if row[2] == "rotate token"]


async def test_rotation_saves_the_new_token_and_the_old_one_stops_working(make_app):
    app = make_app(now=NOW, scripted=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_token_screen(pilot, app)
        sim = app.runtime.simulators[PROVIDER]
        old = sim.current_token
        await confirm_rotation(pilot, app)
        await wait_for(pilot, lambda: "New token saved to" in text_of(app.screen))
        assert sim.current_token != old
        assert "confirmed by EDF OA" in text_of(app.screen)
        # the app keeps working with the new token
        await pilot.press("escape", "r")
        await wait_runs(pilot, app, 2, feed=TOKEN_FEED)
        assert app.feeds.state(TOKEN_FEED).error is None
        audit = app.runtime.store.audit_log(PROVIDER)
        assert audit[0][2] == "rotate token" and old not in repr(audit) and sim.current_token not in repr(audit)
        assert sim.current_token not in repr(app.runtime.store.outbox())


async def test_when_saving_fails_the_token_is_shown_once(make_app):
    app = make_app(now=NOW, scripted=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_token_screen(pilot, app)
        session = app.runtime.connections[PROVIDER].session

        def broken(token: str) -> str:
            raise OSError("disk full")

        session.save_token = broken
        await confirm_rotation(pilot, app)
        await wait_for(pilot, lambda: isinstance(app.screen, UnsavedTokenScreen))
        shown = text_of(app.screen)
        assert app.runtime.simulators[PROVIDER].current_token in shown
        assert "disk full" in shown and "pupitre secrets set edf_oa api_token" in shown
        audit = app.runtime.store.audit_log(PROVIDER)[0]
        assert audit[3] == "NOT SAVED" and app.runtime.simulators[PROVIDER].current_token not in repr(audit)


async def test_an_environment_variable_that_shadows_the_token_is_said_before_and_after(make_app):
    """The token in use comes from PUPITRE_EDF_OA_API_TOKEN (provider side:
    tests/providers/test_token_rotation.py): the screen says so before rotating, and shows the
    new token once, with exactly what to change, after."""
    app = make_app(now=NOW, scripted=False)
    async with app.run_test(size=(100, 30)) as pilot:
        session = app.runtime.connections[PROVIDER].session
        session.token_shadowed_by = lambda: "PUPITRE_EDF_OA_API_TOKEN"
        await open_token_screen(pilot, app)
        assert "comes from the environment variable PUPITRE_EDF_OA_API_TOKEN" in text_of(app.screen)
        await confirm_rotation(pilot, app)
        await wait_for(pilot, lambda: isinstance(app.screen, UnsavedTokenScreen))
        shown = text_of(app.screen)
        assert app.runtime.simulators[PROVIDER].current_token in shown
        assert "Put the new EDF OA token in PUPITRE_EDF_OA_API_TOKEN" in shown and "is read first" in shown
        audit = app.runtime.store.audit_log(PROVIDER)[0]
        assert "PUPITRE_EDF_OA_API_TOKEN must be changed" in audit[4]
