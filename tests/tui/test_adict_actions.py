"""Pilot tests of the GRDF ADICT actions: declare (field-level errors, then the state GRDF
returns), revoke (the confirmation names the PCE and the holder), send proofs (too many
files, too large, wrong type, wrong status: a clear refusal and nothing sent)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Checkbox, Input, Static

from pupitre.providers.grdf_adict import models as m
from pupitre.providers.grdf_adict.feeds import PROVIDER
from pupitre.tui.dialogs.confirm import ConfirmScreen
from pupitre.tui.dialogs.rights_actions import DeclareScreen, ProofsScreen
from pupitre.tui.screens.access_rights import AccessRightsScreen
from pupitre.tui.widgets.virtual_table import VirtualTable
from tests.tui.helpers import open_rights, wait_for


def outbox(app):
    return app.runtime.store.outbox(provider=PROVIDER)


def notes(app) -> str:
    return " ".join(str(n.message) for n in app._notifications)


async def select(pilot, screen: AccessRightsScreen, **wanted: str) -> dict[str, str]:
    """Put the cursor on the first right whose columns have the ``wanted`` values."""
    col = screen.view.table.col
    position = next(k for k, i in enumerate(screen.rows) if all(col[c][i] == v for c, v in wanted.items()))
    screen.query_one(VirtualTable).cursor = position
    await pilot.pause()
    return screen.current()  # type: ignore[return-value]  # a right is selected just above


async def delivered(pilot, app) -> str:
    await wait_for(
        pilot,
        lambda: (
            outbox(app) and outbox(app)[-1].status != "pending" and app.outbox.last.get(outbox(app)[-1].id) is not None
        ),
        timeout=10,
    )
    item = outbox(app)[-1]
    assert item.status == "delivered", item.last_error
    return app.outbox.last[item.id].message


def set_field(screen: DeclareScreen, name: str, value: str) -> None:
    screen.query_one(f"#f-{name}", Input).value = value


async def test_declare_shows_field_errors_then_the_returned_state(make_adict_app):
    app = make_adict_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_rights(pilot, app)
        await pilot.press("n")
        form = app.screen
        assert isinstance(form, DeclareScreen)
        set_field(form, "id_pce", "GI12345")  # 5 digits
        set_field(form, "courriel_titulaire", "not-an-email")
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, DeclareScreen)  # refused, still open
        errors = {w.id: str(w.render()) for w in form.query(".field-error") if w.display}
        assert "e-id_pce" in errors and "e-courriel_titulaire" in errors
        assert any(k in errors for k in ("e-nom_titulaire", "e-raison_sociale"))
        assert "Not sent" in str(form.query_one("#declare-summary", Static).render())
        assert outbox(app) == []
        for name, value in (
            ("id_pce", "GI999001"),
            ("raison_sociale", "BABATECH"),
            ("code_postal", "77900"),
            ("courriel_titulaire", "r@example.com"),
        ):
            set_field(form, name, value)
        form.query_one("#f-perim_donnees_techniques", Checkbox).value = True
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, ConfirmScreen)
        assert "GI999001" in app.screen.question and "BABATECH" in app.screen.question
        await pilot.press("y")
        message = await delivered(pilot, app)
        assert "A valider" in message
        sim = app.runtime.simulators["grdf_adict"]
        assert sim.right_of_pce("GI999001")["etat_droit_acces"] == m.TO_VALIDATE
        assert "A valider" in str(app.screen.query_one("#rights-actions", Static).render())
        audit = [row[3] for row in app.runtime.store.audit_log(PROVIDER)]
        assert "queued" in audit and "delivered" in audit


async def test_revoke_names_pce_and_holder(make_adict_app):
    app = make_adict_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_rights(pilot, app)
        right = await select(pilot, screen, state=m.ACTIVE, role="AUTORISE_CONTRAT_FOURNITURE")
        await pilot.press("x")
        assert isinstance(app.screen, ConfirmScreen)
        assert right["pce"] in app.screen.question and right["holder"] in app.screen.question
        await pilot.press("y")
        await delivered(pilot, app)
        assert app.runtime.simulators["grdf_adict"].rights[right["id"]]["etat_droit_acces"] == m.REVOKED


async def test_revoke_refused_for_a_lost_right(make_adict_app):
    app = make_adict_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_rights(pilot, app)
        await select(pilot, screen, state=m.REFUSED)
        await pilot.press("x")
        assert isinstance(app.screen, AccessRightsScreen)
        assert "Cannot revoke" in notes(app) and outbox(app) == []


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for name, size in (
        ("a.pdf", 10),
        ("b.txt", 10),
        ("c.csv", 10),
        ("d.zip", 10),
        ("big.pdf", 4_200_000),
        ("tool.exe", 10),
    ):
        path = tmp_path / name
        path.write_bytes(b"x" * size)
        out[name] = path
    return out


@pytest.mark.parametrize(
    "chosen,reason",
    [
        (["a.pdf", "b.txt", "c.csv", "d.zip"], "At most 3"),
        (["big.pdf"], "4"),
        (["tool.exe"], "type"),
    ],
)
async def test_proofs_refused_nothing_sent(make_adict_app, files, chosen, reason):
    app = make_adict_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_rights(pilot, app)
        right = await select(pilot, screen, proof=m.PROOF_PENDING)
        await pilot.press("u")
        dialog = app.screen
        assert isinstance(dialog, ProofsScreen)
        dialog.query_one(Input).value = "; ".join(str(files[n]) for n in chosen)
        await pilot.press("enter")
        assert isinstance(app.screen, ProofsScreen)  # still open: refused
        text = str(dialog.query_one("#proofs-errors", Static).render())
        assert "nothing sent" in text and reason in text
        assert outbox(app) == [] and right["id"] not in app.runtime.simulators["grdf_adict"].proofs


async def test_proofs_refused_for_the_wrong_status(make_adict_app):
    app = make_adict_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_rights(pilot, app)
        await select(pilot, screen, proof=m.PROOF_OK)
        await pilot.press("u")
        assert isinstance(app.screen, AccessRightsScreen)
        assert "Preuve en attente" in notes(app) and outbox(app) == []


async def test_proofs_sent(make_adict_app, files):
    app = make_adict_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_rights(pilot, app)
        right = await select(pilot, screen, proof=m.PROOF_PENDING)
        await pilot.press("u")
        app.screen.query_one(Input).value = f"{files['a.pdf']}; {files['b.txt']}"
        await pilot.press("enter")
        assert isinstance(app.screen, ConfirmScreen) and right["pce"] in app.screen.question
        await pilot.press("y")
        await delivered(pilot, app)
        sim = app.runtime.simulators["grdf_adict"]
        assert sim.rights[right["id"]]["statut_controle_preuve"] == m.PROOF_TO_CHECK
