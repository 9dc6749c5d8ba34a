"""GRDF ADICT client against its simulator over the real httpx stack."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import AbstractSet, Any, AsyncIterator, Sequence

import httpx
import pytest

from pupitre.providers.core.clock import PARIS, ManualClock
from pupitre.providers.core.errors import (
    BadRequestError,
    ConflictError,
    NetworkError,
    PayloadError,
    QuotaError,
    ServerError,
)
from pupitre.providers.core.faults import FaultKind, FaultPlan
from pupitre.providers.core.quota import QuotaLimiter
from pupitre.providers.core.retry import RetryPolicy
from pupitre.providers.core.sandbox import SandboxTransport
from pupitre.providers.grdf_adict import models as m
from pupitre.providers.grdf_adict import rules
from pupitre.providers.grdf_adict.client import PROVIDER, AdictClient
from pupitre.providers.grdf_adict.sandbox import (
    OK,
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    TOKEN_PATH,
    AdictSimulator,
)
from tests.providers.helpers import ADICT_HOST as HOST
from tests.providers.helpers import Counting, adict_client, stepping

START = dt.datetime(2026, 3, 10, 9, 0, tzinfo=PARIS)


@pytest.fixture
def client(adict_http: httpx.AsyncClient, clock: ManualClock) -> AdictClient:
    return adict_client(adict_http, clock)


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
    adict_sim = AdictSimulator(clock, plan, park_size=5000, monotonic=stepping())
    async with httpx.AsyncClient(transport=SandboxTransport(adict_sim.app)) as raw:
        token = (
            await raw.post(
                HOST + TOKEN_PATH,
                data={
                    "grant_type": "client_credentials",
                    "client_id": SANDBOX_CLIENT_ID,
                    "client_secret": SANDBOX_CLIENT_SECRET,
                },
            )
        ).json()["access_token"]
        body = (await raw.get(HOST + "/adict/v2/droits_acces", headers={"Authorization": f"Bearer {token}"})).content
    chunks = [body[i : i + 4096] for i in range(0, len(body), 4096)]
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
    rows = [
        r
        async for r in client.search_access_rights(
            {"etat_droit_acces": ["Active"], "statut_controle_preuve": ["Preuve en attente"]}
        )
    ]
    assert rows and all(
        r.etat_droit_acces == "Active" and r.statut_controle_preuve == "Preuve en attente" for r in rows
    )


async def test_declare_revoke_and_refusals(client: AdictClient, adict_sim: AdictSimulator) -> None:
    body = rules.build_declaration(
        {
            "role_tiers": "AUTORISE_CONTRAT_FOURNITURE",
            "raison_sociale": "BabaTech",
            "code_postal": "77900",
            "courriel_titulaire": "r@example.com",
            "date_debut_droit_acces": "2026-03-10",
            "date_fin_droit_acces": "2027-03-10",
            "perim_donnees_techniques": True,
        },
        START.date(),
    )
    result = await client.declare_access_right("GI999001", body)
    assert result.etat_droit_acces == "A valider" and result.code_statut_traitement == "0000000002"
    with pytest.raises(ConflictError):
        await client.declare_access_right("GI999001", body)
    with pytest.raises(BadRequestError):
        await client.declare_access_right("GI99900", body)
    active = next(r for r in adict_sim.rights.values() if r["etat_droit_acces"] == "Active")
    assert (await client.revoke_access_right(active["id_droit_acces"])).ok
    assert adict_sim.rights[active["id_droit_acces"]]["etat_droit_acces"] == "Révoquée"
    with pytest.raises(ConflictError):
        await client.revoke_access_right(active["id_droit_acces"])


async def test_proofs(client: AdictClient, adict_sim: AdictSimulator) -> None:
    pending = next(r for r in adict_sim.rights.values() if r["statut_controle_preuve"] == "Preuve en attente")
    files = [("consentement.pdf", b"%PDF-1.4 ...", "application/pdf"), ("log.txt", b"ok", "text/plain")]
    assert (await client.send_proofs(pending["id_droit_acces"], files)).ok
    assert pending["statut_controle_preuve"] == "Preuve à vérifier"
    assert len(adict_sim.proofs[pending["id_droit_acces"]]) == 2
    done = next(r for r in adict_sim.rights.values() if r["statut_controle_preuve"] == "Preuve Vérifiée OK")
    with pytest.raises(ConflictError, match="ne demande pas"):
        await client.send_proofs(done["id_droit_acces"], files)
    with pytest.raises(BadRequestError, match="At most 3"):
        await client.send_proofs(pending["id_droit_acces"], files * 2)


def _active(adict_sim: AdictSimulator, frequency: str, **flags: str) -> str:
    """The PCE of an Active, unexpired right with that meter frequency (and perimeter flags)."""
    for right in adict_sim.iter_rights():
        if (
            right["etat_droit_acces"] == "Active"
            and right["date_fin_droit_acces"] > START.date().isoformat()
            and "INJECTION" not in right["role_tiers"]
            and adict_sim.frequency(right["id_pce"]) == frequency
            and all(right.get(k) == v for k, v in flags.items())
        ):
            return right["id_pce"]
    raise AssertionError(f"no active {frequency} right")


async def test_data_reads_and_functional_error(client: AdictClient, adict_sim: AdictSimulator) -> None:
    pce = _active(adict_sim, "JJ")
    readings = await client.published_consumption(pce, periode="2026-02", today=START.date())
    assert len(readings) == 28 and all(r.energy_kwh for r in readings)  # one per gas day
    assert readings[0].start == dt.datetime(2026, 2, 1, 6, tzinfo=PARIS)
    assert readings[0].index_end == readings[1].index_start
    assert (await client.technical_data(pce)).frequency == "JJ"
    assert (await client.contractual_data(pce)).donnees_contractuelles.tarif_acheminement  # type: ignore[union-attr]  # the simulator sends them
    with pytest.raises(rules.FunctionalError, match="Aucun droit"):
        await client.technical_data("GI888888")
    with pytest.raises(BadRequestError, match="3 years"):
        await client.informative_consumption(
            pce, start=dt.date(2020, 1, 1), end=dt.date(2026, 1, 1), today=START.date()
        )


@pytest.mark.parametrize(
    "kind,error",
    [
        ("status", ServerError),
        ("quota", QuotaError),
        ("truncated", PayloadError),
        ("malformed", PayloadError),
        ("timeout", NetworkError),
    ],
)
async def test_faults_are_typed(client: AdictClient, plan: FaultPlan, kind: FaultKind, error: type) -> None:
    plan.timeout_seconds = 1.0
    plan.add("/adict/v2/droits_acces", kind)
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
    # real time; the gateway counts arrivals and a call may reach it later than the next one
    # left (a loaded test machine): its windows are made 10 % shorter to absorb that transit
    # jitter, not the pacing itself
    adict_sim = AdictSimulator(clock, plan, park_size=10, per_second=3, monotonic=lambda: time.monotonic() * 1.1)
    limiter = QuotaLimiter("grdf_adict:test", provider=PROVIDER, clock=clock, per_second=3, per_day=8)
    async with httpx.AsyncClient(transport=SandboxTransport(adict_sim.app)) as http:
        client = adict_client(http, clock, limiter)
        pce = next(iter(adict_sim.rights.values()))["id_pce"]
        for _ in range(7):
            await client.technical_data(pce)
        assert adict_sim.quota_refusals == 0 and limiter.used_today() == 7
        await client.technical_data(pce)
        with pytest.raises(QuotaError, match="daily quota"):
            await client.technical_data(pce)
    assert adict_sim.calls == 8


# -- the generated park -----------------------------------------------------------------------------


async def test_big_park_is_lazy_and_streams_in_chunks_of_many_lines(clock: ManualClock, plan: FaultPlan) -> None:
    adict_sim = AdictSimulator(clock, plan, park_size=100_000, monotonic=stepping())
    assert len(adict_sim.rights) == 100_000 and not adict_sim.touched  # nothing generated yet
    last = adict_sim.pce_of(99_999)
    assert adict_sim.right_of_pce(last, touch=False)["id_pce"] == last and not adict_sim.touched
    adict_sim.set_park_size(12_000)
    response = adict_sim._stream(adict_sim.iter_rights())
    chunks = response.body_iterator.__aiter__()
    first = await chunks.__anext__()
    assert adict_sim.rows_sent == adict_sim.chunk_rows and first.count(b"\n") == adict_sim.chunk_rows  # starts at once
    rest = [chunk async for chunk in chunks]
    assert len(rest) == 12_000 // adict_sim.chunk_rows  # the other blocks, then the trailer alone
    assert all(chunk.count(b"\n") == adict_sim.chunk_rows for chunk in rest[:-1])
    assert json.loads(rest[-1]) == OK and not adict_sim.touched


def test_default_park_awaits_proofs_due_in_the_future_only(adict_sim: AdictSimulator) -> None:
    today = START.date()
    deadlines = [
        dt.date.fromisoformat(r["date_limite_transmission_preuve"])
        for r in adict_sim.iter_rights()
        if r["statut_controle_preuve"] == m.PROOF_PENDING
    ]
    assert len(deadlines) > 10 and not any(rules.overdue(d, today) for d in deadlines)
    assert any(rules.due_soon(d, today) for d in deadlines)


def test_default_park_covers_every_case(clock: ManualClock, plan: FaultPlan) -> None:
    adict_sim = AdictSimulator(clock, plan, park_size=300, overdue_proofs=True)
    rights = list(adict_sim.iter_rights())
    assert {r["etat_droit_acces"] for r in rights} == set(m.STATES)
    assert {r["statut_controle_preuve"] for r in rights} == set(m.PROOF_STATUSES) | {None}
    assert {r["role_tiers"] for r in rights} == set(m.ROLES)
    assert {r["parcours"] for r in rights} == set(m.ROUTES)
    assert {adict_sim.frequency(r["id_pce"]) for r in rights} == {"6M", "1M", "MM", "JJ"}
    assert any(r["nom_titulaire"] for r in rights) and any(r["raison_sociale_du_titulaire"] for r in rights)
    today = START.date()
    deadlines = [
        dt.date.fromisoformat(r["date_limite_transmission_preuve"])
        for r in rights
        if r["statut_controle_preuve"] == m.PROOF_PENDING
    ]
    assert any(rules.due_soon(d, today) for d in deadlines) and any(rules.overdue(d, today) for d in deadlines)
    assert any(d > rules.add_working_days(today, 5) for d in deadlines)
    for raw in rights:  # every generated right reads the same as a row and as a model
        right, row = m.read(raw, m.AccessRight), m.RightRow.from_api(raw)
        assert row == m.RightRow.of(right)
        assert (row.holder, row.is_person, row.etat_droit_acces) == (
            right.holder,
            right.is_person,
            right.etat_droit_acces,
        )


def _declare_body(**fields: object) -> m.DeclareBody:
    base = {
        "role_tiers": "AUTORISE_CONTRAT_FOURNITURE",
        "code_postal": "77900",
        "courriel_titulaire": "r@example.com",
        "date_debut_droit_acces": "2026-03-10",
        "date_fin_droit_acces": "2027-03-10",
        "perim_donnees_techniques": True,
    }
    return rules.build_declaration(base | fields, START.date())


async def test_holder_validation_windows(client: AdictClient, adict_sim: AdictSimulator, clock: ManualClock) -> None:
    person = await client.declare_access_right("GI999001", _declare_body(nom_titulaire="DUPONT"))
    entity = await client.declare_access_right("GI999003", _declare_body(raison_sociale="BABATECH"))
    answered = await client.declare_access_right("GI999005", _declare_body(nom_titulaire="MARTIN"))
    refused = await client.declare_access_right("GI999007", _declare_body(nom_titulaire="FAURE"))
    adict_sim.holder_answers(answered.id_droit_acces, accept=True)  # type: ignore[arg-type]  # a declaration taken carries its id
    adict_sim.holder_answers(refused.id_droit_acces, accept=False)  # type: ignore[arg-type]  # a declaration taken carries its id
    adict_sim.advance_lifecycle(days=1, hours=23)
    state = {
        r.id_pce: r.etat_droit_acces
        async for r in client.search_access_rights({"id_pce": ["GI999001", "GI999003", "GI999005", "GI999007"]})
    }
    assert state == {"GI999001": "A valider", "GI999003": "A valider", "GI999005": "Active", "GI999007": "Refusée"}
    changes = adict_sim.advance_lifecycle(hours=2)  # 2 days: the legal entity is deemed to agree
    assert (entity.id_droit_acces, "GI999003", "A valider", "Active") in changes
    changes = adict_sim.advance_lifecycle(days=1)  # 3 days: the silent person refuses
    assert (person.id_droit_acces, "GI999001", "A valider", "Refusée") in changes
    late = await client.access_right("GI999001")
    assert (
        late is not None
        and late.source_passage_a_refuse == "La durée de validité de la demande d'accréditation est dépassée."
    )
    assert late.date_passage_a_refuse == dt.datetime(2026, 3, 13, 9, tzinfo=PARIS)


async def test_park_lifecycle_moves_with_the_clock(adict_sim: AdictSimulator) -> None:
    before = {r["etat_droit_acces"] for r in adict_sim.iter_rights()}
    changes = adict_sim.advance_lifecycle(days=7)
    kinds = {(old, new) for _, _, old, new in changes}
    assert {("A valider", "Active"), ("A valider", "Refusée")} <= kinds
    assert {("Active", "Obsolète"), ("Active", "Révoquée")} <= kinds
    assert "A valider" in before and "A valider" not in {r["etat_droit_acces"] for r in adict_sim.iter_rights()}
    moved = next(key for key, _, old, new in changes if new == "Obsolète")
    assert adict_sim.rights[moved]["source_passage_a_obsolete"] == "Le client n'est plus titulaire de ce PCE"


async def test_proof_campaign_and_checking(client: AdictClient, adict_sim: AdictSimulator) -> None:
    ids = adict_sim.start_proof_campaign(count=2)
    deadline = rules.add_working_days(START.date(), 20)
    rights = [await client.access_right(adict_sim.rights[i]["id_pce"], i) for i in ids]
    assert all(
        r is not None
        and r.statut_controle_preuve == "Preuve en attente"
        and r.date_limite_transmission_preuve == deadline
        for r in rights
    )
    good, bad = ids
    adict_sim.proof_verdicts[bad] = False
    for key in ids:
        await client.send_proofs(key, [("consentement.pdf", b"%PDF", "application/pdf")])
        assert adict_sim.rights[key]["statut_controle_preuve"] == "Preuve à vérifier"
    adict_sim.advance_lifecycle(days=3)
    assert {adict_sim.rights[k]["statut_controle_preuve"] for k in ids} == {"Preuve en cours de vérification"}
    adict_sim.advance_lifecycle(days=5)
    assert adict_sim.rights[good]["statut_controle_preuve"] == "Preuve Vérifiée OK"
    assert adict_sim.rights[bad]["statut_controle_preuve"] == "Preuve Vérifiée KO"
    assert adict_sim.rights[bad]["etat_droit_acces"] == "A revérifier"
    with pytest.raises(rules.FunctionalError, match="preuve de consentement"):
        await client.technical_data(adict_sim.rights[bad]["id_pce"])


async def test_server_side_search_filters(client: AdictClient, adict_sim: AdictSimulator) -> None:
    rows = [
        r
        async for r in client.access_right_rows(
            {"etat_droit_acces": ["A revérifier"], "role_tiers": ["AUTORISE_CONTRAT_FOURNITURE"]}
        )
    ]
    expected = [
        r
        for r in adict_sim.iter_rights()
        if r["etat_droit_acces"] == "A revérifier" and r["role_tiers"] == "AUTORISE_CONTRAT_FOURNITURE"
    ]
    assert rows and [r.id_droit_acces for r in rows] == [r["id_droit_acces"] for r in expected]
    streams = adict_sim.finished_streams
    pces = [r["id_pce"] for r in expected[:2]]
    assert [r.id_pce async for r in client.access_right_rows({"id_pce": pces})] == pces
    assert [r async for r in client.search_access_rights({"id_pce": ["GI888889"]})] == []
    assert adict_sim.finished_streams == streams + 2


async def test_daily_quota_enforced_by_the_server(clock: ManualClock, plan: FaultPlan) -> None:
    adict_sim = AdictSimulator(clock, plan, park_size=10, per_day=3, monotonic=stepping())
    assert adict_sim.per_second == 1.0
    async with httpx.AsyncClient(transport=SandboxTransport(adict_sim.app)) as http:
        client = adict_client(http, clock)
        pce = next(r["id_pce"] for r in adict_sim.iter_rights() if r["etat_droit_acces"] == "Active")
        for _ in range(3):
            await client.technical_data(pce)
        with pytest.raises(QuotaError, match="quota"):
            await client.technical_data(pce)
        clock.advance(days=1)
        await client.technical_data(pce)
    assert adict_sim.quota_refusals == 1 and adict_sim.calls == 4


# -- data per meter frequency -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "frequency,published,informative", [("6M", 2, 0), ("1M", 12, 28), ("MM", 12, 28), ("JJ", 365, 0)]
)
async def test_series_per_frequency(
    client: AdictClient, adict_sim: AdictSimulator, frequency: str, published: int, informative: int
) -> None:
    pce = _active(adict_sim, frequency, perim_donnees_informatives="Vrai")
    readings = await client.published_consumption(pce, periode="2025", today=START.date())
    assert len(readings) == published
    assert sum(r.volume_m3 for r in readings) == readings[-1].index_end - readings[0].index_start  # type: ignore[operator,misc]  # published readings carry volume and indexes
    coeff = readings[0].consommation.coeff_calcul  # type: ignore[union-attr]  # published readings carry them
    assert (coeff.coeff_conversion is not None) == (frequency == "1M")  # type: ignore[union-attr]  # published readings carry them
    assert (coeff.valeur_pcs is not None) == (frequency != "1M")  # type: ignore[union-attr]  # published readings carry them
    assert all(r.consommation.type_conso == "Publiée" for r in readings)  # type: ignore[union-attr]  # published readings carry them
    if informative:
        daily = await client.informative_consumption(pce, periode="2026-02", today=START.date())
        assert len(daily) == informative and daily[0].consommation.journee_gaziere == dt.date(2026, 2, 1)  # type: ignore[union-attr]  # informative readings carry them
        delay = rules.INFORMATIVE_DELAY_DAYS[frequency]
        recent = await client.informative_consumption(
            pce, start=dt.date(2026, 3, 1), end=START.date(), today=START.date()
        )
        assert recent[-1].end.date() == START.date() - dt.timedelta(days=delay - 1)  # type: ignore[union-attr]  # a reading has its end
    else:
        with pytest.raises(rules.FunctionalError, match="pas de données"):
            await client.informative_consumption(pce, periode="2026-02", today=START.date())


async def test_injection_data_for_biomethane_sites(client: AdictClient, adict_sim: AdictSimulator) -> None:
    site = next(
        r
        for r in adict_sim.iter_rights()
        if "INJECTION" in r["role_tiers"]
        and r["etat_droit_acces"] == "Active"
        and r["date_fin_droit_acces"] > START.date().isoformat()
    )
    readings = await client.published_injections(site["id_pce"], periode="2026-02", today=START.date())
    assert readings and all(r.injection and r.flow == "Production" and r.energy_kwh for r in readings)
    assert adict_sim.frequency(site["id_pce"]) == "JJ" and len(readings) == 28
    consumer = _active(adict_sim, "MM")
    with pytest.raises(rules.FunctionalError, match="injections publiées"):
        await client.published_injections(consumer, periode="2026-02", today=START.date())


async def test_functional_errors_arrive_as_http_200(client: AdictClient, adict_sim: AdictSimulator) -> None:
    def pce_where(**wanted: str) -> str:
        return next(r["id_pce"] for r in adict_sim.iter_rights() if all(r.get(k) == v for k, v in wanted.items()))

    cases = [
        (pce_where(etat_droit_acces="Révoquée", source_revocation="Tiers"), "Vous avez révoqué"),
        (pce_where(etat_droit_acces="Révoquée", source_revocation="Titulaire"), "titulaire a révoqué"),
        (pce_where(etat_droit_acces="Obsolète"), "déménagé"),
        (pce_where(etat_droit_acces="A valider"), "pas ou plus autorisé"),
        (pce_where(etat_droit_acces="Refusée"), "pas ou plus autorisé"),
        (pce_where(etat_droit_acces="Active", perim_donnees_contractuelles="Faux"), "ne couvre pas"),
    ]
    expired = next(
        r["id_pce"]
        for r in adict_sim.iter_rights()
        if r["etat_droit_acces"] == "Active" and r["date_fin_droit_acces"] < START.date().isoformat()
    )
    cases.append((expired, "expiré"))
    for pce, text in cases:
        read = client.contractual_data if text == "ne couvre pas" else client.technical_data
        with pytest.raises(rules.FunctionalError, match=text):
            await read(pce)
    raw = await client.http.get(HOST + "/adict/v2/pce/0999999992828/donnees_techniques", auth=client.auth)
    assert raw.status_code == 400 and "GI+6 chiffres" in raw.text
    raw = await client.http.get(
        HOST + f"/adict/v2/pce/{_active(adict_sim, 'MM')}/donnees_consos_informatives",
        params={"periode": "2023-09-01"},
        auth=client.auth,
    )
    assert raw.status_code == 400 and "format du paramètre 'periode'" in raw.json()["statut_restitution"]["message"]


async def test_token_is_reused_for_four_hours(clock: ManualClock, adict_sim: AdictSimulator) -> None:
    counting = Counting(SandboxTransport(adict_sim.app))
    async with httpx.AsyncClient(transport=counting) as http:
        client = adict_client(http, clock)
        pce = _active(adict_sim, "MM")
        for _ in range(5):
            await client.technical_data(pce)
        assert counting.calls_under(TOKEN_PATH) == 1 and counting.calls_under("/adict/v2") == 5
        clock.advance(hours=3, minutes=59, seconds=30)  # inside the 60 s refresh margin of 4 h
        await client.technical_data(pce)
        assert counting.calls_under(TOKEN_PATH) == 2
        clock.advance(minutes=1)  # a new token: reused again
        await client.technical_data(pce)
        assert counting.calls_under(TOKEN_PATH) == 2


async def test_day_counter_survives_a_restart_and_bulk_is_checked_first(
    tmp_path, clock: ManualClock, adict_sim: AdictSimulator
) -> None:
    from pupitre.providers.core.store import Store

    per_second, per_day = rules.quota_limits(adict_sim.park_size, per_day=5)
    store = Store(tmp_path / "quota.sqlite3")
    async with httpx.AsyncClient(transport=SandboxTransport(adict_sim.app)) as http:
        first = QuotaLimiter(
            "grdf_adict:test",
            provider=PROVIDER,
            clock=clock,
            per_second=per_second,
            per_day=per_day,
            store=store,
            monotonic=stepping(),
            sleep=_no_sleep,
        )
        pce = _active(adict_sim, "MM")
        for _ in range(3):
            await adict_client(http, clock, first).technical_data(pce)
        restarted = QuotaLimiter(
            "grdf_adict:test",
            provider=PROVIDER,
            clock=clock,
            per_second=per_second,
            per_day=per_day,
            store=store,
            monotonic=stepping(),
            sleep=_no_sleep,
        )
        assert restarted.used_today() == 3 and restarted.remaining_today() == 2
        check = rules.bulk_fits_today(3, remaining_today=restarted.remaining_today(), per_second=per_second)
        assert not check.fits and "only 2 remain" in check.message
        assert rules.bulk_fits_today(2, remaining_today=restarted.remaining_today()).fits
    store.close()


async def _no_sleep(seconds: float) -> None:
    return None


async def test_technical_error_inside_a_stream_is_retried_and_keeps_what_arrived(
    adict_http: httpx.AsyncClient, clock: ManualClock, adict_sim: AdictSimulator
) -> None:
    pce = _active(adict_sim, "JJ")
    adict_sim.stream_failures[pce] = 10
    client = adict_client(adict_http, clock)
    with pytest.raises(ServerError, match="Veuillez retenter") as caught:
        await client.published_consumption(pce, periode="2026-02", today=START.date())
    assert caught.value.retryable and len(caught.value.partial) == 10
    adict_sim.stream_failures[pce] = 5
    patient = AdictClient(
        adict_http, HOST + "/adict/v2", client.auth, quota=None, retry=RetryPolicy(attempts=2, base_delay=0)
    )
    assert len(await patient.published_consumption(pce, periode="2026-02", today=START.date())) == 28


async def test_rights_behave_as_the_dict_they_replace(client: AdictClient, adict_sim: AdictSimulator) -> None:
    first, second = list(adict_sim.rights)[:2]
    copy = dict(adict_sim.rights[first], id_pce="GI777777")
    del adict_sim.rights[first]
    assert first not in adict_sim.rights and len(adict_sim.rights) == 299
    adict_sim.rights["manual-1"] = copy
    assert adict_sim.right_of_pce("GI777777")["id_droit_acces"] == "manual-1"
    ids = [r.id_droit_acces async for r in client.access_rights()]
    assert len(ids) == 300 and first not in ids and ids[0] == second and ids[-1] == "manual-1"
    adict_sim.rights.clear()
    assert len(adict_sim.rights) == 0 and [r async for r in client.access_rights()] == []


@pytest.mark.parametrize("seed", [0, 7])
def test_fast_stream_lines_are_the_rights(clock: ManualClock, plan: FaultPlan, seed: int) -> None:
    """The stream writes generated rights straight as lines; they must read back as exactly
    the rights ``iter_rights`` gives (touched ones, due lifecycle events, filters included)."""
    adict_sim = AdictSimulator(clock, plan, park_size=1200, seed=seed)

    def streamed(checks: Sequence[tuple[str, AbstractSet[str | None]]] = ()) -> list[Any]:
        return [json.loads(r) if isinstance(r, str) else r for r in adict_sim._park_lines(list(checks))]

    assert streamed() == list(adict_sim.iter_rights())
    assert any(isinstance(r, str) for r in adict_sim._park_lines())
    adict_sim.rights[adict_sim._id(6)]["statut_controle_preuve"] = m.PROOF_PENDING  # touched
    adict_sim.advance_lifecycle(days=2)  # A valider rights move: their due events apply on the way
    assert streamed() == list(adict_sim.iter_rights())
    checks = [("etat_droit_acces", {"Active", "Refusée"}), ("statut_controle_preuve", {None, "Preuve en attente"})]
    assert streamed(checks) == [r for r in adict_sim.iter_rights() if all(r[k] in v for k, v in checks)]


def test_only_rights_with_events_can_move(adict_sim: AdictSimulator) -> None:
    assert all(adict_sim._has_events(n) == bool(adict_sim._generated(n)[1]) for n in range(3000))
    whole = {r["id_droit_acces"]: r["etat_droit_acces"] for r in adict_sim.iter_rights()}
    changes = adict_sim.advance_lifecycle(days=10)
    after = {r["id_droit_acces"]: r["etat_droit_acces"] for r in adict_sim.iter_rights()}
    assert sorted((k, whole[k], after[k]) for k in whole if whole[k] != after[k]) == sorted(
        (k, old, new) for k, _, old, new in changes
    )


async def test_contractual_filters(client: AdictClient, adict_sim: AdictSimulator) -> None:
    pce = _active(adict_sim, "6M", perim_donnees_contractuelles="Vrai")
    data = await client.contractual_data(pce, filtre=["cja", "car"])
    assert data.donnees_contractuelles is not None and data.donnees_contractuelles.car
    with pytest.raises(BadRequestError, match="unknown contractual-data filter"):
        await client.contractual_data(pce, filtre=["colour"])
    raw = await client.http.get(
        HOST + f"/adict/v2/pce/{pce}/donnees_contractuelles", params={"filtre": "x"}, auth=client.auth
    )
    assert raw.status_code == 400 and "filtre" in raw.text


async def test_bulk_read_says_before_starting_when_it_would_exceed_the_day(
    adict_http: httpx.AsyncClient, clock: ManualClock, adict_sim: AdictSimulator
) -> None:
    limiter = QuotaLimiter(
        "grdf_adict:bulk",
        provider=PROVIDER,
        clock=clock,
        per_second=1,
        per_day=6,
        monotonic=stepping(),
        sleep=_no_sleep,
    )
    client = adict_client(adict_http, clock, limiter)
    pces = [_active(adict_sim, "MM"), _active(adict_sim, "6M")]
    refused = next(r["id_pce"] for r in adict_sim.iter_rights() if r["etat_droit_acces"] == "Refusée")
    results = [(pce, result) async for pce, result in client.bulk(pces + [refused], client.technical_data)]
    assert [type(r).__name__ for _, r in results] == ["TechnicalData", "TechnicalData", "FunctionalError"]
    assert limiter.remaining_today() == 3
    calls = adict_sim.calls
    with pytest.raises(QuotaError, match="needs 4 calls but only 3 remain"):
        async for _ in client.bulk(pces * 2, client.technical_data):
            pass
    assert adict_sim.calls == calls  # nothing sent
    assert "3 calls" in client.bulk_check(3).message and client.bulk_check(3).fits


async def test_malformed_search_bodies_get_a_400(client: AdictClient) -> None:
    for body in ({"id_pce": [1]}, {"etat_droit_acces": {"a": 1}}, ["Active"], {"role_tiers": [None]}):
        raw = await client.http.post(HOST + "/adict/v2/droits_acces", json=body, auth=client.auth)  # type: ignore[arg-type]  # client.auth is set; httpx types post(auth=) without None
        assert raw.status_code == 400, body


async def test_end_dated_rights_end_on_paris_days(
    client: AdictClient, adict_sim: AdictSimulator, clock: ManualClock
) -> None:
    """Issue 16: a right's ``date_fin_droit_acces`` is the last Paris day it covers. At 00:30
    in Paris (still the day before in UTC), a right that ended yesterday is ended — the
    simulator refuses its data (« expiré ») and the feed's rule shows it ended — and a right
    whose last day is today still gives access, in both."""
    from pupitre.providers.grdf_adict.feeds import is_ended

    clock.set(dt.datetime(2026, 3, 11, 0, 30, tzinfo=PARIS))  # 10/03 23:30 UTC
    now = clock.now()
    assert now.astimezone(dt.timezone.utc).date() == dt.date(2026, 3, 10)
    ended_pce, last_day_pce = _active(adict_sim, "JJ"), _active(adict_sim, "MM")
    for pce, end in ((ended_pce, "2026-03-10"), (last_day_pce, "2026-03-11")):
        ident, right = next((i, r) for i, r in adict_sim.rights.items() if r["id_pce"] == pce)
        adict_sim.rights[ident] = {**right, "date_fin_droit_acces": end}
    rights = {r["id_pce"]: r for r in adict_sim.iter_rights()}
    today = now.date()
    assert is_ended("Active", rights[ended_pce]["date_fin_droit_acces"], today)
    assert not is_ended("Active", rights[last_day_pce]["date_fin_droit_acces"], today)
    with pytest.raises(rules.FunctionalError, match="expiré"):
        await client.technical_data(ended_pce)
    assert (await client.technical_data(last_day_pce)).frequency == "MM"
    # every Active right of the simulated park past its end is refused its data, as the screen says
    past = [r for r in adict_sim.iter_rights() if is_ended(r["etat_droit_acces"], r["date_fin_droit_acces"], today)]
    assert len(past) >= 2
    for right in past[:3]:
        with pytest.raises(rules.FunctionalError, match="expiré"):
            await client.technical_data(right["id_pce"])
