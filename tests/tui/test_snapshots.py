"""Snapshots of the screens at 80×24 and 120×40 with a frozen clock, and with NO_COLOR.

Update only after opening the new SVG and agreeing with what an operator sees:
``pytest tests/tui/test_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

import pytest

from pupitre.providers.grdf_adict.feeds import RIGHTS_FEED
from tests.tui.helpers import wait_for, wait_runs

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


async def settle(pilot) -> None:
    await wait_runs(pilot, pilot.app)
    await wait_runs(pilot, pilot.app, feed=RIGHTS_FEED)  # the ADICT tile
    pilot.app.clear_notifications()
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
def test_overview(snap_compare, make_app, size):
    assert snap_compare(make_app(), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES)
def test_flexibility(snap_compare, make_app, size):
    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("2")
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=size, run_before=run_before)


def test_flexibility_no_color(snap_compare, make_app, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")

    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("2")
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_before)


def test_site_detail(snap_compare, make_app):
    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("2", "s", "enter")  # the cursor stays on Montoir through the re-sort
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_before)


async def _programs(pilot, site_id: str = "LI1009") -> None:
    """The programs of Martigues (Q→Q- red) for the day, read from the simulator."""
    from pupitre.tui.screens.programs import ProgramsScreen

    await settle(pilot)
    await pilot.app.push_screen(ProgramsScreen(site_id))
    screen = pilot.app.screen
    await wait_for(pilot, lambda: screen.data is not None and not screen.data.from_store and not screen.loading)
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
def test_programs(snap_compare, make_app, size):
    async def run_before(pilot) -> None:
        await _programs(pilot)
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_program_editor(snap_compare, make_app, size):
    """11h lowered while Q→Q- is red: the hour fails (Q0_DELAY), 12h being typed."""

    async def run_before(pilot) -> None:
        await _programs(pilot)
        await pilot.press("e")
        await pilot.pause()
        editor = pilot.app.screen
        table = editor.query_one("#ed-table")
        table.move_cursor(row=5, animate=False)
        await pilot.pause()
        for key in "300000":
            await pilot.press(key)
            await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        for key in "600000":
            await pilot.press(key)
            await pilot.pause()
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=size, run_before=run_before)
