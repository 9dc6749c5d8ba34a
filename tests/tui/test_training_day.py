"""The dashboard as `pupitre --sandbox` opens it: a training day, on the shared simulated world."""

from __future__ import annotations

import datetime as dt

from pupitre.providers.core.clock import PARIS, ManualClock
from pupitre.providers.core.retry import RetryPolicy
from pupitre.providers.core.secrets import SecretStore
from pupitre.runtime import build_runtime
from pupitre.settings import Settings
from pupitre.tui.app import PupitreApp
from tests.helpers import MemoryKeyring
from tests.tui.helpers import screen_text, wait_for

FEEDS = (
    "grtgaz.indicators",
    "edf_oa.curtailments",
    "grdf_omega.requests",
    "grdf_adict.rights",
    "switchgrid.asks_orders",
)


async def test_the_overview_of_a_training_day_shows_every_provider_lively(dirs) -> None:
    now = dt.datetime(2026, 12, 7, 14, 10, tzinfo=PARIS)
    runtime = build_runtime(
        Settings(),
        sandbox=True,
        clock=ManualClock(now),
        data_dir=dirs / "data",
        retry=RetryPolicy(attempts=1),
        secrets=SecretStore(credentials_file=dirs / "config" / "credentials.toml", env={}, backend=MemoryKeyring()),
        sandbox_read_timeout=4.0,
        training_day=True,
    )
    app = PupitreApp(runtime)
    async with app.run_test(size=(120, 40)) as pilot:
        states = [app.feeds.state(feed) for feed in FEEDS]
        await wait_for(pilot, lambda: all(s.runs >= 1 and not s.running for s in states), timeout=30)
        assert all(s.data is not None for s in states), [s.feed.name for s in states if s.data is None]
        text = screen_text(app)
        assert "RED" in text
        assert app.feeds.state("edf_oa.curtailments").data is not None
        assert (dirs / "data" / "sandbox" / "world.sqlite").exists()
