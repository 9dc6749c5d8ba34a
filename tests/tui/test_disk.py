"""The disk fails under the dashboard: the operator's confirmed decision is never dropped
silently (it stays on screen, "not saved: why", with a retry), nothing is sent that was not
first written; a read-only data dir and a damaged store start anyway, with a banner."""

from __future__ import annotations

import errno
import os

import pytest
from textual.widgets import Static

from pupitre.providers.core import store as store_module
from pupitre.providers.edf_oa.feeds import CURTAILMENTS_FEED, PROVIDER
from pupitre.providers.grdf_adict.feeds import RIGHTS_FEED
from pupitre.tui import outbox as outbox_module
from pupitre.tui.dialogs.not_saved import NotSavedScreen
from pupitre.tui.screens.curtailments import CurtailmentsScreen
from tests.tui.curtailments import NOW, delivered, last_item, ready
from tests.tui.helpers import wait_for, wait_runs
from tests.unit.disk_faults import DISK_FULL, corrupt_middle_page, fail_writes, no_space


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch):
    monkeypatch.setattr(outbox_module, "FIRST_RETRY_SECONDS", 0.05)


def dialog_text(app) -> str:
    return str(app.screen.query_one("#not-saved-dialog", Static).render())


def posts(app) -> list:
    return [r for r in app.runtime.request_log.records if r.method == "POST" and "acknowledg" in r.path]


@pytest.mark.parametrize("error", [DISK_FULL, no_space()], ids=["sqlite-full", "ENOSPC"])
async def test_disk_full_while_acknowledging_keeps_the_decision_until_saved(make_app, error):
    app = make_app(now=NOW, scripted=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot, app)
        await pilot.press("a", "s")
        failing = fail_writes(app.runtime.store, "INSERT INTO outbox", error)
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, NotSavedScreen))
        text = dialog_text(app)
        assert "NOT SAVED — nothing was sent" in text and "Why: the disk is full" in text
        assert "acknowledg" in text.lower()  # what was decided, in words
        assert app.runtime.store.outbox(provider=PROVIDER) == [] and posts(app) == []

        await pilot.press("r")  # still full: it stays, with the attempts counted
        await pilot.pause()
        assert isinstance(app.screen, NotSavedScreen) and "(tried 2 times)" in dialog_text(app)
        assert posts(app) == []

        failing.armed = False  # space freed
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, CurtailmentsScreen))
        await delivered(pilot, app)
        assert last_item(app).payload["order_id"] == app.feeds.state(CURTAILMENTS_FEED).data.order_id
        assert len(posts(app)) == 1
    assert not app.return_code and app.crashed is None


async def test_dropping_a_decision_the_disk_refused_is_said(make_app):
    app = make_app(now=NOW, scripted=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot, app)
        await pilot.press("a", "s")
        fail_writes(app.runtime.store)
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, NotSavedScreen))
        await pilot.press("enter")  # Enter alone neither drops nor retries
        assert isinstance(app.screen, NotSavedScreen)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, CurtailmentsScreen))
        assert any("neither saved nor sent" in str(n.message) for n in app._notifications)
        assert posts(app) == []


async def test_adict_actions_use_the_same_flow(make_app):
    """Revoking a right while the disk is full: the same "not saved" dialog."""
    from tests.tui.helpers import open_rights

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_rights(pilot, app)
        fail_writes(app.runtime.store)
        await pilot.press("x")
        await pilot.pause()
        if isinstance(app.screen, NotSavedScreen):  # pragma: no cover - the confirmation comes first
            raise AssertionError("saved before the confirmation")
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, NotSavedScreen))
        assert "Why: the disk is full" in dialog_text(app)
        assert app.runtime.store.outbox(provider="grdf_adict") == []


async def test_fresh_data_that_cannot_be_saved_is_shown_and_said(make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_runs(pilot, app)
        fail_writes(app.runtime.store, "INSERT INTO snapshots")
        app.feeds.refresh("grtgaz.indicators", forced=True)
        await wait_runs(pilot, app, 2)
        await pilot.pause()
        state = app.feeds.state("grtgaz.indicators")
        assert state.error is None and not state.from_store  # the data is there
        assert any("not saved: the disk is full" in str(n.message) for n in app._notifications)


def _read_only(data, monkeypatch) -> None:
    """The data dir refuses writes: chmod for a normal user; root writes through chmod, so
    the kernel's EROFS is injected where the store opens its file."""
    data.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        data.chmod(0o500)
        return
    real_open = os.open

    def read_only(path, flags, mode=0o777, **kwargs):
        if str(path).startswith(str(data)) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, flags, mode, **kwargs)

    monkeypatch.setattr(store_module.os, "open", read_only)


async def test_read_only_data_dir_starts_with_a_banner_and_refuses_to_send(make_app, dirs, monkeypatch):
    _read_only(dirs / "data", monkeypatch)
    try:
        app = make_app(now=NOW, scripted=False)
        async with app.run_test(size=(100, 30)) as pilot:
            await ready(pilot, app)
            banner = str(app.screen.query_one("#store-banner", Static).render())
            assert banner.startswith("⚠ NOTHING CAN BE SAVED — Nothing can be saved: the data directory is read-only")
            await pilot.press("a", "s", "y")
            await wait_for(pilot, lambda: isinstance(app.screen, NotSavedScreen))
            assert "read-only" in dialog_text(app)
            assert posts(app) == []
            await pilot.press("escape", "1")
            await pilot.pause()
            assert app.screen.query("#store-banner")  # on every screen
    finally:
        (dirs / "data").chmod(0o700)


async def test_a_damaged_store_is_moved_aside_and_the_banner_says_how_to_recover(make_runtime, make_app, dirs):
    runtime = make_runtime()
    app = make_app(runtime)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_runs(pilot, app, feed=RIGHTS_FEED)
    path = dirs / "data" / "pupitre.sqlite3"
    corrupt_middle_page(path)
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_runs(pilot, app, feed=RIGHTS_FEED)
        banner = str(app.screen.query_one("#store-banner", Static).render())
        (aside,) = path.parent.glob("pupitre.sqlite3.damaged-*[0-9]")
        assert f"moved aside to {aside}" in banner and f"sqlite3 {aside} .recover" in banner
        assert app.feeds.state(RIGHTS_FEED).error is None  # ADICT reads again
