"""Helpers of the Switchgrid load-curve pilot tests (shared with the snapshot tests)."""

from __future__ import annotations

from textual.widgets import Input

from pupitre.providers.switchgrid.feeds import FEED
from pupitre.tui.screens.load_curve_forms import AskFormScreen, ContractSearchScreen
from pupitre.tui.screens.load_curves import LoadCurvesScreen
from tests.tui.helpers import wait_for, wait_runs


async def open_screen(pilot, app):
    await wait_runs(pilot, app, feed=FEED)
    await pilot.press("6")
    await wait_for(pilot, lambda: isinstance(app.screen, LoadCurvesScreen))
    return app.screen


async def sign_in(pilot, app, name: str, address: str) -> str:
    """Search, tick the first result, create the ask; returns the ask id."""
    await pilot.press("f")
    await wait_for(pilot, lambda: isinstance(app.screen, ContractSearchScreen))
    search = app.screen
    search.query_one("#s-name", Input).value = name
    search.query_one("#s-address", Input).value = address
    search.query_one("#s-name", Input).focus()
    await pilot.press("enter")
    await wait_for(pilot, lambda: bool(search.results))
    await pilot.press("space", "n")
    await wait_for(pilot, lambda: isinstance(app.screen, AskFormScreen))
    form = app.screen
    form.query_one("#ask-first", Input).value = "Jean"
    form.query_one("#ask-last", Input).value = "Dupont"
    await pilot.press("ctrl+s")
    await wait_for(pilot, lambda: form.ask is not None)
    return form.ask.id
