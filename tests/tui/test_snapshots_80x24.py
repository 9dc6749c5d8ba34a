"""80×24 first (#17): a snapshot at 80×24 of every screen and every dialog.

:data:`ELSEWHERE` names the 80×24 snapshots other files take; :data:`HERE` the others, taken
here by one parametrised test. A test checks the two cover every screen of the registry and
every dialog of ``pupitre/tui/dialogs/``. Update only after opening the new SVG:
``pytest tests/tui/test_snapshots_80x24.py --snapshot-update``.
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input

from pupitre.tui import registry
from tests.tui.helpers import show, wait_for, wait_runs

SIZE = (80, 24)
SNAPSHOTS = Path(__file__).parent / "__snapshots__"

#: screen or dialog -> its 80×24 snapshot taken by another file
ELSEWHERE = {
    "overview": "test_snapshots/test_overview[80x24].svg",
    "flexibility": "test_snapshots/test_flexibility[80x24].svg",
    "site_detail": "test_snapshots/test_site_detail.svg",
    "programs": "test_snapshots/test_programs[80x24].svg",
    "program_editor": "test_snapshots/test_program_editor[80x24].svg",
    "curtailments": "test_curtailments/test_snapshot_before_acknowledging[80x24].svg",
    "AckConfirmScreen": "test_curtailments/test_snapshot_confirmation_dialog.svg",
    "TokenScreen": "test_snapshots/test_no_color[token].svg",
    "edf_reports": "test_edf_reports/test_snapshot_reports_80x24.svg",
    "requests": "test_requests/test_snapshot_requests[80x24].svg",
    "request_detail": "test_snapshots/test_no_color[request_detail].svg",
    "access_rights": "test_access_rights/test_snapshot_access_rights[80x24].svg",
    "ExportDialog": "test_adict_export/test_snapshot_export_dialog[80x24].svg",
    "pce_detail": "test_snapshots/test_no_color[pce_detail].svg",
    "load_curves": "test_snapshots/test_no_color[load_curves].svg",
    "plot": "test_load_curves_snapshots/test_plot_week[80x24].svg",
    "KeysScreen": "test_snapshots/test_no_color[keys_help].svg",
    "audit": "test_snapshots/test_audit[80x24].svg",
    "alerts": "test_alerts/test_snapshot_alerts_screen.svg",
}


# -- how to get there ---------------------------------------------------------------------------
async def _settle(pilot) -> None:
    from pupitre.providers.grdf_adict.feeds import RIGHTS_FEED

    await wait_runs(pilot, pilot.app)
    await wait_runs(pilot, pilot.app, feed=RIGHTS_FEED)


async def _done(pilot) -> None:
    pilot.app.clear_notifications()
    await pilot.pause()


async def _contract_search(pilot) -> None:
    """Contracts found for a name and an address, the first ticked."""
    from pupitre.tui.screens.load_curve_forms import ContractSearchScreen
    from tests.tui.load_curves import open_screen

    app = pilot.app
    await open_screen(pilot, app)
    search = await show(pilot, "f", ContractSearchScreen)
    search.query_one("#s-name", Input).value = "Dupont"
    search.query_one("#s-address", Input).value = "1 rue de la paix 75002 Paris"
    search.query_one("#s-name", Input).focus()
    await pilot.press("enter")
    await wait_for(pilot, lambda: bool(search.results))
    await pilot.press("space")
    await _done(pilot)


async def _ask_form(pilot) -> None:
    from pupitre.tui.screens.load_curve_forms import AskFormScreen

    await _contract_search(pilot)
    await show(pilot, "n", AskFormScreen)
    await _done(pilot)


async def _accepted_ask(pilot) -> str:
    """The Load curves screen, with an ask its signer accepted; the PRM of its contract."""
    from tests.tui.load_curves import create_ask, open_screen

    app = pilot.app
    await open_screen(pilot, app)
    sim = app.runtime.simulators["switchgrid"]
    ask = await create_ask(app)
    sim.accept(ask.id)
    return str(sim.contracts[0].prm)


async def _order_form(pilot) -> None:
    from pupitre.tui.screens.load_curve_forms import OrderFormScreen

    prm = await _accepted_ask(pilot)
    await pilot.app.push_screen(OrderFormScreen([prm]))
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, OrderFormScreen) and pilot.app.screen.is_mounted)
    await _done(pilot)


async def _order(pilot) -> None:
    """A C68 order, done."""
    from pupitre.tui.screens.load_curve_order import OrderScreen

    app = pilot.app
    prm = await _accepted_ask(pilot)
    session = app.runtime.connections["switchgrid"].session
    order = await session.place_order({"requests": [{"type": "C68", "prms": [prm]}]})
    app.runtime.clock.advance(seconds=5)
    await app.push_screen(OrderScreen(order.id))
    screen = app.screen
    await wait_for(pilot, lambda: "done" in str(screen.query_one("#ord-status").render()))
    await wait_for(pilot, lambda: any("done" in str(n.message) for n in app._notifications))  # then cleared
    await _done(pilot)


async def _raw_data(pilot) -> None:
    from pupitre.tui.screens.load_curve_order import RawDataScreen

    await _order(pilot)
    await show(pilot, "enter", RawDataScreen)
    await _done(pilot)


async def _held_order(pilot) -> None:
    """An order Switchgrid did not answer: held, the operator asked for its id."""
    from pupitre.tui.screens.load_curve_forms import HeldOrderScreen, OrderFormScreen

    app = pilot.app
    prm = await _accepted_ask(pilot)
    app.runtime.faults.add("/enedis/v2/order", "late", method="POST")
    await app.push_screen(OrderFormScreen([prm]))
    form = app.screen
    form.query_one("#o-type").value = "C68"
    await pilot.pause()
    await pilot.press("ctrl+s")
    await wait_for(pilot, lambda: "HELD" in str(form.query_one("#o-error").render()), timeout=15)
    await pilot.press("escape")
    await wait_for(pilot, lambda: "HELD" in str(app.screen.query_one("#lc-outbox").render()))
    await show(pilot, "u", HeldOrderScreen)
    await _done(pilot)


async def _editor(pilot):
    """Martigues's editor, 11h lowered while Q→Q- is red (the hour fails, Q0_DELAY)."""
    from pupitre.tui.screens.program_editor import ProgramEditorScreen
    from pupitre.tui.screens.programs import ProgramsScreen

    await _settle(pilot)
    await pilot.press("2", "slash", *"Martigues", "enter")
    programs = await show(pilot, "g", ProgramsScreen)
    await wait_for(pilot, lambda: programs.data is not None and not programs.data.from_store and not programs.loading)
    editor = await show(pilot, "e", ProgramEditorScreen)
    editor.query_one("#ed-table", DataTable).move_cursor(row=5, animate=False)
    await pilot.pause()
    await pilot.press(*"300000", "enter")
    await wait_for(pilot, lambda: editor.draft.values[5] == 300000)
    await pilot.press("escape")  # the next hour's field closed: the table has the keys
    await wait_for(pilot, lambda: not editor.query_one("#ed-input-row").display)
    return editor


async def _program_confirm(pilot) -> None:
    from pupitre.tui.dialogs.program_confirm import ProgramConfirmScreen

    await _editor(pilot)
    await show(pilot, "s", ProgramConfirmScreen)
    await _done(pilot)


async def _paste_values(pilot) -> None:
    from pupitre.tui.dialogs.paste_values import PasteValuesScreen

    await _editor(pilot)
    await show(pilot, "v", PasteValuesScreen)
    await _done(pilot)


async def _email_export(pilot) -> None:
    """The e-mail fallback's dialog, for a file at a fixed path (the test's own varies)."""
    from pupitre.providers.grtgaz.export import EmailExport
    from pupitre.tui.dialogs.email_export import EmailExportScreen

    await _settle(pilot)
    result = EmailExport(
        Path("/home/operator/.local/share/pupitre/exports/20261118-LI1009-GFCCGE09-2.csv"),
        "Programme 20261118-LI1009-GFCCGE09-2 Martigues journée gazière 18/11/2026",
        "programmation@grtgaz.example",
        dt.datetime(2026, 11, 18, 10, 53),
    )
    await pilot.app.push_screen(EmailExportScreen(result, "GRTgaz did not answer (timeout after 3 tries)"))
    await _done(pilot)


async def _confirm(pilot) -> None:
    """q with curtailment choices not sent to EDF OA."""
    from pupitre.tui.dialogs.confirm import ConfirmScreen
    from tests.tui.curtailments import ready

    await ready(pilot, pilot.app)
    await pilot.press("y")
    pilot.app.clear_notifications()  # the screen under the dialog keeps the toasts it shows
    await pilot.pause()
    await show(pilot, "q", ConfirmScreen)
    await _done(pilot)


async def _not_saved(pilot) -> None:
    from pupitre.tui.dialogs.not_saved import NotSavedScreen

    await _settle(pilot)
    await pilot.app.push_screen(
        NotSavedScreen(
            "the acknowledgement of order OA-20261119-0A1B (5 contracts)",
            "the disk is full (No space left on device)",
            lambda: 1,
        )
    )
    await _done(pilot)


async def _refused_lines(pilot) -> None:
    """A watch-list import with good and bad lines (the Requests screen's own check), shown
    again once the two added requests are read (the toasts of the screen under it gone)."""
    from pupitre.providers.grdf_omega.feeds import REQUESTS_FEED
    from pupitre.tui.dialogs.refused_lines import RefusedLinesScreen

    app = pilot.app
    await _settle(pilot)
    await pilot.press("4")
    state = app.feeds.state(REQUESTS_FEED)
    runs = state.runs
    numbers = app.runtime.simulators["grdf_omega"].numbers()[:2]
    app.screen.add_numbers([*numbers, "WD12", "demande 42", "WD0005€3H", "", "WDXXXXXXXXX"])
    await wait_for(pilot, lambda: isinstance(app.screen, RefusedLinesScreen))
    dialog = app.screen
    await pilot.press("escape")
    await wait_for(pilot, lambda: state.runs > runs and not state.running, timeout=15)
    app.clear_notifications()
    await pilot.pause()
    await app.push_screen(RefusedLinesScreen(dialog.title_text, dialog.summary, dialog.lines))
    await _done(pilot)


async def _declare(pilot) -> None:
    from pupitre.tui.dialogs.rights_actions import DeclareScreen
    from tests.tui.helpers import open_rights

    await open_rights(pilot, pilot.app)
    await show(pilot, "n", DeclareScreen)
    await _done(pilot)


async def _proofs(pilot) -> None:
    """The right with the nearest proof deadline (d sorts by deadline)."""
    from pupitre.tui.dialogs.rights_actions import ProofsScreen
    from tests.tui.helpers import open_rights

    await open_rights(pilot, pilot.app)
    await pilot.press("d")
    await pilot.pause()
    await show(pilot, "u", ProofsScreen)
    await _done(pilot)


async def _token_unsaved(pilot) -> None:
    from pupitre.tui.dialogs.token import UnsavedTokenScreen

    await _settle(pilot)
    await pilot.app.push_screen(
        UnsavedTokenScreen("sandbox-token-not-a-secret", "the keyring refused it (locked collection)")
    )
    await _done(pilot)


#: screen or dialog -> (how to get there, whether the clock is the curtailment tests')
HERE = {
    "contract_search": (_contract_search, False),
    "ask_form": (_ask_form, False),
    "order_form": (_order_form, False),
    "held_order": (_held_order, False),
    "order": (_order, False),
    "raw_data": (_raw_data, False),
    "ProgramConfirmScreen": (_program_confirm, False),
    "PasteValuesScreen": (_paste_values, False),
    "EmailExportScreen": (_email_export, False),
    "ConfirmScreen": (_confirm, True),
    "NotSavedScreen": (_not_saved, False),
    "RefusedLinesScreen": (_refused_lines, False),
    "DeclareScreen": (_declare, False),
    "ProofsScreen": (_proofs, False),
    "UnsavedTokenScreen": (_token_unsaved, False),
}


@pytest.mark.parametrize("name", list(HERE))
def test_at_80x24(snap_compare, make_app, make_adict_app, name):
    run_before, curtailments_clock = HERE[name]
    if curtailments_clock:
        from tests.tui.curtailments import NOW

        app = make_app(now=NOW, scripted=False)
    else:
        app = make_adict_app()
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def _dialogs() -> set[str]:
    """Every dialog (modal screen) of ``pupitre/tui/dialogs/`` that is shown as it is."""
    import pupitre.tui.dialogs

    names = set()
    for info in pkgutil.iter_modules(pupitre.tui.dialogs.__path__, "pupitre.tui.dialogs."):
        for name, cls in vars(importlib.import_module(info.name)).items():
            if inspect.isclass(cls) and issubclass(cls, ModalScreen) and cls.__module__ == info.name:
                names.add(name)
    return names - {"SendConfirmScreen"}  # the base of the review-then-send dialogs


def test_every_screen_and_dialog_has_an_80x24_snapshot():
    covered = set(ELSEWHERE) | set(HERE)
    assert {entry.name for entry in registry.SCREENS} | _dialogs() <= covered
    for name, path in ELSEWHERE.items():
        assert (SNAPSHOTS / path).is_file(), name
    for name in HERE:
        assert (SNAPSHOTS / "test_snapshots_80x24" / f"test_at_80x24[{name}].svg").is_file(), name
