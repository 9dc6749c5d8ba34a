"""GRDF ADICT client against its simulator over the real httpx stack."""

from __future__ import annotations

import datetime as dt
from typing import AsyncIterator

import httpx
import pytest

from pupitre.providers.core.clock import PARIS, ManualClock
from pupitre.providers.core.errors import (BadRequestError, ConflictError, NetworkError, PayloadError,
                                           QuotaError, ServerError)
from pupitre.providers.core.faults import FaultPlan
from pupitre.providers.core.quota import QuotaLimiter
from pupitre.providers.core.retry import RetryPolicy
from pupitre.providers.core.sandbox import SandboxTransport
from pupitre.providers.grdf_adict import models as m
from pupitre.providers.grdf_adict import rules
from pupitre.providers.grdf_adict.client import PROVIDER, AdictClient, adict_auth
from pupitre.providers.grdf_adict.sandbox import (SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, TOKEN_PATH,
                                                  AdictSimulator)
from tests.providers.helpers import stepping

HOST = "http://grdf-adict.sandbox.invalid"
START = dt.datetime(2026, 3, 10, 9, 0, tzinfo=PARIS)




@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def plan() -> FaultPlan:
    return FaultPlan()


@pytest.fixture
def sim(clock: ManualClock, plan: FaultPlan) -> AdictSimulator:
    return AdictSimulator(clock, plan, park_size=300, monotonic=stepping())


@pytest.fixture
async def http(sim: AdictSimulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=SandboxTransport(sim.app, read_timeout=0.3)) as client:
        yield client


def make(http: httpx.AsyncClient, clock: ManualClock, quota: QuotaLimiter | None = None) -> AdictClient:
    auth = adict_auth(http, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, clock, token_url=HOST + TOKEN_PATH)
    return AdictClient(http, HOST + "/adict/v2", auth, quota=quota, retry=RetryPolicy(attempts=1))


@pytest.fixture
def client(http: httpx.AsyncClient, clock: ManualClock) -> AdictClient:
    return make(http, clock)


async def test_list_has_every_state_and_proof_status(client: AdictClient) -> None:
    rights = [r async for r in client.access_rights()]
    assert len(rights) == 300
    assert {r.etat_droit_acces for r in rights} == set(m.STATES)
    assert {r.statut_controle_preuve for r in rights} >= set(m.PROOF_STATUSES)


class _SlowStream(httpx.AsyncByteStream):
    """The simulator's NDJSON body, handed over chunk by chunk (``SandboxTransport`` rides on
    ``httpx.ASGITransport``, which buffers a whole body before returning it)."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks, self.sent = chunks, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            self.sent += 1
            yield chunk


async def test_rows_arrive_before_the_stream_ends(clock: ManualClock, plan: FaultPlan) -> None:
    sim = AdictSimulator(clock, plan, park_size=5000, monotonic=stepping())
    async with httpx.AsyncClient(transport=SandboxTransport(sim.app)) as raw:
        token = (await raw.post(HOST + TOKEN_PATH, data={"grant_type": "client_credentials",
                 "client_id": SANDBOX_CLIENT_ID, "client_secret": SANDBOX_CLIENT_SECRET})).json()["access_token"]
        body = (await raw.get(HOST + "/adict/v2/droits_acces",
                              headers={"Authorization": f"Bearer {token}"})).content
    chunks = [body[i:i + 4096] for i in range(0, len(body), 4096)]
    stream = _SlowStream(chunks)

    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=stream, headers={"content-type": "application/x-ndjson"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        client = AdictClient(http, HOST + "/adict/v2", None, quota=None)
        rights = client.access_rights()
        first = await rights.__anext__()
        assert first.id_pce and stream.sent == 1 < len(chunks)
        rest = [r async for r in rights]
    assert len(rest) == 4999 and stream.sent == len(chunks)


async def test_search_filters(client: AdictClient) -> None:
    rows = [r async for r in client.search_access_rights({"etat_droit_acces": ["Active"],
                                                          "statut_controle_preuve": ["Preuve en attente"]})]
    assert rows and all(r.etat_droit_acces == "Active" and r.statut_controle_preuve == "Preuve en attente"
                        for r in rows)


async def test_declare_revoke_and_refusals(client: AdictClient, sim: AdictSimulator) -> None:
    body = rules.build_declaration({"role_tiers": "AUTORISE_CONTRAT_FOURNITURE", "raison_sociale": "BabaTech",
                                    "code_postal": "77900", "courriel_titulaire": "r@example.com",
                                    "date_debut_droit_acces": "2026-03-10", "date_fin_droit_acces": "2027-03-10",
                                    "perim_donnees_techniques": True}, START.date())
    result = await client.declare_access_right("GI999001", body)
    assert result.etat_droit_acces == "A valider" and result.code_statut_traitement == "0000000002"
    with pytest.raises(ConflictError):
        await client.declare_access_right("GI999001", body)
    with pytest.raises(BadRequestError):
        await client.declare_access_right("GI99900", body)
    active = next(r for r in sim.rights.values() if r["etat_droit_acces"] == "Active")
    assert (await client.revoke_access_right(active["id_droit_acces"])).ok
    assert sim.rights[active["id_droit_acces"]]["etat_droit_acces"] == "Révoquée"
    with pytest.raises(ConflictError):
        await client.revoke_access_right(active["id_droit_acces"])


async def test_proofs(client: AdictClient, sim: AdictSimulator) -> None:
    pending = next(r for r in sim.rights.values() if r["statut_controle_preuve"] == "Preuve en attente")
    files = [("consentement.pdf", b"%PDF-1.4 ...", "application/pdf"), ("log.txt", b"ok", "text/plain")]
    assert (await client.send_proofs(pending["id_droit_acces"], files)).ok
    assert pending["statut_controle_preuve"] == "Preuve à vérifier"
    assert len(sim.proofs[pending["id_droit_acces"]]) == 2
    done = next(r for r in sim.rights.values() if r["statut_controle_preuve"] == "Preuve Vérifiée OK")
    with pytest.raises(ConflictError, match="ne demande pas"):
        await client.send_proofs(done["id_droit_acces"], files)
    with pytest.raises(BadRequestError, match="At most 3"):
        await client.send_proofs(pending["id_droit_acces"], files * 2)


async def test_data_reads_and_functional_error(client: AdictClient, sim: AdictSimulator) -> None:
    pce = next(r["id_pce"] for r in sim.rights.values() if r["id_pce"].startswith("GI"))
    readings = await client.published_consumption(pce, periode="2026-02", today=START.date())
    assert len(readings) == 27 and all(r.energy_kwh for r in readings)
    assert (await client.technical_data(pce)).donnees_techniques.caracteristiques_compteur.frequence == "JJ"  # type: ignore[union-attr]
    assert (await client.contractual_data(pce)).donnees_contractuelles.tarif_acheminement == "T2"  # type: ignore[union-attr]
    with pytest.raises(rules.FunctionalError, match="inconnu"):
        await client.technical_data("GI888888")
    with pytest.raises(BadRequestError, match="3 years"):
        await client.informative_consumption(pce, start=dt.date(2020, 1, 1), end=dt.date(2026, 1, 1),
                                             today=START.date())


@pytest.mark.parametrize("kind,error", [("status", ServerError), ("quota", QuotaError),
                                         ("truncated", PayloadError), ("malformed", PayloadError),
                                         ("timeout", NetworkError)])
async def test_faults_are_typed(client: AdictClient, plan: FaultPlan, kind: str, error: type) -> None:
    plan.timeout_seconds = 1.0
    plan.add("/adict/v2/droits_acces", kind)  # type: ignore[arg-type]
    with pytest.raises(error):
        [r async for r in client.access_rights()]


async def test_truncated_stream_keeps_the_rows(client: AdictClient, plan: FaultPlan) -> None:
    plan.add("/adict/v2/droits_acces", "truncated")
    got = []
    with pytest.raises(PayloadError, match="item"):
        async for r in client.access_rights():
            got.append(r)
    assert 100 < len(got) < 300


async def test_shared_quota_never_exceeded(clock: ManualClock, plan: FaultPlan) -> None:
    sim = AdictSimulator(clock, plan, park_size=10, per_second=3)  # real time
    limiter = QuotaLimiter("grdf_adict:test", provider=PROVIDER, clock=clock, per_second=3, per_day=8)
    async with httpx.AsyncClient(transport=SandboxTransport(sim.app)) as http:
        client = make(http, clock, limiter)
        pce = next(iter(sim.rights.values()))["id_pce"]
        for _ in range(7):
            await client.technical_data(pce)
        assert sim.quota_refusals == 0 and limiter.used_today() == 7
        await client.technical_data(pce)
        with pytest.raises(QuotaError, match="daily quota"):
            await client.technical_data(pce)
    assert sim.calls == 8
