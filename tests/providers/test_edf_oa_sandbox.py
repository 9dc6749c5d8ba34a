"""EDF OA client against its simulator over the real httpx stack (§3-§9, RG_* rule IDs)."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
from typing import Any, AsyncIterator

import httpx
import pytest

from pupitre.providers.core.api import to_data
from pupitre.providers.core.auth import StaticBearer
from pupitre.providers.core.clock import PARIS, ManualClock
from pupitre.providers.core.errors import (
    AuthError,
    BadRequestError,
    ConfigError,
    ConflictError,
    ForbiddenError,
    NetworkError,
    NotFoundError,
    PayloadError,
    QuotaError,
    ServerError,
)
from pupitre.providers.core.faults import FaultKind, FaultPlan
from pupitre.providers.core.retry import RetryPolicy
from pupitre.providers.core.sandbox import SandboxTransport
from pupitre.providers.edf_oa import rules
from pupitre.providers.edf_oa.client import PRODUCTION_BASE_URL, RECETTE_BASE_URL, EdfOaClient, join_ids
from pupitre.providers.edf_oa.models import AckItem, AcknowledgementRequest
from pupitre.providers.edf_oa.sandbox import (
    CONTRACTS,
    INITIAL_TOKEN,
    AccountType,
    EdfOaSimulator,
    build_app,
    eic_check_char,
)
from tests.providers.helpers import Counting

HOST = "http://edf-oa.sandbox.invalid"
BASE_URL = f"{HOST}/api"
ROUTE = "/api/v1/curtailments"
ACK_ROUTE = "/api/v1/acknowledgements"
TOMORROW = dt.date(2026, 11, 24)
ACTIVE = ["BOA0001", "BOA0002", "BOA0003", "BOA0004", "BOA0005"]
NOON_SPELL = [(dt.datetime(2026, 11, 24, 11, tzinfo=PARIS), dt.datetime(2026, 11, 24, 15, tzinfo=PARIS))]


def at(hour: int, minute: int = 0, day: int = 23, month: int = 11, year: int = 2026) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=PARIS)


START = at(13, 45)  # the clock fixture's time (tests/providers/conftest.py)


@pytest.fixture
def sim(clock: ManualClock, plan: FaultPlan) -> EdfOaSimulator:
    simulator = EdfOaSimulator(clock, plan, scenario="calm")
    simulator.update_order(
        {"BOA0001": NOON_SPELL, "BOA0003": NOON_SPELL, "BOA0002": [], "BOA0004": [], "BOA0005": NOON_SPELL}, at=at(13)
    )
    return simulator


@pytest.fixture
def transport(sim: EdfOaSimulator) -> Counting:
    return Counting(SandboxTransport(sim.app, read_timeout=0.2))


@pytest.fixture
async def http(transport: Counting) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=transport) as client:
        yield client


def make_client(http: httpx.AsyncClient, token: str, **kwargs: Any) -> EdfOaClient:
    return EdfOaClient(http, BASE_URL, StaticBearer(token), **kwargs)


@pytest.fixture
def client(http: httpx.AsyncClient, sim: EdfOaSimulator) -> EdfOaClient:
    return make_client(http, sim.current_token)


def as_account(sim: EdfOaSimulator, account_type: AccountType, manager_id: str = "MGR-0101") -> None:
    sim.account_type = account_type
    sim.manager_id = manager_id


# -- GET /curtailments (§4.1) ------------------------------------------------------------------


async def test_curtailments_is_tomorrows_order_RG_COR_0010(client: EdfOaClient, clock: ManualClock) -> None:
    order = await client.curtailments()
    assert order.application_date == TOMORROW and rules.order_is_for_tomorrow(order, clock.now())
    assert re.fullmatch(r"OA-20261124-[0-9A-F]{4}", order.order_id)
    assert order.updated_at == at(13)
    assert order.contract_ids == ACTIVE  # BOA0006 is EXPIRED: never in an order
    for item in order.curtailments:  # the periods tile the local day
        assert item.data[0].start_date == dt.datetime(2026, 11, 24, tzinfo=PARIS)
        assert item.data[-1].end_date == dt.datetime(2026, 11, 25, tzinfo=PARIS)
        assert all(a.end_date == b.start_date for a, b in itertools.pairwise(item.data))
        assert {p.value for p in item.data} <= {0.0, 1.0}


async def test_RG_COR_0030_curtailment_periods_of_the_order(client: EdfOaClient) -> None:
    order = await client.curtailments()
    spells = {
        c.contract_id: [(p.start_date.hour, p.end_date.hour) for p in rules.curtailment_periods(c)]
        for c in order.curtailments
    }
    assert spells == {"BOA0001": [(11, 15)], "BOA0002": [], "BOA0003": [(11, 15)], "BOA0004": [], "BOA0005": [(11, 15)]}
    assert rules.curtailed_contracts(order) == ["BOA0001", "BOA0003", "BOA0005"]


async def test_contract_ids_filter_is_comma_separated(
    client: EdfOaClient, http: httpx.AsyncClient, sim: EdfOaSimulator
) -> None:
    order = await client.curtailments(["BOA0003", "BOA0001"])
    assert order.contract_ids == ["BOA0001", "BOA0003"]
    response = await http.get(
        f"{BASE_URL}/v1/curtailments?contract_ids=BOA0001,BOA0003",
        headers={"Authorization": f"Bearer {sim.current_token}"},
    )
    assert [c["contract_id"] for c in response.json()["data"]["curtailments"]] == ["BOA0001", "BOA0003"]
    assert join_ids(["BOA0001", " BOA0003", "BOA0001"]) == "BOA0001,BOA0003"
    assert join_ids([]) is None and join_ids(None) is None
    with pytest.raises(BadRequestError):
        join_ids(["BOA0001,BOA0002"])


async def test_404_before_the_1300_publication(client: EdfOaClient, clock: ManualClock, sim: EdfOaSimulator) -> None:
    clock.set(at(12, 59))
    with pytest.raises(NotFoundError) as caught:
        await client.curtailments()
    assert caught.value.status == 404
    assert caught.value.detail == "no curtailment order published yet for 2026-11-24"
    with pytest.raises(NotFoundError):
        await client.acknowledgements()
    clock.set(at(13, 0))
    assert (await client.curtailments()).application_date == TOMORROW


async def test_publish_forces_an_early_order(clock: ManualClock, plan: FaultPlan) -> None:
    clock.set(at(11, 0))
    sim = EdfOaSimulator(clock, plan, scenario="calm")
    forced = sim.publish()
    async with httpx.AsyncClient(transport=SandboxTransport(sim.app)) as http:
        order = await make_client(http, sim.current_token).curtailments()
    assert order.order_id == forced.order_id and order.updated_at == at(11, 0)


async def test_update_order_keeps_the_order_id_and_moves_updated_at(
    client: EdfOaClient, clock: ManualClock, sim: EdfOaSimulator
) -> None:
    before = await client.curtailments()
    clock.set(at(14, 10))
    sim.update_order({"BOA0002": NOON_SPELL})
    after = await client.curtailments()
    assert after.order_id == before.order_id and after.updated_at == at(14, 10)
    assert rules.curtailed_contracts(after) == ["BOA0001", "BOA0002", "BOA0003", "BOA0005"]
    with pytest.raises(KeyError):
        sim.update_order({"BOA0006": NOON_SPELL})


# -- account types (RG_COR_0020/0040/0050, RG_ACK_5010/5020/5030, RG_CON_0010) ----------------------


async def test_RG_COR_0040_producer_sees_manager_id_not_producer_id(client: EdfOaClient) -> None:
    order = await client.curtailments()
    assert [(c.contract_id, c.producer_id, c.manager_id) for c in order.curtailments] == [
        ("BOA0001", None, None),
        ("BOA0002", None, None),
        ("BOA0003", None, "MGR-0101"),
        ("BOA0004", None, "MGR-0101"),
        ("BOA0005", None, "MGR-0102"),
    ]


async def test_RG_COR_0050_admin_sees_both_ids(client: EdfOaClient, sim: EdfOaSimulator) -> None:
    as_account(sim, "admin")
    order = await client.curtailments()
    assert {c.producer_id for c in order.curtailments} == {"PROD-0042"}
    assert [c.manager_id for c in order.curtailments] == [None, None, "MGR-0101", "MGR-0101", "MGR-0102"]


async def test_RG_COR_0020_manager_sees_only_its_contracts_and_no_ids(client: EdfOaClient, sim: EdfOaSimulator) -> None:
    as_account(sim, "manager")
    order = await client.curtailments()
    assert [(c.contract_id, c.producer_id, c.manager_id) for c in order.curtailments] == [
        ("BOA0003", None, None),
        ("BOA0004", None, None),
    ]
    assert (await client.curtailments(["BOA0001", "BOA0003"])).contract_ids == ["BOA0003"]
    as_account(sim, "manager", "MGR-0102")
    assert (await client.curtailments()).contract_ids == ["BOA0005"]


async def test_RG_ACK_5020_5030_acknowledgement_visibility(client: EdfOaClient, sim: EdfOaSimulator) -> None:
    state = await client.acknowledgements()
    assert [(a.contract_id, a.producer_id, a.manager_id) for a in state.acknowledgements][2] == (
        "BOA0003",
        None,
        "MGR-0101",
    )
    as_account(sim, "admin")
    state = await client.acknowledgements(["BOA0005"])
    assert [(a.contract_id, a.producer_id, a.manager_id) for a in state.acknowledgements] == [
        ("BOA0005", "PROD-0042", "MGR-0102")
    ]
    as_account(sim, "manager")  # RG_ACK_5010
    state = await client.acknowledgements()
    assert [(a.contract_id, a.producer_id, a.manager_id) for a in state.acknowledgements] == [
        ("BOA0003", None, None),
        ("BOA0004", None, None),
    ]


async def test_RG_CON_0010_contracts_per_account(client: EdfOaClient, sim: EdfOaSimulator) -> None:
    contracts = await client.contracts()
    assert [(c.id, c.status) for c in contracts] == [(c.id, c.status) for c in CONTRACTS]
    assert contracts[-1].status == "EXPIRED"  # RG_CON_0020
    assert [c.manager_id for c in contracts] == [None, None, "MGR-0101", "MGR-0101", "MGR-0102", "MGR-0102"]
    plants = [c.plant_id for c in contracts]
    assert all(re.fullmatch(r"\d{14}", p) or re.fullmatch(r"\d\dW[0-9A-Z-]{12}[0-9A-Z]", p) for p in plants)
    assert any(len(p) == 16 for p in plants) and any(len(p) == 14 for p in plants)
    # §6.1.4: producer_id and manager_id are mandatory on /contracts, whatever the account.
    assert {c.producer_id for c in contracts} == {"PROD-0042"}
    as_account(sim, "manager")
    assert [(c.id, c.producer_id, c.manager_id) for c in await client.contracts()] == [
        ("BOA0003", "PROD-0042", "MGR-0101"),
        ("BOA0004", "PROD-0042", "MGR-0101"),
    ]
    as_account(sim, "admin")
    assert {(c.producer_id, c.manager_id) for c in await client.contracts()} == {
        ("PROD-0042", None),
        ("PROD-0042", "MGR-0101"),
        ("PROD-0042", "MGR-0102"),
    }


def test_plant_eic_codes_have_a_valid_check_character() -> None:
    assert eic_check_char("17W100P100P0345") == "B"  # the document's example
    assert eic_check_char("10YFR-RTE------") == "C"  # RTE's own control area
    for contract in CONTRACTS:
        if len(contract.plant_id) == 16:
            assert contract.plant_id[-1] == eic_check_char(contract.plant_id[:15])


# -- POST /acknowledgements (§5.1) -------------------------------------------------------------------


async def test_post_then_get_shows_api_entries_and_left_out_refused_RG_ACK_0030(
    client: EdfOaClient, clock: ManualClock, sim: EdfOaSimulator
) -> None:
    order = await client.curtailments()
    choices: rules.AckChoices = {"BOA0001": True, "BOA0003": False, "BOA0005": None}
    await client.post_acknowledgements(rules.build_request(order, choices))
    state = await client.acknowledgements()
    assert state.order_id == order.order_id and state.application_date == TOMORROW
    got = {
        a.contract_id: [(e.user_id, e.ack_value, e.ack_date, e.ack_source) for e in a.ack_list]
        for a in state.acknowledgements
    }
    assert got == {
        "BOA0001": [("PROD-0042", True, at(13, 45), "API")],
        "BOA0002": [("PROD-0042", False, at(13, 45), "API")],
        "BOA0003": [("PROD-0042", False, at(13, 45), "API")],
        "BOA0004": [("PROD-0042", False, at(13, 45), "API")],
        "BOA0005": [("PROD-0042", False, at(13, 45), "API")],
    }
    assert (
        {cid: e.ack_value for cid, e in rules.latest_acks(state).items()}
        == rules.effective_values(order, choices)
        == sim.retained()
    )
    summary = rules.ack_summary(order, state, clock.now(), dt.time(16))
    assert summary.level == "ok" and summary.refused == ["BOA0003", "BOA0005"]


async def test_last_acknowledgement_of_the_day_counts_5_1_1(
    client: EdfOaClient, clock: ManualClock, sim: EdfOaSimulator
) -> None:
    order = await client.curtailments()
    await client.post_acknowledgements(rules.build_request(order, {c: False for c in ACTIVE}))
    clock.set(at(14, 30))
    await client.post_acknowledgements(rules.build_request(order, {c: True for c in ACTIVE}))
    state = await client.acknowledgements()
    assert all(len(a.ack_list) == 2 for a in state.acknowledgements)
    assert all(e.ack_value for e in rules.latest_acks(state).values())
    assert rules.ack_summary(order, state, clock.now(), dt.time(16)).level == "ok"


async def test_manager_post_only_touches_its_contracts(client: EdfOaClient, sim: EdfOaSimulator) -> None:
    as_account(sim, "manager")
    order = await client.curtailments()
    await client.post_acknowledgements(rules.build_request(order, {"BOA0003": True}))
    assert sim.retained() == {"BOA0003": True, "BOA0004": False}  # RG_ACK_0030 within its scope
    as_account(sim, "producer")
    with pytest.raises(BadRequestError) as caught:  # BOA0009 is nobody's
        await client.post_acknowledgements(
            AcknowledgementRequest(
                order_id=order.order_id, acknowledgements=[AckItem(contract_id="BOA0009", ack_value=True)]
            )
        )
    assert "BOA0009" in caught.value.detail
    as_account(sim, "manager")
    with pytest.raises(BadRequestError, match="BOA0001"):  # a contract of the producer's
        await client.post_acknowledgements(
            AcknowledgementRequest(
                order_id=order.order_id, acknowledgements=[AckItem(contract_id="BOA0001", ack_value=True)]
            )
        )


async def test_RG_ACK_0030_a_filtered_order_still_refuses_the_other_contracts(
    client: EdfOaClient, sim: EdfOaSimulator
) -> None:
    # the hazard of acknowledging an order fetched with contract_ids: EDF OA counts every
    # contract of the account not listed as refused, including those outside the filter
    filtered = await client.curtailments(["BOA0001"])
    assert rules.left_out(filtered, {"BOA0001": True}) == []  # looks complete…
    await client.post_acknowledgements(rules.build_request(filtered, {"BOA0001": True}))
    assert sim.retained() == {
        "BOA0001": True,
        "BOA0002": False,
        "BOA0003": False,
        "BOA0004": False,
        "BOA0005": False,
    }  # …but is not
    full = await client.curtailments()
    assert rules.effective_values(full, {"BOA0001": True}) == sim.retained()


async def test_admin_post_covers_every_contract(client: EdfOaClient, sim: EdfOaSimulator) -> None:
    as_account(sim, "admin")
    order = await client.curtailments()
    await client.post_acknowledgements(rules.build_request(order, {"BOA0005": True}))
    entries = sim.acks()
    assert {cid: [(e.user_id, e.ack_value) for e in v] for cid, v in entries.items()} == {
        "BOA0001": [("ADMIN-EDF", False)],
        "BOA0002": [("ADMIN-EDF", False)],
        "BOA0003": [("ADMIN-EDF", False)],
        "BOA0004": [("ADMIN-EDF", False)],
        "BOA0005": [("ADMIN-EDF", True)],
    }


async def test_RG_ACK_0010_stale_order_id_is_a_409_conflict(
    client: EdfOaClient, clock: ManualClock, sim: EdfOaSimulator
) -> None:
    yesterdays = await client.curtailments()
    received = (yesterdays.order_id, clock.now().date())
    clock.set(at(14, 0, day=24))
    with pytest.raises(rules.AckRuleError, match="not today"):  # refused locally first
        rules.check_order_id(yesterdays.order_id, received, clock.now().date())
    with pytest.raises(ConflictError) as caught:  # and by the API
        await client.post_acknowledgements(rules.build_request(yesterdays, {"BOA0001": True}))
    assert caught.value.status == 409
    assert f"order_id {yesterdays.order_id} is not the current curtailment order" in caught.value.detail
    assert sim.acks(dt.date(2026, 11, 25)) == {}
    todays = await client.curtailments()
    assert todays.order_id != yesterdays.order_id
    await client.post_acknowledgements(rules.build_request(todays, {"BOA0001": True}))


async def test_post_before_publication_is_a_conflict(client: EdfOaClient, clock: ManualClock) -> None:
    order = await client.curtailments()
    clock.set(at(12, 0, day=24))
    with pytest.raises(ConflictError):
        await client.post_acknowledgements(rules.build_request(order, {"BOA0001": True}))


@pytest.mark.parametrize(
    "body, message",
    [
        (b"{not json", "not valid JSON"),
        (b'{"order_id": "X", "acknowledgements": []}', "acknowledgements"),
        (b'{"order_id": "X", "acknowledgements": [{"contract_id": "BOA0001", "ack_value": "true"}]}', "ack_value"),
        (b'{"acknowledgements": [{"contract_id": "BOA0001", "ack_value": true}]}', "order_id"),
        (b"[1, 2]", "invalid acknowledgement request"),
    ],
)
async def test_malformed_post_bodies_are_400(
    http: httpx.AsyncClient, sim: EdfOaSimulator, body: bytes, message: str
) -> None:
    response = await http.post(
        f"{BASE_URL}/v1/acknowledgements",
        content=body,
        headers={"Authorization": f"Bearer {sim.current_token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    envelope = response.json()
    assert envelope["data"] is None and message in envelope["errors"][0]["message"]
    assert envelope["errors"][0]["code"] == 400


async def test_a_contract_listed_twice_is_400(client: EdfOaClient) -> None:
    order = await client.curtailments()
    item = AckItem(contract_id="BOA0001", ack_value=True)
    with pytest.raises(BadRequestError, match="more than once"):
        await client.post_acknowledgements(
            AcknowledgementRequest(order_id=order.order_id, acknowledgements=[item, item])
        )


async def test_RG_ACK_0040_forbidden_account_type_is_403(client: EdfOaClient, sim: EdfOaSimulator) -> None:
    assert sim.ack_account_types == {"producer", "manager", "admin"}
    order = await client.curtailments()
    sim.ack_account_types = {"producer"}
    as_account(sim, "manager")
    with pytest.raises(ForbiddenError):
        await client.post_acknowledgements(rules.build_request(order, {"BOA0003": True}))


async def test_post_answer_is_the_empty_envelope(
    http: httpx.AsyncClient, client: EdfOaClient, sim: EdfOaSimulator
) -> None:
    order = await client.curtailments()
    response = await http.post(
        f"{BASE_URL}/v1/acknowledgements",
        json=to_data(rules.build_request(order, {"BOA0001": True})),
        headers={"Authorization": f"Bearer {sim.current_token}"},
    )
    assert response.status_code == 200
    assert response.json() == {"data": None, "meta": {}, "errors": []}


# -- PORTAL acknowledgements (RG_REP_ACK_0060) -------------------------------------------------------


async def test_portal_entry_is_visible_and_can_be_the_last(
    client: EdfOaClient, clock: ManualClock, sim: EdfOaSimulator
) -> None:
    order = await client.curtailments()
    await client.post_acknowledgements(rules.build_request(order, {c: True for c in ACTIVE}))
    clock.set(at(15, 0))
    sim.portal_acknowledge("BOA0003", False, "MGR-0101")
    latest = rules.latest_acks(await client.acknowledgements())
    assert (latest["BOA0003"].ack_value, latest["BOA0003"].ack_source, latest["BOA0003"].user_id) == (
        False,
        "PORTAL",
        "MGR-0101",
    )
    summary = rules.ack_summary(order, await client.acknowledgements(), clock.now(), dt.time(16))
    assert summary.refused == ["BOA0003"]


async def test_default_scenario_manager_acknowledges_on_the_portal_at_1340(plan: FaultPlan) -> None:
    clock = ManualClock(at(13, 35))
    sim = EdfOaSimulator(clock, plan)
    async with httpx.AsyncClient(transport=SandboxTransport(sim.app)) as http:
        client = make_client(http, sim.current_token)
        before = await client.acknowledgements()
        assert all(a.ack_list == [] for a in before.acknowledgements)
        clock.set(at(13, 40))
        portal = [(a.contract_id, e) for a in (await client.acknowledgements()).acknowledgements for e in a.ack_list]
    assert len(portal) == 1
    contract_id, item = portal[0]
    assert contract_id in ("BOA0003", "BOA0004")
    assert (item.user_id, item.ack_value, item.ack_source, item.ack_date) == ("MGR-0101", True, "PORTAL", at(13, 40))


# -- reports (§7.1, §8.1) ----------------------------------------------------------------------------


async def test_RG_REP_ACK_0030_ack_report_defaults_to_tomorrow(client: EdfOaClient) -> None:
    order = await client.curtailments()
    await client.post_acknowledgements(rules.build_request(order, {"BOA0003": True}))
    report = await client.acknowledgements_report()
    rows = report.rows()
    assert {r.order.application_date for r in rows} == {TOMORROW}
    assert len(rows) == 5
    boa3 = next(r for r in rows if r.contract.id == "BOA0003")
    assert (boa3.producer_id, boa3.manager_id, boa3.manager_label) == ("PROD-0042", "MGR-0101", "Gestion Sud")
    assert [(a.ack_type, a.ack_source, a.ack_value) for a in boa3.order.acknowledgements] == [
        ("GET_ORDER", "API", None),
        ("SET_ACK", "API", True),
    ]  # RG_REP_ACK_0050


async def test_RG_REP_ACK_0010_hierarchy_producers_managers_contracts(client: EdfOaClient) -> None:
    report = await client.acknowledgements_report()
    [producer] = report.producers
    assert (producer.id, producer.label) == ("PROD-0042", "Solaire du Midi SAS")
    assert [c.id for c in producer.contracts] == ["BOA0001", "BOA0002"]
    assert [(m.id, m.label, [c.id for c in m.contracts]) for m in producer.managers] == [
        ("MGR-0101", "Gestion Sud", ["BOA0003", "BOA0004"]),
        ("MGR-0102", "Énergie Ouest", ["BOA0005", "BOA0006"]),
    ]
    expired = producer.managers[1].contracts[1]
    assert (expired.status, expired.orders) == ("EXPIRED", [])


async def test_RG_REP_CUR_0030_curtailment_report_defaults_to_tomorrow(client: EdfOaClient) -> None:
    report = await client.curtailments_report(contract_ids=["BOA0001"])
    [row] = report.rows()
    order = await client.curtailments(["BOA0001"])
    assert row.order.order_id == order.order_id and row.order.application_date == TOMORROW
    assert row.order.curtailment_data.periods == order.curtailments[0].data


async def test_reports_over_the_history_with_filters(clock: ManualClock, plan: FaultPlan) -> None:
    sim = EdfOaSimulator(clock, plan, seed=3)
    async with httpx.AsyncClient(transport=SandboxTransport(sim.app)) as http:
        client = make_client(http, sim.current_token)
        week = await client.acknowledgements_report(start_date=dt.date(2026, 11, 16), end_date=dt.date(2026, 11, 22))
        dates = sorted({r.order.application_date for r in week.rows()})
        assert dates == [dt.date(2026, 11, d) for d in range(16, 23)]
        assert all(any(a.ack_type == "SET_ACK" for a in r.order.acknowledgements) for r in week.rows())
        assert all(any(a.ack_type == "GET_ORDER" for a in r.order.acknowledgements) for r in week.rows())
        by_manager = await client.curtailments_report(
            user_id="MGR-0101", start_date=dt.date(2026, 11, 20), end_date=dt.date(2026, 11, 21)
        )
        assert {r.contract.id for r in by_manager.rows()} == {"BOA0003", "BOA0004"}
        assert [p.id for p in by_manager.producers] == ["PROD-0042"]
        assert by_manager.producers[0].contracts == []
        nobody = await client.acknowledgements_report(user_id="MGR-9999")
        assert nobody.producers == []
        old = await client.curtailments_report(end_date=dt.date(2020, 1, 1))
        assert old.rows() == []
        as_account(sim, "manager", "MGR-0102")  # RG_REP_ACK_0040 / RG_REP_CUR_0040
        mine = await client.acknowledgements_report(start_date=dt.date(2026, 11, 20))
        assert {r.contract.id for r in mine.rows()} == {"BOA0005"}
        assert [m.id for p in mine.producers for m in p.managers] == ["MGR-0102"]
        with pytest.raises(BadRequestError):
            await client.curtailments_report(start_date=dt.date(2026, 11, 22), end_date=dt.date(2026, 11, 20))
        response = await http.get(
            f"{BASE_URL}/v1/curtailments/report?start_date=22/11/2026",
            headers={"Authorization": f"Bearer {sim.current_token}"},
        )
        assert response.status_code == 400 and "start_date" in response.json()["errors"][0]["message"]


def test_history_is_deterministic(clock: ManualClock) -> None:
    one, two, other = (EdfOaSimulator(clock, seed=s) for s in (5, 5, 6))
    days = [dt.date(2026, 11, d) for d in range(1, 25)]
    assert [one.order(d) for d in days] == [two.order(d) for d in days]
    assert [one.order(d) for d in days] != [other.order(d) for d in days]
    assert [one.acks(d) for d in days] == [two.acks(d) for d in days]
    curtailed = [d for d in days if rules.curtailed_contracts(one.order(d))]
    assert 0 < len(curtailed) < len(days)  # mostly sunny, not always
    spells = [p for d in curtailed for c in one.order(d).curtailments for p in rules.curtailment_periods(c)]
    assert all(10 <= p.start_date.hour and p.end_date.hour <= 18 for p in spells)


# -- vault (§9) ---------------------------------------------------------------------------------------


async def test_token_status_expires_90_days_after_issue(client: EdfOaClient, clock: ManualClock) -> None:
    status = await client.token_status()
    assert status.expires_at == dt.datetime(2027, 2, 21, 13, 45, tzinfo=PARIS)
    assert rules.token_level(status, clock.now(), 14) == "ok"


async def test_RG_TOK_NEW_0010_new_token_invalidates_the_previous_one(
    http: httpx.AsyncClient, client: EdfOaClient, clock: ManualClock, sim: EdfOaSimulator
) -> None:
    assert sim.current_token == INITIAL_TOKEN
    clock.set(at(14, 0))
    new = await client.new_token()
    secret = new.client_token.reveal()
    assert secret == sim.current_token != INITIAL_TOKEN
    assert secret not in repr(new)
    assert (new.lease_duration, new.renewable) == (90 * 86400, True)
    assert new.expires_at == dt.datetime(2027, 2, 21, 14, 0, tzinfo=PARIS)
    with pytest.raises(AuthError) as caught:
        await client.curtailments()  # the old token
    assert caught.value.status == 401 and "API token" in caught.value.detail
    fresh = make_client(http, secret)
    assert (await fresh.curtailments()).application_date == TOMORROW
    assert (await fresh.token_status()).expires_at == new.expires_at


async def test_expired_token_is_refused(client: EdfOaClient, sim: EdfOaSimulator) -> None:
    sim.expire_token()
    with pytest.raises(AuthError):
        await client.contracts()


async def test_no_or_wrong_token_is_401_in_the_envelope(http: httpx.AsyncClient) -> None:
    response = await http.get(f"{BASE_URL}/v1/contracts")
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == 401 and response.json()["data"] is None
    with pytest.raises(AuthError):
        await make_client(http, "made-up").contracts()


# -- faults on /api/v1/curtailments -------------------------------------------------------------------


@pytest.mark.parametrize(
    "status, error",
    [
        (500, ServerError),
        (503, ServerError),
        (400, BadRequestError),
        (404, NotFoundError),
        (409, ConflictError),
        (403, ForbiddenError),
    ],
)
async def test_status_faults(client: EdfOaClient, plan: FaultPlan, status: int, error: type) -> None:
    plan.add(ROUTE, "status", status=status)
    with pytest.raises(error) as caught:
        await client.curtailments()
    assert caught.value.status == status and caught.value.detail == "simulated failure"
    assert len((await client.curtailments()).curtailments) == 5


async def test_timeout(client: EdfOaClient, plan: FaultPlan) -> None:
    plan.timeout_seconds = 5
    plan.add(ROUTE, "timeout")
    with pytest.raises(NetworkError):
        await client.curtailments()


@pytest.mark.parametrize("kind", ["malformed", "truncated"])
async def test_bad_bodies(client: EdfOaClient, plan: FaultPlan, kind: FaultKind) -> None:
    plan.add(ROUTE, kind)
    with pytest.raises(PayloadError):
        await client.curtailments()


async def test_quota(client: EdfOaClient, plan: FaultPlan) -> None:
    plan.add(ROUTE, "quota")
    with pytest.raises(QuotaError) as caught:
        await client.curtailments()
    assert caught.value.retry_after == 1


async def test_expired_token_fault_is_an_auth_error(client: EdfOaClient, plan: FaultPlan) -> None:
    plan.add(ROUTE, "expired_token")
    with pytest.raises(AuthError) as caught:
        await client.curtailments()  # a static token: nothing to refresh
    assert caught.value.detail == "token expired"


async def test_reads_are_retried_with_a_policy(
    http: httpx.AsyncClient, transport: Counting, sim: EdfOaSimulator, plan: FaultPlan
) -> None:
    client = make_client(http, sim.current_token, retry=RetryPolicy(attempts=3, base_delay=0.0))
    plan.add(ROUTE, "status", status=503, count=2)
    assert (await client.curtailments()).application_date == TOMORROW
    assert transport.calls == [("GET", ROUTE)] * 3


@pytest.mark.parametrize("kind", ["status", "timeout", "quota"])
async def test_post_is_never_retried_by_the_client(
    http: httpx.AsyncClient, transport: Counting, sim: EdfOaSimulator, plan: FaultPlan, kind: FaultKind
) -> None:
    client = make_client(http, sim.current_token, retry=RetryPolicy(attempts=5, base_delay=0.0))
    order = await client.curtailments()
    transport.calls.clear()
    plan.timeout_seconds = 5
    plan.add(ACK_ROUTE, kind, status=503, count=4, method="POST")
    with pytest.raises((ServerError, NetworkError, QuotaError)):
        await client.post_acknowledgements(rules.build_request(order, {"BOA0001": True}))
    assert transport.calls == [("POST", ACK_ROUTE)]
    assert sim.acks() == {}


async def test_new_token_is_never_retried(
    http: httpx.AsyncClient, transport: Counting, sim: EdfOaSimulator, plan: FaultPlan
) -> None:
    client = make_client(http, sim.current_token, retry=RetryPolicy(attempts=5, base_delay=0.0))
    plan.add("/api/v1/vault/approle/token", "status", status=503, count=4)
    with pytest.raises(ServerError):
        await client.new_token()
    assert transport.calls == [("GET", "/api/v1/vault/approle/token")]
    assert sim.current_token == INITIAL_TOKEN


async def test_unreadable_new_token_says_the_old_one_may_be_gone(
    client: EdfOaClient, plan: FaultPlan, sim: EdfOaSimulator
) -> None:
    plan.add("/api/v1/vault/approle/token", "truncated")
    with pytest.raises(PayloadError, match="previous one may already be invalid"):
        await client.new_token()
    assert sim.current_token != INITIAL_TOKEN  # rotated on the server: the operator must act


# -- envelope handling and error bodies (§3.3, §3.4.2) -----------------------------------------------


async def _with(*answers: httpx.Response) -> tuple[EdfOaClient, httpx.AsyncClient]:
    queue = iter(answers)
    http = httpx.AsyncClient(transport=httpx.MockTransport(lambda request: next(queue)))
    return EdfOaClient(http, PRODUCTION_BASE_URL, StaticBearer("t0ken-value")), http


ORDER_DOC = {
    "order_id": "OA-1",
    "updated_at": "2026-11-23T13:00:00+01:00",
    "application_date": "2026-11-24",
    "curtailments": [],
}


async def test_envelope_errors_without_data_are_a_payload_error() -> None:
    client, http = await _with(
        httpx.Response(200, json={"data": None, "meta": {}, "errors": [{"code": "E1", "message": "pas de données"}]}),
        httpx.Response(200, json={"data": None, "meta": {}, "errors": []}),
        httpx.Response(200, json=[ORDER_DOC]),
        httpx.Response(200, json={"data": {"order_id": "OA-1"}, "meta": {}, "errors": []}),
        httpx.Response(200, json=ORDER_DOC),  # no envelope at all: read as the data
        httpx.Response(200, json={"data": ORDER_DOC, "errors": {"message": "warning"}}),
    )
    async with http:
        with pytest.raises(PayloadError) as caught:
            await client.curtailments()
        assert caught.value.detail == "pas de données"
        for _ in range(3):
            with pytest.raises(PayloadError):
                await client.curtailments()
        assert (await client.curtailments()).order_id == "OA-1"
        assert (await client.curtailments()).order_id == "OA-1"


async def test_post_success_and_doubtful_answers() -> None:
    request = AcknowledgementRequest(order_id="OA-1", acknowledgements=[AckItem(contract_id="BOA0001", ack_value=True)])
    client, http = await _with(
        httpx.Response(204),
        httpx.Response(201, text=""),
        httpx.Response(200, json={"data": None, "meta": {}, "errors": []}),
        httpx.Response(200, json={"data": None, "errors": None}),
        httpx.Response(200, text="<html>ok"),
        httpx.Response(200, json={"data": None, "errors": [{"message": "refusé"}]}),
    )
    async with http:
        for _ in range(4):
            assert await client.post_acknowledgements(request) is None
        for _ in range(2):
            with pytest.raises(PayloadError):
                await client.post_acknowledgements(request)


async def test_error_details_come_from_the_envelope_made_safe() -> None:
    client, http = await _with(
        httpx.Response(
            409,
            json={"data": None, "errors": [{"code": 409, "message": "ordre [b]périmé[/b]\nX"}, {"message": "second"}]},
        ),
        httpx.Response(400, json={"message": "flat body"}),
        httpx.Response(502, text="<html>bad gateway</html>"),
        httpx.Response(500, json={"errors": {"code": 500, "message": "x" * 500}}),
    )
    async with http:
        with pytest.raises(ConflictError) as caught:
            await client.contracts()
        assert caught.value.detail == "ordre \\[b]périmé\\[/b] X; second"
        with pytest.raises(BadRequestError) as caught:
            await client.contracts()
        assert caught.value.detail == "flat body"
        with pytest.raises(ServerError) as caught:
            await client.contracts()
        assert caught.value.detail == ""
        with pytest.raises(ServerError) as caught:
            await client.contracts()
        assert caught.value.detail.endswith("…") and len(caught.value.detail) <= 201
        assert "t0ken" not in str(caught.value)


async def test_request_wire_format(clock: ManualClock) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"data": None, "meta": {}, "errors": []})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        client = EdfOaClient(http, RECETTE_BASE_URL + "/", StaticBearer("abc"))
        await client.post_acknowledgements(
            AcknowledgementRequest(order_id="OA-1", acknowledgements=[AckItem(contract_id="BOA0001", ack_value=False)])
        )
        with pytest.raises(PayloadError):
            await client.acknowledgements_report(
                user_id="MGR-0101",
                contract_ids=["BOA0003", "BOA0004"],
                start_date=dt.date(2025, 9, 22),
                end_date=dt.date(2025, 9, 22),
            )
    post, report = seen
    assert str(post.url) == "https://services-smart-oa-rec-user.edf.fr/api/v1/acknowledgements"
    assert post.headers["Authorization"] == "Bearer abc"
    assert json.loads(post.content) == {
        "order_id": "OA-1",
        "acknowledgements": [{"contract_id": "BOA0001", "ack_value": False}],
    }
    assert report.url.path == "/api/v1/acknowledgements/report"
    assert dict(report.url.params) == {
        "user_id": "MGR-0101",
        "contract_ids": "BOA0003,BOA0004",
        "start_date": "2025-09-22",
        "end_date": "2025-09-22",
    }


async def test_api_version_is_part_of_the_path(http: httpx.AsyncClient, sim: EdfOaSimulator) -> None:
    assert make_client(http, sim.current_token).base_url == f"{BASE_URL}/v1"
    with pytest.raises(NotFoundError):
        await make_client(http, sim.current_token, api_version="v2").contracts()
    with pytest.raises(ConfigError):
        make_client(http, sim.current_token, api_version="2")
    with pytest.raises(ConfigError):
        EdfOaClient(http, "http://services-smart-oa.edf.fr/api", None)


# -- DST days -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("day, hours", [(dt.date(2026, 3, 29), 23), (dt.date(2026, 10, 25), 25)])
async def test_orders_on_dst_days_tile_the_real_day(plan: FaultPlan, day: dt.date, hours: int) -> None:
    clock = ManualClock(dt.datetime.combine(day - dt.timedelta(days=1), dt.time(14), tzinfo=PARIS))
    sim = EdfOaSimulator(clock, plan, scenario="calm")
    async with httpx.AsyncClient(transport=SandboxTransport(sim.app)) as http:
        order = await make_client(http, sim.current_token).curtailments()
    assert order.application_date == day
    for item in order.curtailments:
        assert sum((rules.duration(p) for p in item.data), dt.timedelta()) == dt.timedelta(hours=hours)
        assert len(rules.hourly_timeline(item, day)) == hours
    offsets = {p.start_date.utcoffset() for p in order.curtailments[0].data}
    assert offsets == {dt.timedelta(hours=1), dt.timedelta(hours=2)}


def test_build_app_exposes_its_simulator(clock: ManualClock, plan: FaultPlan) -> None:
    app = build_app(clock, plan, account_type="manager", scenario="calm")
    assert isinstance(app.simulator, EdfOaSimulator)
    assert app.simulator.user_id == "MGR-0101"
    with pytest.raises(ValueError):
        EdfOaSimulator(clock, account_type="viewer")  # type: ignore[arg-type]  # not an AccountType: refused
    with pytest.raises(ValueError):
        EdfOaSimulator(clock, scenario="stormy")  # type: ignore[arg-type]  # not a scenario: refused
