"""Pilot tests of the access-rights screen (GRDF ADICT, key 5): the streamed load, filters
(sent as the POST search online, applied to the stored copy offline), search, sort, the
proof-deadline view, a stream cut halfway, every fault kind, the PCE detail, snapshots."""

from __future__ import annotations

import datetime as dt

import pytest
from textual import events
from textual.widgets import DataTable, Input, Static

from pupitre.providers.core.faults import FAULT_KINDS
from pupitre.providers.grdf_adict import models as m
from pupitre.providers.grdf_adict.feeds import COLUMNS as FIELDS
from pupitre.providers.grdf_adict.feeds import RIGHTS_FEED, RightsTable
from pupitre.tui.screens.access_rights import COLUMNS, AccessRightsScreen, RightsView
from pupitre.tui.widgets.virtual_table import VirtualTable
from tests.tui.helpers import open_rights, wait_for, wait_runs

ROUTE = "/adict/v2/droits_acces"


def table_of(screen: AccessRightsScreen):
    return screen.view.table


def text_of(app, selector: str) -> str:
    widget = app.screen.query_one(selector, Static)
    return str(widget.render()) if widget.display else ""


def rights_calls(app, method: str) -> int:
    return sum(1 for r in app.runtime.request_log.records if r.method == method and r.path == ROUTE)


async def test_load_search_sort(make_adict_app):
    app = make_adict_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_rights(pilot, app)
        assert len(screen.rows) == 300
        assert "300 shown of 300" in text_of(app, "#rights-summary")
        assert all(f"{state} 50" in text_of(app, "#rights-counts") for state in m.STATES)
        # `/` search as you type: PCE or holder, case-insensitive
        await pilot.press("slash", *"gi00001")
        col = table_of(screen).col
        assert screen.rows and all("GI00001" in col["pce"][i] for i in screen.rows)
        assert len(screen.rows) == 5  # GI000011 … GI000019, odd numbers
        await pilot.press("escape")
        assert len(screen.rows) == 300
        await pilot.press("slash", *"platanes", "enter")
        assert screen.rows and all(col["holder"][i] == "SCI LES PLATANES" for i in screen.rows)
        await pilot.press("c")
        # sort by holder through the column picker; picking it again reverses
        holder = next(i for i, c in enumerate(COLUMNS) if c.key == "holder")
        await pilot.press("s", *["down"] * holder, "enter")
        names = [col["holder"][i] for i in screen.rows]
        assert names == sorted(names) and "sorted by Holder ↑" in text_of(app, "#rights-summary")
        await pilot.press("s", "enter")
        names = [col["holder"][i] for i in screen.rows]
        assert names == sorted(names, reverse=True)


async def test_the_rows_are_folded_for_searching_in_the_background_once_loaded(make_adict_app):
    app = make_adict_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_rights(pilot, app)
        # no search typed: the worker thread folds the complete list, so no keystroke pays it
        await wait_for(pilot, lambda: screen.view.search_ready)
        whole = RightsView()
        whole.set_table(table_of(screen))
        assert whole.fold_search() and screen.view._hay == whole._hay  # chunked = in one go
        await pilot.press("slash", *"gi00001")
        assert len(screen.rows) == 5


def test_a_chunked_fold_ends_where_the_table_does_and_restarts_on_a_new_table():
    table = RightsTable()
    for i in range(7):
        table.add([f"R{i}" if c == "id" else f"GI{i:06d}" if c == "pce" else "Élise Dupré" for c in FIELDS])
    view = RightsView()
    view.set_table(table)
    assert [view.fold_search(3) for _ in range(3)] == [False, False, True] and view.search_ready
    assert view._hay[6] == "gi000006\x00elisedupre"
    view.set_table(RightsTable())
    assert view._hay == [] and view.search_ready and view.fold_search(3)


def test_the_ended_count_follows_rows_arriving_and_the_day():
    """Active rights past their end date, counted as rows arrive (each distinct end date
    judged once) and counted again when the day changes."""

    def right(i: int, state: str, end: str) -> list[str]:
        values = {"id": f"R{i}", "pce": f"GI{i:06d}", "state": state, "end": end}
        return [values.get(c, "") for c in FIELDS]

    table = RightsTable()
    view = RightsView()
    view.set_today(dt.date(2026, 11, 18))
    view.set_table(table)
    for i, (state, end) in enumerate([("Active", "2026-11-17"), ("Active", "2026-11-18"), ("Révoquée", "2026-01-01")]):
        table.add(right(i, state, end))
    view._sync()
    assert view.ended == 1
    for i, (state, end) in enumerate([("Active", "2026-11-10"), ("Active", ""), ("Active", "2026-11-17")], 3):
        table.add(right(i, state, end))  # a new end date, a blank one, one already judged
    view._sync()
    assert view.ended == 3
    view.set_today(dt.date(2026, 11, 19))  # the 18th has ended too
    view._sync()
    assert view.ended == 4


def burst(app, *keys: str) -> None:
    """Keys arriving in one burst (a fast typist, a paste over SSH): all queued before the
    app handles the first."""
    for key in keys:
        event = events.Key(key, key if len(key) == 1 else None)
        event.set_sender(app)
        app._driver.send_message(event)


async def test_keys_typed_in_a_burst_after_slash_f_s_reach_the_panel(make_adict_app):
    """The search prompt and the pickers take focus at once: keys right behind `/`, `f` or
    `s` go to them, never to the table or the app (`1` would switch screens, `x` revoke)."""
    app = make_adict_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_rights(pilot, app)
        search = screen.query_one("#rights-search", Input)
        burst(app, "slash", *"gi00001x")
        await wait_for(pilot, lambda: search.value == "gi00001x")  # every key reached the prompt
        assert app.screen is screen  # no revocation dialog
        await pilot.press("escape")
        burst(app, "s", "down", "enter")
        await wait_for(pilot, lambda: screen.view.sort == COLUMNS[1].key)  # the picker's 2nd column, not the table's
        burst(app, "f", "space", "a")
        await wait_for(pilot, lambda: screen.view.filters["state"] == {m.STATES[0]})


async def test_filters_are_sent_as_the_search_online(make_adict_app):
    app = make_adict_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_rights(pilot, app)
        posts = rights_calls(app, "POST")
        await pilot.press("f", "space", "a")  # the first choice: State · Active
        await wait_for(pilot, lambda: screen.search_load is not None and screen.search_load.done)
        await wait_for(pilot, lambda: len(screen.rows) == 50)  # the screen's poll took the rows in
        assert rights_calls(app, "POST") == posts + 1
        assert screen.search_load.kind == "search" and screen.search_load.filters == {"state": [m.ACTIVE]}
        col = table_of(screen).col
        assert len(screen.rows) == 50 and {col["state"][i] for i in screen.rows} == {m.ACTIVE}
        assert "Search on GRDF" in text_of(app, "#rights-summary")
        await pilot.press("c")
        await wait_for(pilot, lambda: len(screen.rows) == 300)
        assert screen.search_load is None


async def test_filters_apply_to_the_stored_copy_offline(make_adict_app):
    app = make_adict_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_rights(pilot, app)
        app.runtime.faults.add(ROUTE, "timeout", method="POST")
        await pilot.press("f", "space", "a")
        await wait_for(pilot, lambda: screen.search_load is not None and screen.search_load.done)
        await wait_for(pilot, lambda: len(screen.rows) == 50)  # the screen's poll took the rows in
        assert screen.search_load.kind == "local"
        assert "offline" in text_of(app, "#rights-error")
        col = table_of(screen).col
        assert len(screen.rows) == 50 and {col["state"][i] for i in screen.rows} == {m.ACTIVE}


async def test_stream_cut_halfway_keeps_the_rows_and_shows_the_error(make_runtime, make_adict_app):
    runtime = make_runtime()
    runtime.faults.add(ROUTE, "truncated")
    app = make_adict_app(runtime)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_rights(pilot, app)
        await wait_for(pilot, lambda: "received before the error" in text_of(app, "#rights-error"))
        assert 100 < len(screen.rows) < 300, len(screen.rows)
        error = text_of(app, "#rights-error")
        assert "received before the error" in error and f"{len(screen.rows)} right(s)" in error
        assert app.feeds.state(RIGHTS_FEED).error is not None


def counts_of(app) -> str:
    return text_of(app, "#rights-counts")


@pytest.mark.parametrize("kind", ["truncated", "status"])
async def test_a_failed_or_cut_refresh_keeps_the_last_complete_list_on_screen(make_adict_app, kind):
    """Issue 16: when a refresh failed the table emptied, or showed half the list with wrong
    counts after a cut stream, while the line said the last complete list "is kept"."""
    app = make_adict_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_rights(pilot, app)
        complete, counts = len(screen.rows), counts_of(app)
        assert complete == 300
        app.runtime.clock.advance(seconds=3 * 3600)
        app.runtime.faults.add(ROUTE, kind, count=1, status=503)
        await pilot.press("r")
        await wait_runs(pilot, app, 2, feed=RIGHTS_FEED)
        await wait_for(pilot, lambda: "showing the last complete list" in text_of(app, "#rights-error"))
        assert len(screen.rows) == complete and len(screen.source()) == complete
        assert counts_of(app) == counts  # the counts are the whole list's
        error = text_of(app, "#rights-error")
        assert "showing the last complete list (300 rights, fetched 18/11 10:53, 3h00 old)" in error
        assert "PARTIAL" not in text_of(app, "#rights-summary")


async def test_after_a_restart_with_grdf_down_the_stored_list_is_shown_with_its_age(make_runtime, make_adict_app):
    first = make_adict_app(make_runtime())
    async with first.run_test(size=(120, 40)) as pilot:
        await open_rights(pilot, first)
    runtime = make_runtime()  # the same data dir: the store of the first run
    runtime.clock.advance(seconds=2 * 3600)
    runtime.faults.add(ROUTE, "status", count=5, status=503)
    app = make_adict_app(runtime)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_runs(pilot, app, feed=RIGHTS_FEED)
        await pilot.press("5")
        screen = app.screen
        assert isinstance(screen, AccessRightsScreen)
        await wait_for(pilot, lambda: len(screen.rows) == 300)
        assert app.feeds.state(RIGHTS_FEED).error is not None
        await wait_for(pilot, lambda: "showing the last complete list" in text_of(app, "#rights-error"))
        assert "2h00 old" in text_of(app, "#rights-error")
        assert "STALE: from the store" in str(screen.query_one(".feed-status", Static).render())


async def test_a_partial_list_without_a_stored_one_is_shown_as_partial(make_runtime, make_adict_app):
    runtime = make_runtime()
    runtime.faults.add(ROUTE, "truncated")
    app = make_adict_app(runtime)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_rights(pilot, app)
        await wait_for(pilot, lambda: "received before the error" in text_of(app, "#rights-error"))
        assert 0 < len(screen.rows) < 300
        assert "received — PARTIAL, not the whole list" in text_of(app, "#rights-summary")
        assert counts_of(app).startswith("partial: ")
        assert "no complete list yet" in text_of(app, "#rights-error")


@pytest.mark.parametrize("kind", [k for k in FAULT_KINDS if k != "hostile"])  # hostile: a switch, no error
async def test_every_fault_leaves_the_app_running_with_the_error_visible(make_runtime, make_adict_app, kind):
    runtime = make_runtime()
    runtime.faults.add(ROUTE, kind, status=503)
    app = make_adict_app(runtime)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_rights(pilot, app)
        state = app.feeds.state(RIGHTS_FEED)
        if kind == "expired_token":  # a new token is fetched and the call made again
            assert state.error is None and len(screen.rows) == 300
            return
        assert state.error is not None
        shown = text_of(app, "#rights-error") + str(app.screen.query_one(".feed-status", Static).render())
        assert "ERROR" in shown or "⚠" in shown
        await pilot.press("r")
        await wait_runs(pilot, app, 2, feed=RIGHTS_FEED)
        await wait_for(pilot, lambda: len(screen.rows) == 300)  # the screen's poll took the rows in
        assert app.feeds.state(RIGHTS_FEED).error is None
        assert not text_of(app, "#rights-error")


async def test_proof_deadlines_view(make_adict_app):
    app = make_adict_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_rights(pilot, app)
        await pilot.press("d")
        col = table_of(screen).col
        deadlines = [col["deadline"][i] for i in screen.rows]
        assert screen.rows and deadlines == sorted(deadlines)
        assert {col["proof"][i] for i in screen.rows} == {m.PROOF_PENDING}
        cells = screen.cells.cells(screen.rows[0], COLUMNS)
        due = dict(zip((c.key for c in COLUMNS), cells, strict=True))["deadline"][0]
        assert due.startswith(("⚑", "‼"))  # the nearest deadline is within 5 working days here


async def test_enter_opens_the_pce_detail(make_adict_app):
    app = make_adict_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_rights(pilot, app)
        pce = table_of(screen).col["pce"][screen.query_one(VirtualTable).current_row]
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: "reading(s)" in text_of(app, "#pce-readings-status") or "⚠" in text_of(app, "#pce-readings-status"),
            timeout=15,
        )
        assert "reading(s)" in text_of(app, "#pce-readings-status"), text_of(app, "#pce-readings-status")
        assert pce in text_of(app, "#pce-right")
        assert app.screen.query_one("#pce-readings", DataTable).row_count > 0
        assert "kWh" in text_of(app, "#pce-chart")
        await wait_for(pilot, lambda: "Delivery tariff" in text_of(app, "#pce-contract"), timeout=15)

        def readings_calls() -> int:
            return sum(1 for r in app.runtime.request_log.records if "donnees_consos" in r.path)

        gets = readings_calls()
        await pilot.press("slash", *"ctrl+a".split(), "ctrl+k", *"2015", "enter")  # beyond 5 years
        assert "5 years" in text_of(app, "#pce-readings-status")
        assert "Nothing was asked" in text_of(app, "#pce-readings-status")
        await pilot.pause(0.2)
        assert readings_calls() == gets
        await pilot.press("escape")
        assert isinstance(app.screen, AccessRightsScreen)


async def test_switching_to_a_kind_grdf_refuses_never_leaves_the_other_kinds_readings(make_adict_app):
    """Issue 16: `t` to a kind GRDF refuses left the previous kind's readings under the new heading."""
    app = make_adict_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_rights(pilot, app)
        await pilot.press("enter")
        status = "#pce-readings-status"
        await wait_for(pilot, lambda: "reading(s)" in text_of(app, status), timeout=15)
        readings = app.screen.query_one("#pce-readings", DataTable)
        assert readings.row_count > 0 and "of published consumption" in text_of(app, status)
        app.runtime.faults.add("/adict/v2/*donnees_consos_informatives*", "status", count=1, status=403)
        await pilot.press("t")
        assert "informative consumption" in text_of(app, "#pce-kind")
        await wait_for(pilot, lambda: "⚠" in text_of(app, status), timeout=15)
        assert "no informative consumption" in text_of(app, status)
        assert readings.row_count == 0 and text_of(app, "#pce-chart") == ""


async def test_a_right_past_its_end_date_is_shown_as_ended(make_adict_app):
    """Issue 16: rights whose end date is past still showed `✓ Active` (the sandbox's park has
    some; one more is made to end yesterday)."""
    app = make_adict_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_rights(pilot, app)
        col = table_of(screen).col
        row = next(i for i, state in enumerate(col["state"]) if state == m.ACTIVE and col["end"][i] > "2026-11-18")
        ident = col["id"][row]
        sim = app.runtime.simulators["grdf_adict"]
        right = sim.rights[ident]
        right["date_fin_droit_acces"] = "2026-11-17"  # the day before (NOW is 18/11/2026)
        sim.rights[ident] = right
        await pilot.press("r")
        await wait_runs(pilot, app, 2, feed=RIGHTS_FEED)
        await wait_for(pilot, lambda: ident in table_of(screen).col["id"] and table_of(screen) is screen.source())
        col = table_of(screen).col
        active = [i for i, state in enumerate(col["state"]) if state == m.ACTIVE]
        ended = [i for i in active if col["end"][i] and col["end"][i] < "2026-11-18"]
        assert col["id"].index(ident) in ended and len(ended) < len(active)
        states = {i: screen.cells.cells(i, COLUMNS)[1][0] for i in active}
        assert all(states[i] == ("⊣ Ended" if i in ended else "✓ Active") for i in active)
        await wait_for(pilot, lambda: f"of which ⊣ ended {len(ended)})" in counts_of(app))


@pytest.mark.parametrize("size", [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")])
def test_snapshot_access_rights(snap_compare, make_adict_app, size):
    async def run_before(pilot) -> None:
        await open_rights(pilot, pilot.app)
        await pilot.press("down", "down")
        pilot.app.clear_notifications()
        await pilot.pause(0.15)

    assert snap_compare(make_adict_app(), terminal_size=size, run_before=run_before)
