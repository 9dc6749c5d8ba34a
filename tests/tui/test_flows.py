"""Pilot tests: navigation, filter, sort, detail, pause/refresh, notifications, palette, keymap."""

from __future__ import annotations

import datetime as dt

from textual.coordinate import Coordinate
from textual.widgets import DataTable, Static

from pupitre.providers.core.feeds import load_snapshot
from pupitre.providers.grtgaz.feeds import STATES, state_key
from pupitre.providers.grtgaz.models import Flex
from pupitre.settings import Settings
from pupitre.tui.screens.flexibility import FlexibilityScreen
from pupitre.tui.screens.overview import MAX_ATTENTION_LINES, OverviewScreen
from pupitre.tui.screens.site_detail import SiteDetailScreen
from tests.tui.helpers import FEED, NOW, refreshed, screen_text, show, wait_for, wait_runs


def table_sites(app) -> list[str]:
    table = app.screen.query_one("#flex-table", DataTable)
    return [str(key.value) for key in table.rows]


async def test_navigation_with_number_keys_and_tile(make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_runs(pilot, app)
        assert isinstance(app.screen, OverviewScreen)
        await show(pilot, "2", FlexibilityScreen)
        assert len(table_sites(app)) == 13
        await show(pilot, "1", OverviewScreen)
        app.screen.query_one("#line-grtgaz").focus()
        await show(pilot, "enter", FlexibilityScreen)  # the focused GRTgaz line opens its screen


async def test_overview_tile_summarises_worst_state_and_next_change(make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_runs(pilot, app)
        await pilot.pause()
        text = screen_text(app)
        assert "Worst now: ✗ RED" in text
        assert "2 red · 0 grey of 13 sites" in text
        assert "Next: ✗ RED Q→Q+ DK6 at 11:15 (in 22m)" in text
        tile = str(app.screen.query_one("#tile-grtgaz .tile-body", Static).render())
        # every finding of `pupitre check` (the same function), with its level's mark
        connection = app.runtime.connections["grtgaz"]
        findings = connection.findings({"grtgaz.indicators": app.feeds.state("grtgaz.indicators").data}, NOW)
        assert [f.level for f in findings] == ["attention"] * len(findings) and len(findings) >= 2
        for finding in findings[:MAX_ATTENTION_LINES]:
            assert f"! {finding.message}" in tile
        assert "! Montoir (Bretagne): RED on partial" in tile  # a RED site: ATTENTION in `check`, marked here


async def test_the_overview_never_reads_the_store_on_a_tick(make_app):
    """The one-second tick repaints the Overview from memory: findings and store reads are
    done when a feed, the outbox or a follow-up reports."""
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_runs(pilot, app)
        for name in app.feeds.states:
            await wait_runs(pilot, app, feed=name)
        app.feeds.set_paused(True)
        await wait_for(pilot, lambda: not any(s.running for s in app.feeds.states.values()) and not app.outbox.running)
        await pilot.pause()
        store, reads = app.runtime.store, []
        for method in ("_query", "_exec"):
            original = getattr(store, method)

            def counted(*args, original=original):
                reads.append(args[0])
                return original(*args)

            setattr(store, method, counted)
        tile = app.screen.query_one("#tile-grtgaz .tile-body", Static)
        before = str(tile.render())
        app.runtime.clock.advance(seconds=61)
        for _ in range(3):
            app._tick()
            await pilot.pause()
        assert str(tile.render()) != before  # the countdown moved
        assert reads == []
        app.feeds.updated.publish("grdf_omega.requests")  # a report: the store may be read
        await pilot.pause()
        assert reads


async def test_filter_and_clear(make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_runs(pilot, app)
        await pilot.press("2", "slash", "n", "o", "r", "d")
        assert sorted(table_sites(app)) == ["LI1001", "LI1002", "LI1013"]  # DK6, Pont sur Sambre, Bouchain
        await pilot.press("escape")
        assert len(table_sites(app)) == 13
        await pilot.press("slash", *"red")
        # RED now (Montoir, Martigues) and announced (DK6's Q→Q+ at 11:15): issue 16
        assert sorted(table_sites(app)) == ["LI1001", "LI1006", "LI1009"]


async def test_sort_cycles_mesh_severity_site(make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_runs(pilot, app)
        await pilot.press("2")
        screen = app.screen
        assert screen.sort == "mesh"
        await pilot.press("s")
        assert screen.sort == "severity"
        # the RED ones first, the announced RED of DK6 with them (issue 16): DK6, Martigues, Montoir
        assert table_sites(app)[:3] == ["LI1001", "LI1009", "LI1006"]
        await pilot.press("s")
        assert screen.sort == "site"
        assert table_sites(app)[0] == "LI1007"  # Bayet, alphabetically first


async def test_site_detail_shows_indicators_and_history(make_runtime, make_app):
    """Issue 16: "RED since" is the real start kept by the store (here written by another
    process before this one started), the current value never says "from", and the gas day
    is drawn hour by hour per indicator."""
    runtime = make_runtime()
    paris = dt.timezone(dt.timedelta(hours=1))  # 18/11: CET
    runtime.store.record_states(
        STATES,
        [
            (state_key("LI1006", Flex.PARTIAL), dt.datetime(2026, 11, 18, 5, 52, tzinfo=paris), "GREEN", ""),
            (state_key("LI1006", Flex.Q_TO_QMINUS), dt.datetime(2026, 11, 18, 5, 52, tzinfo=paris), "GREEN", ""),
        ],
    )
    runtime.store.record_states(
        STATES, [(state_key("LI1006", Flex.PARTIAL), dt.datetime(2026, 11, 18, 8, 15, tzinfo=paris), "RED", "")]
    )
    app = make_app(runtime)
    async with app.run_test(size=(100, 40)) as pilot:
        await wait_runs(pilot, app)
        await pilot.press("2", "slash", *"montoir", "enter", "enter")
        assert isinstance(app.screen, SiteDetailScreen)
        assert "Montoir (LI1006)" in screen_text(app)
        indicators = app.screen.query_one("#detail-indicators", DataTable)
        assert str(indicators.get_cell("PARTIAL", "Now")) == "✗ RED"
        assert str(indicators.get_cell("PARTIAL", "Since")) == "since 18/11 08:15"  # the real start
        assert str(indicators.get_cell("Q_TO_QMINUS", "Since")) == "since at least 18/11 05:52"  # first on record
        assert str(indicators.get_cell("Q_TO_QPLUS", "Since")).startswith("since at least 18/11 ")
        assert not any(str(indicators.get_cell(f.name, "Since")).startswith("from") for f in Flex)
        strips = str(app.screen.query_one("#detail-strips", Static).render())
        # 06h … 10h so far: partial green 06-07, red from 08:15 (08h's middle on)
        assert "part. ✓✓✗✗✗·" in strips
        history = app.screen.query_one("#detail-history", DataTable)
        assert history.row_count == 4  # partial ×2, Q→Q- and the first Q→Q+ read by this process
        rows = [[str(history.get_cell_at(Coordinate(r, c))) for c in range(4)] for r in range(history.row_count)]
        assert ["18/11 08:15", "partial", "green", "red"] in rows
        await pilot.press("escape")
        assert isinstance(app.screen, FlexibilityScreen)


async def test_refresh_key_fetches_and_pause_stops_timers(make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_runs(pilot, app)
        sim = app.runtime.simulators["grtgaz"]
        before = sim.requests
        await pilot.press("r")
        await wait_runs(pilot, app, 2)
        assert sim.requests == before + 1
        await pilot.press("p")
        assert app.feeds.paused and app.feeds._timers == {}
        assert app.feeds.refresh(FEED) is False  # a timer tick while paused does nothing
        assert "PAUSED" in screen_text(app)
        await pilot.press("r")  # an explicit refresh still works while paused
        await wait_runs(pilot, app, 3)
        assert sim.requests == before + 2
        await pilot.press("p")
        assert not app.feeds.paused and FEED in app.feeds._timers


async def test_a_tick_while_running_is_dropped(make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_runs(pilot, app)
        assert app.feeds.refresh(FEED, forced=True) is True
        assert app.feeds.refresh(FEED, forced=True) is False  # never overlaps itself
        await wait_runs(pilot, app, 2)


async def test_first_paint_comes_from_the_store_marked_stale(make_runtime, make_app):
    first = make_runtime()
    first_app = make_app(first)
    async with first_app.run_test() as pilot:
        await wait_runs(pilot, first_app)

    runtime = make_runtime()  # a restart: a new runtime on the same data dir
    assert load_snapshot(runtime.store, runtime.feed(FEED)) is not None
    runtime.faults.add("/sfm/v1/sites/*", "status", count=5, status=503)
    app = make_app(runtime)
    async with app.run_test(size=(100, 30)) as pilot:
        await show(pilot, "2", FlexibilityScreen)
        assert app.feeds.state(FEED).from_store  # every fetch fails: what is shown came from the store
        assert len(table_sites(app)) == 13
        assert "STALE: from the store" in screen_text(app)
        await wait_runs(pilot, app)
        assert len(table_sites(app)) == 13
        text = screen_text(app)
        assert "STALE" in text and "ERROR" in text and "HTTP 503" in text


async def test_notification_when_a_site_turns_red(make_runtime, make_app):
    runtime = make_runtime()
    app = make_app(runtime)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_runs(pilot, app)
        runtime.simulators["grtgaz"].schedule("LI1004", Flex.Q_TO_QMINUS, "GREY", dt.datetime(2026, 11, 18, 9, 52))
        await refreshed(pilot, app)
        messages = [n.message for n in app._notifications]
        assert any("Saint Avold: Q→Q- is now GREY" in m for m in messages)
        history = runtime.store.history(FEED, "LI1004")
        assert [(h.old, h.new, h.detail) for h in history] == [("GREEN", "GREY", "Q→Q-")]


async def test_command_palette_lists_every_action(make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("2")
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for expected in (
            "Go to Overview (1)",
            "Go to Flexibility (2)",
            "Refresh now (r)",
            "Pause / resume feeds (p)",
            "Filter (/)",
            "Sort (s)",
            "Detail (⏎)",
            "Keys",
            "Quit",
        ):
            assert expected in titles


async def test_the_keys_help_toggles(make_app):
    from pupitre.tui.dialogs.keys import KeysScreen

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await show(pilot, "question_mark", KeysScreen)
        await show(pilot, "question_mark", OverviewScreen)
        await show(pilot, "f1", KeysScreen)
        await show(pilot, "escape", OverviewScreen)


async def test_bindings_are_remappable_from_settings(make_app):
    settings = Settings.from_dict({"app": {"keys": {"feeds.refresh": "f5"}}})
    app = make_app(settings=settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_runs(pilot, app)
        await pilot.press("f5")
        await wait_runs(pilot, app, 2)
