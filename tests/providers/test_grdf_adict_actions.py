"""GRDF ADICT outbox actions (declare, revoke, send proofs) against the simulator, through
the real Outbox and Store: success with read-back, 4xx failed and not retried, 5xx
retried, local refusals with nothing sent."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, AsyncIterator

import httpx
import msgspec
import pytest

from pupitre.providers.core.clock import PARIS, ManualClock
from pupitre.providers.core.faults import FaultPlan
from pupitre.providers.core.outbox import ActionRefused, Outbox
from pupitre.providers.core.retry import RetryPolicy
from pupitre.providers.core.sandbox import SandboxTransport
from pupitre.providers.core.store import OUTBOX_DELIVERED, OUTBOX_FAILED, OUTBOX_PENDING, Store
from pupitre.providers.grdf_adict import actions
from pupitre.providers.grdf_adict import models as m
from pupitre.providers.grdf_adict.actions import DECLARE, PROVIDER_KEY, REVOKE, SEND_PROOFS
from pupitre.providers.grdf_adict.client import AdictClient, adict_auth
from pupitre.providers.grdf_adict.models import AccessRight, read
from pupitre.providers.grdf_adict.sandbox import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, TOKEN_PATH, AdictSimulator
from tests.providers.helpers import Counting, stepping

HOST = "http://grdf-adict.sandbox.invalid"
NOW = dt.datetime(2026, 3, 10, 9, 0, tzinfo=PARIS)
API = "/adict/v2"


class World:
    def __init__(
        self,
        sim: AdictSimulator,
        counting: Counting,
        outbox: Outbox,
        store: Store,
        client: AdictClient,
        clock: ManualClock,
        plan: FaultPlan,
    ) -> None:
        self.sim, self.counting, self.outbox, self.store = sim, counting, outbox, store
        self.client, self.clock, self.plan = client, clock, plan

    def api_calls(self) -> int:
        return self.counting.calls_under(API)

    def right(self, **wanted: Any) -> AccessRight:
        raw = next(r for r in self.sim.rights.values() if all(r.get(k) == v for k, v in wanted.items()))
        return read(raw, AccessRight)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    clock = ManualClock(NOW)
    plan = FaultPlan()
    sim = AdictSimulator(clock, plan, park_size=300, monotonic=stepping())
    counting = Counting(SandboxTransport(sim.app))
    store = Store(tmp_path / "store.sqlite3")
    async with httpx.AsyncClient(transport=counting) as http:
        auth = adict_auth(http, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, clock, token_url=HOST + TOKEN_PATH)
        client = AdictClient(http, HOST + API, auth, quota=None, retry=RetryPolicy(attempts=1))
        outbox = Outbox(store, clock, actions.handlers(lambda: client))
        yield World(sim, counting, outbox, store, client, clock, plan)
    store.close()


def declaration(**changes: Any) -> dict[str, Any]:
    form = {
        "id_pce": "GI999001",
        "role_tiers": "AUTORISE_CONTRAT_FOURNITURE",
        "raison_sociale": "BabaTech",
        "code_postal": "77900",
        "courriel_titulaire": "robert.dupont@example.com",
        "numero_telephone_mobile_titulaire": "06 12 45 52 11",
        "date_debut_droit_acces": "2026-03-01",
        "date_fin_droit_acces": "2027-03-01",
        "perim_donnees_conso_debut": "2024-03-01",
        "perim_donnees_conso_fin": "2027-03-01",
        "perim_donnees_publiees": "Vrai",
        "perim_donnees_informatives": False,
        "perim_donnees_contractuelles": True,
        "perim_donnees_techniques": "oui",
    }
    form.update(changes)
    return form


def test_payloads_are_json_storable(tmp_path: Path) -> None:
    form = actions.declaration_form(declaration(), NOW)
    assert form.ok and json.loads(json.dumps(form.payload)) == form.payload
    assert form.payload["body"]["perim_donnees_techniques"] == "Vrai"  # type: ignore[index]  # form.ok above: the payload is there
    assert form.payload["body"]["numero_telephone_mobile_titulaire"] == "0612455211"  # type: ignore[index]  # form.ok above: the payload is there
    proof = tmp_path / "consent.pdf"
    proof.write_bytes(b"%PDF-1.4 consent")
    right = AccessRight(id_droit_acces="r1", id_pce="GI000001", statut_controle_preuve=m.PROOF_PENDING)
    built = actions.proofs_form(right, [proof], NOW)
    assert built.ok and json.loads(json.dumps(built.payload)) == built.payload
    (entry,) = built.payload["files"]  # type: ignore[index]  # built.ok above: the payload is there
    assert entry["size"] == 16 and len(entry["sha256"]) == 64 and entry["path"] == str(proof.resolve())


def test_declaration_form_errors_by_field() -> None:
    form = actions.declaration_form(
        declaration(
            id_pce="GI12345",
            code_postal="779",
            courriel_titulaire="nope",
            numero_telephone_mobile_titulaire="0112",
            nom_titulaire="Dupont",
            perim_donnees_publiees="peut-être",
            date_debut_droit_acces="2026-04-01",
        ),
        NOW,
    )
    assert not form.ok and form.payload is None
    assert set(form.errors) >= {
        "id_pce",
        "code_postal",
        "courriel_titulaire",
        "nom_titulaire",
        "numero_telephone_mobile_titulaire",
        "perim_donnees_publiees",
        "date_debut_droit_acces",
    }
    assert "not both" in form.errors["nom_titulaire"][0]
    late = actions.declaration_form(declaration(perim_donnees_conso_fin="2028-01-01"), NOW)
    assert "after the right ends" in late.errors["perim_donnees_conso_fin"][0]
    none = actions.declaration_form(
        declaration(perim_donnees_publiees=False, perim_donnees_contractuelles=False, perim_donnees_techniques=False),
        NOW,
    )
    assert "at least one kind" in " ".join(none.messages)


async def test_declare_delivered_and_read_back(world: World) -> None:
    item = world.outbox.enqueue(PROVIDER_KEY, DECLARE, actions.declaration_form(declaration(), NOW).payload)
    (delivery,) = await world.outbox.drain()
    assert delivery.outcome == "delivered" and delivery.verified, delivery.message
    assert "« A valider »" in delivery.message and "BabaTech" in delivery.message
    stored = world.outbox.item(item)
    assert stored.status == OUTBOX_DELIVERED and "en attente de la validation" in stored.response  # type: ignore[union-attr]  # the item was enqueued above
    outcomes = [row[3] for row in world.store.audit_log(PROVIDER_KEY)]
    assert {"queued", "delivered", "verified"} <= set(outcomes)


#: A declaration as the previous version (pydantic models, before msgspec) queued it in the
#: outbox: ``actions.declaration_form(…, NOW).payload`` run on main at 3e80863.
QUEUED_BY_THE_PREVIOUS_VERSION = (
    '{"id_pce": "GI999003", "body": {"role_tiers": "AUTORISE_CONTRAT_FOURNITURE", "nom_titulaire": "Robert Dupont", '
    '"code_postal": "77900", "courriel_titulaire": "robert.dupont@example.com", "numero_telephone_mobile_titulaire": '
    '"0612455211", "date_debut_droit_acces": "2026-03-01", "date_fin_droit_acces": "2027-03-01", '
    '"perim_donnees_conso_debut": "2024-03-01", "perim_donnees_conso_fin": "2027-03-01", '
    '"perim_donnees_contractuelles": "Vrai", "perim_donnees_techniques": "Vrai", '
    '"perim_donnees_informatives": "Faux", "perim_donnees_publiees": "Vrai"}, '
    '"queued_at": "2026-03-10T09:00:00+01:00"}'
)


async def test_declaration_queued_by_the_previous_version_is_sent(world: World) -> None:
    """An outbox payload written before the move to msgspec is still sent as it was asked."""
    payload = json.loads(QUEUED_BY_THE_PREVIOUS_VERSION)
    assert (
        actions.declaration_form(
            {
                "id_pce": "GI999003",
                **{k: v for k, v in payload["body"].items() if not k.startswith("perim_donnees_") or "conso" in k},
                **{
                    k: v == "Vrai"
                    for k, v in payload["body"].items()
                    if k.startswith("perim_donnees_") and "conso" not in k
                },
            },
            NOW,
        ).payload
        == payload
    )  # this version writes the same payload
    world.outbox.enqueue(PROVIDER_KEY, DECLARE, payload)
    (delivery,) = await world.outbox.drain()
    assert delivery.outcome == "delivered" and delivery.verified, delivery.message
    (sent,) = [r for r in world.sim.declared.values() if r["id_pce"] == "GI999003"]
    assert {k: sent[k] for k in payload["body"]} == payload["body"]  # every field reached GRDF as queued


async def test_declare_conflict_is_failed_not_retried(world: World) -> None:
    existing = world.right(etat_droit_acces=m.ACTIVE)
    form = actions.declaration_form(declaration(id_pce=existing.id_pce), NOW)
    world.outbox.enqueue(PROVIDER_KEY, DECLARE, form.payload)
    (delivery,) = await world.outbox.drain()
    assert delivery.outcome == "failed" and "existe déjà" in delivery.message
    before = world.api_calls()
    assert await world.outbox.drain() == [] and world.api_calls() == before


async def test_declare_5xx_retried_then_lost_answer_recognised(world: World) -> None:
    world.plan.add(f"{API}/pce/*/droit_acces", "status", status=503, method="PUT")
    payload = actions.declaration_form(declaration(), NOW).payload
    item = world.outbox.enqueue(PROVIDER_KEY, DECLARE, payload)
    (first,) = await world.outbox.drain()
    assert first.outcome == "retry" and world.outbox.item(item).status == OUTBOX_PENDING  # type: ignore[union-attr]  # the item was enqueued above
    (second,) = await world.outbox.drain()
    assert second.outcome == "delivered" and second.verified
    # an attempt that reached GRDF but whose answer was lost: the retry meets a 409
    payload2 = actions.declaration_form(declaration(id_pce="GI999002"), NOW).payload
    assert payload2 is not None
    from pupitre.providers.grdf_adict.models import DeclareBody

    await world.client.declare_access_right("GI999002", read(payload2["body"], DeclareBody))
    world.outbox.enqueue(PROVIDER_KEY, DECLARE, payload2)
    (third,) = await world.outbox.drain()
    assert third.outcome == "delivered" and third.verified
    assert "already declared" in world.outbox.store.outbox()[-1].response


async def test_declare_refused_locally_sends_nothing(world: World) -> None:
    payload = actions.declaration_form(declaration(), NOW).payload
    assert payload is not None
    world.clock.set(dt.datetime(2027, 3, 5, 9, 0, tzinfo=PARIS))  # the right ended meanwhile
    with pytest.raises(ActionRefused, match="already past"):
        world.outbox.enqueue(PROVIDER_KEY, DECLARE, payload)
    assert world.api_calls() == 0 and world.store.outbox() == []


async def test_revoke_delivered_and_verified(world: World) -> None:
    right = world.right(etat_droit_acces=m.ACTIVE, role_tiers="AUTORISE_CONTRAT_FOURNITURE")
    assert right.id_pce in actions.revocation_confirmation(right) and right.holder in actions.revocation_confirmation(
        right
    )
    form = actions.revocation_form(right, NOW)
    world.outbox.enqueue(PROVIDER_KEY, REVOKE, form.payload)
    (delivery,) = await world.outbox.drain()
    assert delivery.outcome == "delivered" and delivery.verified and "Révoquée" in delivery.message
    assert world.sim.rights[right.id_droit_acces]["etat_droit_acces"] == m.REVOKED


async def test_revoke_refusals(world: World) -> None:
    refused = world.right(etat_droit_acces=m.REFUSED)
    form = actions.revocation_form(refused, NOW)
    assert not form.ok and "Refusée" in form.errors["right"][0]
    holder_role = msgspec.structs.replace(
        world.right(etat_droit_acces=m.ACTIVE), role_tiers="DETENTEUR_CONTRAT_FOURNITURE"
    )
    assert "AUTORISE" in actions.revocation_form(holder_role, NOW).errors["right"][0]
    # revoked elsewhere after queueing: GRDF answers 409, read back shows Révoquée → done
    right = world.right(etat_droit_acces=m.ACTIVE, role_tiers="AUTORISE_CONTRAT_FOURNITURE")
    world.outbox.enqueue(PROVIDER_KEY, REVOKE, actions.revocation_form(right, NOW).payload)
    await world.client.revoke_access_right(right.id_droit_acces)
    (delivery,) = await world.outbox.drain()
    assert delivery.outcome == "delivered" and delivery.verified
    # a 5xx is retried; an unknown right (404) fails for good
    other = [
        r
        for r in world.sim.rights.values()
        if r["etat_droit_acces"] == m.ACTIVE and r["role_tiers"].startswith("AUTORISE")
    ][1]
    world.plan.add(f"{API}/droit_acces/*", "status", status=500, method="PATCH")
    world.outbox.enqueue(PROVIDER_KEY, REVOKE, actions.revocation_form(read(other, AccessRight), NOW).payload)
    assert [d.outcome for d in await world.outbox.drain()] == ["retry"]
    assert [d.outcome for d in await world.outbox.drain()] == ["delivered"]
    ghost = msgspec.structs.replace(
        right, id_droit_acces="00000000-0000-4000-8000-000000000000", etat_droit_acces=m.ACTIVE
    )
    world.outbox.enqueue(PROVIDER_KEY, REVOKE, actions.revocation_form(ghost, NOW).payload)
    (gone,) = await world.outbox.drain()
    assert gone.outcome == "failed" and "Aucun droit" in gone.message


def _files(tmp_path: Path, *specs: tuple[str, int]) -> list[Path]:
    paths = []
    for name, size in specs:
        path = tmp_path / name
        path.write_bytes(b"x" * size)
        paths.append(path)
    return paths


async def test_proofs_delivered_and_verified(world: World, tmp_path: Path) -> None:
    right = world.right(statut_controle_preuve=m.PROOF_PENDING)
    paths = _files(tmp_path, ("consentement.pdf", 2000), ("journal.csv", 300), ("appel.mp3", 4_000_000))
    form = actions.proofs_form(right, paths, NOW)
    assert form.ok, form.errors
    world.outbox.enqueue(PROVIDER_KEY, SEND_PROOFS, form.payload)
    (delivery,) = await world.outbox.drain()
    assert delivery.outcome == "delivered" and delivery.verified and m.PROOF_TO_CHECK in delivery.message
    assert world.sim.proofs[right.id_droit_acces] == [
        ("consentement.pdf", 2000),
        ("journal.csv", 300),
        ("appel.mp3", 4_000_000),
    ]


@pytest.mark.parametrize(
    "specs,status,field,text",
    [
        ((("a.pdf", 10),) * 4, m.PROOF_PENDING, "files", "At most 3"),
        ((("big.pdf", 4_000_001),), m.PROOF_PENDING, "files", "at most 4 MB"),
        ((("virus.exe", 10),), m.PROOF_PENDING, "files", "type not accepted"),
        ((("ok.pdf", 10),), m.PROOF_OK, "right", "does not expect proofs"),
        ((("ok.pdf", 10),), None, "right", "does not expect proofs"),
    ],
    ids=["too-many", "too-large", "wrong-type", "wrong-status", "no-campaign"],
)
async def test_proofs_refused_locally_nothing_sent(
    world: World, tmp_path: Path, specs: tuple, status: str | None, field: str, text: str
) -> None:
    names = [f"{i}-{name}" for i, (name, _) in enumerate(specs)]
    paths = _files(tmp_path, *[(n, size) for n, (_, size) in zip(names, specs, strict=True)])
    right = world.right(statut_controle_preuve=status)
    form = actions.proofs_form(right, paths, NOW)
    assert not form.ok and any(text in e for e in form.errors[field]), form.errors
    # even a payload forged past the form is refused by the outbox before anything is sent
    forged = {
        "id_droit_acces": right.id_droit_acces,
        "id_pce": right.id_pce,
        "holder": right.holder,
        "proof_status": status,
        "queued_at": NOW.isoformat(),
        "files": [{"path": str(p), "name": p.name, "size": p.stat().st_size, "sha256": "0" * 64} for p in paths],
    }
    with pytest.raises(ActionRefused):
        world.outbox.enqueue(PROVIDER_KEY, SEND_PROOFS, forged)
    assert world.api_calls() == 0 and world.sim.proofs == {}


async def test_proofs_changed_file_or_status_refused_before_sending(world: World, tmp_path: Path) -> None:
    right = world.right(statut_controle_preuve=m.PROOF_PENDING)
    (path,) = _files(tmp_path, ("consentement.pdf", 100))
    item = world.outbox.enqueue(PROVIDER_KEY, SEND_PROOFS, actions.proofs_form(right, [path], NOW).payload)
    path.write_bytes(b"y" * 100)  # same size, other content
    (delivery,) = await world.outbox.drain()
    assert delivery.outcome == "failed" and "changed since" in delivery.message
    assert world.outbox.item(item).status == OUTBOX_FAILED and world.api_calls() == 0  # type: ignore[union-attr]  # the item was enqueued above
    # GRDF closed the campaign after queueing: checked just before sending, nothing uploaded
    path.write_bytes(b"z" * 100)
    world.outbox.enqueue(PROVIDER_KEY, SEND_PROOFS, actions.proofs_form(right, [path], NOW).payload)
    world.sim.rights[right.id_droit_acces]["statut_controle_preuve"] = m.PROOF_OK
    (late,) = await world.outbox.drain()
    assert late.outcome == "failed" and "does not expect proofs" in late.message
    assert world.sim.proofs == {}
    assert not any(path.endswith("/preuves") for _, path in world.counting.calls)


async def test_proofs_5xx_retried_then_409_failed(world: World, tmp_path: Path) -> None:
    right = world.right(statut_controle_preuve=m.PROOF_TO_CHECK)
    (path,) = _files(tmp_path, ("notes.txt", 50))
    world.plan.add(f"{API}/droit_acces/*/preuves", "status", status=502)
    world.outbox.enqueue(PROVIDER_KEY, SEND_PROOFS, actions.proofs_form(right, [path], NOW).payload)
    assert [d.outcome for d in await world.outbox.drain()] == ["retry"]
    assert [d.outcome for d in await world.outbox.drain()] == ["delivered"]
    world.plan.add(f"{API}/droit_acces/*/preuves", "status", status=409)
    (other,) = _files(tmp_path, ("notes2.txt", 51))
    world.outbox.enqueue(PROVIDER_KEY, SEND_PROOFS, actions.proofs_form(right, [other], NOW).payload)
    (failed,) = await world.outbox.drain()
    assert failed.outcome == "failed"
    sent = len([1 for method, p in world.counting.calls if p.endswith("/preuves")])
    assert await world.outbox.drain() == [] and sent == 3


async def test_forms_accept_table_rows(world: World, tmp_path: Path) -> None:
    from pupitre.providers.grdf_adict.models import RightRow

    raw = next(
        r
        for r in world.sim.iter_rights()
        if r["statut_controle_preuve"] == m.PROOF_PENDING and r["role_tiers"].startswith("AUTORISE")
    )
    row = RightRow.from_api(raw)
    assert actions.revocation_form(row, NOW).ok and row.id_pce in actions.revocation_confirmation(row)
    (path,) = _files(tmp_path, ("c.pdf", 10))
    twice = actions.proofs_form(row, [path, path], NOW)
    assert "chosen twice" in twice.errors["files"][0]
    missing = actions.proofs_form(row, [tmp_path / "nope.pdf"], NOW)
    assert missing.errors == {"files": [f"« {tmp_path / 'nope.pdf'} » is not a readable file."]}
    world.outbox.enqueue(PROVIDER_KEY, SEND_PROOFS, actions.proofs_form(row, [path], NOW).payload)
    (delivery,) = await world.outbox.drain()
    assert delivery.verified


class LoseAnswers(httpx.AsyncBaseTransport):
    """Forwards requests, then loses the answer of the next ``count`` matching ones (the
    server did the work; the client sees a read timeout)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, suffix: str, count: int = 1) -> None:
        self.inner, self.suffix, self.count = inner, suffix, count

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if self.count and request.url.path.endswith(self.suffix):
            self.count -= 1
            await response.aread()
            raise httpx.ReadTimeout("answer lost", request=request)
        return response


@pytest.mark.parametrize("action", [DECLARE, REVOKE, SEND_PROOFS])
async def test_lost_answer_is_retried_without_doing_it_twice(tmp_path: Path, action: str) -> None:
    clock = ManualClock(NOW)
    sim = AdictSimulator(clock, FaultPlan(), park_size=300, monotonic=stepping())
    right = read(
        next(
            r
            for r in sim.iter_rights()
            if r["etat_droit_acces"] == m.ACTIVE
            and r["role_tiers"].startswith("AUTORISE")
            and r["statut_controle_preuve"] == m.PROOF_PENDING
        ),
        AccessRight,
    )
    suffix = {DECLARE: "/droit_acces", REVOKE: right.id_droit_acces, SEND_PROOFS: "/preuves"}[action]
    store = Store(tmp_path / "store.sqlite3")
    async with httpx.AsyncClient(transport=LoseAnswers(SandboxTransport(sim.app), suffix)) as http:
        auth = adict_auth(http, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, clock, token_url=HOST + TOKEN_PATH)
        client = AdictClient(http, HOST + API, auth, quota=None, retry=RetryPolicy(attempts=1))
        outbox = Outbox(store, clock, actions.handlers(lambda: client))
        (proof,) = _files(tmp_path, ("consent.pdf", 64))
        form = {
            DECLARE: lambda: actions.declaration_form(declaration(), NOW),
            REVOKE: lambda: actions.revocation_form(right, NOW),
            SEND_PROOFS: lambda: actions.proofs_form(right, [proof], NOW),
        }[action]()
        outbox.enqueue(PROVIDER_KEY, action, form.payload)
        assert [d.outcome for d in await outbox.drain()] == ["retry"]
        restarted = Outbox(store, clock, actions.handlers(lambda: client))  # a new process: nothing in memory
        (delivery,) = await restarted.drain()
        response = store.outbox()[-1].response
    store.close()
    assert delivery.outcome == "delivered" and delivery.verified, delivery.message
    assert "earlier attempt reached GRDF" in response
    if action == DECLARE:
        assert len([r for r in sim.declared.values() if r["id_pce"] == "GI999001"]) == 1
    elif action == SEND_PROOFS:
        assert sim.proofs[right.id_droit_acces] == [("consent.pdf", 64)]


@pytest.mark.parametrize(
    "action,payload",
    [
        (DECLARE, {"id_pce": "GI999001"}),
        (DECLARE, {"id_pce": "GI999001", "body": {"perim_donnees_publiees": "bof"}, "queued_at": NOW.isoformat()}),
        (REVOKE, {"id_pce": "GI000001"}),
        (SEND_PROOFS, {"id_droit_acces": "x", "id_pce": "GI000001", "files": [{}]}),
        (SEND_PROOFS, {"id_droit_acces": "x", "id_pce": "GI000001", "files": None}),
        (REVOKE, ["x"]),
        (DECLARE, 3),
    ],
)
async def test_unreadable_payloads_are_refused_not_crashed(world: World, action: str, payload: dict) -> None:
    with pytest.raises(ActionRefused, match="cannot be read|not sent"):
        world.outbox.enqueue(PROVIDER_KEY, action, payload)
    assert world.store.outbox() == [] and world.api_calls() == 0
