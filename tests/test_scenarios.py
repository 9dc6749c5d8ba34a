"""Training scenarios: every shipped one loads and plays its key event on a fake clock (no sleeps)."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from pupitre import cli
from pupitre.providers.core import clock as clock_module
from pupitre.providers.core.clock import PARIS, ManualClock, add, gas_day_length_hours, gas_day_of
from pupitre.providers.core.errors import ConfigError
from pupitre.providers.core.faults import FaultPlan
from pupitre.providers.core.retry import RetryPolicy
from pupitre.providers.core.scenarios import ScenarioPlayer, duration, load, parse, shipped
from pupitre.providers.core.secrets import SecretStore
from pupitre.providers.edf_oa.sandbox import EdfOaSimulator
from pupitre.providers.grdf_adict.sandbox import AdictSimulator
from pupitre.providers.grtgaz import feeds as grtgaz
from pupitre.providers.grtgaz.models import Flex, IndicatorStatus
from pupitre.providers.grtgaz.sandbox import GrtgazSimulator
from pupitre.runtime import build_runtime
from pupitre.settings import Settings

BASE = dt.datetime(2026, 12, 7, 9, 0, tzinfo=PARIS)
REQUIRED = {"shortage", "portal-ack", "spring-23h", "autumn-25h", "api-outage", "edf-token-expiring", "adict-100k"}


def play(name: str, after: dt.timedelta) -> tuple[ScenarioPlayer, ManualClock]:
    """The scenario's events due ``after`` its start, played on fresh simulators."""
    scenario = load(name)
    start = scenario.start_at(BASE)
    clock = ManualClock(start)
    faults = FaultPlan()
    player = ScenarioPlayer(scenario, clock, start, faults)
    player.simulators.update(
        grtgaz=GrtgazSimulator(clock, faults),
        edf_oa=EdfOaSimulator(clock, faults),
        grdf_adict=AdictSimulator(clock, faults, park_size=300),
    )
    clock.set(add(start, after))
    player.tick()
    return player, clock


def statuses(sim: GrtgazSimulator, flex: Flex, now: dt.datetime) -> dict[str, IndicatorStatus]:
    return {s.currentIndicator.siteId: s.currentIndicator.indicator(flex).status for s in sim.all_site_indicators(now)}


def test_the_required_scenarios_are_shipped_with_a_title_and_a_summary() -> None:
    known = shipped()
    assert REQUIRED <= set(known)
    assert all(s.title and s.summary and s.events for s in known.values())


def test_sandbox_scenarios_lists_one_line_each(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["sandbox", "scenarios"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert sorted(line.split()[0] for line in lines) == sorted(shipped())


def test_shortage_turns_every_site_grey_at_05_52() -> None:
    player, clock = play("shortage", dt.timedelta(minutes=1))
    sim = player.simulator("grtgaz")
    assert set(statuses(sim, Flex.Q_TO_QPLUS, clock.now()).values()) != {IndicatorStatus.GREY}  # 05:49
    at = dt.datetime.combine(clock.now().date(), dt.time(5, 53), tzinfo=PARIS)
    assert set(statuses(sim, Flex.Q_TO_QPLUS, at).values()) == {IndicatorStatus.GREY}


def test_a_colleague_acknowledges_on_the_portal_just_before_the_deadline() -> None:
    player, clock = play("portal-ack", dt.timedelta(minutes=24))
    sim = player.simulator("edf_oa")
    assert player.played == 1  # 15:54: published, not acknowledged yet
    clock.set(add(clock.now(), dt.timedelta(minutes=2)))
    player.tick()
    last = sim.acks()["BOA0003"][-1]
    assert (last.ack_source, last.user_id, last.ack_value) == ("PORTAL", "MGR-0101", True)
    assert last.ack_date.astimezone(PARIS).time() == dt.time(15, 55)
    assert sim.is_published(sim.order().application_date)


def test_spring_day_has_23_hours_and_the_hour_after_the_jump_is_red() -> None:
    player, clock = play("spring-23h", dt.timedelta(hours=1, minutes=50))  # 03:20 CEST
    assert gas_day_length_hours(gas_day_of(clock.now())) == 23
    assert clock.now().hour == 3
    assert statuses(player.simulator("grtgaz"), Flex.Q_TO_QPLUS, clock.now())["LI1001"] is IndicatorStatus.RED


def test_autumn_day_has_25_hours_and_only_the_second_02_00_is_red() -> None:
    player, clock = play("autumn-25h", dt.timedelta(hours=1, minutes=50))  # the first 02:20 (CEST)
    sim = player.simulator("grtgaz")
    assert gas_day_length_hours(gas_day_of(clock.now())) == 25
    first = clock.now()
    second = add(first, dt.timedelta(hours=1))  # 02:20 again, CET
    assert (first.hour, second.hour) == (2, 2)
    assert statuses(sim, Flex.Q_TO_QMINUS, first)["LI1009"] is not IndicatorStatus.RED
    assert statuses(sim, Flex.Q_TO_QMINUS, second)["LI1009"] is IndicatorStatus.RED


def test_api_outage_then_recovery() -> None:
    player, clock = play("api-outage", dt.timedelta(minutes=3))
    assert player.faults.take("GET", "/sfm/v1/sites/flexibilityIndicators") is not None
    clock.set(add(clock.now(), dt.timedelta(minutes=20)))
    player.tick()
    assert player.faults.take("GET", "/sfm/v1/sites/flexibilityIndicators") is None


def test_edf_oa_token_expiring_then_expired() -> None:
    player, clock = play("edf-token-expiring", dt.timedelta(minutes=1))
    sim = player.simulator("edf_oa")
    token = sim.token()
    assert token.expires_at - clock.now() < dt.timedelta(days=3)
    assert sim.issuer.check(f"Bearer {token.value}") is not None
    clock.set(add(clock.now(), dt.timedelta(minutes=30)))
    player.tick()
    assert sim.issuer.check(f"Bearer {token.value}") is None


def test_adict_park_of_100000_rights() -> None:
    player, _ = play("adict-100k", dt.timedelta(0))
    assert player.simulator("grdf_adict").park_size == 100_000


def test_a_scenario_plays_on_the_runtime_simulators(tmp_path: Path) -> None:
    start = dt.datetime(2026, 12, 7, 5, 48, tzinfo=PARIS)
    clock = ManualClock(add(start, dt.timedelta(minutes=6)))
    runtime = build_runtime(
        Settings(),
        sandbox=True,
        clock=clock,
        data_dir=tmp_path,
        retry=RetryPolicy(attempts=1),
        secrets=SecretStore(credentials_file=tmp_path / "c.toml", env={}),
    )
    runtime.play(load("shortage"), start)

    async def read() -> list[Any]:
        try:
            return await runtime.feed(grtgaz.INDICATORS_FEED).fetch()
        finally:
            await runtime.aclose()

    sites = asyncio.run(read())
    assert {s.currentIndicator.indicator(Flex.Q_TO_QPLUS).status for s in sites} == {IndicatorStatus.GREY}


def test_a_trainer_writes_a_scenario_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(
        'title = "t"\nsummary = "s"\nstart = "2026-12-07T10:00"\n[[event]]\nat = "+5m"\ndo = "faults.clear"\n'
    )
    scenario = load(str(path))
    assert scenario.name == "mine" and scenario.events[0].at == dt.timedelta(minutes=5)
    with pytest.raises(ConfigError, match="unknown action"):
        parse("bad", 'title = "t"\nsummary = "s"\n[[event]]\ndo = "grtgaz.explode"\n')
    with pytest.raises(ConfigError, match="unknown scenario"):
        load("no-such-scenario")


def test_durations() -> None:
    assert duration("+1h30m") == dt.timedelta(hours=1, minutes=30)
    assert duration("-9h") == -dt.timedelta(hours=9)
    assert duration("3d") == dt.timedelta(days=3)
    with pytest.raises(ValueError):
        duration("soon")


def test_speed_runs_the_clock_faster(monkeypatch: pytest.MonkeyPatch) -> None:
    ticks = iter([100.0, 110.0])
    monkeypatch.setattr(clock_module, "_monotonic", lambda: next(ticks))
    clock = ManualClock(BASE, running=True, speed=60)
    assert clock.now() == add(BASE, dt.timedelta(minutes=10))
