"""Training scenarios: scripted incidents played on the sandbox's simulated clock.

A scenario is a TOML file (format in ``docs/scenarios.md``); the shipped ones live in the
``pupitre.scenarios`` package. It has a ``title``, a one-line ``summary``, a ``start`` (``now``,
``HH:MM`` today in Paris, ``next-spring HH:MM`` / ``next-autumn HH:MM`` on the next DST-change
day, or an ISO time) and ``[[event]]`` tables: ``at`` (elapsed time from the start, ``+1h30m``),
``do`` (an action of :data:`ACTIONS`) and the action's parameters. :class:`ScenarioPlayer`
applies every event that is due before a simulator answers a request, so a scenario needs no
timer and runs at the clock's speed. No Textual import.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Mapping

import msgspec

from pupitre.providers.core.clock import PARIS, Clock, add, instant, paris
from pupitre.providers.core.errors import ConfigError
from pupitre.providers.core.faults import FaultPlan
from pupitre.providers.core.sandbox import ASGIApp, Receive, Scope, Send, SimulatorApp

_DURATION = re.compile(r"([+-])?((?:\d+[dhms])+)")
_PART = re.compile(r"(\d+)([dhms])")
_UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def duration(text: str) -> dt.timedelta:
    """``+1h30m``, ``-9h``, ``3d``, ``0m`` as a timedelta; :class:`ValueError` otherwise."""
    found = _DURATION.fullmatch(text.strip())
    if found is None:
        raise ValueError(f"not a duration like +1h30m: {text!r}")
    delta = dt.timedelta(**{_UNITS[unit]: float(n) for n, unit in _PART.findall(found.group(2))})
    return -delta if found.group(1) == "-" else delta


def last_sunday(year: int, month: int) -> dt.date:
    day = dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)
    return day - dt.timedelta(days=(day.weekday() + 1) % 7)


class Event(msgspec.Struct, frozen=True):
    at: dt.timedelta
    action: str
    params: Mapping[str, Any]


class Scenario(msgspec.Struct, frozen=True):
    name: str
    title: str
    summary: str
    start: str
    events: tuple[Event, ...]

    def start_at(self, now: dt.datetime) -> dt.datetime:
        """The scenario's start for a session started at ``now``."""
        text = self.start.strip()
        if text == "now":
            return paris(now)
        kind, _, clock = text.rpartition(" ")
        if kind in ("next-spring", "next-autumn"):
            month = 3 if kind == "next-spring" else 10
            day = last_sunday(now.year, month)
            if day < paris(now).date():
                day = last_sunday(now.year + 1, month)
            return dt.datetime.combine(day, dt.time.fromisoformat(clock), tzinfo=PARIS)
        if re.fullmatch(r"\d\d:\d\d", text):
            return dt.datetime.combine(paris(now).date(), dt.time.fromisoformat(text), tzinfo=PARIS)
        return paris(dt.datetime.fromisoformat(text))


def parse(name: str, text: str) -> Scenario:
    """A scenario from its TOML text; :class:`ConfigError` saying what is wrong."""
    try:
        data = tomllib.loads(text)
        events = []
        for item in data.get("event", []):
            params = {k: v for k, v in item.items() if k not in ("at", "do")}
            if item["do"] not in ACTIONS:
                raise ValueError(f"unknown action {item['do']!r}; one of {', '.join(sorted(ACTIONS))}")
            events.append(Event(duration(item.get("at", "+0m")), item["do"], params))
        scenario = Scenario(
            name, data["title"], data["summary"], data.get("start", "now"), tuple(sorted(events, key=lambda e: e.at))
        )
        scenario.start_at(dt.datetime.now(PARIS))  # a bad start is said now, not mid-session
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as error:
        raise ConfigError(f"scenario {name!r}: {error}") from None
    return scenario


def shipped() -> dict[str, Scenario]:
    """The scenarios shipped with pupitre, by name (file name without ``.toml``)."""
    folder = resources.files("pupitre.scenarios")
    return {
        entry.name[:-5]: parse(entry.name[:-5], entry.read_text(encoding="utf-8"))
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".toml")
    }


def load(name: str) -> Scenario:
    """A shipped scenario by name, or a trainer's own file by path."""
    if name.endswith(".toml") or "/" in name:
        path = Path(name)
        try:
            return parse(path.stem, path.read_text(encoding="utf-8"))
        except OSError as error:
            raise ConfigError(f"cannot read the scenario {name}: {error.strerror}") from None
    known = shipped()
    if name not in known:
        raise ConfigError(f"unknown scenario {name!r}: `pupitre sandbox scenarios` lists them ({', '.join(known)})")
    return known[name]


# -- playing -------------------------------------------------------------------------------------

Action = Callable[["ScenarioPlayer", Event, dt.datetime], None]


def _grtgaz_shortage(player: "ScenarioPlayer", event: Event, when: dt.datetime) -> None:
    sites = event.params.get("sites")
    day = player.start.date() + dt.timedelta(days=int(event.params.get("day", 0)))
    player.simulator("grtgaz").declare_shortage(day, site_ids=set(sites) if sites else None)


def _grtgaz_status(player: "ScenarioPlayer", event: Event, when: dt.datetime) -> None:
    from pupitre.providers.grtgaz.models import Flex

    hour = add(player.start, duration(event.params["hour"])).replace(minute=0, second=0, microsecond=0)
    player.simulator("grtgaz").schedule_hour(
        event.params["site"], Flex(event.params["indicator"]), event.params["status"], hour
    )


def _edf_publish(player: "ScenarioPlayer", event: Event, when: dt.datetime) -> None:
    player.simulator("edf_oa").publish()


def _edf_portal_ack(player: "ScenarioPlayer", event: Event, when: dt.datetime) -> None:
    params = event.params
    player.simulator("edf_oa").portal_acknowledge(params["contract"], bool(params["value"]), params.get("user"), when)


def _edf_token_expires(player: "ScenarioPlayer", event: Event, when: dt.datetime) -> None:
    player.simulator("edf_oa").token().expires_at = add(when, duration(event.params["in"]))


def _adict_park(player: "ScenarioPlayer", event: Event, when: dt.datetime) -> None:
    player.simulator("grdf_adict").set_park_size(int(event.params["size"]))


def _faults_add(player: "ScenarioPlayer", event: Event, when: dt.datetime) -> None:
    params = event.params
    player.faults.add(
        params["route"],
        params["kind"],
        int(params.get("count", 1)),
        int(params.get("status", 500)),
        params.get("method", "*"),
    )


def _faults_clear(player: "ScenarioPlayer", event: Event, when: dt.datetime) -> None:
    player.faults.clear()


#: What an event can do (``do = "…"``); docs/scenarios.md lists each with its parameters.
ACTIONS: dict[str, Action] = {
    "grtgaz.shortage": _grtgaz_shortage,
    "grtgaz.status": _grtgaz_status,
    "edf_oa.publish": _edf_publish,
    "edf_oa.portal_ack": _edf_portal_ack,
    "edf_oa.token_expires": _edf_token_expires,
    "grdf_adict.park": _adict_park,
    "faults.add": _faults_add,
    "faults.clear": _faults_clear,
}


class ScenarioPlayer(msgspec.Struct):
    """Plays a scenario from ``start`` on ``clock``: :meth:`tick` applies the events due."""

    scenario: Scenario
    clock: Clock
    start: dt.datetime
    faults: FaultPlan
    simulators: dict[str, Any] = msgspec.field(default_factory=dict)
    played: int = 0  # events applied so far (they are sorted by ``at``)

    def simulator(self, provider: str) -> Any:
        return self.simulators[provider]

    def due(self) -> list[Event]:
        now = instant(self.clock.now())
        events = self.scenario.events
        out: list[Event] = []
        while self.played + len(out) < len(events):
            event = events[self.played + len(out)]
            if instant(add(self.start, event.at)) > now:
                break
            out.append(event)
        return out

    def tick(self) -> list[Event]:
        """Apply every event due by now, in order; the events applied."""
        done = []
        for event in self.due():
            ACTIONS[event.action](self, event, add(self.start, event.at))
            self.played += 1
            done.append(event)
        return done

    def mount(self, app: SimulatorApp) -> SimulatorApp:
        """``app`` applying the due events before each request."""
        return SimulatorApp(_Ticking(app, self), app.simulator)


class _Ticking:
    def __init__(self, app: ASGIApp, player: ScenarioPlayer) -> None:
        self.app = app
        self.player = player

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.player.tick()
        await self.app(scope, receive, send)
