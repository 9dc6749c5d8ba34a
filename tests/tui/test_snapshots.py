"""Snapshots of the screens at 80×24 and 120×40 with a frozen clock, and with NO_COLOR.

Update only after opening the new SVG and agreeing with what an operator sees:
``pytest tests/tui/test_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

import pytest

from pupitre.providers.grdf_adict.feeds import RIGHTS_FEED
from tests.tui.helpers import show, wait_for, wait_runs

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
    # ⚠ on a request re-read by the round (numbers[3] is Réalisée for weeks: re-read only daily)
    app.runtime.faults.add(f"/fournisseur/demande/v1/demandes/{numbers[2]}/*", "status", count=1, status=500)
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


async def _no_color_site_detail(pilot) -> None:
    from pupitre.tui.screens.site_detail import SiteDetailScreen

    await settle(pilot)
    await pilot.press("2", "s")  # the cursor stays on Montoir through the re-sort
    await show(pilot, "enter", SiteDetailScreen)
    pilot.app.clear_notifications()
    await pilot.pause()


async def _no_color_programs(pilot) -> None:
    """Martigues (Q→Q- red) picked in Flexibility, then g."""
    from pupitre.tui.screens.programs import ProgramsScreen

    await settle(pilot)
    await pilot.press("2", "slash", *"Martigues", "enter")
    screen = await show(pilot, "g", ProgramsScreen)
    await wait_for(pilot, lambda: screen.data is not None and not screen.data.from_store and not screen.loading)
    pilot.app.clear_notifications()
    await pilot.pause()


async def _no_color_program_editor(pilot) -> None:
    """11h lowered while Q→Q- is red: the hour fails (Q0_DELAY), 12h being typed."""
    from textual.widgets import Input

    from pupitre.tui.screens.program_editor import ProgramEditorScreen

    await _no_color_programs(pilot)
    editor = await show(pilot, "e", ProgramEditorScreen)
    editor.query_one("#ed-table").move_cursor(row=5, animate=False)
    await pilot.pause()
    await pilot.press(*"300000", "enter", *"600000")
    box = editor.query_one("#ed-value", Input)
    await wait_for(pilot, lambda: editor.draft.values[5] == 300000 and editor.editing == 6 and box.value == "600000")
    pilot.app.clear_notifications()
    await pilot.pause()


async def _no_color_edf_reports(pilot) -> None:
    """Contracts & reports over 21/11 … 23/11, the cursor on the first order of BOA0001."""
    from pupitre.providers.edf_oa.feeds import CONTRACTS_FEED
    from pupitre.tui.screens.edf_reports import EdfReportsScreen
    from tests.tui.curtailments import ready

    app = pilot.app
    await wait_runs(pilot, app, feed=CONTRACTS_FEED)
    await ready(pilot, app)  # the new order's notification is out before the snapshot clears it
    screen = await show(pilot, "c", EdfReportsScreen)
    await wait_for(pilot, lambda: not screen.fetching)
    await pilot.press("left_square_bracket", *["left_curly_bracket"] * 2)
    await wait_for(pilot, lambda: not screen.fetching)
    await pilot.press("down", "down")
    app.clear_notifications()
    await pilot.pause()


async def _no_color_token(pilot) -> None:
    from pupitre.providers.edf_oa.feeds import TOKEN_FEED
    from pupitre.tui.dialogs.token import TokenScreen
    from tests.tui.curtailments import ready

    await wait_runs(pilot, pilot.app, feed=TOKEN_FEED)
    await ready(pilot, pilot.app)
    pilot.app.clear_notifications()  # here: the screen under the dialog keeps the toasts it shows
    await pilot.pause()
    await show(pilot, "t", TokenScreen)
    pilot.app.clear_notifications()
    await pilot.pause()


async def _no_color_request_detail(pilot) -> None:
    """A watched request whose status changed (Annulée), opened with enter."""
    from pupitre.providers.grdf_omega.feeds import PROVIDER
    from pupitre.tui.screens.request_detail import RequestDetailScreen
    from tests.tui.requests import refreshed, watch

    app = pilot.app
    sim = app.runtime.simulators[PROVIDER]
    numero = sim.numbers()[0]
    await refreshed(pilot, app, 1)
    watch(app, [numero])
    await pilot.press("4", "r")
    await refreshed(pilot, app, 2)
    sim.set_status(numero, "ANNUL", "Annulée")
    await pilot.press("r")
    await refreshed(pilot, app, 3)
    screen = await show(pilot, "enter", RequestDetailScreen)
    await wait_for(pilot, lambda: "Annulée" in str(screen.query_one("#request-root").render()))
    app.clear_notifications()
    await pilot.pause()


async def _no_color_pce_detail(pilot) -> None:
    """The first right's PCE, its contractual data and readings loaded."""
    from textual.widgets import Static

    from pupitre.tui.screens.pce_detail import PceDetailScreen
    from tests.tui.helpers import open_rights

    await open_rights(pilot, pilot.app)
    screen = await show(pilot, "enter", PceDetailScreen)

    def text(selector: str) -> str:
        return str(screen.query_one(selector, Static).render())

    await wait_for(pilot, lambda: "reading(s)" in text("#pce-readings-status"), timeout=15)
    await wait_for(pilot, lambda: "loading" not in text("#pce-contract") + text("#pce-technical"), timeout=15)
    pilot.app.clear_notifications()
    await pilot.pause()


async def _no_color_keys_help(pilot) -> None:
    """The keys of Curtailments: its own first, then every screen's, then Textual's."""
    from pupitre.tui.dialogs.keys import KeysScreen
    from tests.tui.curtailments import ready

    await ready(pilot, pilot.app)
    pilot.app.clear_notifications()  # the screen under the dialog keeps the toasts it shows
    await pilot.pause()
    await show(pilot, "question_mark", KeysScreen)
    pilot.app.clear_notifications()
    await pilot.pause()


NO_COLOR_SCREENS = {
    # screen: (how to get there, the frozen time, the scripted GRTgaz day)
    "overview": (_no_color_overview, None),
    "curtailments": (_no_color_curtailments, "curtailments"),
    "requests": (_no_color_requests, "requests"),
    "access_rights": (_no_color_access_rights, None),
    "load_curves": (_no_color_load_curves, None),
    "site_detail": (_no_color_site_detail, None),
    "programs": (_no_color_programs, None),
    "program_editor": (_no_color_program_editor, None),
    "edf_reports": (_no_color_edf_reports, "curtailments"),
    "token": (_no_color_token, "curtailments"),
    "request_detail": (_no_color_request_detail, "requests"),
    "pce_detail": (_no_color_pce_detail, None),
    "keys_help": (_no_color_keys_help, "curtailments"),
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


@pytest.mark.parametrize("size", SIZES)
def test_audit(snap_compare, make_runtime, size):
    """The shift handover: the audit log (who, when in Paris time, outcome), a refusal standing out."""
    from pupitre.tui.app import PupitreApp
    from pupitre.tui.screens.audit import AuditScreen
    from tests.tui.helpers import write_shift

    runtime = make_runtime()
    write_shift(runtime)

    async def run_before(pilot) -> None:
        await wait_runs(pilot, pilot.app)
        screen = await show(pilot, "7", AuditScreen)
        await wait_for(pilot, lambda: screen.reads >= 1)
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(PupitreApp(runtime), terminal_size=size, run_before=run_before)


def test_audit_actions(snap_compare, make_runtime):
    """The actions to hand over at 80×24, the selected one's what-to-do in full under the list."""
    from pupitre.tui.app import PupitreApp
    from pupitre.tui.screens.audit import AuditScreen
    from tests.tui.helpers import write_shift

    runtime = make_runtime()
    write_shift(runtime)

    async def run_before(pilot) -> None:
        await wait_runs(pilot, pilot.app)
        screen = await show(pilot, "7", AuditScreen)
        await wait_for(pilot, lambda: screen.reads >= 1)
        await pilot.press("a", "down")
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(PupitreApp(runtime), terminal_size=(80, 24), run_before=run_before)
