"""Issue 16: an announced GRTgaz change is on screen at its application time even when the
feed is paused or stale, marked as applied on the announcement alone (§3.2.2.1), and it
counts in the severity sort, the ``red`` filter and the Overview.

The day (conftest): 18/11 10:53, DK6 (LI1001) Q→Q+ red announced for 11:15.
"""

from __future__ import annotations

import datetime as dt

from textual.widgets import DataTable

from pupitre.providers.core.clock import PARIS
from pupitre.tui.screens.flexibility import FlexibilityScreen
from pupitre.tui.screens.overview import OverviewScreen
from tests.tui.helpers import screen_text, show, wait_for, wait_runs

DK6 = "LI1001"


async def test_announced_red_applies_at_11_15_while_paused(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_runs(pilot, app)
        await pilot.press("p")  # paused: nothing is read any more
        assert app.feeds.paused
        requests = app.runtime.simulators["grtgaz"].requests
        text = screen_text(app)
        assert "Next: ✗ RED Q→Q+ DK6 at 11:15" in text
        assert "! DK6: Q→Q+ turns RED at 11:15" in text  # announced: already a finding, as in `check`

        app.runtime.clock.set(dt.datetime(2026, 11, 18, 11, 16, tzinfo=PARIS))
        await wait_for(pilot, lambda: "! DK6 (Nord): RED on Q→Q+*" in screen_text(app))
        text = screen_text(app)
        assert "* applied as announced, not re-read from GRTgaz since" in text
        assert "Worst now: ✗ RED" in text and "3 red · 0 grey of 13 sites" in text
        assert "no change announced" in text  # nothing else ahead

        screen = await show(pilot, "2", FlexibilityScreen)
        table = screen.query_one("#flex-table", DataTable)
        await wait_for(pilot, lambda: str(table.get_cell(DK6, "Q_TO_QPLUS")) == "✗ RED*")
        assert "* announced, not re-read" in screen_text(app)
        await pilot.press("slash", *"red", "enter")
        assert DK6 in [str(key.value) for key in table.rows]
        assert app.runtime.simulators["grtgaz"].requests == requests  # shown without a read


async def test_announced_red_applies_on_a_stale_screen_at_its_time(make_app):
    """The screen stays open on a stored copy (no read since): the row changes at 11:15."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_runs(pilot, app)
        await pilot.press("p")
        screen = await show(pilot, "2", FlexibilityScreen)
        table = screen.query_one("#flex-table", DataTable)
        assert str(table.get_cell(DK6, "Q_TO_QPLUS")) == "✓ green"
        await pilot.press("s")  # severity: the announced RED ranks with the reds already
        assert [str(key.value) for key in table.rows][:3] == [DK6, "LI1009", "LI1006"]
        app.runtime.clock.set(dt.datetime(2026, 11, 18, 11, 15, tzinfo=PARIS))
        await wait_for(pilot, lambda: str(table.get_cell(DK6, "Q_TO_QPLUS")) == "✗ RED*")
        assert str(table.get_cell(DK6, "next")) == "—"
        await show(pilot, "1", OverviewScreen)


async def test_overview_warns_a_month_before_the_certificate_expires(make_app, dirs):
    """§12.2: the new certificate is due a month before the old one ends: the GRTgaz tile says
    so from ``certificate_warn_days`` (30) before, as ``pupitre check`` does."""
    from pupitre.providers.core.certs import generate_self_signed

    key, certificate = generate_self_signed("pupitre sandbox grtgaz", days=40)
    (dirs / "data" / "sandbox").mkdir(parents=True, exist_ok=True, mode=0o700)
    (dirs / "data" / "sandbox" / "grtgaz.key.pem").write_bytes(key)
    (dirs / "data" / "sandbox" / "grtgaz.cert.pem").write_bytes(certificate)
    app = make_app(now=(dt.datetime.now(PARIS) + dt.timedelta(days=20)).replace(tzinfo=None), scripted=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_runs(pilot, app)
        await wait_for(pilot, lambda: "client certificate expires on" in screen_text(app))
        assert "§12.2 asks for the new one a month before" in screen_text(app)
