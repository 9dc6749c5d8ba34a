"""The keyboard never betrays the operator (issue 17): keys typed in a burst land in the field
meant, and while a form, a dialog or a form control has the focus the dashboard's one-key
actions (screens 1–6, pause, refresh, quit, help, a screen's filters) do not act."""

from __future__ import annotations

from textual.widgets import Checkbox, Footer, Input, Select, Static, TextArea

from pupitre.providers.switchgrid.feeds import FEED as SWITCHGRID_FEED
from pupitre.tui import keyboard
from pupitre.tui.dialogs.confirm import ConfirmScreen
from pupitre.tui.dialogs.paste_values import PasteValuesScreen
from pupitre.tui.dialogs.rights_actions import DeclareScreen, ProofsScreen
from pupitre.tui.dialogs.rights_export import ExportDialog
from pupitre.tui.screens.access_rights import AccessRightsScreen
from pupitre.tui.screens.curtailments import CurtailmentsScreen
from pupitre.tui.screens.load_curve_forms import AskFormScreen, ContractSearchScreen, OrderFormScreen
from pupitre.tui.screens.overview import OverviewScreen
from pupitre.tui.widgets.tickbox import TickBox
from tests.tui.curtailments import NOW as CURTAILMENT_NOW
from tests.tui.curtailments import ready as curtailments_ready
from tests.tui.helpers import burst, open_rights, paste, wait_for, wait_runs
from tests.tui.load_curves import open_screen

#: What the operator types into every field of every form, in one burst per field.
STRAY = "2/p1r3q?f6"


def value(screen, selector: str) -> str:
    return screen.query_one(selector, Input).value


def test_the_form_controls_are_named_not_imported() -> None:
    """The app does not load the form controls' modules (a text area's: ~10 ms of every start);
    once loaded, each is a form control."""
    import subprocess
    import sys

    code = (
        "import sys, pupitre.tui.app, pupitre.tui.screens.flexibility, pupitre.tui.screens.overview\n"
        "print(sorted(m for m, _ in pupitre.tui.keyboard.FORM_CONTROLS if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "_text_area" not in loaded and "_selection_list" not in loaded and "_switch" not in loaded
    assert {Checkbox, Input, Select, TextArea} <= set(keyboard.form_controls())


def test_one_key_keys() -> None:
    assert all(keyboard.is_one_key(k) for k in ("1", "p", "R", "slash", "question_mark", "plus"))
    assert not any(
        keyboard.is_one_key(k) for k in ("ctrl+s", "f1", "tab", "shift+tab", "enter", "escape", "space", "up", "")
    )


async def test_a_burst_lands_in_the_fields_meant_contract_search(make_app) -> None:
    """Name, Tab, address in one burst, eleven times: both values in their own field each time
    (before, 10 of 11 put both in the name field)."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_screen(pilot, app)
        await pilot.press("f")
        await wait_for(pilot, lambda: isinstance(app.screen, ContractSearchScreen))
        form = app.screen
        for attempt in range(11):
            for field in ("#s-name", "#s-address", "#s-prm"):
                form.query_one(field, Input).value = ""
            form.query_one("#s-name", Input).focus()
            await pilot.pause()
            await burst(pilot, f"SARL Les Tanneurs {attempt}", "tab", "1 rue de la paix 75002 Paris", "tab", "0123")
            assert value(form, "#s-name") == f"SARL Les Tanneurs {attempt}"
            assert value(form, "#s-address") == "1 rue de la paix 75002 Paris"
            assert value(form, "#s-prm") == "0123"
        await burst(pilot, "shift+tab", "shift+tab", "end", " Fils")  # a field entered selects all
        assert value(form, "#s-name") == "SARL Les Tanneurs 10 Fils"


async def test_stray_keys_on_the_order_form_do_nothing_but_type(make_app) -> None:
    """Typing a date with the focus on a select or the checkbox: no screen switch, no pause,
    no refresh, no quit (before: Flexibility opened, its filter took the rest, feeds paused)."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_screen(pilot, app)
        await wait_runs(pilot, app, feed=SWITCHGRID_FEED)
        form = OrderFormScreen(["00000000000022"])
        await app.push_screen(form)
        await wait_for(pilot, lambda: app.screen is form and form.is_mounted)
        runs = app.feeds.state(SWITCHGRID_FEED).runs
        for control in (form.query_one("#o-type", Select), form.query_one("#o-retry", Checkbox)):
            control.focus()
            await pilot.pause()
            await burst(pilot, "01/11/2026 10:00", STRAY)
            assert app.screen is form and app.is_running
            assert not app.feeds.paused
        assert app.feeds.state(SWITCHGRID_FEED).runs == runs  # no refresh either
        # a burst through the whole form: each value in its field
        form.query_one("#o-prms", Input).focus()
        await pilot.pause()
        await burst(pilot, "end", ",00000000000023", "tab", "tab", "tab", "2024-12-10", "tab", "2024-12-17")
        assert value(form, "#o-prms") == "00000000000022,00000000000023"
        assert value(form, "#o-since") == "2024-12-10"
        assert value(form, "#o-until") == "2024-12-17"
        await paste(pilot, "T12:00:00Z")
        assert value(form, "#o-until") == "2024-12-17T12:00:00Z"
        # the footer offers the form's keys, not the dashboard's one-key actions
        assert {b.binding.action for b in form.active_bindings.values()} >= {"place", "close"}
        shown = {b.binding.description for b in form.active_bindings.values() if b.enabled}
        assert not shown & {"Quit", "Refresh", "Pause"}
        assert form.query(Footer)


async def test_stray_keys_on_the_contract_results_do_not_leave(make_app) -> None:
    """A PRM typed after a search moved the focus to the results: still here, nothing opened."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_screen(pilot, app)
        await pilot.press("f")
        await wait_for(pilot, lambda: isinstance(app.screen, ContractSearchScreen))
        form = app.screen
        await burst(pilot, "Dupont", "tab", "1 rue de la paix 75002 Paris", "enter")
        await wait_for(pilot, lambda: bool(form.results) and form.query_one("#s-results").has_focus)
        await burst(pilot, "30002154267891", STRAY)
        assert app.screen is form and app.is_running and not app.feeds.paused


async def test_a_burst_through_the_ask_form(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_screen(pilot, app)
        await wait_runs(pilot, app, feed=SWITCHGRID_FEED)
        contract = app.runtime.simulators["switchgrid"].contracts[0]
        from pupitre.providers.core.api import from_data
        from pupitre.providers.switchgrid.models import PROVIDER, Contract

        form = AskFormScreen([from_data(contract.result(), Contract, provider=PROVIDER)])
        await app.push_screen(form)
        await wait_for(pilot, lambda: app.screen is form and form.is_mounted)
        await burst(pilot, "Jean-Noël", "tab", "Dupont", "tab", "jn@example.fr", "tab", STRAY)
        assert (value(form, "#ask-first"), value(form, "#ask-last"), value(form, "#ask-email")) == (
            "Jean-Noël",
            "Dupont",
            "jn@example.fr",
        )
        assert app.screen is form and not app.feeds.paused


async def test_dialogs_take_bursts_and_pastes(make_adict_app) -> None:
    """The ADICT declare dialog, proofs dialog and export dialog; stray keys stay in them."""
    app = make_adict_app()
    async with app.run_test(size=(120, 40)) as pilot:
        rights = await open_rights(pilot, app)
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, DeclareScreen))
        declare = app.screen
        # PCE, then Tab over the role select, then the holder's name
        await burst(pilot, "GI123456", "tab", STRAY, "tab", "Martin")
        assert value(declare, "#f-id_pce") == "GI123456"
        assert value(declare, "#f-nom_titulaire") == "Martin"
        assert app.screen is declare and not app.feeds.paused
        await paste(pilot, " Dupré")
        assert value(declare, "#f-nom_titulaire") == "Martin Dupré"
        app.pop_screen()
        await wait_for(pilot, lambda: app.screen is rights)

        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, ExportDialog))
        dialog = app.screen
        await burst(pilot, "tab", "2026-10-01", "tab", "2026-10-31")
        assert (value(dialog, "#export-date_debut"), value(dialog, "#export-date_fin")) == ("2026-10-01", "2026-10-31")
        dialog.query_one("#export-kind", Select).focus()
        await pilot.pause()
        await burst(pilot, STRAY)
        assert app.screen is dialog and not app.feeds.paused
        app.pop_screen()
        await wait_for(pilot, lambda: app.screen is rights)

        right = rights._right_model()
        assert right is not None
        proofs = ProofsScreen(right, app.runtime.clock.now())
        await app.push_screen(proofs)
        await wait_for(pilot, lambda: app.screen is proofs and proofs.is_mounted)
        await paste(pilot, "~/proofs/consent.pdf; ~/proofs/mail.txt")
        await burst(pilot, "; ~/x.pdf")
        assert value(proofs, "#proofs-paths") == "~/proofs/consent.pdf; ~/proofs/mail.txt; ~/x.pdf"


async def test_a_form_control_on_an_ordinary_screen_keeps_its_keys(make_adict_app) -> None:
    """The access-rights filter panel (a list of choices) has the focus: its own keys act,
    the screen's (``n`` declares) and the app's (``2``) do not."""
    app = make_adict_app()
    async with app.run_test(size=(120, 40)) as pilot:
        rights = await open_rights(pilot, app)
        await pilot.press("f")
        await wait_for(pilot, lambda: app.focused is not None and keyboard.in_form_control(app))
        await burst(pilot, "n2p")
        assert app.screen is rights and isinstance(app.screen, AccessRightsScreen)
        assert not app.feeds.paused
        await pilot.press("escape")
        await wait_for(pilot, lambda: not keyboard.in_form_control(app))
        await pilot.press("1")  # outside a form, the keys act as before
        await wait_for(pilot, lambda: isinstance(app.screen, OverviewScreen))


async def test_paste_dialog_takes_a_paste_and_stray_keys(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, OverviewScreen))
        dialog = PasteValuesScreen()
        await app.push_screen(dialog)
        await wait_for(pilot, lambda: app.screen is dialog and dialog.is_mounted)
        await paste(pilot, "1000\t2000\n3000")
        await burst(pilot, "p2")
        assert dialog.query_one(TextArea).text.endswith("3000p2")
        assert app.screen is dialog and not app.feeds.paused


async def test_pause_is_shown_on_every_screen_at_80x24_and_undone_by_p(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, OverviewScreen))
        await pilot.press("p")
        assert app.feeds.paused
        for key in "123456":
            await pilot.press(key)
            await wait_for(pilot, lambda: app.screen.is_mounted and bool(app.screen.query("#header-paused")))
            badge = app.screen.query_one("#header-paused", Static)
            await wait_for(pilot, lambda badge=badge: badge.display and badge.region.width > 0)
            assert str(badge.render()) == "⏸ PAUSED — p resumes"
            assert badge.region.right <= 80 and badge.region.width == len("⏸ PAUSED — p resumes") + 2
        await pilot.press("p")
        assert not app.feeds.paused
        await wait_for(pilot, lambda: not badge.display)


async def test_quit_with_unsent_curtailment_choices_asks(make_app) -> None:
    app = make_app(now=CURTAILMENT_NOW, scripted=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await curtailments_ready(pilot, app)
        await pilot.press("n")  # "will not respect" for the highlighted contract: not sent
        await pilot.press("q")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "not sent to EDF OA" in app.screen.question
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, CurtailmentsScreen))
        assert app.is_running


async def test_esc_on_a_filled_form_asks_before_dropping_it(make_adict_app) -> None:
    """The ADICT declare form: Esc with nothing typed closes; with something typed it asks,
    and esc again goes back to the form as it was. Its checkboxes say their state in glyphs."""
    app = make_adict_app()
    async with app.run_test(size=(120, 40)) as pilot:
        rights = await open_rights(pilot, app)
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, DeclareScreen))
        await pilot.press("escape")  # nothing typed: closes at once
        await wait_for(pilot, lambda: app.screen is rights)
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, DeclareScreen))
        declare = app.screen
        box = declare.query_one(TickBox)
        assert box.BUTTON_INNER == " " and not box.value
        box.value = True
        await pilot.pause()
        assert box.BUTTON_INNER == "✓" and "✓" in str(box.render())
        box.value = False
        await burst(pilot, "GI123456")
        await burst(pilot, "escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "drop what you typed" in app.screen.question
        await burst(pilot, "escape")
        await wait_for(pilot, lambda: app.screen is declare)
        assert value(declare, "#f-id_pce") == "GI123456"
        await burst(pilot, "escape", "y")
        await wait_for(pilot, lambda: app.screen is rights)
