"""A pupitre app on the sandbox with a frozen clock, a scripted GRTgaz day and its own data dir."""

from __future__ import annotations

import datetime as dt
from typing import Callable

import pytest

from pupitre.providers.core.clock import ManualClock
from pupitre.providers.core.retry import RetryPolicy
from pupitre.providers.core.secrets import SecretStore
from pupitre.providers.grtgaz.models import Flex
from pupitre.providers.grtgaz.sandbox import calm_scenario
from pupitre.runtime import Runtime, build_runtime
from pupitre.settings import Settings
from pupitre.tui.app import PupitreApp
from tests.unit.test_secrets import MemoryKeyring

FEED = "grtgaz.indicators"
# §3.2.2.1's example day: at 10:53, Q→Q+ of DK6 turned red at 10:52, applying at 11:15.
NOW = dt.datetime(2026, 11, 18, 10, 53)


def script_day(runtime: Runtime) -> None:
    """Calm day, plus: DK6 Q→Q+ red announced for 11:15, Montoir partial red since 10:15,
    Martigues Q→Q- red since 09:15."""
    sim = runtime.simulators["grtgaz"]
    sim.scenario = calm_scenario
    sim.reset()
    sim.schedule("LI1001", Flex.Q_TO_QPLUS, "RED", dt.datetime(2026, 11, 18, 10, 52))
    sim.schedule("LI1006", Flex.PARTIAL, "RED", dt.datetime(2026, 11, 18, 9, 52))
    sim.schedule("LI1009", Flex.Q_TO_QMINUS, "RED", dt.datetime(2026, 11, 18, 8, 52))


@pytest.fixture
def dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("PUPITRE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PUPITRE_CONFIG_DIR", str(tmp_path / "config"))
    return tmp_path


@pytest.fixture
def make_runtime(dirs) -> Callable[..., Runtime]:
    def make(settings: Settings | None = None, *, now: dt.datetime = NOW, scripted: bool = True) -> Runtime:
        """``scripted`` scripts the GRTgaz day of §3.2.2.1's example (calm otherwise)."""
        runtime = build_runtime(
            settings or Settings(),
            sandbox=True,
            clock=ManualClock(now),
            data_dir=dirs / "data",
            retry=RetryPolicy(attempts=1),
            secrets=SecretStore(credentials_file=dirs / "config" / "credentials.toml", env={}, backend=MemoryKeyring()),
            sandbox_read_timeout=1.0,
        )  # a loaded CI machine is slow, not down
        runtime.faults.timeout_seconds = 2.0
        if scripted:
            script_day(runtime)
        else:
            runtime.simulators["grtgaz"].scenario = calm_scenario
        return runtime

    return make


@pytest.fixture
def make_app(make_runtime) -> Callable[..., PupitreApp]:
    def make(runtime: Runtime | None = None, **kwargs) -> PupitreApp:
        return PupitreApp(runtime or make_runtime(**kwargs))

    return make


async def wait_for(pilot, condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Let the app run until ``condition`` holds (feeds run in workers)."""
    waited = 0.0
    while not condition():
        if waited >= timeout:
            raise AssertionError("condition not reached in time")
        await pilot.pause(0.05)
        waited += 0.05


async def wait_runs(pilot, app: PupitreApp, runs: int = 1, feed: str = FEED, timeout: float = 5.0) -> None:
    """Wait until ``feed`` has finished ``runs`` runs since the app started."""
    state = app.feeds.state(feed)
    await wait_for(pilot, lambda: state.runs >= runs and not state.running, timeout)
