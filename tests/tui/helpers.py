"""Helpers of the pilot tests (fixtures live in ``tests/tui/conftest.py``)."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Callable, TypeVar

import pytest
from textual._context import active_app
from textual.app import App
from textual.css.stylesheet import Stylesheet as TextualStylesheet
from textual.screen import Screen
from textual.widgets import Static

from pupitre.providers.core.clock import PARIS, UTC
from pupitre.providers.grdf_adict.feeds import RIGHTS_FEED
from pupitre.providers.switchgrid import rules as switchgrid_rules
from pupitre.runtime import Runtime
from pupitre.tui.app import PupitreApp
from pupitre.tui.screens.access_rights import AccessRightsScreen

FEED = "grtgaz.indicators"
# §3.2.2.1's example day: at 10:53, Q→Q+ of DK6 turned red at 10:52, applying at 11:15.
NOW = dt.datetime(2026, 11, 18, 10, 53)


async def wait_until_processed(min_sleep: float = 0.0, max_sleep: float = 1.0) -> None:
    """Textual's ``wait_for_idle`` made deaf to the machine's load (tests/tui/conftest.py puts
    it in place): Textual's waits until the process *looks* idle, its CPU time stalling
    against the wall clock, which a process starved of CPU fakes; this one waits until every
    message pump of the running app has handled what it was sent (queue drained, mounted,
    no pending ``call_later``) three polls in a row. Bounded like Textual's: it then goes on."""
    await asyncio.sleep(min_sleep)
    app = active_app.get(None)
    if app is None:
        return
    deadline = time.monotonic() + max(max_sleep, 5.0)
    quiet = 0
    while quiet < 3 and time.monotonic() < deadline:
        await asyncio.sleep(0.005)
        quiet = 0 if _busy(app) else quiet + 1


def _busy(app: App) -> bool:
    """A message, a mount or a ``call_later`` still pending somewhere in ``app``."""
    return any(
        node.message_queue_size or node._next_callbacks or not node._is_mounted for node in [app, *app._registry]
    )


async def wait_for(pilot, condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Let the app run until ``condition`` holds (feeds run in workers).

    ``pilot.press`` and ``pilot.pause()`` return once the process *looks* idle (its CPU time
    stalls against the wall clock), which a loaded machine fakes: wait for what the test
    reads instead. ``timeout`` counts the pauses, so a starved process gets longer."""
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


async def alerts_settled(pilot, app: PupitreApp, timeout: float = 10.0) -> None:
    """Until every alert evaluation asked for so far (they run in a thread) has ended and what it
    found is shown."""
    await pilot.pause()  # a report's request for an evaluation is made
    await wait_for(pilot, lambda: app.alerts.settled, timeout)
    await pilot.pause()


async def feeds_reported(pilot, app: PupitreApp, timeout: float = 15.0) -> None:
    """Until every feed has finished its first run (data or failure) and the alerts were
    evaluated on it: what the attention line of every screen shows is then settled."""
    states = list(app.feeds.states.values())
    await wait_for(pilot, lambda: all(s.runs >= 1 and not s.running for s in states), timeout)
    await alerts_settled(pilot, app)


async def refreshed(pilot, app: PupitreApp, feed: str = FEED, timeout: float = 10.0) -> None:
    """Run ``feed`` again and wait until a run that *started after this call* has ended.

    Pressing ``r`` while a run is under way (a retry after a slow first run on a loaded
    machine) is dropped, and the run that then ends may have read the API before what the
    test just changed: ``wait_runs(n)`` would pass on it."""
    state = app.feeds.state(feed)
    await wait_for(pilot, lambda: not state.running, timeout)
    while not app.feeds.refresh(feed, forced=True):
        await wait_for(pilot, lambda: not state.running, timeout)
    before = state.runs
    await wait_for(pilot, lambda: state.runs > before and not state.running, timeout)


ScreenT = TypeVar("ScreenT", bound=Screen)


async def show(pilot, key: str, screen_type: type[ScreenT]) -> ScreenT:
    """Press ``key`` and wait until the screen it opens is mounted (so drawn from the data)."""
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, screen_type) and pilot.app.screen.is_mounted)
    return pilot.app.screen


def screen_text(app) -> str:
    """Every Static's rendered text on the screen, for plain-word assertions."""
    return "\n".join(str(w.render()) for w in app.screen.query(Static))


async def open_rights(pilot, app) -> AccessRightsScreen:
    """The access-rights screen (key 5) once the rights feed has loaded."""
    await wait_runs(pilot, app, feed=RIGHTS_FEED)
    screen = await show(pilot, "5", AccessRightsScreen)
    await wait_for(pilot, lambda: len(screen.rows) == len(screen.source()))  # the rows drawn
    return screen


def week_curve() -> switchgrid_rules.LoadCurve:
    """A fixed week (Mon 09/12 → Sun 15/12/2024, Paris) with one 20-minute gap and one peak."""
    start = dt.datetime(2024, 12, 8, 23, 0, tzinfo=UTC)
    points = []
    for i in range(7 * 144):
        moment = start + i * switchgrid_rules.STEP_10_MIN
        hour = moment.astimezone(PARIS).hour
        watts = 800.0 + (1500.0 if 7 <= hour < 9 or 18 <= hour < 22 else 0.0) + (i % 7) * 10
        points.append(switchgrid_rules.Point(moment, watts))
    points[500] = switchgrid_rules.Point(points[500].start, 9400.0)
    points[300] = switchgrid_rules.Point(points[300].start, None)
    points[301] = switchgrid_rules.Point(points[301].start, None)
    return switchgrid_rules.LoadCurve(switchgrid_rules.STEP_10_MIN, points)


def _key_event(key: str):
    """The key event a terminal sends for ``key`` (a character or a key name)."""
    import unicodedata

    from textual import events
    from textual.keys import REPLACED_KEYS, _character_to_key, _get_unicode_name_from_key

    if len(key) == 1 and not key.isalnum():
        key = _character_to_key(key)
    try:
        char: str | None = unicodedata.lookup(_get_unicode_name_from_key(REPLACED_KEYS.get(key, key)))
    except KeyError:
        char = key if len(key) == 1 else None
    return events.Key(key, char)


NAMED = {
    "tab",
    "shift+tab",
    "enter",
    "escape",
    "space",
    "backspace",
    "up",
    "down",
    "left",
    "right",
    "home",
    "end",
    "ctrl+s",
    "ctrl+u",
}


async def burst(pilot, *parts: str) -> None:
    """Type ``parts`` as one burst (a paste into the terminal, a laggy SSH link): every key
    reaches the app before it handles the first, unlike ``pilot.press`` which waits after
    each. A part that is a key name (``tab``, ``enter``…) is that key; any other is text."""
    keys = [key for part in parts for key in ([part] if part in NAMED else list(part))]
    driver = pilot.app._driver
    for key in keys:
        event = _key_event(key)
        event.set_sender(pilot.app)
        driver.send_message(event)
    await pilot.pause()
    await wait_for(pilot, lambda: pilot.app.key_gate.idle)


async def paste(pilot, text: str) -> None:
    """A bracketed paste of ``text`` (what a terminal sends for ctrl+shift+v)."""
    from textual import events

    event = events.Paste(text)
    event.set_sender(pilot.app)
    pilot.app._driver.send_message(event)
    await pilot.pause()


def write_shift(runtime: Runtime) -> dict[str, int]:
    """Three audit lines over two days by two operators (one stored in UTC), and one refused
    EDF OA acknowledgement and one GRTgaz program still retrying in the outbox."""
    now = runtime.clock.now()
    store = runtime.store
    store.operator = "ana@jump-2"
    store.audit("grtgaz", "declare program", "delivered", now - dt.timedelta(days=1), "#1 LI1001 v2")
    store.audit("edf_oa", "acknowledge", "refused", now - dt.timedelta(hours=2), "#2 HTTP 422 RG_ACK_0010")
    store.operator = "bob@jump-3"
    store.audit("edf_oa", "acknowledge", "delivered", (now - dt.timedelta(hours=1)).astimezone(UTC), "#3 BOA0001")
    refused = store.outbox_add("edf_oa", "acknowledge", {"order_id": "x"}, now - dt.timedelta(hours=2))
    store.outbox_update(refused, "failed", now - dt.timedelta(hours=2), error="HTTP 422: RG_ACK_0010")
    retrying = store.outbox_add("grtgaz", "declare program", {}, now - dt.timedelta(minutes=5))
    store.outbox_update(retrying, "held", now - dt.timedelta(minutes=5))  # kept off the sender
    return {"refused": refused, "retrying": retrying}


def team_runtime(dirs, postgres_url: str) -> tuple[Runtime, str]:
    """A sandbox runtime on the team store at ``postgres_url`` (as the TUI tests build theirs),
    and the name of its database (to end its connections)."""
    from pathlib import Path

    from pupitre.providers.core.clock import ManualClock
    from pupitre.providers.core.retry import RetryPolicy
    from pupitre.providers.core.secrets import SecretStore
    from pupitre.providers.core.store_pg import PostgresStore
    from pupitre.runtime import build_runtime
    from pupitre.settings import Settings
    from tests.helpers import MemoryKeyring

    base = Path(dirs)
    runtime = build_runtime(
        Settings(),
        sandbox=True,
        clock=ManualClock(NOW),
        store=PostgresStore(postgres_url),
        data_dir=base / "data",
        retry=RetryPolicy(attempts=1),
        secrets=SecretStore(credentials_file=base / "config" / "credentials.toml", env={}, backend=MemoryKeyring()),
    )
    return runtime, postgres_url.split("/")[3].split("?")[0]


def counted_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The stylesheet sources Textual's parser is asked for from now on (whatever the stylesheet
    class), by their widget's name or file."""
    asked: list[str] = []
    original = TextualStylesheet._parse_rules

    def parse_rules(self, css, read_from, *args, **kwargs):  # type: ignore[no-untyped-def]  # Textual's signature
        asked.append(read_from[1] or read_from[0])
        return original(self, css, read_from, *args, **kwargs)

    monkeypatch.setattr(TextualStylesheet, "_parse_rules", parse_rules)
    return asked
