"""Pilot tests of the GRDF requests watch-list: add (validated, duplicates refused), import,
remove, detail (marks seen), status change notification, one failing row leaves the others."""

from __future__ import annotations

import unicodedata

import pytest
from textual.widgets import DataTable, Static

from pupitre.providers.grdf_omega.feeds import PROVIDER, REQUESTS_FEED
from pupitre.tui.dialogs.refused_lines import RefusedLinesScreen
from pupitre.tui.screens.request_detail import RequestDetailScreen
from pupitre.tui.screens.requests import RequestsScreen
from tests.tui.helpers import wait_for
from tests.tui.requests import NOW, refreshed, watch


def table_keys(app) -> list[str]:
    return [str(k.value) for k in app.screen.query_one("#req-table", DataTable).rows]


def text_of(app) -> str:
    return "\n".join(str(w.render()) for w in app.screen.query(Static))


async def test_add_validates_and_refuses_duplicates(make_app):
    app = make_app(now=NOW, scripted=False)
    async with app.run_test(size=(100, 30)) as pilot:
        sim = app.runtime.simulators[PROVIDER]
        first = sim.numbers()[0]
        await pilot.press("4")
        assert isinstance(app.screen, RequestsScreen)
        await pilot.press("a", *"wd12", "enter")  # not a request number
        assert table_keys(app) == []
        assert any("WD" in n.message for n in app._notifications)
        await pilot.press("escape", "a", *first.lower(), "enter")  # normalised to upper case
        assert table_keys(app) == [first]
        await pilot.press("a", *first, "enter")
        assert table_keys(app) == [first]
        assert any("already watched" in n.message for n in app._notifications)
        await refreshed(pilot, app, 2)
        status = str(app.screen.query_one("#req-table", DataTable).get_cell(first, "status"))
        assert status and status != "not read yet"


async def test_import_a_file_with_bad_lines(make_app, tmp_path):
    app = make_app(now=NOW, scripted=False)
    async with app.run_test(size=(100, 30)) as pilot:
        sim = app.runtime.simulators[PROVIDER]
        numbers = sim.numbers()[:3]
        path = tmp_path / "watch.csv"
        path.write_text(
            "numero_demande;commentaire\n"
            + "\n".join(f"{n};x" for n in numbers)
            + "\nnot-a-number;y\n"
            + f"{numbers[0]};dup\n"
        )
        await pilot.press("4", "i", *str(path), "enter")
        assert table_keys_of(app, RequestsScreen) == numbers
        message = " ".join(n.message for n in app._notifications)
        assert "Added 3 request(s)" in message and "1 refused" in message
        await wait_for(pilot, lambda: isinstance(app.screen, RefusedLinesScreen))
        assert "line 5" in text_of(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, RequestsScreen))
        await pilot.press("i", *str(tmp_path / "missing.csv"), "enter")
        assert "there is no file" in " ".join(n.message for n in app._notifications)
        await pilot.press("ctrl+u", *str(tmp_path), "enter")  # a folder: one sentence
        assert "is a folder" in " ".join(n.message for n in app._notifications)
        assert "Error" not in " ".join(n.message for n in app._notifications)


async def test_remove_asks_first(make_app):
    app = make_app(now=NOW, scripted=False)
    async with app.run_test(size=(100, 30)) as pilot:
        numbers = app.runtime.simulators[PROVIDER].numbers()[:2]
        watch(app, numbers)
        await pilot.press("4", "d", "escape")
        assert table_keys(app) == numbers
        await pilot.press("d", "y")
        assert table_keys(app) == numbers[1:]


async def test_status_change_is_notified_marked_and_seen_in_the_detail(make_app):
    app = make_app(now=NOW, scripted=False)
    async with app.run_test(size=(100, 30)) as pilot:
        sim = app.runtime.simulators[PROVIDER]
        numero = sim.numbers()[0]
        await refreshed(pilot, app, 1)
        watch(app, [numero])
        await pilot.press("4", "r")
        await refreshed(pilot, app, 2)
        sim.set_status(numero, "ANNUL", "Annulée")
        await pilot.press("r")
        await refreshed(pilot, app, 3)
        assert any(f"Request {numero}" in n.message and "Annulée" in n.message for n in app._notifications)
        assert str(app.screen.query_one("#req-table", DataTable).get_cell(numero, "mark")) == "●"
        await pilot.press("enter")
        assert isinstance(app.screen, RequestDetailScreen)
        text = text_of(app)
        assert "Annulée" in text and "Status history" in text and "→ Annulée" in text
        await pilot.press("escape")
        assert str(app.screen.query_one("#req-table", DataTable).get_cell(numero, "mark")) == " "


async def test_one_failing_request_keeps_its_data_and_the_others_go_on(make_app):
    app = make_app(now=NOW, scripted=False)
    async with app.run_test(size=(100, 30)) as pilot:
        sim = app.runtime.simulators[PROVIDER]
        numbers = sim.numbers()[:3]
        await refreshed(pilot, app, 1)
        watch(app, numbers)
        await pilot.press("4", "r")
        await refreshed(pilot, app, 2)
        app.runtime.faults.add(f"/fournisseur/demande/v1/demandes/{numbers[1]}/*", "status", count=1, status=500)
        await pilot.press("r")
        await refreshed(pilot, app, 3)
        tracked = app.feeds.state(REQUESTS_FEED).data
        assert tracked[numbers[1]].error and "500" in tracked[numbers[1]].error
        assert tracked[numbers[1]].demande is not None  # last good data kept
        assert all(tracked[n].error is None for n in (numbers[0], numbers[2]))
        assert "⚠" in str(app.screen.query_one("#req-table", DataTable).get_cell(numbers[1], "status"))
        assert sim.quota_refusals == 0


FAULTS = [("timeout", 500), ("malformed", 500), ("truncated", 500), ("expired_token", 500)]


@pytest.mark.parametrize("kind,status", FAULTS, ids=[k for k, _ in FAULTS])
async def test_every_fault_on_one_row_leaves_the_others_intact(make_app, kind, status):
    app = make_app(now=NOW, scripted=False)
    async with app.run_test(size=(100, 30)) as pilot:
        sim = app.runtime.simulators[PROVIDER]
        numbers = sim.numbers()[:3]
        await refreshed(pilot, app, 1)
        watch(app, numbers)
        await pilot.press("4", "r")
        await refreshed(pilot, app, 2)
        count = 2 if kind == "expired_token" else 1  # once is absorbed by the token refresh
        app.runtime.faults.add(f"/fournisseur/demande/v1/demandes/{numbers[1]}/*", kind, count=count, status=status)
        await pilot.press("r")
        await refreshed(pilot, app, 3)
        tracked = app.feeds.state(REQUESTS_FEED).data
        assert tracked[numbers[1]].error and tracked[numbers[1]].demande is not None
        assert all(tracked[n].error is None and tracked[n].demande for n in (numbers[0], numbers[2]))
        assert app.is_running and sim.quota_refusals == 0


SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


@pytest.mark.parametrize("size", SIZES)
def test_snapshot_requests(snap_compare, make_app, size):
    async def run_before(pilot) -> None:
        app = pilot.app
        numbers = app.runtime.simulators[PROVIDER].numbers()[:5]
        await refreshed(pilot, app, 1)
        watch(app, numbers)
        await pilot.press("4", "r")
        await refreshed(pilot, app, 2)
        app.runtime.simulators[PROVIDER].set_status(numbers[2], "ANNUL", "Annulée")
        app.runtime.faults.add(f"/fournisseur/demande/v1/demandes/{numbers[4]}/*", "status", count=1, status=500)
        await pilot.press("r")
        await refreshed(pilot, app, 3)
        app.clear_notifications()
        await pilot.pause()

    assert snap_compare(make_app(now=NOW, scripted=False), terminal_size=size, run_before=run_before)


async def test_when_every_read_fails_the_age_is_the_last_successful_reads_and_the_causes_are_logged(make_app, caplog):
    """Issue 16: after a refresh in which every call failed the panel said "data 0s old", and
    the failures were not in pupitre.log. Now the refresh failed: the panel keeps the age of
    the last good read and says why; each row keeps its data and says when it was last read;
    every failed call is logged with its cause."""
    app = make_app(now=NOW, scripted=False)
    async with app.run_test(size=(120, 40)) as pilot:
        sim = app.runtime.simulators[PROVIDER]
        numbers = sim.numbers()[:3]
        await refreshed(pilot, app, 1)
        watch(app, numbers)
        await pilot.press("4", "r")
        await refreshed(pilot, app, 2)
        app.runtime.clock.advance(seconds=900)
        app.runtime.faults.add("/fournisseur/demande/v1/demandes/*", "status", count=3, status=500)
        with caplog.at_level("WARNING", logger="pupitre.grdf_omega"):
            await pilot.press("r")
            await refreshed(pilot, app, 3)
        state = app.feeds.state(REQUESTS_FEED)
        assert state.error is not None and "none of the 3 request(s) could be read" in str(state.error)
        status = str(app.screen.query_one(".feed-status", Static).render())
        assert "data 15m old (fetched 10:00:00)" in status and "ERROR" in status
        table = app.screen.query_one("#req-table", DataTable)
        for numero in numbers:
            assert "⚠ HTTP 500" in str(table.get_cell(numero, "status"))
            assert str(table.get_cell(numero, "read")) == "10:00"  # the last good read, not this failure
        logged = [r.getMessage() for r in caplog.records if r.name == "pupitre.grdf_omega"]
        assert len(logged) == 3 and all("could not be read" in m and "500" in m for m in logged)
        assert {n for n in numbers if any(n in m for m in logged)} == set(numbers)


async def test_narrow_a_failed_row_says_when_it_was_last_read(make_app):
    app = make_app(now=NOW, scripted=False)
    async with app.run_test(size=(80, 24)) as pilot:
        sim = app.runtime.simulators[PROVIDER]
        numbers = sim.numbers()[:2]
        await refreshed(pilot, app, 1)
        watch(app, numbers)
        await pilot.press("4", "r")
        await refreshed(pilot, app, 2)
        app.runtime.clock.advance(seconds=3600)
        app.runtime.faults.add(f"/fournisseur/demande/v1/demandes/{numbers[0]}/*", "status", count=1, status=500)
        await pilot.press("r")
        await refreshed(pilot, app, 3)
        table = app.screen.query_one("#req-table", DataTable)
        assert str(table.get_cell(numbers[0], "status")).endswith("⚠ 10:00")  # its last good read
        assert "⚠" not in str(table.get_cell(numbers[1], "status"))
        assert "read" not in table.columns
        text = text_of(app)
        assert "last read 23/11 10:00:00 (1h00 ago)" in text


def strings(value):
    """Every string in nested dicts and lists."""
    if isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
    elif isinstance(value, str):
        yield value


def table_keys_of(app, screen_type) -> list[str]:
    screen = next(s for s in app.screen_stack if isinstance(s, screen_type))
    return [str(k.value) for k in screen.query_one("#req-table", DataTable).rows]


async def test_import_french_excel_lists_every_refused_line(make_app, tmp_path):
    """A watch-list saved by French Excel (Windows-1252, ``;``): imported with a note; all
    40 refused lines listed, none cut off."""
    app = make_app(now=NOW, scripted=False)
    async with app.run_test(size=(100, 30)) as pilot:
        number = app.runtime.simulators[PROVIDER].numbers()[0]
        path = tmp_path / "suivi.csv"
        bad = [f"réf-{i};à vérifier" for i in range(40)]
        path.write_bytes(
            ("numero_demande;commentaire\r\n" + f"{number};réalisée\r\n" + "\r\n".join(bad)).encode("cp1252")
        )
        await pilot.press("4", "i", *str(path), "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RefusedLinesScreen))
        assert table_keys_of(app, RequestsScreen) == [number]
        messages = " ".join(n.message for n in app._notifications)
        assert "Windows-1252" in messages and "40 refused" in messages
        listed = text_of(app)
        assert all(f"line {i + 3}" in listed for i in range(40)) and "…" not in listed
        assert "réf-39" in listed or "line 42" in listed


async def test_filter_finds_the_pce_and_the_client_as_typed(make_app):
    """The filter reads the stored detail's blocks: a PCE typed with spaces, a client's name
    in lower case without accents, a status label without accents."""
    app = make_app(now=NOW, scripted=False)
    async with app.run_test(size=(100, 30)) as pilot:
        numbers = app.runtime.simulators[PROVIDER].numbers()[2:4]  # the first: the document's, no blocks
        await refreshed(pilot, app, 1)
        watch(app, numbers)
        await pilot.press("4", "r")
        await refreshed(pilot, app, 2)
        screen = app.screen
        tracked = screen.tracked()
        first = tracked[numbers[0]].demande
        texts = list(strings(first.blocks()))
        pce = next(t for t in texts if t.isdigit() and len(t) == 14)
        client = next(str(v) for v in first.informations_client.values() if isinstance(v, str) and len(v) > 3)
        spaced = " ".join(pce[i : i + 4] for i in range(0, len(pce), 4))
        for typed in (spaced, client.upper()):
            await pilot.press("slash", *typed)
            await wait_for(pilot, lambda: numbers[0] in table_keys(app))
            assert all(n == numbers[0] or typed == client.upper() for n in table_keys(app))
            await pilot.press("escape")
        label = first.statut_externe_demande.libelle or ""
        plain = "".join(c for c in unicodedata.normalize("NFKD", label) if not unicodedata.combining(c)).lower()
        await pilot.press("slash", *plain)
        await wait_for(pilot, lambda: numbers[0] in table_keys(app))
