"""GRDF OMEGA client against its simulator over the real httpx stack (§1.3, §1.4, §2.2, Annex A/B).

Most tests give the simulator a stepping monotonic clock (every call seen 10 s after
the previous one) so they never wait; the quota tests use real time and sleep.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Any, AsyncIterator

import httpx
import pytest

from pupitre.providers.core.api import from_data, to_data
from pupitre.providers.core.auth import ClientCredentials, QuotaPacedAuth
from pupitre.providers.core.clock import PARIS, ManualClock
from pupitre.providers.core.errors import (
    AuthError,
    BadRequestError,
    ConfigError,
    ForbiddenError,
    NetworkError,
    NotFoundError,
    PayloadError,
    QuotaError,
    ServerError,
)
from pupitre.providers.core.faults import FaultKind, FaultPlan
from pupitre.providers.core.quota import QuotaLimiter
from pupitre.providers.core.retry import RetryPolicy
from pupitre.providers.core.sandbox import SandboxTransport
from pupitre.providers.grdf_omega import rules
from pupitre.providers.grdf_omega.client import (
    PRODUCTION_BASE_URL,
    PRODUCTION_TOKEN_URL,
    PROVIDER,
    OmegaClient,
    omega_auth,
)
from pupitre.providers.grdf_omega.models import Demande
from pupitre.providers.grdf_omega.sandbox import (
    DOCUMENT_EXAMPLE,
    EXAMPLE_NUMBER,
    OTHER_EXAMPLE_NUMBER,
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    TOKEN_PATH,
    OmegaSimulator,
    build_app,
)
from tests.providers.helpers import Counting, stepping

HOST = "http://grdf-omega.sandbox.invalid"
BASE_URL = f"{HOST}/fournisseur"
TOKEN_URL = f"{HOST}{TOKEN_PATH}"
ROUTE = "/fournisseur/demande/v1/demandes/*/externe"
CDGF = "A04000010"
LOGIN = "camille.operatrice@fournisseur.example"
START = dt.datetime(2026, 3, 10, 9, 0, tzinfo=PARIS)


@pytest.fixture
def sim(clock: ManualClock, plan: FaultPlan) -> OmegaSimulator:
    return OmegaSimulator(clock, plan, monotonic=stepping())


@pytest.fixture
def transport(sim: OmegaSimulator) -> Counting:
    return Counting(SandboxTransport(sim.app, read_timeout=0.2))


@pytest.fixture
async def http(transport: Counting) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=transport) as client:
        yield client


@pytest.fixture
def auth(http: httpx.AsyncClient, clock: ManualClock) -> ClientCredentials:
    return omega_auth(http, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, clock, token_url=TOKEN_URL)


def make_client(
    http: httpx.AsyncClient, auth: httpx.Auth | None, *, quota: QuotaLimiter | None = None, **kwargs: Any
) -> OmegaClient:
    options: dict[str, Any] = {"code_cdgf": CDGF, "user_login": LOGIN, "retry": RetryPolicy(attempts=1)}
    options.update(kwargs)
    return OmegaClient(http, BASE_URL, auth, quota=quota, **options)


@pytest.fixture
def client(http: httpx.AsyncClient, auth: ClientCredentials) -> OmegaClient:
    return make_client(http, auth)


def limiter(clock: ManualClock) -> QuotaLimiter:
    """The shared limiter of a supplier, on real time (as ProviderContext.quota builds it)."""
    return QuotaLimiter("grdf_omega:" + CDGF, provider=PROVIDER, clock=clock, per_second=1)


# -- the resource (§2.2.1, §2.2.2) -----------------------------------------------------------------


async def test_the_document_example_parses(client: OmegaClient) -> None:
    demande = await client.demande(EXAMPLE_NUMBER)
    assert demande == from_data(DOCUMENT_EXAMPLE, Demande, provider=PROVIDER)
    assert {k: v for k, v in to_data(demande).items() if v is not None} == DOCUMENT_EXAMPLE
    assert demande.informations_intervention is None


async def test_header_and_query_are_sent(client: OmegaClient, sim: OmegaSimulator) -> None:
    seen: list[httpx.Request] = []

    async def hook(request: httpx.Request) -> None:
        seen.append(request)

    client.http.event_hooks["request"].append(hook)
    await client.demande(" wd00053h ")
    request = seen[-1]
    assert request.method == "GET"
    assert request.url.path == "/fournisseur/demande/v1/demandes/WD00053H/externe"
    assert dict(request.url.params) == {"code_cdgf": CDGF}
    assert request.headers["x-user-login"] == LOGIN
    assert request.headers["Authorization"].startswith("Bearer sbx-")
    assert sim.seen[-1] == {"numero_demande": "WD00053H", "code_cdgf": CDGF, "x-user-login": LOGIN}


async def test_every_type_and_realistic_blocks(client: OmegaClient, sim: OmegaSimulator) -> None:
    numbers = sim.numbers()
    assert 75 <= len(numbers) <= 90 and len(set(numbers)) == len(numbers)
    assert all(rules.NUMERO_PATTERN.fullmatch(n) for n in numbers + sim.numbers(foreign=True))
    documents = [sim.document(n) for n in numbers]
    assert {d["type_demande"]["code"] for d in documents} == set(rules.REQUEST_TYPES)
    for doc in documents[1:]:
        assert doc["type_demande"]["libelle"] == rules.REQUEST_TYPES[doc["type_demande"]["code"]]
        for block in ("informations_contractuelles", "informations_realisation"):
            pce = doc[block]["numero_pce"]
            assert len(pce) == 14 and pce.isdigit()
        assert doc["informations_client"]["adresse"]["code_postal"].isdigit()
        assert ("informations_intervention" in doc) == doc["fournisseur_peut_prendre_rdv"]
    for numero in numbers[:6]:  # through the client: every answer parses
        demande = await client.demande(numero)
        assert demande.cdgf.code == CDGF and demande.cree_le.tzinfo is PARIS
    assert sim.document(numbers[5]) == OmegaSimulator(sim.clock, seed=0).document(numbers[5])
    assert OmegaSimulator(sim.clock, seed=1).numbers()[1:] != numbers[1:]


def status_of(sim: OmegaSimulator, numero: str) -> str:
    return sim.status(numero)[0]


async def test_statuses_progress_with_the_clock(client: OmegaClient, sim: OmegaSimulator, clock: ManualClock) -> None:
    before = {n: status_of(sim, n) for n in sim.numbers()}
    clock.advance(hours=1)
    after = {n: status_of(sim, n) for n in sim.numbers()}
    moved = [n for n in before if before[n] != after[n]]
    assert len(moved) >= 3  # some requests change within the first hour (demo)
    clock.advance(days=60)
    final = {sim.status(n)[0] for n in sim.numbers()[1:]}
    assert final <= {"REAL", "TRAITEE", "ANNUL", "REJET"} and {"REAL", "TRAITEE"} <= final
    numero = moved[0]
    demande = await client.demande(numero)
    assert demande.status_code == sim.status(numero)[0]
    assert demande.date_dernier_changement_statut_externe is not None
    assert demande.date_dernier_changement_statut_externe <= clock.now().date()


async def test_set_status_is_seen_as_a_change(client: OmegaClient, sim: OmegaSimulator, clock: ManualClock) -> None:
    first = await client.demande(EXAMPLE_NUMBER)
    clock.set(dt.datetime(2026, 3, 11, 10, 0, tzinfo=PARIS))
    sim.set_status(EXAMPLE_NUMBER, "PLANIF", "Planifiée")
    second = await client.demande(EXAMPLE_NUMBER)
    assert rules.status_change(first, second) == rules.StatusChange(
        EXAMPLE_NUMBER, "ATTRDV", "En attente RDV", "PLANIF", "Planifiée", dt.date(2026, 3, 11)
    )
    clock.advance(days=30)
    sim.set_status(EXAMPLE_NUMBER, "REAL")  # the label from the sandbox's catalogue
    third = await client.demande(EXAMPLE_NUMBER)
    assert (third.status_code, third.statut_externe_demande.libelle) == ("REAL", "Réalisée")
    numero = sim.numbers()[7]
    sim.set_status(numero, "ANNUL", "Annulée", at=clock.now())
    clock.advance(days=400)
    assert sim.status(numero) == ("ANNUL", "Annulée")  # later scripted steps dropped
    with pytest.raises(KeyError):
        sim.set_status("WD999999", "REAL")


# -- errors (Annex A) -------------------------------------------------------------------------------


async def test_unknown_number_is_404_for_this_supplier(client: OmegaClient) -> None:
    with pytest.raises(NotFoundError) as caught:
        await client.demande("WD999999")
    assert caught.value.status == 404
    assert caught.value.detail == "unknown request number for this supplier (CDG-F)"
    assert str(caught.value).startswith("GRDF OMEGA: ")


async def test_another_suppliers_number_is_403(client: OmegaClient, sim: OmegaSimulator) -> None:
    assert OTHER_EXAMPLE_NUMBER in sim.numbers(foreign=True)
    for numero in sim.numbers(foreign=True):
        with pytest.raises(ForbiddenError) as caught:
            await client.demande(numero)
        assert caught.value.detail == "not allowed for this CDG-F / user"


async def test_another_cdgf_is_403(http: httpx.AsyncClient, auth: ClientCredentials) -> None:
    client = make_client(http, auth, code_cdgf="A04000000X")
    with pytest.raises(ForbiddenError) as caught:
        await client.demande(OTHER_EXAMPLE_NUMBER)  # the screenshot's pair: not this sandbox's supplier
    assert caught.value.status == 403


async def test_missing_login_or_cdgf_is_400(http: httpx.AsyncClient, auth: ClientCredentials) -> None:
    token = await auth.access_token()
    url = f"{BASE_URL}/demande/v1/demandes/{EXAMPLE_NUMBER}/externe"
    bearer = {"Authorization": f"Bearer {token}"}
    no_login = await http.get(url, params={"code_cdgf": CDGF}, headers=bearer)
    no_cdgf = await http.get(url, headers={**bearer, "x-user-login": LOGIN})
    for response in (no_login, no_cdgf):
        assert response.status_code == 400
        assert response.json() == {"code": 400, "message": "Paramètre de requête manquant"}
    client = make_client(http, auth)
    client.user_login = " "  # bypassing the constructor's check, to see the mapping
    with pytest.raises(BadRequestError) as caught:
        await client.demande(EXAMPLE_NUMBER)
    assert caught.value.detail == ("request refused: Paramètre de requête manquant (a request parameter is missing)")


async def test_other_verbs_and_paths_answer_annex_a(http: httpx.AsyncClient, auth: ClientCredentials) -> None:
    token = await auth.access_token()
    headers = {"Authorization": f"Bearer {token}", "x-user-login": LOGIN}
    url = f"{BASE_URL}/demande/v1/demandes/{EXAMPLE_NUMBER}/externe?code_cdgf={CDGF}"
    response = await http.post(url, headers=headers)
    assert response.status_code == 405
    assert response.json()["message"] == "Le verbe http utilisé n'est pas pris en charge"
    response = await http.get(f"{BASE_URL}/demande/v2/nowhere", headers=headers)
    assert response.status_code == 404 and response.json()["code"] == 404


async def test_malformed_number_never_leaves(client: OmegaClient, transport: Counting) -> None:
    for bad in ("WD0004M", "../x", "WD0004MX/../y", ""):
        with pytest.raises(BadRequestError) as caught:
            await client.demande(bad)
        assert isinstance(caught.value.__cause__, rules.NumeroError)
    assert transport.calls == []


def test_configuration_is_checked(clock: ManualClock) -> None:
    http = httpx.AsyncClient()
    for kwargs in (
        {"code_cdgf": ""},
        {"code_cdgf": "A0400 0010"},
        {"user_login": ""},
        {"user_login": "  "},
        {"user_login": "Hélène Dupont"},
        {"user_login": "a\r\nX-Evil: 1"},
    ):
        with pytest.raises(ConfigError):
            make_client(http, None, **kwargs)
    assert (
        make_client(http, None, user_login="  jean.dupont@fournisseur.example ").user_login
        == "jean.dupont@fournisseur.example"
    )
    with pytest.raises(ConfigError):
        OmegaClient(http, "http://api.grdf.fr/fournisseur", None, code_cdgf=CDGF, user_login=LOGIN, quota=None)
    assert (
        OmegaClient(http, PRODUCTION_BASE_URL, None, code_cdgf=CDGF, user_login=LOGIN, quota=None).base_url
        == "https://api.grdf.fr/fournisseur"
    )
    auth = omega_auth(http, "id", "secret", clock)
    assert (auth.token_url, auth.scope) == (PRODUCTION_TOKEN_URL, "suivi_demande")
    assert PRODUCTION_TOKEN_URL == "https://connexion.grdf.fr/oauth2/us5y2ta2uEHjCWIR417/v1/token"


# -- OKTA token (§1.4, Annex B) ----------------------------------------------------------------------


async def test_token_answer_has_the_scope_and_lives_one_hour(http: httpx.AsyncClient) -> None:
    response = await http.post(
        TOKEN_URL,
        data={
            "grant_type": "client_credentials",
            "client_id": SANDBOX_CLIENT_ID,
            "client_secret": SANDBOX_CLIENT_SECRET,
            "scope": "suivi_demande",
        },
    )
    body = response.json()
    assert response.status_code == 200
    assert (body["token_type"], body["expires_in"], body["scope"]) == ("Bearer", 3600, "suivi_demande")
    wrong = await http.post(
        TOKEN_URL,
        data={
            "grant_type": "client_credentials",
            "client_id": SANDBOX_CLIENT_ID,
            "client_secret": SANDBOX_CLIENT_SECRET,
            "scope": "other",
        },
    )
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_scope"
    bad_secret = await http.post(
        TOKEN_URL,
        data={
            "grant_type": "client_credentials",
            "scope": "suivi_demande",
            "client_id": SANDBOX_CLIENT_ID,
            "client_secret": "nope",
        },
    )
    assert bad_secret.status_code == 401


async def test_token_is_reused_then_refreshed_after_one_hour(
    client: OmegaClient, auth: ClientCredentials, clock: ManualClock, sim: OmegaSimulator, transport: Counting
) -> None:
    for numero in sim.numbers()[:10]:
        await client.demande(numero)
    assert auth.fetches == 1 and transport.calls_under("/fournisseur/") == 10
    assert auth.token_expires_at == START + dt.timedelta(hours=1)
    first = next(iter(sim.issuer.tokens))
    clock.advance(minutes=59, seconds=30)  # inside the 60 s refresh margin
    await client.demande(EXAMPLE_NUMBER)
    assert auth.fetches == 2
    clock.advance(minutes=1)
    assert sim.issuer.check(f"Bearer {first}") is None  # the first token is dead now
    await client.demande(EXAMPLE_NUMBER)
    assert auth.fetches == 2 and sim.calls == 12


async def test_a_401_fetches_a_new_token_once(
    client: OmegaClient, auth: ClientCredentials, sim: OmegaSimulator, plan: FaultPlan
) -> None:
    await client.demande(EXAMPLE_NUMBER)
    sim.issuer.tokens.clear()  # revoked at OKTA
    assert (await client.demande(EXAMPLE_NUMBER)).numero_demande == EXAMPLE_NUMBER
    assert auth.fetches == 2
    plan.add(ROUTE, "expired_token")
    assert (await client.demande(EXAMPLE_NUMBER)).numero_demande == EXAMPLE_NUMBER
    assert auth.fetches == 3
    plan.add(ROUTE, "expired_token", count=2)
    with pytest.raises(AuthError) as caught:
        await client.demande(EXAMPLE_NUMBER)
    assert caught.value.status == 401 and "OKTA" in caught.value.detail


async def test_wrong_secret_is_an_auth_error(http: httpx.AsyncClient, clock: ManualClock) -> None:
    auth = omega_auth(http, SANDBOX_CLIENT_ID, "wrong", clock, token_url=TOKEN_URL)
    with pytest.raises(AuthError):
        await make_client(http, auth).demande(EXAMPLE_NUMBER)


async def test_no_token_is_401(http: httpx.AsyncClient) -> None:
    with pytest.raises(AuthError) as caught:
        await make_client(http, None).demande(EXAMPLE_NUMBER)
    assert caught.value.status == 401


# -- quota (§1.3): 1 call per second per supplier -----------------------------------------------------


async def test_server_refuses_a_second_call_within_the_second(clock: ManualClock) -> None:
    readings = iter([100.0, 100.5, 100.96, 101.2, 102.3])
    sim = OmegaSimulator(clock, monotonic=lambda: next(readings))
    async with httpx.AsyncClient(transport=SandboxTransport(sim.app)) as http:
        client = make_client(
            http, omega_auth(http, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, clock, token_url=TOKEN_URL)
        )
        outcomes = []
        for _ in range(5):
            try:
                await client.demande(EXAMPLE_NUMBER)
                outcomes.append("ok")
            except QuotaError as error:
                assert error.retry_after == 1 and error.status == 429
                assert error.detail == "quota of 1 call per second exceeded"
                outcomes.append("429")
    # 100.96 is within the 50 ms leeway of 101.0; refusals do not move the window
    assert outcomes == ["ok", "429", "ok", "429", "ok"]
    assert (sim.calls, sim.quota_refusals) == (3, 2)


async def test_without_the_limiter_the_server_refuses(clock: ManualClock) -> None:
    sim = OmegaSimulator(clock)  # real time
    async with httpx.AsyncClient(transport=SandboxTransport(sim.app)) as http:
        auth = omega_auth(http, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, clock, token_url=TOKEN_URL)
        client = make_client(http, auth)
        results = await asyncio.gather(*(client.demande(n) for n in sim.numbers()[:3]), return_exceptions=True)
    assert sum(isinstance(r, QuotaError) for r in results) == 2
    assert (sim.calls, sim.quota_refusals) == (1, 2)


async def test_shared_limiter_three_concurrent_callers_never_exceed(clock: ManualClock) -> None:
    sim = OmegaSimulator(clock)  # real time
    quota = limiter(clock)
    numbers = sim.numbers()[:5]
    async with httpx.AsyncClient(transport=SandboxTransport(sim.app)) as http:
        auth = omega_auth(http, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, clock, token_url=TOKEN_URL)
        callers = [make_client(http, auth, quota=quota) for _ in range(3)]  # e.g. three feeds

        async def work(client: OmegaClient, mine: list[str]) -> list[Demande]:
            return [await client.demande(numero) for numero in mine]

        started = time.monotonic()
        results = await asyncio.gather(
            work(callers[0], numbers[0:2]), work(callers[1], numbers[2:4]), work(callers[2], numbers[4:5])
        )
        elapsed = time.monotonic() - started
    assert sorted(d.numero_demande for batch in results for d in batch) == sorted(numbers)
    assert (sim.calls, sim.quota_refusals) == (5, 0)
    assert elapsed >= 4.0 and auth.fetches == 1
    assert quota.used_today() == 5  # the token call to OKTA took no slot


async def test_retries_and_the_401_resend_take_a_slot_each(clock: ManualClock) -> None:
    plan = FaultPlan()
    sim = OmegaSimulator(clock, plan)  # real time
    quota = limiter(clock)
    async with httpx.AsyncClient(transport=SandboxTransport(sim.app)) as http:
        auth = omega_auth(http, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, clock, token_url=TOKEN_URL)
        client = make_client(http, auth, quota=quota, retry=RetryPolicy(attempts=3, base_delay=0.0))
        plan.add(ROUTE, "status", status=503)
        plan.add(ROUTE, "expired_token")
        started = time.monotonic()
        demande = await client.demande(EXAMPLE_NUMBER)  # 503, retry: 401, new token, re-send: 200
        elapsed = time.monotonic() - started
    assert demande.numero_demande == EXAMPLE_NUMBER
    assert sim.quota_refusals == 0 and auth.fetches == 2
    assert quota.used_today() == 3 and elapsed >= 2.0


class Recording(QuotaLimiter):
    """A limiter that never waits and records what was true when a slot was taken."""

    def __init__(self, clock: ManualClock, auth: ClientCredentials) -> None:
        super().__init__("rec", provider=PROVIDER, clock=clock)
        self.auth = auth
        self.slots: list[int] = []

    async def acquire(self) -> None:
        self.slots.append(self.auth.fetches)
        await super().acquire()


async def test_slot_is_taken_after_the_token_and_once_per_wire_request(
    http: httpx.AsyncClient, auth: ClientCredentials, clock: ManualClock, transport: Counting, plan: FaultPlan
) -> None:
    quota = Recording(clock, auth)
    client = make_client(http, auth, quota=quota)
    assert isinstance(client.auth, QuotaPacedAuth) and client.limiter is quota
    await client.demande(EXAMPLE_NUMBER)
    assert quota.slots == [1]  # the token was fetched before the slot: not inside the window
    plan.add(ROUTE, "expired_token")
    await client.demande(EXAMPLE_NUMBER)
    assert quota.slots == [1, 1, 2]  # the re-send after the 401 took its own slot
    assert transport.calls_under("/fournisseur/") == len(quota.slots) == 3
    with pytest.raises(AuthError):
        await make_client(http, None, quota=quota).demande(EXAMPLE_NUMBER)  # no auth: still paced
    assert len(quota.slots) == 4


# -- fault plan on the resource ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "status, error, detail",
    [
        (500, ServerError, "GRDF server error: simulated failure"),
        (503, ServerError, "GRDF server error: simulated failure"),
        (400, BadRequestError, "request refused: simulated failure"),
        (403, ForbiddenError, "not allowed for this CDG-F / user"),
        (404, NotFoundError, "unknown request number for this supplier (CDG-F)"),
        (405, BadRequestError, "HTTP method not supported by GRDF OMEGA: simulated failure"),
    ],
)
async def test_status_faults(client: OmegaClient, plan: FaultPlan, status: int, error: type, detail: str) -> None:
    plan.add(ROUTE, "status", status=status)
    with pytest.raises(error) as caught:
        await client.demande(EXAMPLE_NUMBER)
    assert caught.value.status == status and caught.value.detail == detail
    assert (await client.demande(EXAMPLE_NUMBER)).numero_demande == EXAMPLE_NUMBER


async def test_timeout_fault(client: OmegaClient, plan: FaultPlan) -> None:
    plan.timeout_seconds = 5
    plan.add(ROUTE, "timeout")
    with pytest.raises(NetworkError):
        await client.demande(EXAMPLE_NUMBER)


@pytest.mark.parametrize("kind", ["malformed", "truncated"])
async def test_bad_body_faults(client: OmegaClient, plan: FaultPlan, kind: FaultKind) -> None:
    plan.add(ROUTE, kind)
    with pytest.raises(PayloadError):
        await client.demande(EXAMPLE_NUMBER)


async def test_quota_fault(client: OmegaClient, plan: FaultPlan) -> None:
    plan.add(ROUTE, "quota")
    with pytest.raises(QuotaError) as caught:
        await client.demande(EXAMPLE_NUMBER)
    assert caught.value.retry_after == 1
    assert caught.value.detail == "quota of 1 call per second exceeded"


async def test_expired_token_fault_is_recovered(client: OmegaClient, auth: ClientCredentials, plan: FaultPlan) -> None:
    plan.add(ROUTE, "expired_token")
    assert (await client.demande(EXAMPLE_NUMBER)).numero_demande == EXAMPLE_NUMBER
    assert auth.fetches == 2


async def test_unexpected_shape_is_a_payload_error() -> None:
    answers = iter(
        [
            httpx.Response(200, json={"numero_demande": "WD00053H"}),
            httpx.Response(404, text="<html>not found</html>"),
            httpx.Response(500, json={"code": 500, "message": "Erreur [b]interne[/b]\n" + "x" * 400}),
        ]
    )
    async with httpx.AsyncClient(transport=httpx.MockTransport(lambda request: next(answers))) as http:
        client = make_client(http, None)
        with pytest.raises(PayloadError):
            await client.demande(EXAMPLE_NUMBER)
        with pytest.raises(NotFoundError) as caught:
            await client.demande(EXAMPLE_NUMBER)
        assert caught.value.detail == "unknown request number for this supplier (CDG-F)"
        with pytest.raises(ServerError) as caught:
            await client.demande(EXAMPLE_NUMBER)
        detail = caught.value.detail
        assert detail.startswith("GRDF server error: Erreur \\[b]interne\\[/b] x")
        assert "\n" not in detail and detail.endswith("…") and len(detail) <= 210


def test_build_app_exposes_its_simulator(clock: ManualClock, plan: FaultPlan) -> None:
    app = build_app(clock, plan, code_cdgf="A04000099", seed=3)
    assert isinstance(app.simulator, OmegaSimulator)
    assert app.simulator.code_cdgf == "A04000099"
    assert app.simulator.document(EXAMPLE_NUMBER)["cdgf"]["code"] == "A04000099"
