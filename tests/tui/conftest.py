"""A pupitre app on the sandbox with a frozen clock, a scripted GRTgaz day and its own data dir."""

from __future__ import annotations

import datetime as dt
import inspect
from typing import Any, Callable

import pytest
import textual.app
import textual.pilot
from textual.widgets import Input

from pupitre.providers.core.clock import ManualClock
from pupitre.providers.core.retry import RetryPolicy
from pupitre.providers.core.secrets import SecretStore
from pupitre.providers.grtgaz.models import Flex
from pupitre.providers.grtgaz.sandbox import calm_scenario
from pupitre.runtime import Runtime, build_runtime
from pupitre.settings import Settings
from pupitre.tui.app import PupitreApp
from tests.helpers import MemoryKeyring
from tests.tui.helpers import NOW, feeds_reported, wait_until_processed


@pytest.fixture(autouse=True)
def processed_not_idle(monkeypatch: pytest.MonkeyPatch) -> None:
    """``pilot.press`` and ``pilot.pause()`` return once the app has handled the keys and
    messages, not once the process looks idle (which a loaded machine fakes)."""
    monkeypatch.setattr(textual.app, "wait_for_idle", wait_until_processed)
    monkeypatch.setattr(textual.pilot, "wait_for_idle", wait_until_processed)


@pytest.fixture(autouse=True)
def steady_cursors(monkeypatch: pytest.MonkeyPatch) -> None:
    """Text cursors do not blink (the test configuration Posting uses): a snapshot taken
    later than planned on a loaded machine must not catch a cursor mid-blink."""
    original = Input.__init__

    def init(self: Input, *args, **kwargs) -> None:
        original(self, *args, **kwargs)
        self.cursor_blink = False

    monkeypatch.setattr(Input, "__init__", init)


@pytest.fixture
def snap_compare(snap_compare: Callable[..., bool]) -> Callable[..., bool]:
    """pytest-textual-snapshot's, taken once every feed has reported once (before the test's own
    steps): the attention line under every header shows the alerts of every provider, whichever
    feed answers first on a loaded machine."""

    def compare(app: PupitreApp, *args: object, run_before: Callable[..., Any] | None = None, **kwargs: object) -> bool:
        async def settled(pilot: textual.pilot.Pilot[None]) -> None:
            await feeds_reported(pilot, pilot.app)
            if run_before is not None:
                result = run_before(pilot)
                if inspect.isawaitable(result):
                    await result

        return snap_compare(app, *args, run_before=settled, **kwargs)

    return compare


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
            # The simulators answer on the app's own event loop, which a loaded CI machine can
            # keep busy painting for over a second: slow is not down. A late answer (the
            # "timeout" fault) comes after the read timeout.
            sandbox_read_timeout=4.0,
        )
        runtime.faults.timeout_seconds = 5.0
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


@pytest.fixture
def make_adict_app(make_app) -> Callable[..., PupitreApp]:
    """The app, its ADICT simulator tolerant of transit jitter: the client paces at 0.9 call/s,
    but on a loaded machine two calls may still reach GRDF's gate within one second
    (the quota itself is tested in tests/providers)."""

    def make(runtime: Runtime | None = None, **kwargs) -> PupitreApp:
        app = make_app(runtime, **kwargs)
        app.runtime.simulators["grdf_adict"].per_second = 50
        return app

    return make
