"""Switchgrid client against its simulator over the real httpx stack."""

from __future__ import annotations

import datetime as dt
from typing import Any, AsyncIterator, Literal

import httpx
import pytest

from pupitre.providers.core.clock import PARIS, UTC, ManualClock
from pupitre.providers.core.errors import (
    AuthError,
    BadRequestError,
    ForbiddenError,
    NetworkError,
    NotFoundError,
    PayloadError,
    QuotaError,
    ServerError,
)
from pupitre.providers.core.faults import FaultPlan
from pupitre.providers.core.retry import RetryPolicy
from pupitre.providers.core.sandbox import SandboxTransport
from pupitre.providers.switchgrid import rules
from pupitre.providers.switchgrid.client import PROVIDER, SwitchgridClient, switchgrid_auth
from pupitre.providers.switchgrid.sandbox import NO_LOADCURVE_MESSAGE, SANDBOX_TOKEN, SwitchgridSimulator, build_app
from tests.providers.helpers import Counting

BASE_URL = "http://switchgrid.sandbox.invalid/enedis/v2"
START = dt.datetime(2024, 12, 17, 9, 0, tzinfo=PARIS)


@pytest.fixture
def sim(clock: ManualClock, plan: FaultPlan) -> SwitchgridSimulator:
    return SwitchgridSimulator(clock, plan, latency_scale=1.0)


@pytest.fixture
def transport(sim: SwitchgridSimulator) -> Counting:
    return Counting(SandboxTransport(sim.app, read_timeout=0.2))


@pytest.fixture
async def http(transport: Counting) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=transport) as client:
        yield client


def make(http: httpx.AsyncClient, token: str = SANDBOX_TOKEN, **kwargs: Any) -> SwitchgridClient:
    options: dict[str, Any] = {"test_env": True, "retry": RetryPolicy(attempts=3, base_delay=0.0)}
    options.update(kwargs)
    return SwitchgridClient(http, BASE_URL, switchgrid_auth(token), **options)


@pytest.fixture
def client(http: httpx.AsyncClient) -> SwitchgridClient:
    return make(http)


def ask_body(contract: str, **extra: Any) -> dict[str, Any]:
    return {
        "electricityContracts": [contract],
        "signer": {
            "firstName": "Jean",
            "lastName": "Dupont",
            "genre": "M",
            "email": "jean@example.org",
            "phone": "+33600000000",
        },
        "consentCollectionMedium": {"service": "WEB_HOSTED"},
        "consentDuration": "3 years",
        "scopesAndPurpose": [
            {
                "scopes": [
                    {"id": "ELECTRICITY_TIMESERIES", "args": {"types": ["LOADCURVE"], "directions": ["CONSUMPTION"]}}
                ],
                "purposes": ["ENERGY_PERFORMANCE_STUDY"],
            }
        ],
        **extra,
    }


async def accepted_ask(client: SwitchgridClient, sim: SwitchgridSimulator, name: str, postcode: str):
    found = await client.search_contract(name, f"rue quelconque {postcode}")
    ask = await client.post_ask(ask_body(found[0].id))
    sim.accept(ask.id)
    return found[0], await client.get_ask(ask.id)


# -- endpoints ------------------------------------------------------------------------------------


async def test_search_contract(client: SwitchgridClient, sim: SwitchgridSimulator, transport: Counting) -> None:
    results = await client.search_contract("St Dupont", "1 rue de la paix 75002 Paris")
    assert [(r.prm, r.nomClientFinalOuDenominationSociale) for r in results] == [("00000000000022", "ST DUPONT")]
    assert str(results[0].adresseInstallationNormalisee) == "10 RUE DE LA PAIX, 75002 PARIS"
    by_prm = await client.search_contract("Dupont", prm=sim.contracts[2].prm)
    assert [r.nomClientFinalOuDenominationSociale for r in by_prm] == ["SARL DUPONT ET FILS"]
    assert all(len(c.prm) == 14 and c.prm.isdigit() for c in sim.contracts)
    calls = len(transport.calls)
    with pytest.raises(BadRequestError, match="at least 3"):
        await client.search_contract("Du", "1 rue de la paix 75002 Paris")
    assert len(transport.calls) == calls  # refused before calling


async def test_ask_lifecycle_on_the_clock(client: SwitchgridClient, clock: ManualClock) -> None:
    contract = (await client.search_contract("Dupont Marie", "70 allee du bois 84190"))[0]
    ask = await client.post_ask(ask_body(contract.id))
    assert ask.status == "PENDING_USER_ACTION" and ask.acceptedAt is None
    assert ask.user_url and ask.user_url.startswith("https://app.switchgrid.tech/c/")
    assert list(ask.consentIds) == [contract.prm]
    clock.advance(minutes=4)
    assert (await client.get_ask(ask.id)).status == "PENDING_USER_ACTION"
    clock.advance(minutes=2)
    later = await client.get_ask(ask.id)
    assert later.status == "ACCEPTED" and later.acceptedAt == dt.datetime(2024, 12, 17, 8, 5, tzinfo=UTC)


async def test_consent_proof_only_once_accepted(http: httpx.AsyncClient, clock: ManualClock) -> None:
    """``GET /ask/{askId}/proof`` (OpenAPI ``getAskProof``): a PDF once the ask is accepted."""
    client = make(http)
    contract = (await client.search_contract("Dupont Marie", "70 allee du bois 84190"))[0]
    ask = await client.post_ask(ask_body(contract.id))
    headers = {"Authorization": f"Bearer {SANDBOX_TOKEN}", "switchgrid-test-env": "true"}
    early = await http.get(f"{BASE_URL}/ask/{ask.id}/proof", headers=headers)
    assert early.status_code == 409
    clock.advance(minutes=6)
    proof = await http.get(f"{BASE_URL}/ask/{ask.id}/proof", headers=headers)
    assert proof.status_code == 200 and proof.headers["content-type"] == "application/pdf"
    assert proof.content.startswith(b"%PDF-") and proof.content.rstrip().endswith(b"%%EOF")


async def test_list_asks_filters_paging_and_delete(
    client: SwitchgridClient, sim: SwitchgridSimulator, clock: ManualClock
) -> None:
    ids = []
    for contract in sim.contracts[:5]:
        ids.append((await client.post_ask(ask_body(contract.id))).id)
        clock.advance(seconds=1)
    sim.accept(ids[0])
    page = await client.list_asks(skip=1, limit=2)
    assert (page.skip, page.limit, page.totalItemsCount, page.returnedItemsCount) == (1, 2, 5, 2)
    assert [a.id for a in page.items] == ids[1:3] and page.has_more
    assert [a.id for a in await client.all_asks(page_size=2)] == ids
    assert [a.id for a in (await client.list_asks(status="ACCEPTED")).items] == [ids[0]]
    assert len((await client.list_asks(status="ACCEPTED", exclude_status=True)).items) == 4
    assert [a.id for a in (await client.list_asks(prm=[sim.contracts[1].prm, sim.contracts[2].prm])).items] == ids[1:3]
    assert (await client.list_asks(order_by="createdAt:desc")).items[0].id == ids[-1]
    with pytest.raises(BadRequestError):
        await client.list_asks(limit=101)
    await client.delete_ask(ids[0])
    with pytest.raises(NotFoundError):
        await client.get_ask(ids[0])
    assert (await client.list_asks()).totalItemsCount == 4


async def test_inline_contract_unknown_prm_fails_address_check(client: SwitchgridClient) -> None:
    body = ask_body("x")
    body["electricityContracts"] = [
        {
            "prm": "12345678901234",
            "heldBy": {"name": "Société Test", "siret": "1"},
            "address": {"street": "s", "postalCode": "00000", "city": "c", "country": "FR"},
        }
    ]
    ask = await client.post_ask(body)
    assert ask.status == "ADDRESS_CHECK_FAILED"
    assert ask.addressCheckResults["12345678901234"].status == "FAILURE"
    with pytest.raises(BadRequestError):
        await client.post_ask({"signer": {}})


@pytest.mark.parametrize("fmt", ["csv", "json"])
async def test_order_polling_to_success_and_data(
    client: SwitchgridClient, sim: SwitchgridSimulator, clock: ManualClock, fmt: Literal["csv", "json"]
) -> None:
    contract, ask = await accepted_ask(client, sim, "ST DUPONT", "75002")
    order = await client.post_order(
        {
            "requests": [
                {
                    "prms": [contract.prm],
                    "type": "LOADCURVE",
                    "direction": "CONSUMPTION",
                    "since": "2024-12-09T00:00:00[Europe/Paris]",
                    "until": "2024-12-16T00:00:00[Europe/Paris]",
                },
                {"prms": [contract.prm], "type": "R65_SYNC", "direction": "SOUTIRAGE"},
            ]
        }
    )
    assert order.status == "PENDING_REQUESTS" and {r.status for r in order.requests} == {"PENDING"}

    async def sleep(seconds: float) -> None:
        clock.advance(seconds=seconds)

    seen: list[str] = []
    done = await client.wait_order(order.id, sleep=sleep, on_update=lambda o: seen.append(o.status))
    assert done.status == "SUCCESS" and seen[0] == "PENDING_REQUESTS"
    loadcurve = next(r for r in done.requests if r.type == "LOADCURVE")
    assert loadcurve.dataUrl and loadcurve.completedAt and loadcurve.loadCurve is not None
    curve = await client.request_data(loadcurve.id, format=fmt)  # type: ignore[arg-type]  # a finished request has its id
    assert curve.step == rules.STEP_10_MIN and len(curve.points) == 7 * 144
    assert rules.to_paris(curve.points[0].start) == dt.datetime(2024, 12, 9, tzinfo=PARIS)
    assert curve.points == rules.parse_json_curve(loadcurve.loadCurve).points
    values = [w for _, w in curve.points if w is not None]
    assert 500 < min(values) < max(values) < 30_000
    raw = await client.request_raw(next(r for r in done.requests if r.type == "R65_SYNC").id)
    assert raw["meter_reading"]["usage_point_id"] == contract.prm


async def test_order_from_consent_id(client: SwitchgridClient, sim: SwitchgridSimulator, clock: ManualClock) -> None:
    contract, ask = await accepted_ask(client, sim, "BERNARD Louis", "59260")
    order = await client.post_order(
        {
            "consentId": ask.consentIds[contract.prm],
            "requests": [{"type": "LOADCURVE", "direction": "CONSUMPTION"}, {"type": "C68"}],
        }
    )
    clock.advance(seconds=11)
    order = await client.get_order(order.id)
    assert order.status == "SUCCESS" and [r.prm for r in order.requests] == [contract.prm] * 2


async def test_data_not_ready_is_404(client: SwitchgridClient, sim: SwitchgridSimulator) -> None:
    contract, _ = await accepted_ask(client, sim, "ST DUPONT", "75002")
    order = await client.post_order({"requests": [{"prms": [contract.prm], "type": "LOADCURVE"}]})
    with pytest.raises(NotFoundError):
        await client.request_data(order.requests[0].id)


async def test_order_without_consent_is_forbidden(client: SwitchgridClient, sim: SwitchgridSimulator) -> None:
    with pytest.raises(ForbiddenError):
        await client.post_order({"requests": [{"prms": [sim.contracts[0].prm], "type": "C68"}]})


async def test_some_requests_failed_and_reorder(
    client: SwitchgridClient, sim: SwitchgridSimulator, clock: ManualClock
) -> None:
    contract, ask = await accepted_ask(client, sim, "MARTIN Jeanne", "84220")
    order = await client.post_order(
        {"requests": [{"prms": [contract.prm], "type": "LOADCURVE"}, {"prms": [contract.prm], "type": "C68"}]}
    )

    async def sleep(seconds: float) -> None:
        clock.advance(seconds=seconds)

    done = await client.wait_order(order.id, sleep=sleep)
    assert done.status == "SOME_REQUESTS_FAILED"
    failed = done.failed()
    assert [r.type for r in failed] == ["LOADCURVE"] and failed[0].errorMessage == NO_LOADCURVE_MESSAGE
    explanation = rules.explain_error(failed[0].type, failed[0].errorMessage)
    assert explanation is not None and explanation.reorder_with_activation
    again = await client.post_order(
        rules.reorder_with_activation({"requests": [{"prms": [contract.prm], "type": "LOADCURVE"}]})
    )
    clock.advance(hours=3)
    assert (await client.get_order(again.id)).status == "PENDING_REQUESTS"
    clock.advance(hours=1, seconds=1)
    assert (await client.get_order(again.id)).status == "SUCCESS"


# -- headers, auth, faults -------------------------------------------------------------------------


async def test_headers(http: httpx.AsyncClient, sim: SwitchgridSimulator) -> None:
    seen: list[httpx.Request] = []

    async def hook(request: httpx.Request) -> None:
        seen.append(request)

    http.event_hooks["request"].append(hook)
    await make(http).search_contract("ST DUPONT", prm="00000000000022")
    assert seen[-1].headers["authorization"] == f"Bearer {SANDBOX_TOKEN}"
    assert seen[-1].headers["switchgrid-test-env"] == "true"
    assert seen[-1].url.path == "/enedis/v2/search_contract"
    with pytest.raises(BadRequestError, match="switchgrid-test-env"):
        await make(http, test_env=False).search_contract("ST DUPONT", prm="00000000000022")
    with pytest.raises(AuthError):
        await make(http, token="wrong").search_contract("ST DUPONT", prm="00000000000022")


@pytest.mark.parametrize(
    "status, error",
    [(500, ServerError), (503, ServerError), (400, BadRequestError), (403, ForbiddenError), (404, NotFoundError)],
)
async def test_status_faults(client: SwitchgridClient, plan: FaultPlan, status: int, error: type) -> None:
    plan.add("/enedis/v2/search_contract", "status", status=status, count=3)
    with pytest.raises(error):
        await client.search_contract("ST DUPONT", prm="00000000000022")


async def test_reads_are_retried(client: SwitchgridClient, plan: FaultPlan, transport: Counting) -> None:
    plan.add("/enedis/v2/search_contract", "status", status=503, count=2)
    assert len(await client.search_contract("ST DUPONT", prm="00000000000022")) == 1
    assert len(transport.calls) == 3


@pytest.mark.parametrize("path", ["/enedis/v2/ask", "/enedis/v2/order"])
async def test_post_is_never_retried(
    client: SwitchgridClient, sim: SwitchgridSimulator, plan: FaultPlan, transport: Counting, path: str
) -> None:
    contract, ask = await accepted_ask(client, sim, "ST DUPONT", "75002")
    plan.add(path, "status", status=503, method="POST", count=5)
    before = len(transport.calls)
    with pytest.raises(ServerError):
        if path.endswith("ask"):
            await client.post_ask(ask_body(contract.id))
        else:
            await client.post_order({"requests": [{"prms": [contract.prm], "type": "C68"}]})
    assert len(transport.calls) == before + 1


async def test_delete_is_never_retried(
    client: SwitchgridClient, sim: SwitchgridSimulator, plan: FaultPlan, transport: Counting
) -> None:
    _, ask = await accepted_ask(client, sim, "ST DUPONT", "75002")
    plan.add("/enedis/v2/ask/*", "status", status=502, method="DELETE", count=5)
    before = len(transport.calls)
    with pytest.raises(ServerError):
        await client.delete_ask(ask.id)
    assert len(transport.calls) == before + 1


async def test_other_faults(client: SwitchgridClient, plan: FaultPlan) -> None:
    route = "/enedis/v2/search_contract"
    one = dict(name="ST DUPONT", prm="00000000000022")
    plan.timeout_seconds = 5
    plan.add(route, "timeout", count=3)
    with pytest.raises(NetworkError):
        await client.search_contract(**one)
    for kind in ("malformed", "truncated"):
        plan.add(route, kind)
        with pytest.raises(PayloadError):
            await client.search_contract(**one)
    plan.add(route, "quota", count=3)
    with pytest.raises(QuotaError):
        await make(client.http, retry=RetryPolicy(attempts=1)).search_contract(**one)
    plan.clear()
    plan.add(route, "expired_token")
    with pytest.raises(AuthError):
        await client.search_contract(**one)


async def test_bad_ids_refused_before_calling(client: SwitchgridClient, transport: Counting) -> None:
    for call in (
        client.get_ask("x"),
        client.delete_ask("../order"),
        client.get_order("1"),
        client.request_data("nope"),
    ):
        with pytest.raises(BadRequestError):
            await call
    with pytest.raises(BadRequestError, match="direction"):
        await client.post_order(
            {"requests": [{"prms": ["00000000000022"], "type": "LOADCURVE", "direction": "SOUTIRAGE"}]}
        )
    assert transport.calls == []


def test_curve_shape_and_gaps(clock: ManualClock) -> None:
    sim = SwitchgridSimulator(clock)
    contract = sim.contracts[1]
    start = dt.datetime(2024, 1, 1, tzinfo=UTC)
    winter = [sim.power(contract, start + i * rules.STEP_10_MIN) for i in range(144 * 60)]
    summer = [sim.power(contract, start + dt.timedelta(days=182) + i * rules.STEP_10_MIN) for i in range(144 * 60)]
    assert winter.count(None) > 0  # occasional gaps
    assert sum(w for w in winter if w) > 1.3 * sum(w for w in summer if w)  # seasonal level
    solar = [sim.power(contract, start + dt.timedelta(days=182, hours=h), injection=True) for h in range(24)]
    assert solar[1] == 0 and max(w for w in solar if w is not None) > 500


def test_build_app_exposes_its_simulator(clock: ManualClock, plan: FaultPlan) -> None:
    app = build_app(clock, plan)
    assert isinstance(app.simulator, SwitchgridSimulator)
    assert PROVIDER == "Switchgrid"


async def test_paris_dates_over_the_autumn_weekend_reach_the_simulator_as_paris_midnights(
    client: SwitchgridClient, sim: SwitchgridSimulator, clock: ManualClock
) -> None:
    """Issue 16: dates typed without a zone are Paris dates (``rules.paris_argument``); the API's
    default is UTC, which the simulator follows. « since 26/10/2024 until 2024-10-28 » covers the
    two Paris days of the autumn change: 24 h + 25 h = 294 ten-minute points from the Paris
    midnight of the 26th (22:00 UTC the day before); the same dates sent bare start at 02:00."""
    contract, _ = await accepted_ask(client, sim, "ST DUPONT", "75002")
    since, until = rules.paris_argument("26/10/2024"), rules.paris_argument("2024-10-28")
    assert (since, until) == ("2024-10-26T00:00:00[Europe/Paris]", "2024-10-28T00:00:00[Europe/Paris]")
    request = {"prms": [contract.prm], "type": "LOADCURVE", "direction": "CONSUMPTION"}
    paris_order = await client.post_order({"requests": [{**request, "since": since, "until": until}]})
    bare_order = await client.post_order({"requests": [{**request, "since": "2024-10-26", "until": "2024-10-28"}]})

    async def sleep(seconds: float) -> None:
        clock.advance(seconds=seconds)

    curves = []
    for order in (paris_order, bare_order):
        done = await client.wait_order(order.id, sleep=sleep)
        (loadcurve,) = done.requests
        assert loadcurve.loadCurve is not None
        curves.append(rules.parse_json_curve(loadcurve.loadCurve))
    paris_curve, bare_curve = curves
    assert len(paris_curve.points) == (24 + 25) * 6
    assert rules.to_paris(paris_curve.points[0].start) == dt.datetime(2024, 10, 26, tzinfo=PARIS)
    assert paris_curve.points[0].start.astimezone(dt.timezone.utc).hour == 22
    last_end = paris_curve.points[-1].start + rules.STEP_10_MIN
    assert rules.to_paris(last_end) == dt.datetime(2024, 10, 28, tzinfo=PARIS)
    per_day: dict[dt.date, int] = {}
    for point in paris_curve.points:
        day = rules.to_paris(point.start).date()
        per_day[day] = per_day.get(day, 0) + 1
    assert per_day == {dt.date(2024, 10, 26): 144, dt.date(2024, 10, 27): 150}  # the 25-hour Sunday
    assert rules.paris_day_bounds(dt.date(2024, 10, 27)) == (
        paris_curve.points[144].start.astimezone(dt.timezone.utc),
        last_end.astimezone(dt.timezone.utc),
    )
    # sent bare, the API reads UTC: the curve starts at 02:00 in Paris
    assert rules.to_paris(bare_curve.points[0].start) == dt.datetime(2024, 10, 26, 2, tzinfo=PARIS)
