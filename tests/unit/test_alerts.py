"""Alerts: the store's rows on both backends, the EDF OA deadline's stages on a fake clock
(a 25- and a 23-hour day too), and the engine raising and clearing from what a process knows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pupitre.alerts import AlertEngine, Observed, observe_store
from pupitre.providers.core.alerts import alert_key, worst
from pupitre.providers.core.api import from_data
from pupitre.providers.core.clock import PARIS, ManualClock
from pupitre.providers.core.store import OUTBOX_FAILED, OUTBOX_PENDING, Store
from pupitre.providers.edf_oa import feeds as edf_oa
from pupitre.providers.edf_oa.models import AcknowledgementsState, CurtailmentOrder
from pupitre.runtime import Runtime, build_runtime
from pupitre.settings import EdfOaSettings, Settings

T0 = dt.datetime(2026, 11, 23, 14, 0, tzinfo=PARIS)


# -- the store -----------------------------------------------------------------------------------


def test_one_open_alert_per_key_seen_by_whom_and_cleared(new_store: Callable[[], Store]) -> None:
    one, two = new_store(), new_store()  # two processes on one store
    raised = one.alert_raise("grtgaz:grey:", "grtgaz", "critical", "GREY at Dunkerque", T0)
    assert raised is not None and raised.open and raised.seen_at is None
    assert two.alert_raise("grtgaz:grey:", "grtgaz", "critical", "GREY at Dunkerque", T0) is None  # open already
    assert [a.key for a in two.alerts_open()] == ["grtgaz:grey:"]
    two.alert_update(raised.id, "critical", "GREY at Dunkerque, Fos")
    assert two.alert_seen(raised.id, "ana@jump-2", T0 + dt.timedelta(minutes=1))
    assert not one.alert_seen(raised.id, "bob@jump-3", T0 + dt.timedelta(minutes=2))  # seen once, by the first
    seen = one.alert(raised.id)
    assert seen is not None and seen.seen_by == "ana@jump-2" and seen.message == "GREY at Dunkerque, Fos"
    assert one.alert_clear(raised.id, T0 + dt.timedelta(minutes=5))
    assert not two.alert_clear(raised.id, T0 + dt.timedelta(minutes=6))
    assert one.alerts_open() == []
    again = two.alert_raise("grtgaz:grey:", "grtgaz", "critical", "GREY again", T0 + dt.timedelta(hours=1))
    assert again is not None and again.id != raised.id  # the cause came back: a new alert, the old in history
    assert [a.message for a in one.alert_history()] == ["GREY again", "GREY at Dunkerque, Fos"]


def test_an_announcement_is_claimed_once_and_a_dead_claim_is_taken_over(new_store: Callable[[], Store]) -> None:
    one, two = new_store(), new_store()
    alert = one.alert_raise("edf_oa:deadline-10:2026-11-24", "edf_oa", "critical", "deadline", T0)
    assert alert is not None
    assert one.alert_claim(alert.id, "p1", 1000.0, 10.0, lambda owner: True)
    assert not two.alert_claim(alert.id, "p2", 1000.0, 10.0, lambda owner: True)  # p1 alive, claim running
    assert two.alert_claim(alert.id, "p2", 1000.0, 10.0, lambda owner: owner != "p1")  # p1 died: taken over
    two.alert_announced(alert.id, "p2", T0)
    assert not one.alert_claim(alert.id, "p1", 2000.0, 1500.0, lambda owner: False)  # announced: never again
    found = one.alert(alert.id)
    assert found is not None and found.announced_at == T0


def test_an_alert_graded_worse_is_unseen_and_announced_again(new_store: Callable[[], Store]) -> None:
    one, two = new_store(), new_store()
    alert = one.alert_raise("grtgaz:red:", "grtgaz", "attention", "RED at Fos", T0)
    assert alert is not None
    assert one.alert_claim(alert.id, "p1", 1000.0, 10.0, lambda owner: True)
    one.alert_announced(alert.id, "p1", T0)
    assert two.alert_seen(alert.id, "ana@jump-2", T0)
    two.alert_update(alert.id, "attention", "RED at Fos, Cycofos")  # reworded: still seen, announced
    kept = one.alert(alert.id)
    assert kept is not None and kept.seen_by == "ana@jump-2" and kept.announced_at == T0
    two.alert_update(alert.id, "critical", "GREY at Fos")  # worse: news again, on every process
    worse = one.alert(alert.id)
    assert worse is not None and worse.severity == "critical" and worse.seen_at is None and worse.seen_by == ""
    assert worse.announced_at is None
    assert two.alert_claim(alert.id, "p2", 1000.0, 10.0, lambda owner: True)  # announced once more
    one.alert_update(alert.id, "attention", "RED at Fos")  # better: nothing to announce
    assert not one.alert_claim(alert.id, "p1", 1000.0, 10.0, lambda owner: True)  # p2's claim stands


def test_alerts_are_kept_apart_by_environment(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite3")
    store.bind_environments({"grtgaz": "real:https://api.example"})
    store.alert_raise("grtgaz:red:", "grtgaz", "attention", "RED", T0)
    other = Store(tmp_path / "s.sqlite3")  # the sandbox's session
    assert other.alerts_open() == [] and other.alert_history() == []
    assert [a.env for a in store.alerts_open()] == ["real:https://api.example"]


# -- the EDF OA deadline (T-30, T-10, passed) ----------------------------------------------------


def order_for(day: dt.date, *contracts: str, quiet: tuple[str, ...] = ()) -> CurtailmentOrder:
    """An order for ``day``: each of ``contracts`` curtailed from 12:00 to 14:00, ``quiet`` not."""
    start = dt.datetime.combine(day, dt.time(0), tzinfo=PARIS)
    noon, two, end = (start.replace(hour=12), start.replace(hour=14), start + dt.timedelta(days=1))

    def periods(curtailed: bool) -> list[dict[str, Any]]:
        return [
            {"start_date": start.isoformat(), "end_date": noon.isoformat(), "value": 0.0},
            {"start_date": noon.isoformat(), "end_date": two.isoformat(), "value": 1.0 if curtailed else 0.0},
            {"start_date": two.isoformat(), "end_date": end.isoformat(), "value": 0.0},
        ]

    return from_data(
        {
            "order_id": f"OA-{day:%Y%m%d}-1A2B",
            "updated_at": dt.datetime.combine(day - dt.timedelta(days=1), dt.time(13), tzinfo=PARIS).isoformat(),
            "application_date": day.isoformat(),
            "curtailments": [
                {"contract_id": cid, "plant_id": "30001234567890", "data": periods(cid in contracts)}
                for cid in (*contracts, *quiet)
            ],
        },
        CurtailmentOrder,
        provider="EDF OA",
    )


def acks_of(order: CurtailmentOrder, values: dict[str, bool], at: dt.datetime) -> AcknowledgementsState:
    return from_data(
        {
            "order_id": order.order_id,
            "updated_at": order.updated_at,
            "application_date": order.application_date,
            "acknowledgements": [
                {
                    "contract_id": cid,
                    "ack_list": [
                        {"user_id": "PROD-1", "ack_value": v, "ack_date": at.isoformat(), "ack_source": "API"}
                    ],
                }
                for cid, v in values.items()
            ],
        },
        AcknowledgementsState,
        provider="EDF OA",
    )


def stage(order: CurtailmentOrder, now: dt.datetime, acks: AcknowledgementsState | None = None) -> tuple[Any, Any]:
    found, due = edf_oa.deadline_findings(
        EdfOaSettings(), {edf_oa.CURTAILMENTS_FEED: order, edf_oa.ACKS_FEED: acks}, now
    )
    return [(f.cause, f.subject, f.level) for f in found], due


@pytest.mark.parametrize(
    "today",
    [
        pytest.param(dt.date(2026, 11, 23), id="ordinary"),
        pytest.param(dt.date(2026, 10, 25), id="25-hour-day"),
        pytest.param(dt.date(2026, 3, 29), id="23-hour-day"),
        pytest.param(dt.date(2026, 3, 28), id="eve-of-23-hour-day"),
    ],
)
def test_the_deadline_alerts_at_t30_t10_and_when_passed(today: dt.date) -> None:
    tomorrow = today + dt.timedelta(days=1)
    order = order_for(tomorrow, "BOA0001", "BOA0003", quiet=("BOA0002",))
    deadline = dt.datetime.combine(today, dt.time(16), tzinfo=PARIS)
    subject = tomorrow.isoformat()

    def instant(minutes_before: float) -> dt.datetime:
        """``minutes_before`` the deadline in real time (UTC), shown in Paris time."""
        return (deadline.astimezone(dt.timezone.utc) - dt.timedelta(minutes=minutes_before)).astimezone(PARIS)

    assert instant(30).strftime("%H:%M") == "15:30"  # a deadline at 16:00 is at 16:00 on any day
    assert stage(order, instant(31)) == ([], instant(30))
    assert stage(order, instant(30)) == ([("deadline-30", subject, "attention")], instant(10))
    assert stage(order, instant(10.5))[0] == [("deadline-30", subject, "attention")]
    assert stage(order, instant(10)) == ([("deadline-10", subject, "critical")], instant(0))
    assert stage(order, instant(0)) == ([("deadline-passed", subject, "critical")], None)
    assert stage(order, instant(-120)) == ([("deadline-passed", subject, "critical")], None)
    # every curtailed contract acknowledged (true or false): nothing is due
    acks = acks_of(order, {"BOA0001": True, "BOA0003": False}, instant(40))
    assert stage(order, instant(5), acks) == ([], None)
    # one left: still due, and it names it
    found, _ = edf_oa.deadline_findings(
        EdfOaSettings(),
        {edf_oa.CURTAILMENTS_FEED: order, edf_oa.ACKS_FEED: acks_of(order, {"BOA0001": True}, instant(40))},
        instant(5),
    )
    assert "1 contract(s)" in found[0].message and "BOA0003" in found[0].message
    # the order of another day (yesterday's, read after midnight): not tomorrow's, nothing
    assert stage(order, dt.datetime.combine(tomorrow, dt.time(15, 55), tzinfo=PARIS)) == ([], None)


# -- the engine ------------------------------------------------------------------------------------


@pytest.fixture
def runtime(new_store: Callable[[], Store], tmp_path: Path) -> Runtime:
    built = build_runtime(
        Settings(),
        sandbox=True,
        clock=ManualClock(dt.datetime(2026, 11, 23, 15, 0)),
        store=new_store(),
        data_dir=tmp_path,
    )
    return built


def edf_results(runtime: Runtime, acks: AcknowledgementsState | None) -> dict[str, Any]:
    order = order_for(dt.date(2026, 11, 24), "BOA0001", "BOA0003")
    return {
        edf_oa.CURTAILMENTS_FEED: order,
        edf_oa.ACKS_FEED: acks,
        edf_oa.CONTRACTS_FEED: [],
        edf_oa.TOKEN_FEED: None,
    }


def keys(alerts: list[Any]) -> list[str]:
    return sorted(a.key for a in alerts)


def test_the_engine_raises_each_stage_once_and_clears_it_when_acknowledged(runtime: Runtime) -> None:
    engine = AlertEngine(runtime)
    clock = runtime.clock
    assert isinstance(clock, ManualClock)
    results = edf_results(runtime, None)
    observed = Observed({"edf_oa": results})
    first = engine.evaluate(observed, clock.now())  # 15:00: the order needs acknowledging (a finding)
    assert keys(first.raised) == ["edf_oa:ack:OA-20261124-1A2B"]
    assert first.next_due == dt.datetime(2026, 11, 23, 15, 30, tzinfo=PARIS)
    assert engine.evaluate(observed, clock.now()).raised == []  # open already: not raised again
    clock.set(dt.datetime(2026, 11, 23, 15, 30))
    t30 = engine.evaluate(observed, clock.now())
    assert keys(t30.raised) == ["edf_oa:deadline-30:2026-11-24"]
    clock.set(dt.datetime(2026, 11, 23, 15, 50))
    t10 = engine.evaluate(observed, clock.now())
    assert keys(t10.raised) == ["edf_oa:deadline-10:2026-11-24"] and keys(t10.cleared) == [
        "edf_oa:deadline-30:2026-11-24"
    ]
    clock.set(dt.datetime(2026, 11, 23, 16, 0, 1))
    passed = engine.evaluate(observed, clock.now())
    assert keys(passed.raised) == ["edf_oa:deadline-passed:2026-11-24"]
    top = worst(passed.open)
    assert top is not None and top.severity == "critical" and "PASSED" in top.message
    # acknowledged (late, but acknowledged): the causes went away, every alert clears
    order = results[edf_oa.CURTAILMENTS_FEED]
    acked = {**results, edf_oa.ACKS_FEED: acks_of(order, {"BOA0001": True, "BOA0003": True}, clock.now())}
    done = engine.evaluate(Observed({"edf_oa": acked}), clock.now())
    assert keys(done.cleared) == ["edf_oa:ack:OA-20261124-1A2B", "edf_oa:deadline-passed:2026-11-24"]
    assert done.open == [] and done.next_due is None
    history = runtime.store.alert_history()
    assert [a.cause for a in history] == ["deadline-passed", "deadline-10", "deadline-30", "ack"]
    assert all(not a.open for a in history)


def test_a_process_without_the_data_clears_nothing_and_an_outage_clears_on_a_newer_read(runtime: Runtime) -> None:
    engine = AlertEngine(runtime)
    now = runtime.clock.now()
    engine.evaluate(Observed({"edf_oa": edf_results(runtime, None)}), now)
    # a process that has not read EDF OA yet (or read only some of its feeds) judges nothing of it
    partial = {edf_oa.TOKEN_FEED: None}
    assert engine.evaluate(Observed({"edf_oa": partial}), now).cleared == []
    assert engine.evaluate(Observed(), now).cleared == []
    # a provider whose reads fail here: unavailable, kept open by a process that sees no failure...
    down = engine.evaluate(Observed(failures={"grtgaz": ["GRTgaz: HTTP 503", "GRTgaz: HTTP 503"]}), now)
    assert keys(down.raised) == ["grtgaz:unavailable:"]
    assert down.raised[0].severity == "unknown" and down.raised[0].message == "data unavailable: GRTgaz: HTTP 503"
    assert engine.evaluate(Observed(), now).cleared == []
    # ...until a good read is stored after it was raised (by whichever process)
    runtime.store.save_snapshot("grtgaz.indicators", [], now + dt.timedelta(seconds=30))
    assert keys(engine.evaluate(Observed(), now + dt.timedelta(seconds=31)).cleared) == ["grtgaz:unavailable:"]


def test_a_failed_action_is_an_alert_until_it_is_dealt_with(runtime: Runtime) -> None:
    engine = AlertEngine(runtime)
    store, now = runtime.store, runtime.clock.now()
    item = store.outbox_add("edf_oa", edf_oa.ACK_ACTION, {"order_id": "X"}, now)
    store.outbox_update(item, OUTBOX_FAILED, now, error="HTTP 400: RG_ACK_0010 order_id is not today's")
    raised = engine.evaluate(Observed(), now).raised
    assert keys(raised) == [alert_key("edf_oa", "action-failed", str(item))]
    assert raised[0].severity == "critical" and "RG_ACK_0010" in raised[0].message
    store.outbox_update(item, OUTBOX_PENDING, now, attempted=False)  # sent again
    assert keys(engine.evaluate(Observed(), now).cleared) == [alert_key("edf_oa", "action-failed", str(item))]


def test_a_refused_program_is_an_alert_on_every_console_until_its_gas_day_ends(runtime: Runtime) -> None:
    """Whichever process read GRTgaz's verdict (an agent, another console), a REFUSED program
    (§13.3) is an alert for every process of the store, until its gas day is over."""
    from pupitre.providers.grtgaz import feasibility, rules

    engine = AlertEngine(runtime)
    store, clock = runtime.store, runtime.clock
    assert isinstance(clock, ManualClock)
    refused = rules.program_id(dt.date(2026, 11, 23), "LI1001", "C1", 2)
    pending = rules.program_id(dt.date(2026, 11, 23), "LI1001", "C1", 3)
    store.watch_add(feasibility.FOLLOWED, [refused, pending], clock.now())
    assert store.watch_settle(feasibility.FOLLOWED, refused, "REFUSED")  # settled by another process
    raised = engine.evaluate(Observed(), clock.now()).raised
    assert keys(raised) == [alert_key("grtgaz", "verdict-refused", refused)]
    assert raised[0].severity == "critical" and "REFUSED" in raised[0].message
    clock.set(dt.datetime(2026, 11, 24, 5, 59))  # still the gas day of the 23rd
    assert engine.evaluate(Observed(), clock.now()).cleared == []
    clock.set(dt.datetime(2026, 11, 24, 6, 0))  # its gas day is over
    assert keys(engine.evaluate(Observed(), clock.now()).cleared) == [alert_key("grtgaz", "verdict-refused", refused)]


def test_the_agent_reads_what_other_processes_stored(runtime: Runtime) -> None:
    feed = runtime.feed("grtgaz.indicators")
    now = runtime.clock.now()
    cache: dict[str, Any] = {}
    assert observe_store(runtime, cache) == {}
    runtime.store.save_snapshot(feed.name, [], now)
    assert observe_store(runtime, cache) == {"grtgaz": {"grtgaz.indicators": []}}
    held = cache[feed.name]
    assert observe_store(runtime, cache) == {"grtgaz": {"grtgaz.indicators": []}} and cache[feed.name] is held


def test_a_finding_without_a_cause_keeps_its_key_while_its_counts_change() -> None:
    from pupitre.alerts import unnamed_cause
    from pupitre.providers.core.checks import Finding

    three = Finding("X", "attention", "3 order(s) held since 14:02")
    four = Finding("X", "attention", "4 order(s) held since 14:05")
    other = Finding("X", "attention", "3 consent(s) expired")
    assert unnamed_cause(three) == unnamed_cause(four) != unnamed_cause(other)
    assert unnamed_cause(Finding("X", "critical", three.message)) != unnamed_cause(three)


def test_the_alerts_settings_refuse_a_command_line_that_does_not_parse() -> None:
    from pupitre.providers.core.config import default_settings_text
    from pupitre.settings import AlertsSettings, Settings, SettingsError

    with pytest.raises(SettingsError, match="not a command line"):
        AlertsSettings(command="page --text 'unclosed")
    with pytest.raises(SettingsError, match="command_timeout_seconds: should be greater than 0"):
        Settings.from_dict({"alerts": {"command_timeout_seconds": 0}})
    assert AlertsSettings(command="   ").command == ""
    template = default_settings_text()
    assert "[alerts]" in template and "command_timeout_seconds" in template
