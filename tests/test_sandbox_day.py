"""The sandbox as a user starts it: a lively day at any hour, relative to the clock."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from pupitre import check
from pupitre.providers.core.certs import sandbox_credentials
from pupitre.providers.core.clock import PARIS, ManualClock, add, gas_day_hours
from pupitre.providers.core.faults import FaultPlan
from pupitre.providers.core.retry import RetryPolicy
from pupitre.providers.core.secrets import SecretStore
from pupitre.providers.core.store import Store
from pupitre.providers.grdf_adict import feeds as adict_feeds
from pupitre.providers.grtgaz.models import Flex, IndicatorStatus
from pupitre.providers.grtgaz.rules import last_publication
from pupitre.providers.grtgaz.sandbox import GrtgazSimulator, LivelyScenario
from pupitre.providers.grtgaz.sites import SITES
from pupitre.runtime import Runtime, build_runtime
from pupitre.settings import Settings

DAY = dt.date(2026, 12, 7)
RED_WORD = repr(IndicatorStatus.RED)


@pytest.fixture(scope="module")
def sandbox_pair(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("pair")
    sandbox_credentials(directory, "GRTgaz")
    return directory


@pytest.fixture
def data_dir(tmp_path: Path, sandbox_pair: Path) -> Path:
    (tmp_path / "data").mkdir(mode=0o700)
    shutil.copytree(sandbox_pair, tmp_path / "data" / "sandbox")
    return tmp_path / "data"


def training(data_dir: Path, now: dt.datetime) -> Runtime:
    return build_runtime(
        Settings(),
        sandbox=True,
        clock=ManualClock(now),
        data_dir=data_dir,
        faults=FaultPlan(),
        retry=RetryPolicy(attempts=1),
        secrets=SecretStore(credentials_file=data_dir / "c.toml", env={}),
        training_day=True,
    )


def run_check(data_dir: Path, now: dt.datetime, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code = check.main(training(data_dir, now), fmt="json")
    return code, json.loads(capsys.readouterr().out)


def messages(report: dict[str, Any], provider: str) -> list[tuple[str, str]]:
    return [(f["level"], f["message"]) for f in report["findings"] if f["provider"] == provider]


# -- GRTgaz: some sites red and a change announced within the hour, at any hour ------------------


@pytest.mark.parametrize(
    "gas_day", [DAY, dt.date(2027, 3, 27), dt.date(2026, 10, 24)], ids=["24h", "spring-23h", "autumn-25h"]
)
def test_every_hour_of_the_gas_day_has_red_sites_and_a_change_coming(gas_day: dt.date) -> None:
    scenario = LivelyScenario(seed=0)
    slots = gas_day_hours(gas_day)
    assert len(scenario.plan(gas_day)) > 0
    previous: set[tuple[str, Flex]] | None = None
    for hour in slots:
        red = {(s.site_id, f) for s in SITES for f in Flex if scenario(s, f, hour) is IndicatorStatus.RED}
        assert len(red) >= 2, hour
        if previous is not None:
            assert red != previous, f"no change published for {hour}"
        previous = red


def test_the_two_repeated_hours_of_the_autumn_day_are_planned_apart() -> None:
    scenario = LivelyScenario(seed=0)
    first, second = [h for h in gas_day_hours(dt.date(2026, 10, 24)) if h.hour == 2]
    red = [
        {s.site_id for s in SITES for f in Flex if scenario(s, f, h) is IndicatorStatus.RED} for h in (first, second)
    ]
    assert red[0] != red[1]


@pytest.mark.parametrize("clock", ["04:30", "08:26", "12:05", "19:40", "23:59"])
def test_the_default_simulator_shows_red_and_announces_a_change_within_the_hour(clock: str) -> None:
    now = dt.datetime.combine(DAY, dt.time.fromisoformat(clock), tzinfo=PARIS)
    sim = GrtgazSimulator(ManualClock(now))
    red_now = [s for s in sim.all_site_indicators(now) if RED_WORD in repr(s.currentIndicator)]
    assert red_now
    publication = add(last_publication(now), dt.timedelta(hours=1))
    assert dt.timedelta(0) < publication - now <= dt.timedelta(hours=1)
    before = sim.all_site_indicators(now)
    after = sim.all_site_indicators(publication)
    assert [s.currentIndicator for s in before] != [s.nextIndicator or s.currentIndicator for s in after]


def test_no_program_is_declared_in_the_future() -> None:
    morning = dt.datetime.combine(DAY, dt.time(8, 26), tzinfo=PARIS)
    clock = ManualClock(morning)
    sim = GrtgazSimulator(clock)
    tomorrow = DAY + dt.timedelta(days=1)
    assert sim.site_hms_profiles("LI1001", tomorrow) == []  # declared at 15:00: not yet
    today = sim.site_hms_profiles("LI1001", DAY)
    assert today and all(p.declarationDateTime <= morning for p in today)
    clock.set(dt.datetime.combine(DAY, dt.time(15, 30), tzinfo=PARIS))
    later = sim.site_hms_profiles("LI1001", tomorrow)
    assert [p.declarationDateTime.astimezone(PARIS).time() for p in later] == [dt.time(15, 0)]


def test_an_operator_declaring_first_gets_no_invented_version_1() -> None:
    clock = ManualClock(dt.datetime.combine(DAY, dt.time(9, 0), tzinfo=PARIS))
    sim = GrtgazSimulator(clock)
    tomorrow = DAY + dt.timedelta(days=1)
    assert sim.site_hms_profiles("LI1001", tomorrow) == []
    sim.site_hms_profiles("LI1001", DAY)
    sim.programs[("LI1001", tomorrow)] = [sim.programs[("LI1001", DAY)][0]]  # a program stands in for hers
    clock.set(dt.datetime.combine(DAY, dt.time(16, 0), tzinfo=PARIS))
    assert len(sim.site_hms_profiles("LI1001", tomorrow)) == 1


# -- pupitre check on a training day ---------------------------------------------------------------


def test_check_follows_the_day_not_always_critical(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    night = dt.datetime.combine(DAY, dt.time(4, 30), tzinfo=PARIS)
    code, report = run_check(data_dir, night, capsys)
    assert code == 1, report
    assert any("RED" in text for _, text in messages(report, "GRTgaz"))
    assert [level for level, _ in messages(report, "GRDF ADICT")] == ["attention"]  # proofs due, none late
    adict = messages(report, "GRDF ADICT")[0][1]
    assert "awaiting proofs" in adict and "past their deadline" not in adict
    assert not any("since yesterday" in text for _, text in messages(report, "GRDF ADICT"))
    assert "3 request(s) watched" in messages(report, "GRDF OMEGA")[0][1]
    switchgrid = messages(report, "Switchgrid")[0][1]
    assert "1 ask(s), 0 awaiting signature" in switchgrid and "1 order(s) followed, 0 running" in switchgrid
    assert "no curtailment order for tomorrow yet" in messages(report, "EDF OA")[0][1]

    afternoon = dt.datetime.combine(DAY, dt.time(14, 10), tzinfo=PARIS)
    code, report = run_check(data_dir, afternoon, capsys)
    assert code == 1, report
    assert any("OA-" in text and "deadline 16:00" in text for _, text in messages(report, "EDF OA")), report["findings"]

    late = dt.datetime.combine(DAY, dt.time(16, 30), tzinfo=PARIS)
    code, report = run_check(data_dir, late, capsys)
    assert code == 2, report
    assert [level for level, _ in messages(report, "EDF OA")] == ["critical"]


def test_lost_rights_since_yesterday_need_a_yesterday_in_this_store(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    today = dt.datetime.combine(DAY, dt.time(9, 0), tzinfo=PARIS)
    _, report = run_check(data_dir, today, capsys)
    assert not any("since yesterday" in text for _, text in messages(report, "GRDF ADICT"))
    store = Store(data_dir / "pupitre.sqlite3")
    try:
        store.bind_environments({})
        assert store.read_before(adict_feeds.RIGHTS_FEED, today + dt.timedelta(seconds=1))
        assert not store.read_before(adict_feeds.RIGHTS_FEED, today - dt.timedelta(hours=1))
        assert not store.read_before("grdf_adict.nothing", today)
    finally:
        store.close()
    _, report = run_check(data_dir, today + dt.timedelta(days=1), capsys)
    assert any("since yesterday" in text for _, text in messages(report, "GRDF ADICT"))


async def test_a_simulator_is_built_on_its_first_request(data_dir: Path) -> None:
    """A check or a dashboard pays only for the simulators its calls reach (issue 20)."""
    now = dt.datetime(2026, 12, 7, 10, 0, tzinfo=PARIS)
    first = training(data_dir, now)
    first.http  # noqa: B018 — a store's first use of the sandbox: what is seeded is built now
    seeded = set(first.ctx.simulators)
    assert "grdf_omega" in seeded and first.store.watch_list("grdf_omega")
    await first.aclose()
    runtime = training(data_dir, now)
    try:
        runtime.http  # noqa: B018
        assert dict(runtime.ctx.simulators) == {}  # seeded already: nothing built before a call
        await runtime.feed("grtgaz.indicators").fetch()
        assert set(runtime.ctx.simulators) == {"grtgaz"}
        assert runtime.ctx.simulators.get("edf_oa") is runtime.simulator_app("edf_oa").simulator  # asked: built
        assert set(runtime.simulators) == set(runtime.sandboxed)
    finally:
        await runtime.aclose()
