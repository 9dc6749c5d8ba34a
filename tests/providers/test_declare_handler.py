"""The GRTgaz declaration through the outbox (``feeds.DeclareHandler``), against the
simulator over the real httpx stack: local check, one POST per program id, read-back,
feasibility follow-up, the programs session and its kept copy, and a crash between
the outbox write and the POST."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from pupitre.providers.core.clock import PARIS, ManualClock
from pupitre.providers.core.outbox import ActionRefused
from pupitre.providers.core.retry import RetryPolicy
from pupitre.providers.core.secrets import SecretStore
from pupitre.providers.grtgaz import feeds, rules
from pupitre.providers.grtgaz.models import Flex, IndicatorStatus
from pupitre.runtime import Runtime, build_runtime
from pupitre.settings import Settings
from tests.helpers import MemoryKeyring, declarations_received

DAY = dt.date(2026, 11, 18)
NOW = dt.datetime(2026, 11, 18, 10, 53, tzinfo=PARIS)
MONTOIR = "LI1006"


@pytest.fixture
def make(tmp_path, monkeypatch):
    monkeypatch.setenv("PUPITRE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PUPITRE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setattr(feeds, "FEASIBILITY_POLL_SECONDS", 0.01)

    def runtime(now: dt.datetime = NOW) -> Runtime:
        return build_runtime(
            Settings(),
            sandbox=True,
            clock=ManualClock(now),
            data_dir=tmp_path / "data",
            retry=RetryPolicy(attempts=1),
            sandbox_read_timeout=5.0,  # a loaded CI machine is slow, not down
            secrets=SecretStore(credentials_file=tmp_path / "config" / "c.toml", env={}, backend=MemoryKeyring()),
        )

    return runtime


def session(runtime: Runtime) -> feeds.GrtgazSession:
    return runtime.connections[feeds.PROVIDER].session


def handler(runtime: Runtime) -> feeds.DeclareHandler:
    return runtime.connections[feeds.PROVIDER].handlers[(feeds.PROVIDER, feeds.DECLARE_ACTION)]


async def payload_for(
    runtime: Runtime, changes: dict[int, float], *, version: int | None = None, now: dt.datetime | None = None
) -> dict:
    """A declaration of Montoir's rebuilt program with ``changes`` (slot → value)."""
    now = now or runtime.clock.now()
    programs = await session(runtime).programs(MONTOIR, DAY)
    site = runtime.simulators["grtgaz"].site(MONTOIR)
    context = rules.ProgramContext.from_api(site, DAY, profiles=programs.declared, rebuilt=programs.rebuilt)
    values = list(programs.rebuilt.quantities)
    for slot, value in changes.items():
        values[slot] = value
    pid = None if version is None else rules.program_id(DAY, MONTOIR, site.contract, version)
    profile = rules.input_profile(context, values, declared_at=now, profile_id=pid)
    return feeds.declaration_payload(profile, edited=sorted(changes), base_label="rebuilt program", now=now)


#: A declaration the previous version (before the msgspec types) queued: ``feeds.declaration_payload`` of
#: Montoir's rebuilt program with slot 12 at 500,000 kWh, declared at NOW. Taken by running it.
OLD_OUTBOX = (
    '{"program": {"hmsProfileId": "20261118-LI1006-GFCCGE06-2", '
    '"declarationDateTime": "2026-11-18T09:53:00.000Z", "hmsSiteId": "LI1006", "hmsSiteLabel": "Montoir", '
    '"connectionContractCode": "GFCCGE06", "gasDay": "2026-11-18", "unit": "kWh25", "qMin": 0.0, '
    '"qMAx": 800000.0, "hmsHourlyProfile": [{"hourlySlotStartDateTime": "2026-11-18T05:00:00.000Z", '
    '"quantity": 375000.0}, {"hourlySlotStartDateTime": "2026-11-18T06:00:00.000Z", "quantity": 477000.0}, '
    '{"hourlySlotStartDateTime": "2026-11-18T07:00:00.000Z", "quantity": 545000.0}, '
    '{"hourlySlotStartDateTime": "2026-11-18T08:00:00.000Z", "quantity": 545000.0}, '
    '{"hourlySlotStartDateTime": "2026-11-18T09:00:00.000Z", "quantity": 511000.0}, '
    '{"hourlySlotStartDateTime": "2026-11-18T10:00:00.000Z", "quantity": 477000.0}, '
    '{"hourlySlotStartDateTime": "2026-11-18T11:00:00.000Z", "quantity": 477000.0}, '
    '{"hourlySlotStartDateTime": "2026-11-18T12:00:00.000Z", "quantity": 477000.0}, '
    '{"hourlySlotStartDateTime": "2026-11-18T13:00:00.000Z", "quantity": 443000.0}, '
    '{"hourlySlotStartDateTime": "2026-11-18T14:00:00.000Z", "quantity": 409000.0}, '
    '{"hourlySlotStartDateTime": "2026-11-18T15:00:00.000Z", "quantity": 443000.0}, '
    '{"hourlySlotStartDateTime": "2026-11-18T16:00:00.000Z", "quantity": 511000.0}, '
    '{"hourlySlotStartDateTime": "2026-11-18T17:00:00.000Z", "quantity": 500000.0}, '
    '{"hourlySlotStartDateTime": "2026-11-18T18:00:00.000Z", "quantity": 579000.0}, '
    '{"hourlySlotStartDateTime": "2026-11-18T19:00:00.000Z", "quantity": 545000.0}, '
    '{"hourlySlotStartDateTime": "2026-11-18T20:00:00.000Z", "quantity": 477000.0}, '
    '{"hourlySlotStartDateTime": "2026-11-18T21:00:00.000Z", "quantity": 409000.0}, '
    '{"hourlySlotStartDateTime": "2026-11-18T22:00:00.000Z", "quantity": 341000.0}, '
    '{"hourlySlotStartDateTime": "2026-11-18T23:00:00.000Z", "quantity": 307000.0}, '
    '{"hourlySlotStartDateTime": "2026-11-19T00:00:00.000Z", "quantity": 273000.0}, '
    '{"hourlySlotStartDateTime": "2026-11-19T01:00:00.000Z", "quantity": 273000.0}, '
    '{"hourlySlotStartDateTime": "2026-11-19T02:00:00.000Z", "quantity": 273000.0}, '
    '{"hourlySlotStartDateTime": "2026-11-19T03:00:00.000Z", "quantity": 273000.0}, '
    '{"hourlySlotStartDateTime": "2026-11-19T04:00:00.000Z", "quantity": 307000.0}]}, "edited": [12], '
    '"base": "rebuilt program", "queued_at": "2026-11-18T10:53:00+01:00"}'
)


async def test_a_declaration_queued_by_the_previous_version_is_still_sent(make):
    runtime = make()
    calls = declarations_received(runtime.simulators["grtgaz"])
    item_id = runtime.outbox.enqueue(feeds.PROVIDER, feeds.DECLARE_ACTION, json.loads(OLD_OUTBOX))
    [delivery] = await runtime.outbox.drain()
    assert delivery.outcome == "delivered" and delivery.verified is True
    assert delivery.message == "20261118-LI1006-GFCCGE06-2 ACCEPTED by GRTgaz: Programme accepté"
    assert calls == ["20261118-LI1006-GFCCGE06-2"]
    assert runtime.outbox.item(item_id).response.startswith("received by GRTgaz (201)")
    sent = runtime.simulators["grtgaz"].stored("20261118-LI1006-GFCCGE06-2").profile
    assert sent.quantities[12] == 500_000.0 and sent.qMAx == 800_000.0
    assert sent.declarationDateTime == NOW


async def test_declared_once_read_back_and_accepted(make):
    runtime = make()
    calls = declarations_received(runtime.simulators["grtgaz"])
    payload = await payload_for(runtime, {12: 500_000.0})
    item_id = runtime.outbox.enqueue(feeds.PROVIDER, feeds.DECLARE_ACTION, payload)
    [delivery] = await runtime.outbox.drain()
    assert delivery.outcome == "delivered" and delivery.verified is True
    assert delivery.message == "20261118-LI1006-GFCCGE06-2 ACCEPTED by GRTgaz: Programme accepté"
    assert calls == ["20261118-LI1006-GFCCGE06-2"]
    assert runtime.outbox.item(item_id).response.startswith("received by GRTgaz (201)")
    outcomes = [row[3] for row in runtime.store.audit_log(feeds.PROVIDER)]
    assert outcomes.count("queued") == 1 and outcomes.count("delivered") == 1 and "verified" in outcomes
    await runtime.aclose()


async def test_feasibility_followed_until_decided(make):
    runtime = make()
    sim = runtime.simulators["grtgaz"]
    sim.feasibility_delay = dt.timedelta(seconds=30)
    payload = await payload_for(runtime, {12: 500_000.0})
    runtime.outbox.enqueue(feeds.PROVIDER, feeds.DECLARE_ACTION, payload)
    [delivery] = await runtime.outbox.drain()
    assert delivery.outcome == "delivered"
    assert delivery.message.endswith("read back, feasibility not decided yet")
    runtime.clock.advance(seconds=31)
    found = await session(runtime).program(payload["program"]["hmsProfileId"])
    assert found is not None and found.status.value == "ACCEPTED"
    await runtime.aclose()


async def test_refused_program_is_delivered_with_the_comment(make):
    """Infeasible is not an API error: delivered, read back REFUSED with the §13.3 comment."""
    runtime = make()
    runtime.simulators["grtgaz"].schedule(
        MONTOIR, Flex.Q_TO_QMINUS, IndicatorStatus.RED, dt.datetime(2026, 11, 18, 8, 52, tzinfo=PARIS)
    )
    payload = await payload_for(runtime, {6: 1000.0})  # 12h lowered, inside the window
    runtime.outbox.enqueue(feeds.PROVIDER, feeds.DECLARE_ACTION, payload)
    [delivery] = await runtime.outbox.drain()
    assert "REFUSED by GRTgaz" in delivery.message and "HMS_PROFILE_NOT_RESPECT_Q0_DELAY" in delivery.message
    await runtime.aclose()


async def test_already_received_program_is_not_posted_again(make):
    """An earlier attempt got through (answer lost, or a crash after the POST)."""
    runtime = make()
    sim = runtime.simulators["grtgaz"]
    payload = await payload_for(runtime, {12: 500_000.0})
    await session(runtime).client.declare_programs([feeds.payload_profile(payload)])
    calls = declarations_received(sim)
    runtime.outbox.enqueue(feeds.PROVIDER, feeds.DECLARE_ACTION, payload)
    [delivery] = await runtime.outbox.drain()
    assert delivery.outcome == "delivered" and calls == []
    assert "not sent again" in runtime.outbox.item(delivery.item_id).response
    await runtime.aclose()


async def test_id_taken_by_another_program_fails_without_posting(make):
    runtime = make()
    sim = runtime.simulators["grtgaz"]
    other = await payload_for(runtime, {12: 400_000.0})
    await session(runtime).client.declare_programs([feeds.payload_profile(other)])
    mine = await payload_for(runtime, {12: 500_000.0}, version=2)
    calls = declarations_received(sim)
    with pytest.raises(ActionRefused, match="DIFFERENT program"):
        await handler(runtime).send(mine)
    assert calls == []
    await runtime.aclose()


async def test_local_check_refuses_hours_no_longer_adjustable(make):
    """Queued at 10:53 with 10h changed; at 11:20 the first adjustable hour is 11h
    (chapter 2 §7): the change would be dropped, so it is not sent."""
    runtime = make()
    payload = await payload_for(runtime, {4: 300_000.0})
    handler(runtime).check(payload, NOW)
    with pytest.raises(ActionRefused, match="10h were changed but are no longer adjustable"):
        handler(runtime).check(payload, NOW + dt.timedelta(minutes=27))
    with pytest.raises(ActionRefused, match="is over"):
        handler(runtime).check(payload, dt.datetime(2026, 11, 19, 6, 20, tzinfo=PARIS))
    await runtime.aclose()


async def test_local_check_refuses_what_grtgaz_would_reject(make):
    runtime = make()
    payload = await payload_for(runtime, {12: 9_000_000.0})
    with pytest.raises(ActionRefused, match="EXEEDED_QMIN_QMAX"):
        runtime.outbox.enqueue(feeds.PROVIDER, feeds.DECLARE_ACTION, payload)
    assert runtime.store.outbox(provider=feeds.PROVIDER) == []
    await runtime.aclose()


async def test_crash_after_outbox_write_is_sent_at_next_start(make):
    first = make()
    payload = await payload_for(first, {12: 500_000.0})
    first.outbox.enqueue(feeds.PROVIDER, feeds.DECLARE_ACTION, payload)  # then the process dies
    await first.aclose()
    second = make()
    calls = declarations_received(second.simulators["grtgaz"])
    assert feeds.pending_declarations(second.store, MONTOIR, DAY) == [payload]
    [delivery] = await second.outbox.drain()
    assert delivery.outcome == "delivered" and calls == [payload["program"]["hmsProfileId"]]
    assert feeds.pending_declarations(second.store, MONTOIR, DAY) == []
    await second.aclose()


async def test_programs_are_kept_for_when_the_api_is_down(make):
    runtime = make()
    read = await session(runtime).programs(MONTOIR, DAY)
    kept = session(runtime).cached_programs(MONTOIR, DAY)
    assert kept is not None and kept.from_store
    assert kept.rebuilt.quantities == read.rebuilt.quantities
    assert [p.hmsProfileId for p in kept.declared] == [p.hmsProfileId for p in read.declared]
    assert kept.declared[0].status == read.declared[0].status
    assert session(runtime).cached_programs(MONTOIR, DAY + dt.timedelta(days=5)) is None
    await runtime.aclose()


def test_version_and_slot_helpers():
    assert feeds.version_of("20261118-LI1006-GFCCGE06-12") == 12
    assert feeds.version_of("nonsense") == 0
    assert feeds.adjustable_from(DAY, NOW) == 4  # 10:53 → the 10h slot (§7)
    assert feeds.adjustable_from(DAY, dt.datetime(2026, 11, 18, 14, 8, tzinfo=PARIS)) == 7  # 14h08 → 13h
    assert feeds.adjustable_from(DAY, dt.datetime(2026, 11, 17, 20, 0, tzinfo=PARIS)) == 0
    assert feeds.adjustable_from(DAY, dt.datetime(2026, 11, 19, 6, 20, tzinfo=PARIS)) is None
    assert feeds.current_slot(DAY, NOW) == 4
    assert feeds.current_slot(DAY, dt.datetime(2026, 11, 17, 20, 0, tzinfo=PARIS)) is None
