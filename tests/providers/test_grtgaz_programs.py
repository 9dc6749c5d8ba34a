"""GRTgaz programs: client against the simulator over the real httpx stack (§2, §3, §13.2-13.6, §14.3-14.6)."""

from __future__ import annotations

import datetime as dt
from typing import AsyncIterator

import httpx
import msgspec
import orjson
import pytest

from pupitre.providers.core.certs import generate_self_signed
from pupitre.providers.core.clock import PARIS, ManualClock
from pupitre.providers.core.errors import BadRequestError, NotFoundError, ServerError
from pupitre.providers.core.faults import FaultPlan
from pupitre.providers.core.sandbox import SandboxTransport
from pupitre.providers.grtgaz import rules
from pupitre.providers.grtgaz.client import GrtgazClient, ProgramRejectedError
from pupitre.providers.grtgaz.feeds import declaration_payload, payload_profile
from pupitre.providers.grtgaz.models import (
    FeasibilityStatus,
    Flex,
    HourlyQuantity,
    IndicatorStatus,
    InputHmsProfile,
    to_document,
)
from pupitre.providers.grtgaz.sandbox import GrtgazSimulator
from tests.providers.helpers import GRTGAZ_BASE_URL as BASE_URL
from tests.providers.helpers import GRTGAZ_TOKEN_URL as TOKEN_URL
from tests.providers.helpers import grtgaz_auth

GREEN, RED, GREY = IndicatorStatus.GREEN, IndicatorStatus.RED, IndicatorStatus.GREY
ACCEPTED, REFUSED, PENDING = FeasibilityStatus.ACCEPTED, FeasibilityStatus.REFUSED, FeasibilityStatus.PENDING
DAY = dt.date(2019, 11, 18)
SITE = "LI1006"  # Montoir, 1 tranche
BASE = 500_000.0


def at(hour: int, minute: int = 0, day: int = 18, month: int = 11, year: int = 2019) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=PARIS)


@pytest.fixture(scope="module")
def credentials() -> tuple[bytes, bytes]:
    return generate_self_signed("pupitre-grtgaz-programs-test")


START = at(15, 0, day=17)  # the clock fixture's time (tests/providers/conftest.py)


@pytest.fixture
def sim(clock: ManualClock, plan: FaultPlan, credentials: tuple[bytes, bytes]) -> GrtgazSimulator:
    return GrtgazSimulator(clock, plan, scenario="calm", certificate_pem=credentials[1], audience=TOKEN_URL)


@pytest.fixture
async def client(
    sim: GrtgazSimulator, clock: ManualClock, credentials: tuple[bytes, bytes]
) -> AsyncIterator[GrtgazClient]:
    async with httpx.AsyncClient(transport=SandboxTransport(sim.app, read_timeout=0.2)) as http:
        yield GrtgazClient(http, BASE_URL, grtgaz_auth(http, clock, credentials))


async def context(
    client: GrtgazClient, sim: GrtgazSimulator, day: dt.date = DAY, site_id: str = SITE
) -> rules.ProgramContext:
    """What an editor would build from the API before editing."""
    profiles = await client.site_hms_profiles(site_id, day)
    try:
        rebuilt = await client.rebuilt_hms_profile(site_id, day)
    except NotFoundError:
        rebuilt = None
    indicators = await client.site_flexibility_indicators(site_id)
    return rules.ProgramContext.from_api(
        sim.site(site_id), day, indicators=indicators, profiles=profiles, rebuilt=rebuilt
    )


async def declare(
    client: GrtgazClient,
    sim: GrtgazSimulator,
    clock: ManualClock,
    values: list[float | None],
    *,
    day: dt.date = DAY,
    profile_id: str | None = None,
):
    ctx = await context(client, sim, day)
    profile = rules.input_profile(ctx, values, declared_at=clock.now(), profile_id=profile_id)
    links = await client.declare_programs([profile])
    return ctx, profile, links


def flat(value: float = BASE) -> list[float | None]:
    return [value] * 24


# -- declaring and reading back (§14.3-14.6) -------------------------------------------


async def test_declare_answers_201_with_links_and_reads_back(
    client: GrtgazClient, sim: GrtgazSimulator, clock: ManualClock
) -> None:
    ctx, profile, links = await declare(client, sim, clock, flat())
    assert ctx.next_program_id() == "20191118-LI1006-GFCCGE06-1"
    assert [link.rel for link in links] == [profile.hmsProfileId]
    assert links[0].href == f"{BASE_URL}/hmsProfiles/20191118-LI1006-GFCCGE06-1"
    read = await client.hms_profile(links[0].rel)
    assert read.status is ACCEPTED and read.comment == "Programme accepté"
    assert read.processingDateTime == at(15, 0, day=17)
    assert read.quantities == flat() and read.qMAx == sim.site(SITE).q_max
    feasibility = read.hmsProfileFeasibility
    assert feasibility is not None and feasibility.indicator is not None
    assert feasibility.indicator.siteId == SITE and feasibility.indicator.status(Flex.Q_TO_QPLUS) is GREEN
    listed = await client.site_hms_profiles(SITE, DAY)
    assert [p.hmsProfileId for p in listed] == [profile.hmsProfileId]
    rebuilt = await client.rebuilt_hms_profile(SITE, DAY)
    assert rebuilt.hmsProfileId == "20191118-LI1006" and rebuilt.quantities == flat()
    assert rebuilt.hourlyQuantities[0].hourlySlotStartDateTime == at(6)
    assert rebuilt.hourlyQuantities[-1].hourlySlotStartDateTime == at(5, day=19)


async def test_wire_format_is_the_documents(client: GrtgazClient, sim: GrtgazSimulator, clock: ManualClock) -> None:
    ctx = await context(client, sim)
    document = to_document(rules.input_profile(ctx, flat(), declared_at=at(15, 0, day=17)))
    assert set(document) == {
        "hmsProfileId",
        "declarationDateTime",
        "hmsSiteId",
        "hmsSiteLabel",
        "connectionContractCode",
        "gasDay",
        "unit",
        "qMin",
        "qMAx",
        "hmsHourlyProfile",
    }
    assert document["declarationDateTime"] == "2019-11-17T15:00:00.000Z"
    assert document["hmsHourlyProfile"][0] == {"hourlySlotStartDateTime": "2019-11-18T06:00:00.000Z", "quantity": BASE}
    assert document["unit"] == "kWh25" and document["gasDay"] == "2019-11-18"


async def test_unknown_program_and_no_rebuilt_program_are_404(client: GrtgazClient) -> None:
    with pytest.raises(NotFoundError):
        await client.hms_profile("20191118-LI1006-GFCCGE06-9")
    with pytest.raises(NotFoundError):
        await client.rebuilt_hms_profile(SITE, DAY)
    assert await client.site_hms_profiles(SITE, DAY) == []
    with pytest.raises(NotFoundError):
        await client.site_hms_profiles("LI9999", DAY)
    with pytest.raises(BadRequestError):
        await client.site_hms_profiles("../x", DAY)
    with pytest.raises(BadRequestError):
        await client.hms_profile("a b")


# -- technical rejection: 400 with the §13.6 Error (§2) ---------------------------------


async def test_400_carries_the_error_code_and_every_reason(
    client: GrtgazClient, sim: GrtgazSimulator, clock: ManualClock
) -> None:
    values = flat()
    values[3] = 2e9  # 09h over Qmax (§2.4)
    values[5] = None  # 11h missing (§13.6 BAD_QUANTITIES)
    with pytest.raises(ProgramRejectedError) as caught:
        await declare(client, sim, clock, values)
    error = caught.value
    assert error.status == 400 and error.code == 400
    assert error.codes == [rules.BAD_QUANTITIES, rules.EXEEDED_QMIN_QMAX]
    assert "Pour les heures 09h dépassement de la valeur [Qmin/Qmax]" in error.reasons[1][1]
    assert "EXEEDED_QMIN_QMAX" in str(error) and isinstance(error, BadRequestError)
    assert await client.site_hms_profiles(SITE, DAY) == []  # nothing kept


async def test_batch_is_rejected_as_a_whole(client: GrtgazClient, sim: GrtgazSimulator, clock: ManualClock) -> None:
    """§2.6: one bad program among several: none is integrated."""
    ctx = await context(client, sim)
    good = rules.input_profile(ctx, flat(), declared_at=clock.now())
    other = rules.ProgramContext(sim.site("LI1001"), DAY)
    bad = rules.input_profile(other, flat(), declared_at=clock.now(), profile_id="20191118-LI1001-WRONG-1")
    bad = msgspec.structs.replace(bad, connectionContractCode="WRONG")
    with pytest.raises(ProgramRejectedError) as caught:
        await client.declare_programs([good, bad])
    assert caught.value.codes == [rules.CONTRACT_NOT_MATCHING_SITE]
    assert "[20191118-LI1001-WRONG-1]" in caught.value.error_message
    assert await client.site_hms_profiles(SITE, DAY) == []


async def test_versions_must_increase(client: GrtgazClient, sim: GrtgazSimulator, clock: ManualClock) -> None:
    """§2.2: an id already used, or a version below the last one, is rejected."""
    await declare(client, sim, clock, flat(), profile_id="20191118-LI1006-GFCCGE06-3")
    for version, code in ((3, rules.HMS_PROFILE_ID_ALREADY_EXISTS), (2, rules.HMS_PROFILE_VERSION_NOT_INCREASING)):
        with pytest.raises(ProgramRejectedError) as caught:
            await declare(client, sim, clock, flat(), profile_id=f"20191118-LI1006-GFCCGE06-{version}")
        assert caught.value.codes == [code]
    ctx, _, links = await declare(client, sim, clock, flat(BASE + 1000))
    assert ctx.next_version() == 4 and links[0].rel.endswith("-4")
    with pytest.raises(ProgramRejectedError) as caught:
        await declare(client, sim, clock, flat(), profile_id="20191118-LI1006-GFCCGE06-x")
    assert caught.value.codes == [rules.BAD_HMS_PROFILE_ID]


async def test_bad_format_and_past_gas_day(client: GrtgazClient, sim: GrtgazSimulator, clock: ManualClock) -> None:
    response = await client.http.post(f"{BASE_URL}/hmsProfiles", json=[{"hmsProfileId": 1}], auth=client.auth)  # type: ignore[arg-type]  # client.auth is set; httpx types post(auth=) without None
    assert response.status_code == 400 and response.json()["Code"] == 400
    assert response.json()["Message"].startswith("BAD_FORMAT: ")
    clock.set(at(6, 0, day=19))
    with pytest.raises(ProgramRejectedError) as caught:
        await declare(client, sim, clock, flat())
    assert caught.value.codes == [rules.PAST_GAS_DAY]


async def test_a_5xx_is_a_server_error_and_nothing_is_kept(
    client: GrtgazClient, sim: GrtgazSimulator, clock: ManualClock, plan: FaultPlan
) -> None:
    ctx = await context(client, sim)
    plan.add("/sfm/v1/hmsProfiles", "status", status=503, method="POST")
    with pytest.raises(ServerError):
        await client.declare_programs([rules.input_profile(ctx, flat(), declared_at=clock.now())])
    assert await client.site_hms_profiles(SITE, DAY) == []


# -- feasibility: REFUSED with the §13.3 comments (§3, §4) -----------------------------


async def test_refused_with_the_q0_delay_comment(
    client: GrtgazClient, sim: GrtgazSimulator, clock: ManualClock
) -> None:
    await declare(client, sim, clock, flat())
    sim.schedule(SITE, Flex.Q_TO_QMINUS, RED, at(9, 52))
    clock.set(at(12, 5))
    values = flat()
    values[7] = values[8] = BASE - 100_000  # 13h and 14h lower, Q→Q- red
    ctx, _, links = await declare(client, sim, clock, values)
    check = rules.precheck(ctx, values, now=clock.now(), profile_id=links[0].rel)
    read = await client.hms_profile(links[0].rel)
    assert read.status is REFUSED and check.outcome is rules.Outcome.REFUSED
    assert rules.comment_codes(read.comment) == [rules.HMS_PROFILE_NOT_RESPECT_Q0_DELAY]
    assert "sur les heures 13h, 14h" in read.comment
    assert read.comment == check.feasibility.comment  # the editor predicted the same words
    assert read.hmsProfileFeasibility.indicator.status(Flex.Q_TO_QMINUS) is RED
    assert (await client.rebuilt_hms_profile(SITE, DAY)).quantities == flat()  # unchanged


async def test_refused_for_shortage(client: GrtgazClient, sim: GrtgazSimulator, clock: ManualClock) -> None:
    await declare(client, sim, clock, flat())
    sim.declare_shortage(DAY)
    clock.set(at(12, 5))
    _, _, links = await declare(client, sim, clock, flat(BASE - 1000))
    read = await client.hms_profile(links[0].rel)
    assert read.status is REFUSED
    assert rules.comment_codes(read.comment) == [rules.HMS_PROFILE_NOT_RESPECT_GRAY_INDICATOR]


async def test_feasibility_pending_until_shown(client: GrtgazClient, sim: GrtgazSimulator, clock: ManualClock) -> None:
    sim.feasibility_delay = dt.timedelta(seconds=30)
    _, _, links = await declare(client, sim, clock, flat())
    read = await client.hms_profile(links[0].rel)
    assert read.status is PENDING and read.hmsProfileFeasibility is None
    with pytest.raises(NotFoundError):
        await client.rebuilt_hms_profile(SITE, DAY)
    clock.advance(seconds=30)
    assert (await client.hms_profile(links[0].rel)).status is ACCEPTED
    assert (await client.rebuilt_hms_profile(SITE, DAY)).quantities == flat()


# -- the rebuilt program is kept current (chapter 2) -----------------------------------


async def test_rebuilt_program_follows_accepted_programs(
    client: GrtgazClient, sim: GrtgazSimulator, clock: ManualClock
) -> None:
    await declare(client, sim, clock, flat())  # J-1 15:00: whole (§5)
    clock.set(at(14, 8))
    await declare(client, sim, clock, flat(BASE + 10_000))  # from the 13h slot (§7)
    rebuilt = (await client.rebuilt_hms_profile(SITE, DAY)).quantities
    assert rebuilt[:7] == [BASE] * 7 and rebuilt[7:] == [BASE + 10_000] * 17
    clock.set(at(14, 35))
    await declare(client, sim, clock, flat(1000.0))  # past hours never change (§8)
    rebuilt_doc = await client.rebuilt_hms_profile(SITE, DAY)
    assert rebuilt_doc.quantities[:8] == [BASE] * 7 + [BASE + 10_000]
    assert rebuilt_doc.quantities[8:] == [1000.0] * 16
    assert rebuilt_doc.processingDateTime == at(14, 35)
    assert rebuilt_doc.energyHighThresholds == sim.site(SITE).q_max


async def test_highest_accepted_version_of_one_declaration_wins(
    client: GrtgazClient, sim: GrtgazSimulator, clock: ManualClock
) -> None:
    """§9: several programs for one site and day in one declaration."""
    ctx = await context(client, sim)
    v1 = rules.input_profile(ctx, flat(BASE + 2), declared_at=clock.now(), profile_id="20191118-LI1006-GFCCGE06-2")
    v2 = rules.input_profile(ctx, flat(BASE + 1), declared_at=clock.now(), profile_id="20191118-LI1006-GFCCGE06-1")
    links = await client.declare_programs([v1, v2])
    assert len(links) == 2
    assert (await client.rebuilt_hms_profile(SITE, DAY)).quantities == flat(BASE + 2)


# -- 23- and 25-hour days (§13.2) ------------------------------------------------------


def through_the_outbox(profile: InputHmsProfile) -> InputHmsProfile:
    """The program as the outbox stores it (JSON in the store) and reads it back to send it."""
    payload = declaration_payload(profile, edited=[], base_label="test", now=profile.declarationDateTime)
    return payload_profile(orjson.loads(orjson.dumps(payload)))


def instants(slots: list[HourlyQuantity]) -> list[dt.datetime]:
    return [slot.hourlySlotStartDateTime.astimezone(dt.timezone.utc) for slot in slots]


@pytest.mark.parametrize("added", [0.0, 5.0], ids=["literal-0", "other-value"])
async def test_23_hour_day_program_goes_editor_outbox_send_read_back(
    client: GrtgazClient, sim: GrtgazSimulator, clock: ManualClock, added: float
) -> None:
    """Saturday 29/03/2025 (the night of the 30th loses 02:00). §13.2 « ajouter une tranche
    (celle de 3h) avec un Programme horaire à 0 » read literally: the added slot starts at
    03:00 like the real 03:00; nothing the document does not state is refused (issue 16)."""
    day = dt.date(2025, 3, 29)
    clock.set(at(15, 0, day=28, month=3, year=2025))
    values = rules.declared_slots([BASE] * 23, day)
    values[20] = added
    ctx = await context(client, sim, day)
    check = rules.precheck(ctx, values, now=clock.now())
    assert check.outcome is rules.Outcome.ACCEPTED, check.summary
    profile = rules.input_profile(ctx, values, declared_at=clock.now())
    queued = through_the_outbox(profile)
    assert instants(queued.hmsHourlyProfile) == instants(profile.hmsHourlyProfile)  # no hour lost
    assert queued.quantities == profile.quantities
    body = to_document(queued, timestamps_local=True)["hmsHourlyProfile"]
    assert [slot["hourlySlotStartDateTime"][11:16] for slot in body[19:22]] == ["01:00", "03:00", "03:00"]
    links = await client.declare_programs([queued])
    read = await client.hms_profile(links[0].rel)
    assert read.status is ACCEPTED and read.quantities == values
    assert instants(read.hmsHourlyProfile) == instants(profile.hmsHourlyProfile)
    rebuilt = await client.rebuilt_hms_profile(SITE, day)
    assert rebuilt.quantities == values and len(rebuilt.hourlyQuantities) == 24
    assert instants(rebuilt.hourlyQuantities) == instants(profile.hmsHourlyProfile)


async def test_23_hour_day_changed_at_night_keeps_its_instants(
    client: GrtgazClient, sim: GrtgazSimulator, clock: ManualClock
) -> None:
    """A changed program sent at 03:20 CEST on the 30th: from H+15 the current hour is H,
    03:00 (chapter 2 §6-7); the rebuilt program keeps every hour before it, as instants."""
    day = dt.date(2025, 3, 29)
    clock.set(at(15, 0, day=28, month=3, year=2025))
    await declare(client, sim, clock, rules.declared_slots([BASE] * 23, day), day=day)
    clock.set(at(3, 20, day=30, month=3, year=2025))
    changed = rules.declared_slots([BASE] * 21 + [BASE - 10_000] * 2, day)
    ctx = await context(client, sim, day)
    assert rules.precheck(ctx, changed, now=clock.now()).outcome is rules.Outcome.ACCEPTED
    profile = through_the_outbox(rules.input_profile(ctx, changed, declared_at=clock.now()))
    links = await client.declare_programs([profile])
    assert (await client.hms_profile(links[0].rel)).status is ACCEPTED
    clock.set(at(3, 40, day=30, month=3, year=2025))
    rebuilt = (await client.rebuilt_hms_profile(SITE, day)).quantities
    assert rebuilt[19:] == [BASE, 0.0, BASE, BASE - 10_000, BASE - 10_000]


async def test_shortage_day_refuses_a_changed_program_at_01_20_whatever_the_colour(
    client: GrtgazClient, sim: GrtgazSimulator, clock: ManualClock
) -> None:
    """§4: the shortage applies « pour toute la journée gazière pour laquelle elle a été
    déclenchée », « quelle que soit la couleur de la pastille » — also after 00:52, when the
    pastille shows the next day again."""
    sim.declare_shortage(DAY)
    await declare(client, sim, clock, flat())  # J-1 15:00: before the 20:30 declaration
    clock.set(at(1, 20, day=19))
    indicators = await client.site_flexibility_indicators(SITE)
    assert rules.site_worst_status(indicators) is GREEN  # the pastille is not grey any more
    values = flat()
    values[23] = BASE - 1000  # 05:00, still in gas day J
    _, _, links = await declare(client, sim, clock, values)
    read = await client.hms_profile(links[0].rel)
    assert read.status is REFUSED
    assert rules.comment_codes(read.comment) == [rules.HMS_PROFILE_NOT_RESPECT_GRAY_INDICATOR]


async def test_25_hour_day_declares_24_slots(client: GrtgazClient, sim: GrtgazSimulator, clock: ManualClock) -> None:
    day = dt.date(2020, 10, 24)  # the night of the 25th has 02:00 twice
    clock.set(at(15, 0, day=23, month=10, year=2020))
    real = [BASE] * 25
    real[20], real[21] = BASE, BASE + 50_000  # the two 02:00 hours
    values = rules.declared_slots(real, day)
    assert len(values) == 24 and values[20] == BASE + 50_000
    _, _, links = await declare(client, sim, clock, values, day=day)
    assert (await client.hms_profile(links[0].rel)).status is ACCEPTED
    response = await client.http.get(
        f"{BASE_URL}/sites/{SITE}/rebuiltHmsProfile", params={"gasDayDate": "2020-10-24"}, auth=client.auth
    )
    starts = [slot["hourlySlotStartDateTime"] for slot in response.json()["hourlyQuantities"]]
    assert starts[19:22] == ["2020-10-25T01:00:00.000Z", "2020-10-25T02:00:00.000Z", "2020-10-25T03:00:00.000Z"]


async def test_utc_timestamps_mode_round_trips(
    sim: GrtgazSimulator, clock: ManualClock, credentials: tuple[bytes, bytes]
) -> None:
    """``timestamps_local=False`` (the day the API writes real UTC): same programs, same slots."""
    sim.timestamps_local = False
    async with httpx.AsyncClient(transport=SandboxTransport(sim.app, read_timeout=0.2)) as http:
        client = GrtgazClient(http, BASE_URL, grtgaz_auth(http, clock, credentials), timestamps_local=False)
        _, profile, links = await declare(client, sim, clock, flat())
        read = await client.hms_profile(links[0].rel)
        assert read.status is ACCEPTED
        assert [s.hourlySlotStartDateTime for s in read.hmsHourlyProfile] == [
            s.hourlySlotStartDateTime for s in profile.hmsHourlyProfile
        ]
        raw = await http.get(f"{BASE_URL}/hmsProfiles/{links[0].rel}", auth=client.auth)
        assert raw.json()["hmsHourlyProfile"][0]["hourlySlotStartDateTime"] == "2019-11-18T05:00:00.000Z"


async def test_25_hour_day_changed_in_the_repeated_hour_goes_through_the_outbox(
    client: GrtgazClient, sim: GrtgazSimulator, clock: ManualClock
) -> None:
    """Saturday 25/10/2025 (the night of the 26th has 02:00 twice). Sent at the second 02:20
    (CET, after H+15): the current hour is that second 02:00 (chapter 2 §6-7), slot 20 — at
    the first 02:20 it would have been the same slot, an hour earlier; §13.2 keeps one 02:00
    slot. The payload keeps the instants; the rebuilt program changes from 02:00 on only."""
    day = dt.date(2025, 10, 25)
    clock.set(at(15, 0, day=24, month=10, year=2025))
    await declare(client, sim, clock, rules.declared_slots([BASE] * 25, day), day=day)
    second_0220 = dt.datetime(2025, 10, 26, 2, 20, tzinfo=PARIS, fold=1)
    clock.set(second_0220)
    assert rules.first_adjustable_index(day, second_0220) == 20
    assert rules.control_window(day, second_0220) == (20, 21, 22, 23)
    changed = rules.declared_slots([BASE] * 22 + [BASE - 10_000] * 3, day)  # 03:00, 04:00, 05:00
    ctx = await context(client, sim, day)
    check = rules.precheck(ctx, changed, now=clock.now())
    assert check.outcome is rules.Outcome.ACCEPTED, check.summary
    profile = rules.input_profile(ctx, changed, declared_at=clock.now())
    queued = through_the_outbox(profile)
    assert instants(queued.hmsHourlyProfile) == instants(profile.hmsHourlyProfile)
    assert queued.declarationDateTime.astimezone(dt.timezone.utc) == second_0220.astimezone(dt.timezone.utc)
    links = await client.declare_programs([queued])
    read = await client.hms_profile(links[0].rel)
    assert read.status is ACCEPTED and read.quantities == changed
    # The document's wire form (Paris wall time + a literal Z, §13.1) cannot tell the two 02:20
    # apart: read back, it is the first (models.parse_timestamp); the outbox's own copy is exact.
    assert read.processingDateTime is not None and read.processingDateTime.hour == 2
    clock.set(dt.datetime(2025, 10, 26, 2, 50, tzinfo=PARIS, fold=1))
    rebuilt = (await client.rebuilt_hms_profile(SITE, day)).quantities
    assert rebuilt[19:] == [BASE, BASE, BASE - 10_000, BASE - 10_000, BASE - 10_000]


async def test_the_h_plus_15_limit_in_the_repeated_hour_compares_instants(
    client: GrtgazClient, sim: GrtgazSimulator, clock: ManualClock
) -> None:
    """Chapter 2 §6-7 (received before H+15 min, the hour H-1 can still change) on the autumn
    25-hour day, Saturday 25/10/2025: the first and the second 02:10 have the same wall clock
    and are an hour apart. At the first (CEST), 01:00 (slot 19) can still change, so a program
    without its value is refused (BAD_QUANTITIES, §13.6); at the second (CET) 01:00 is past,
    the first hour that can change is the first 02:00, and the same program is received —
    in the rules, the pre-check and the simulator alike."""
    day = dt.date(2025, 10, 25)
    clock.set(at(15, 0, day=24, month=10, year=2025))
    await declare(client, sim, clock, rules.declared_slots([BASE] * 25, day), day=day)
    first_0210 = dt.datetime(2025, 10, 26, 2, 10, tzinfo=PARIS, fold=0)
    second_0210 = dt.datetime(2025, 10, 26, 2, 10, tzinfo=PARIS, fold=1)
    utc = dt.timezone.utc
    assert second_0210.astimezone(utc) - first_0210.astimezone(utc) == dt.timedelta(hours=1)
    assert rules.first_adjustable_slot(first_0210).astimezone(utc) == dt.datetime(2025, 10, 25, 23, tzinfo=utc)
    assert rules.first_adjustable_slot(second_0210).astimezone(utc) == dt.datetime(2025, 10, 26, 0, tzinfo=utc)
    assert (rules.first_adjustable_index(day, first_0210), rules.first_adjustable_index(day, second_0210)) == (19, 20)
    assert rules.control_window(day, first_0210) == (19, 20, 21, 22, 23)  # 01:00, both 02:00, 03:00 … 05:00
    assert rules.control_window(day, second_0210) == (20, 21, 22, 23)
    # the H+15 limit itself, in each 02:00: 02:14 is before it, 02:15 is not
    for fold in (0, 1):
        before = dt.datetime(2025, 10, 26, 2, 14, 59, tzinfo=PARIS, fold=fold)
        after = dt.datetime(2025, 10, 26, 2, 15, tzinfo=PARIS, fold=fold)
        assert rules.first_adjustable_index(day, before) == (19 if fold == 0 else 20)
        assert rules.first_adjustable_index(day, after) == 20

    without_0100 = rules.declared_slots([BASE] * 25, day)
    without_0100[19] = None
    clock.set(first_0210)
    ctx = await context(client, sim, day)
    profile = rules.input_profile(ctx, without_0100, declared_at=clock.now())
    refused = sim.declare([profile], now=first_0210)
    assert [r.code for r in refused] == ["BAD_QUANTITIES"]
    assert rules.precheck(ctx, without_0100, now=first_0210).outcome is rules.Outcome.REJECTED

    clock.set(second_0210)
    ctx = await context(client, sim, day)
    assert rules.precheck(ctx, without_0100, now=second_0210).outcome is not rules.Outcome.REJECTED
    profile = rules.input_profile(ctx, without_0100, declared_at=clock.now())
    assert sim.declare([profile], now=second_0210) == []
