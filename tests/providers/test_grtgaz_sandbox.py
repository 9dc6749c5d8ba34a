"""GRTgaz client against its simulator over the real httpx stack (§3.2.2.1, §4, §11.2, §14)."""

from __future__ import annotations

import datetime as dt
import json
from typing import AsyncIterator

import httpx
import pytest

from pupitre.providers.core.auth import JwtAssertionCredentials
from pupitre.providers.core.certs import generate_self_signed
from pupitre.providers.core.clock import PARIS, ManualClock
from pupitre.providers.core.errors import (
    AuthError,
    BadRequestError,
    NetworkError,
    NotFoundError,
    PayloadError,
    QuotaError,
    ServerError,
)
from pupitre.providers.core.faults import FaultKind, FaultPlan
from pupitre.providers.core.sandbox import SandboxTransport
from pupitre.providers.grtgaz import rules
from pupitre.providers.grtgaz.client import GrtgazClient, safe_detail
from pupitre.providers.grtgaz.models import Flex, IndicatorStatus, SiteIndicators
from pupitre.providers.grtgaz.sandbox import (
    GrtgazSimulator,
    LivelyScenario,
    build_app,
)
from pupitre.providers.grtgaz.sites import SITES
from tests.providers.helpers import GRTGAZ_BASE_URL as BASE_URL
from tests.providers.helpers import GRTGAZ_TOKEN_URL as TOKEN_URL
from tests.providers.helpers import grtgaz_auth

GREEN, RED, GREY = IndicatorStatus.GREEN, IndicatorStatus.RED, IndicatorStatus.GREY
ROUTE = "/sfm/v1/sites/flexibilityIndicators"
SITE = SITES[0].site_id  # DK6


def at(hour: int, minute: int = 0, day: int = 18, second: int = 0) -> dt.datetime:
    return dt.datetime(2019, 11, day, hour, minute, second, tzinfo=PARIS)


@pytest.fixture(scope="module")
def credentials() -> tuple[bytes, bytes]:
    return generate_self_signed("pupitre-grtgaz-test")


START = at(9, 55)  # the clock fixture's time (tests/providers/conftest.py)


@pytest.fixture
def sim(clock: ManualClock, plan: FaultPlan, credentials: tuple[bytes, bytes]) -> GrtgazSimulator:
    return GrtgazSimulator(clock, plan, scenario="calm", certificate_pem=credentials[1], audience=TOKEN_URL)


@pytest.fixture
async def http(sim: GrtgazSimulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=SandboxTransport(sim.app, read_timeout=0.2)) as client:
        yield client


@pytest.fixture
def auth(http: httpx.AsyncClient, clock: ManualClock, credentials: tuple[bytes, bytes]) -> JwtAssertionCredentials:
    return grtgaz_auth(http, clock, credentials)


@pytest.fixture
def client(http: httpx.AsyncClient, auth: JwtAssertionCredentials) -> GrtgazClient:
    return GrtgazClient(http, BASE_URL, auth)


async def site_now(
    client: GrtgazClient, clock: ManualClock, moment: dt.datetime, site_id: str = SITE
) -> SiteIndicators:
    clock.set(moment)
    return await client.site_flexibility_indicators(site_id)


# -- resources (§14.1, §14.2) and auth (§11.2) ----------------------------------------


async def test_all_thirteen_sites(client: GrtgazClient) -> None:
    sites = await client.flexibility_indicators()
    assert [s.site_id for s in sites] == [s.site_id for s in SITES]
    assert [(s.site_label, s.mesh_label) for s in sites] == [(s.label, s.mesh.label) for s in SITES]
    assert all(s.nextIndicator is None for s in sites)
    assert rules.worst_status_across(sites) is GREEN


async def test_one_site(client: GrtgazClient) -> None:
    site = await client.site_flexibility_indicators(SITES[2].site_id)
    assert (site.site_label, site.mesh_code, site.mesh_label) == ("Cycofos", "ME0008", "Provence")
    q_plus = site.currentIndicator.indicator(Flex.Q_TO_QPLUS)
    assert (q_plus.availabilityDateTime, q_plus.applicationDateTime) == (at(9, 52), at(10, 15))


async def test_unknown_site_is_404_with_the_error_message(client: GrtgazClient) -> None:
    with pytest.raises(NotFoundError) as caught:
        await client.site_flexibility_indicators("LI9999")
    assert caught.value.status == 404 and "LI9999" in caught.value.detail
    with pytest.raises(BadRequestError):
        await client.site_flexibility_indicators("DK6")
    with pytest.raises(BadRequestError):
        await client.site_flexibility_indicators("../x")


async def test_401_without_a_token(http: httpx.AsyncClient) -> None:
    client = GrtgazClient(http, BASE_URL, None)
    with pytest.raises(AuthError) as caught:
        await client.flexibility_indicators()
    assert caught.value.status == 401 and "Authentication error" in caught.value.detail
    response = await http.get(
        f"{BASE_URL}/sites/{SITE}/flexibilityIndicators", headers={"Authorization": "Bearer made-up"}
    )
    assert response.status_code == 401 and response.json()["Code"] == 401


async def test_token_lives_one_hour_and_is_renewed(
    client: GrtgazClient, auth: JwtAssertionCredentials, clock: ManualClock, sim: GrtgazSimulator
) -> None:
    await client.flexibility_indicators()
    assert auth.token_expires_at == at(10, 55)
    issued = next(iter(sim.issuer.tokens.values()))
    clock.set(at(10, 56))
    assert sim.issuer.check(f"Bearer {issued.value}") is None
    await client.flexibility_indicators()
    assert auth.fetches == 2


async def test_wrong_certificate_is_refused_at_the_token_endpoint(http: httpx.AsyncClient, clock: ManualClock) -> None:
    other = generate_self_signed("someone-else")
    client = GrtgazClient(http, BASE_URL, grtgaz_auth(http, clock, other))
    with pytest.raises(AuthError):
        await client.flexibility_indicators()


async def test_wire_format_writes_z_as_paris_wall_time(
    http: httpx.AsyncClient, client: GrtgazClient, auth: JwtAssertionCredentials
) -> None:
    token = await auth.access_token()
    response = await http.get(
        f"{BASE_URL}/sites/{SITE}/flexibilityIndicators", headers={"Authorization": f"Bearer {token}"}
    )
    indicator = response.json()["currentIndicator"]["qTo0FlexibilityIndicator"]
    assert indicator == {
        "status": "GREEN",
        "availabilityDateTime": "2019-11-18T09:52:00.000Z",
        "applicationDateTime": "2019-11-18T10:15:00.000Z",
    }
    assert "nextIndicator" not in response.json()


async def test_utc_mode_end_to_end(clock: ManualClock, credentials: tuple[bytes, bytes]) -> None:
    sim = GrtgazSimulator(
        clock, scenario="calm", certificate_pem=credentials[1], audience=TOKEN_URL, timestamps_local=False
    )
    async with httpx.AsyncClient(transport=SandboxTransport(sim.app)) as http:
        auth = grtgaz_auth(http, clock, credentials)
        utc = await GrtgazClient(http, BASE_URL, auth, timestamps_local=False).site_flexibility_indicators(SITE)
        misread = await GrtgazClient(http, BASE_URL, auth).site_flexibility_indicators(SITE)
    assert utc.currentIndicator.qTo0FlexibilityIndicator.availabilityDateTime == at(9, 52)
    assert misread.currentIndicator.qTo0FlexibilityIndicator.availabilityDateTime == at(8, 52)


# -- timing (§3.2.2.1) ----------------------------------------------------------------


async def test_document_example_two_states_between_h_minus_8_and_h_plus_15(
    client: GrtgazClient, clock: ManualClock, sim: GrtgazSimulator
) -> None:
    # "à 09h52, Q→Q+ est vert … à 10h52, Q→Q+ devient rouge"
    assert sim.schedule(SITE, Flex.Q_TO_QPLUS, RED, at(10, 52)) == at(10, 52)

    for moment in (at(9, 52), at(10, 30), at(10, 51, second=59)):  # one state, applied 10h15
        site = await site_now(client, clock, moment)
        q_plus = site.currentIndicator.indicator(Flex.Q_TO_QPLUS)
        assert site.nextIndicator is None
        assert (q_plus.status, q_plus.applicationDateTime) == (GREEN, at(10, 15))

    for moment in (at(10, 52), at(11, 14, second=59)):  # two states, next applied 11h15
        site = await site_now(client, clock, moment)
        current = site.currentIndicator.indicator(Flex.Q_TO_QPLUS)
        assert (current.status, current.availabilityDateTime, current.applicationDateTime) == (
            GREEN,
            at(9, 52),
            at(10, 15),
        )
        assert site.nextIndicator is not None
        upcoming = site.nextIndicator.indicator(Flex.Q_TO_QPLUS)
        assert (upcoming.status, upcoming.availabilityDateTime, upcoming.applicationDateTime) == (
            RED,
            at(10, 52),
            at(11, 15),
        )
        # programs received before 11h15 are checked against the previous state, green
        assert rules.applicable_status(site, Flex.Q_TO_QPLUS, moment) is GREEN
        assert [(c.flex, c.next, c.applies_at) for c in rules.upcoming_changes([site], moment)] == [
            (Flex.Q_TO_QPLUS, RED, at(11, 15))
        ]

    for moment in (at(11, 15), at(11, 51, second=59)):  # one state again, applied 11h15
        site = await site_now(client, clock, moment)
        q_plus = site.currentIndicator.indicator(Flex.Q_TO_QPLUS)
        assert site.nextIndicator is None
        assert (q_plus.status, q_plus.applicationDateTime) == (RED, at(11, 15))

    site = await site_now(client, clock, at(11, 52))  # still red: republished, no next
    assert site.nextIndicator is None
    assert site.currentIndicator.indicator(Flex.Q_TO_QPLUS).applicationDateTime == at(12, 15)


async def test_exemple_1_partial_turns_red(client: GrtgazClient, clock: ManualClock, sim: GrtgazSimulator) -> None:
    # "à 09h52, Q→Q+ rouge, partielle verte; à 10h52 la partielle devient rouge"
    sim.schedule(SITE, Flex.Q_TO_QPLUS, RED, at(9, 52))
    sim.schedule(SITE, Flex.PARTIAL, RED, at(10, 52))
    site = await site_now(client, clock, at(11, 0))
    assert rules.applicable_status(site, Flex.PARTIAL, at(11, 0)) is GREEN
    assert rules.applicable_status(site, Flex.PARTIAL, at(11, 16)) is RED
    assert rules.applicable_status(site, Flex.Q_TO_QPLUS, at(11, 0)) is RED
    later = await site_now(client, clock, at(11, 16))
    assert rules.applicable_status(later, Flex.PARTIAL, at(11, 16)) is RED
    naive = dt.datetime(2019, 11, 18, 11, 0)  # naive times are Paris wall time
    assert rules.applicable_status(site, Flex.PARTIAL, naive) is GREEN
    assert sim.site_indicators(SITE, naive) == site


async def test_exemple_2_partial_turns_green_at_once(
    client: GrtgazClient, clock: ManualClock, sim: GrtgazSimulator
) -> None:
    # "à 09h52, Q→Q+ et partielle rouges; à 10h52 la partielle devient verte"
    sim.schedule(SITE, Flex.Q_TO_QPLUS, RED, at(9, 52))
    sim.schedule(SITE, Flex.PARTIAL, RED, at(9, 52))
    sim.schedule(SITE, Flex.PARTIAL, GREEN, at(10, 52))
    before = await site_now(client, clock, at(10, 51))
    assert rules.applicable_status(before, Flex.PARTIAL, at(10, 51)) is RED
    site = await site_now(client, clock, at(10, 52))
    assert site.nextIndicator is None  # a single currentIndicator
    partial = site.currentIndicator.indicator(Flex.PARTIAL)
    assert (partial.status, partial.availabilityDateTime) == (GREEN, at(10, 52))
    assert rules.applicable_status(site, Flex.PARTIAL, at(10, 52)) is GREEN
    assert rules.applicable_status(site, Flex.Q_TO_QPLUS, at(10, 52)) is RED


async def test_mixed_publication_defers_only_the_unfavourable_change(
    client: GrtgazClient, clock: ManualClock, sim: GrtgazSimulator
) -> None:
    sim.schedule(SITE, Flex.Q_TO_QMINUS, RED, at(9, 52))
    sim.schedule(SITE, Flex.Q_TO_QMINUS, GREEN, at(10, 52))
    sim.schedule(SITE, Flex.Q_TO_QPLUS, RED, at(10, 52))
    site = await site_now(client, clock, at(11, 0))
    current = site.currentIndicator
    assert current.indicator(Flex.Q_TO_QMINUS).status is GREEN  # favourable: at once
    assert current.indicator(Flex.Q_TO_QPLUS).status is GREEN  # unfavourable: announced
    assert site.nextIndicator is not None
    assert site.nextIndicator.indicator(Flex.Q_TO_QPLUS).status is RED
    assert site.nextIndicator.indicator(Flex.Q_TO_QMINUS).status is GREEN


async def test_schedule_hour_and_diff_states_over_time(
    client: GrtgazClient, clock: ManualClock, sim: GrtgazSimulator
) -> None:
    assert sim.schedule_hour(SITE, Flex.PARTIAL, "RED", dt.datetime(2019, 11, 18, 11)) == at(10, 52)
    first = await client.flexibility_indicators()
    clock.set(at(10, 55))
    announced = await client.flexibility_indicators()
    clock.set(at(11, 20))
    applied = await client.flexibility_indicators()
    assert [(c.site_id, c.flex, c.new_status, c.at, c.announced) for c in rules.diff_states(first, announced)] == [
        (SITE, Flex.PARTIAL, RED, at(11, 15), True)
    ]
    assert [
        (c.site_id, c.flex, c.old_status, c.new_status, c.announced) for c in rules.diff_states(announced, applied)
    ] == [(SITE, Flex.PARTIAL, GREEN, RED, False)]


# -- shortage (§4) --------------------------------------------------------------------


async def test_grey_during_a_shortage(client: GrtgazClient, clock: ManualClock, sim: GrtgazSimulator) -> None:
    sim.schedule(SITE, Flex.Q_TO_QPLUS, RED, at(9, 52))
    window = sim.declare_shortage(dt.date(2019, 11, 19))  # declared J-1 20h30 by default
    assert window == (at(5, 52, 19), at(0, 52, 20))

    clock.set(at(5, 51, 19))  # J-1 keeps its colours to the end
    sites = await client.flexibility_indicators()
    assert rules.worst_status_across(sites) is RED

    for moment in (at(5, 52, 19), at(12, 0, 19), at(0, 51, 20)):
        clock.set(moment)
        sites = await client.flexibility_indicators()
        assert {i.status for s in sites for _, i in s.currentIndicator.indicators()} == {GREY}
        assert all(s.nextIndicator is None for s in sites)
        assert rules.worst_status_across(sites) is GREY

    site = await site_now(client, clock, at(0, 52, 20))  # from 00h52 the next gas day shows
    assert site.nextIndicator is None
    assert site.currentIndicator.indicator(Flex.Q_TO_QPLUS).status is RED  # at once, not deferred
    assert site.currentIndicator.indicator(Flex.PARTIAL).status is GREEN


async def test_shortage_for_some_sites_and_consecutive_days(
    client: GrtgazClient, clock: ManualClock, sim: GrtgazSimulator
) -> None:
    sim.declare_shortage(dt.date(2019, 11, 19), site_ids={SITE})
    sim.declare_shortage(dt.date(2019, 11, 20), site_ids={SITE})
    clock.set(at(3, 0, 20))  # between the two windows: continuous grey
    sites = {s.site_id: s for s in await client.flexibility_indicators()}
    assert rules.site_worst_status(sites[SITE]) is GREY
    assert rules.site_worst_status(sites[SITES[1].site_id]) is GREEN
    with pytest.raises(KeyError):
        sim.declare_shortage(dt.date(2019, 11, 21), site_ids={"LI9999"})


# -- faults on the flexibility route -----------------------------------------------------


async def test_server_error(client: GrtgazClient, plan: FaultPlan) -> None:
    plan.add(ROUTE, "status", status=503)
    with pytest.raises(ServerError) as caught:
        await client.flexibility_indicators()
    assert caught.value.status == 503 and caught.value.detail == "simulated failure"
    assert len(await client.flexibility_indicators()) == 13


async def test_timeout(client: GrtgazClient, plan: FaultPlan) -> None:
    plan.timeout_seconds = 5
    plan.add(ROUTE, "timeout")
    with pytest.raises(NetworkError):
        await client.flexibility_indicators()


@pytest.mark.parametrize("kind", ["malformed", "truncated"])
async def test_bad_bodies(client: GrtgazClient, plan: FaultPlan, kind: FaultKind) -> None:
    plan.add(ROUTE, kind)
    with pytest.raises(PayloadError):
        await client.flexibility_indicators()


async def test_quota(client: GrtgazClient, plan: FaultPlan) -> None:
    plan.add(ROUTE, "quota")
    with pytest.raises(QuotaError) as caught:
        await client.flexibility_indicators()
    assert caught.value.retry_after == 1


async def test_expired_token_once_is_retried_by_the_auth(
    client: GrtgazClient, plan: FaultPlan, auth: JwtAssertionCredentials
) -> None:
    await client.flexibility_indicators()
    plan.add(ROUTE, "expired_token")
    assert len(await client.flexibility_indicators()) == 13
    assert auth.fetches == 2


async def test_wrong_shape_and_plain_error_bodies() -> None:
    answers = iter(
        [
            httpx.Response(200, json=[{"currentIndicator": {"siteId": "LI0001"}}]),
            httpx.Response(200, json={"not": "a list"}),
            httpx.Response(500, json={"code": 500, "message": "boom [b]x[/b]\nend"}),
            httpx.Response(502, text="<html>bad gateway</html>"),
        ]
    )
    transport = httpx.MockTransport(lambda request: next(answers))
    async with httpx.AsyncClient(transport=transport) as http:
        client = GrtgazClient(http, "https://api.offre.grtgaz.com/sfm/v1", None)
        for _ in range(2):
            with pytest.raises(PayloadError):
                await client.flexibility_indicators()
        with pytest.raises(ServerError) as caught:
            await client.flexibility_indicators()
        assert caught.value.detail == "boom \\[b]x\\[/b] end"
        with pytest.raises(ServerError) as caught:
            await client.flexibility_indicators()
        assert caught.value.status == 502 and caught.value.detail == ""


def test_safe_detail() -> None:
    assert safe_detail("a\nb\x00c  d") == "a b c d"
    assert safe_detail("[bold]x[/bold] [Qmin/Qmax]") == "\\[bold]x\\[/bold] [Qmin/Qmax]"
    assert safe_detail("x" * 500).endswith("…") and len(safe_detail("x" * 500)) == 201


# -- scenario ------------------------------------------------------------------------------


def test_default_scenario_is_deterministic_and_alive(clock: ManualClock) -> None:
    day = [at(h, 30) for h in range(24)]
    one = GrtgazSimulator(clock, seed=7)
    two = GrtgazSimulator(clock, seed=7)
    other = GrtgazSimulator(clock, seed=8)
    states = [one.all_site_indicators(moment) for moment in day]
    assert states == [two.all_site_indicators(moment) for moment in day]
    assert states != [other.all_site_indicators(moment) for moment in day]
    afternoon = [site for moment in day[12:20] for site in one.all_site_indicators(moment)]
    assert any(s.currentIndicator.indicator(Flex.Q_TO_QPLUS).status is RED for s in afternoon)
    plan = LivelyScenario(7).plan(at(0).date())
    partial_sites = {site_id for (site_id, flex) in plan if flex is Flex.PARTIAL}
    meshes = {site.mesh.code for site in SITES if site.site_id in partial_sites}
    assert any(len([s for s in SITES if s.mesh.code == code and s.site_id in partial_sites]) >= 2 for code in meshes)


def test_build_app_exposes_its_simulator(clock: ManualClock, plan: FaultPlan) -> None:
    app = build_app(clock, plan, scenario="calm")
    assert isinstance(app.simulator, GrtgazSimulator)
    with pytest.raises(ValueError):
        build_app(clock, plan, scenario="stormy")


async def test_simulator_document_is_valid_json(sim: GrtgazSimulator) -> None:
    from pupitre.providers.grtgaz.models import to_document

    text = json.dumps(to_document(sim.all_site_indicators()))
    assert text.count('"siteId"') == 13
