"""Helpers of the Switchgrid load-curve pilot tests (shared with the snapshot tests)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from textual.widgets import Input

from pupitre.providers.core.clock import ManualClock
from pupitre.providers.core.retry import RetryPolicy
from pupitre.providers.core.secrets import SecretStore
from pupitre.providers.switchgrid.feeds import FEED
from pupitre.runtime import build_runtime
from pupitre.settings import Settings
from pupitre.tui.app import PupitreApp
from pupitre.tui.screens.load_curve_forms import AskFormScreen, ContractSearchScreen
from pupitre.tui.screens.load_curves import LoadCurvesScreen
from tests.tui.helpers import wait_for, wait_runs


def plot_app(tmp_path: Path, now: dt.datetime) -> PupitreApp:
    """A sandbox dashboard whose feeds never start: the benches time the plot alone."""
    runtime = build_runtime(
        Settings(),
        sandbox=True,
        clock=ManualClock(now),
        data_dir=tmp_path,
        retry=RetryPolicy(attempts=1),
        secrets=SecretStore(credentials_file=tmp_path / "c", env={}),
    )
    app = PupitreApp(runtime)
    app.feeds.start = lambda: None  # type: ignore[method-assign]  # no fetch: the plot only
    return app


async def open_screen(pilot, app):
    await wait_runs(pilot, app, feed=FEED)
    await pilot.press("6")
    await wait_for(pilot, lambda: isinstance(app.screen, LoadCurvesScreen))
    return app.screen


async def create_ask(app):
    """An ask for the simulator's first contract, created through the session (not the forms)."""
    sim = app.runtime.simulators["switchgrid"]
    session = app.runtime.connections["switchgrid"].session
    return await session.create_ask(
        {
            "electricityContracts": [sim.contracts[0].id],
            "signer": {"firstName": "Jean", "lastName": "Dupont"},
            "consentDuration": "1 year",
        }
    )


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
