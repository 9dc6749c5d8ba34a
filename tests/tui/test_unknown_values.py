"""Each screen shows a value the document does not list on its one row
(``? unknown (PURPLE)``), and the rest of the feed stays readable."""

from __future__ import annotations

import datetime as dt
import re

from textual.widgets import DataTable

from pupitre.providers.grdf_adict.feeds import RIGHTS_FEED
from pupitre.providers.grtgaz.models import Flex
from pupitre.providers.switchgrid.feeds import FEED as SWITCHGRID_FEED
from tests.tui.helpers import refreshed, screen_text, wait_for, wait_runs
from tests.tui.hostile import terminal_bytes
from tests.tui.load_curves import create_ask


def plain(app) -> str:
    """The terminal bytes without their colour and cursor sequences."""
    return re.sub(r"\x1b\[[0-9;]*[mH]", "", terminal_bytes(app))


async def test_flexibility_and_overview_show_an_unknown_colour_on_its_site(make_app):
    app = make_app(scripted=False)
    app.runtime.simulators["grtgaz"].schedule("LI1003", Flex.PARTIAL, "PURPLE", dt.datetime(2026, 11, 18, 9, 52))
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_runs(pilot, app)
        state = app.feeds.state("grtgaz.indicators")
        assert state.error is None and len(state.data) == 13  # the feed stays readable
        # the tile redraws from the feed's message: wait for it, then read the terminal
        await wait_for(pilot, lambda: "? unknown (PURPLE)" in terminal_bytes(app))
        assert "all 13" not in terminal_bytes(app)
        await pilot.press("2")
        await wait_for(
            pilot,
            lambda: app.screen.query("#flex-table") and app.screen.query_one("#flex-table", DataTable).row_count == 13,
        )
        table = app.screen.query_one("#flex-table", DataTable)
        rows = ["".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]
        assert len(rows) == 13
        odd = [row for row in rows if "? unknown (PURPLE)" in row]
        assert len(odd) == 1
        assert "1 ? unknown colour" in screen_text(app)


async def test_access_rights_show_an_unknown_state_on_its_row(make_app):
    app = make_app()
    app.runtime.simulators["grdf_adict"].per_second = 50
    rights = app.runtime.simulators["grdf_adict"].rights
    first = next(iter(rights))
    rights[first].update(etat_droit_acces="Suspendue")
    pce = rights[first]["id_pce"]
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_runs(pilot, app, feed=RIGHTS_FEED)
        await pilot.press("5")
        # the count above the table names it whole; the other rights read as usual
        await wait_for(pilot, lambda: "? unknown (Suspendue) 1" in terminal_bytes(app))
        assert "✓ Active" in terminal_bytes(app)
        await pilot.press("slash", *pce)
        # its row says so (the 14-column State cell cuts the word: "? unknown (Su…")
        await wait_for(pilot, lambda: f"{pce} ? unknown (Su" in plain(app))
        await pilot.press("escape")
        await pilot.press("1")
        await wait_for(pilot, lambda: "? unknown (Suspendue)" in terminal_bytes(app))  # attention in the Overview


async def test_load_curves_show_an_unknown_ask_status_on_its_row(make_app):
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_runs(pilot, app, feed=SWITCHGRID_FEED)
        sim = app.runtime.simulators["switchgrid"]
        ask = await create_ask(app)
        sim.odd_statuses[ask.id] = "PURPLE"
        await pilot.press("6")
        await refreshed(pilot, app, SWITCHGRID_FEED)
        await wait_for(pilot, lambda: "? unknown (PURPLE)" in terminal_bytes(app))
        await pilot.press("1")
        await wait_for(pilot, lambda: "? unknown (PURPLE)" in terminal_bytes(app))  # attention in the Overview
