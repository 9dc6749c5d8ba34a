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


# -- every screen under NO_COLOR: states must read without colour (a glyph or a word) ------------


async def _no_color_overview(pilot) -> None:
    await settle(pilot)


async def _no_color_curtailments(pilot) -> None:
    from tests.tui.curtailments import ready

    await ready(pilot, pilot.app)
    await pilot.press("y", "down", "n")
    pilot.app.clear_notifications()
    await pilot.pause()


async def _no_color_requests(pilot) -> None:
    from pupitre.providers.grdf_omega.feeds import PROVIDER
    from tests.tui.requests import refreshed, watch

    app = pilot.app
    numbers = app.runtime.simulators[PROVIDER].numbers()[:4]
    await refreshed(pilot, app, 1)
    watch(app, numbers)
    await pilot.press("4", "r")
    await refreshed(pilot, app, 2)
    app.runtime.simulators[PROVIDER].set_status(numbers[1], "ANNUL", "Annulée")  # ● changed
    app.runtime.faults.add(f"/fournisseur/demande/v1/demandes/{numbers[3]}/*", "status", count=1, status=500)  # ⚠
    await pilot.press("r")
    await refreshed(pilot, app, 3)
    app.clear_notifications()
    await pilot.pause()


async def _no_color_access_rights(pilot) -> None:
    from tests.tui.helpers import open_rights

    await open_rights(pilot, pilot.app)
    await pilot.press("down", "down")
    pilot.app.clear_notifications()
    await pilot.pause(0.15)


async def _no_color_load_curves(pilot) -> None:
    """Two asks: one signed (✓ accepted), one still to sign (✎)."""
    from pupitre.providers.switchgrid.feeds import FEED
    from tests.tui.helpers import wait_for
    from tests.tui.load_curves import open_screen, sign_in

    app = pilot.app
    screen = await open_screen(pilot, app)
    signed = await sign_in(pilot, app, "Dupont", "1 rue de la paix 75002 Paris")
    await pilot.press("escape", "escape")
    await sign_in(pilot, app, "Dupont", "1 rue de la paix 75002 Paris")
    await pilot.press("escape", "escape")
    await wait_for(pilot, lambda: app.screen is screen)
    app.runtime.simulators["switchgrid"].accept(signed)
    app.feeds.refresh(FEED, forced=True)
    await wait_for(pilot, lambda: any(a.status == "ACCEPTED" for a in screen.data().asks))
    app.clear_notifications()
    await pilot.pause()


NO_COLOR_SCREENS = {
    # screen: (how to get there, the frozen time, the scripted GRTgaz day)
    "overview": (_no_color_overview, None),
    "curtailments": (_no_color_curtailments, "curtailments"),
    "requests": (_no_color_requests, "requests"),
    "access_rights": (_no_color_access_rights, None),
    "load_curves": (_no_color_load_curves, None),
}


@pytest.mark.parametrize("screen", list(NO_COLOR_SCREENS))
def test_no_color(snap_compare, make_app, monkeypatch, screen):
    """Flexibility and the load-curve plot have their own NO_COLOR snapshots above and in
    test_load_curves_snapshots.py."""
    monkeypatch.setenv("NO_COLOR", "1")
    run_before, clock_of = NO_COLOR_SCREENS[screen]
    if clock_of == "curtailments":
        from tests.tui.curtailments import NOW as now

        app = make_app(now=now, scripted=False)
    elif clock_of == "requests":
        from tests.tui.requests import NOW as now

        app = make_app(now=now, scripted=False)
    else:
        app = make_app()
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
