"""A console on the team's PostgreSQL store paints its first frame from the copy of the results
it last read (in its data dir), says "store: connecting…", and shows the team's newer result
once connected after that frame (issue 19: a console's cold start on PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

from pupitre.providers.core.clock import ManualClock
from pupitre.providers.core.leases import FeedLeases
from pupitre.providers.core.retry import RetryPolicy
from pupitre.providers.core.secrets import SecretStore
from pupitre.providers.core.store_pg import PostgresStore
from pupitre.providers.grtgaz.feeds import INDICATORS_FEED as FEED
from pupitre.runtime import COPY_FILE, Runtime, build_runtime
from pupitre.settings import Settings, StoreSettings
from pupitre.tui.widgets.header import HeaderBar
from tests.helpers import MemoryKeyring
from tests.tui.helpers import NOW, wait_for


def _console(base: Path, url: str) -> Runtime:
    return build_runtime(
        Settings(store=StoreSettings(url=url)),
        sandbox=True,
        clock=ManualClock(NOW),
        data_dir=base / "data",
        retry=RetryPolicy(attempts=1),
        secrets=SecretStore(credentials_file=base / "config" / "credentials.toml", env={}, backend=MemoryKeyring()),
        dashboard=True,
    )


async def test_a_team_console_paints_from_its_copy_then_from_the_team_store(dirs, postgres_url: str) -> None:
    from pupitre.tui.app import PupitreApp

    base = Path(dirs)
    first = _console(base, postgres_url)
    app = PupitreApp(first, start_screen="flexibility")
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: app.feeds.state(FEED).fetched_at is not None, timeout=20.0)
        copied = app.feeds.state(FEED).fetched_at
    await first.aclose()
    assert (base / "data" / COPY_FILE).exists()
    agent = PostgresStore(postgres_url)  # meanwhile the team's agent fetched again
    agent.bind_environments(dict(first.store._envs))
    stored = agent.load_snapshot(FEED)
    assert stored is not None and stored.fetched_at == copied
    later = stored.fetched_at + dt.timedelta(hours=1)
    agent.save_snapshot(FEED, stored.payload, later)
    assert FeedLeases(agent, "agent@host (agent)").take(FEED, 3600).mine  # the agent polls it

    console = _console(base, postgres_url)
    asked = threading.Event()
    go_on = threading.Event()
    connect = console.store.connect

    def held_connect() -> None:  # the server's answer held back, to see the first frame
        asked.set()
        go_on.wait(20)
        connect()

    console.store.connect = held_connect  # type: ignore[method-assign]  # the test holds the server
    app = PupitreApp(console, start_screen="flexibility")

    def header() -> str:
        return str(app.screen.query_one(HeaderBar).query_one("#header-clock").render())

    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, asked.is_set, timeout=20.0)
        assert app.feeds.state(FEED).fetched_at == copied  # painted from the copy, its age kept
        assert console.store.unreachable_since is None
        await wait_for(pilot, lambda: "store: connecting…" in header(), timeout=10.0)
        go_on.set()
        await wait_for(pilot, lambda: app.feeds.state(FEED).fetched_at == later, timeout=20.0)
        await wait_for(pilot, lambda: "connecting" not in header(), timeout=10.0)
    await console.aclose()
    agent.close()


async def test_a_team_store_of_another_schema_ends_the_dashboard_with_its_sentence(dirs, postgres_url: str) -> None:
    from pupitre.tui.app import EXIT_STORE_REFUSED, PupitreApp

    PostgresStore(postgres_url)._exec("UPDATE pupitre_schema SET version=99")
    console = _console(Path(dirs), postgres_url)
    app = PupitreApp(console, start_screen="overview")
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: app.store_refused is not None, timeout=20.0)
    assert app.return_code == EXIT_STORE_REFUSED
    assert "schema 99, newer" in str(app.store_refused) and "upgrade pupitre" in str(app.store_refused)
    await console.aclose()
