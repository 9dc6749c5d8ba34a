"""Start-up (issue 20): the asked screen paints from the store first, everything else after it;
the alerts are evaluated off the event loop; the footer is composed again only when its keys change."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from textual.widget import Widget
from textual.widgets import DataTable
from textual.widgets._footer import FooterKey

from pupitre.providers.grdf_adict.feeds import RIGHTS_FEED
from pupitre.tui.app import PupitreApp
from pupitre.tui.screens.base import PupitreScreen
from pupitre.tui.screens.flexibility import FlexibilityScreen
from pupitre.tui.screens.overview import OverviewScreen
from pupitre.tui.stylesheet import PARSED_FILE
from pupitre.tui.widgets.attention import AttentionLine
from pupitre.tui.widgets.footer import PupitreFooter
from tests.tui.helpers import FEED, alerts_settled, counted_parses, feeds_reported, show, wait_for


async def test_the_asked_screen_paints_from_the_store_before_any_feed_runs(make_runtime) -> None:
    first = PupitreApp(make_runtime())
    async with first.run_test(size=(100, 30)) as pilot:  # fills the store: results and open alerts
        await feeds_reported(pilot, first)
        assert first.alerts.open
    runtime = make_runtime()
    app = PupitreApp(runtime, start_screen="flexibility")
    seen: dict[str, Any] = {}
    request = app.alerts.request

    def first_request() -> None:
        if not seen:  # what is on screen when the alerts are first asked for (the feeds start then too)
            table = app.screen.query_one("#flex-table", DataTable)
            seen.update(
                screen=type(app.screen),
                rows=table.row_count,
                stale=app.feeds.state(FEED).from_store,
                attention=app.screen.query_one(AttentionLine).display,  # the store's open alerts
                runs=sum(state.runs + state.running for state in app.feeds.states.values()),
                rights=app.feeds.state(RIGHTS_FEED).has_data,  # another screen's feed, read after the frame
            )
        request()

    app.alerts.request = first_request  # type: ignore[method-assign]  # a probe on the first evaluation
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: bool(seen))
        assert seen == {
            "screen": FlexibilityScreen,
            "rows": 13,
            "stale": True,
            "attention": True,
            "runs": 0,
            "rights": True,
        }
        assert app.screen_stack == [app.screen]  # no blank default screen under it


async def test_the_alerts_are_evaluated_off_the_event_loop(make_app) -> None:
    app = make_app()
    threads: list[bool] = []
    evaluate = app.alerts.engine.evaluate

    def recorded(*args: Any) -> Any:
        threads.append(threading.current_thread() is threading.main_thread())
        return evaluate(*args)

    app.alerts.engine.evaluate = recorded  # type: ignore[method-assign]  # a probe on the engine
    async with app.run_test(size=(100, 30)) as pilot:
        await feeds_reported(pilot, app)
        assert threads and not any(threads)
        line = app.screen.query_one(AttentionLine)
        await wait_for(pilot, lambda: line.display and "open" in str(line.render()))
        app.alerts.request()
        app.alerts.request()  # two reports in a row: one more evaluation after the one under way
        before = app.alerts.evaluations
        await alerts_settled(pilot, app)
        assert 1 <= app.alerts.evaluations - before <= 2


async def test_the_footer_is_composed_again_only_when_its_keys_change(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await feeds_reported(pilot, app)
        assert isinstance(app.screen, OverviewScreen)
        footer = app.screen.query_one(PupitreFooter)
        keys = list(footer.query(FooterKey))
        assert keys
        await pilot.press("down")  # the focus moves to another provider line: the same keys
        await pilot.press("down")
        await pilot.pause()
        assert list(footer.query(FooterKey)) == keys  # the same widgets, not composed again
        await show(pilot, "2", FlexibilityScreen)  # other keys: composed for them
        await wait_for(pilot, lambda: "/" in [key.key_display for key in app.screen.query(FooterKey)])


async def test_started_is_called_once_the_first_frame_is_drawn(make_runtime) -> None:
    """``pupitre`` gives the collector its usual pace back there (the start runs at a slower one)."""
    calls: list[int] = []
    app = PupitreApp(make_runtime(), start_screen="flexibility", started=lambda: calls.append(len(calls)))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: bool(calls))
        await feeds_reported(pilot, app)
    assert calls == [0]


async def test_a_start_keeps_its_parsed_stylesheet_and_the_next_start_parses_nothing(make_runtime, monkeypatch) -> None:
    """Parsing every stylesheet source is ~20 ms of the way to the first frame: the next start
    of the dashboard (on the same data dir) reads them back instead."""
    runtime = make_runtime()
    kept = runtime.ctx.data_dir / PARSED_FILE
    app = PupitreApp(runtime, start_screen="flexibility")
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, kept.exists)
    asked = counted_parses(monkeypatch)
    again = PupitreApp(make_runtime(), start_screen="flexibility")
    assert again.runtime.ctx.data_dir == runtime.ctx.data_dir
    async with again.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: again.screen.query_one("#flex-table", DataTable).row_count > 0)
    assert asked == []


@pytest.mark.parametrize(
    ("screen", "focused"),
    [
        ("overview", "ProviderLine"),
        ("flexibility", "#flex-table"),
        ("curtailments", "#ack-table"),
        ("requests", "#req-table"),
        ("alerts", "#alerts-table"),
    ],
)
async def test_the_first_frame_is_drawn_with_the_screens_focus(make_runtime, monkeypatch, screen, focused) -> None:
    """Focused as the screen is shown (``AUTO_FOCUS``), not just after its first frame: a focus
    given then restyles the widget and draws its whole table a second time (~40 ms)."""
    drawn: list[Widget | None] = []
    draw = PupitreScreen._compositor_refresh

    def first_drawn(self: PupitreScreen) -> None:
        draw(self)
        if not drawn and not self.frame_held:
            drawn.append(self.focused)

    monkeypatch.setattr(PupitreScreen, "_compositor_refresh", first_drawn)
    app = PupitreApp(make_runtime(), start_screen=screen)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: bool(drawn))
        assert drawn[0] is not None and drawn[0] is app.screen.query(focused).first()


async def test_quitting_as_the_first_frame_is_drawn_is_no_crash(make_runtime) -> None:
    """A key or a hang-up just after the start: what was still to start is not started (it once
    subscribed to a closing app's signals and ended the dashboard as a crash, exit 70)."""
    app = PupitreApp(make_runtime(), start_screen="flexibility")
    load_rest = app.feeds.load_rest
    read = asyncio.Event()

    async def until_closing() -> None:  # the other feeds' results are read as the app closes
        await load_rest()
        read.set()
        while app.is_running:
            await asyncio.sleep(0.001)

    app.feeds.load_rest = until_closing  # type: ignore[method-assign]  # the race, made certain
    async with app.run_test(size=(100, 30)):
        await read.wait()
    assert app.crashed is None and not app.return_code
