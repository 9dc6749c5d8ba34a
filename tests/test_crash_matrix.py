"""Exactly once across crashes: every action kind × every crash stage, in real processes.

A pupitre process queues one action against the simulators served on loopback (as real
providers) and is killed (SIGKILL) at one stage: (a) after the operator confirmed it, before
sending; (b) while the request is in flight (the simulator has acted, its answer is late);
(c) after the answer, before it is recorded; (d) after it is recorded, before the read-back.
A second process on the same store then drains the outbox, as the next dashboard does at
start. Each case asserts: the simulator received the action exactly once, the store ends
delivered and verified (nothing left marked or claimed), and the audit trail is complete.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import signal
import time
import tomllib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pupitre import sandbox_server
from pupitre.providers.core.clock import gas_day_hours, gas_day_of
from pupitre.providers.core.feeds import record_result
from pupitre.providers.core.secrets import SecretStore, env_var
from pupitre.providers.core.store import Store
from pupitre.providers.edf_oa import feeds as edf_oa
from pupitre.providers.grdf_adict import actions as adict
from pupitre.providers.grdf_adict import feeds as adict_feeds
from pupitre.providers.grdf_adict import models as adict_models
from pupitre.providers.grdf_adict.sandbox import SANDBOX_CLIENT_SECRET
from pupitre.providers.grtgaz import feeds as grtgaz
from pupitre.providers.grtgaz import rules as grtgaz_rules
from pupitre.providers.switchgrid import actions as switchgrid
from pupitre.providers.switchgrid import feeds as switchgrid_feeds
from pupitre.runtime import Runtime, build_runtime
from pupitre.sandbox_server import SandboxServer
from pupitre.settings import Settings
from tests.processes.actions import ANSWERED, IN_FLIGHT, QUEUED, RECORDED, STAGES, Zygote

Prepare = Callable[[Runtime, SandboxServer, Path], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Kind:
    """One kind of action: where its request goes, and how to build one the API will accept."""

    provider: str
    action: str
    method: str
    route: str  # a glob on the served path
    prepare: Prepare
    #: an attempt cut in flight cannot be found at the API: held until the operator identifies it
    held_in_flight: bool = False


async def _acknowledgement(runtime: Runtime, served: SandboxServer, tmp: Path) -> dict[str, Any]:
    served["edf_oa"].simulator.publish()  # tomorrow's order, whatever the time the test runs at
    feed = runtime.feed(edf_oa.CURTAILMENTS_FEED)
    order = await feed.fetch()
    now = runtime.clock.now()
    record_result(runtime.store, feed, None, order, now)  # the order "received today" (RG_ACK_0010)
    choices = {cid: n % 2 == 0 for n, cid in enumerate(order.contract_ids)}
    return edf_oa.ack_payload(order, choices, now)


async def _declaration(runtime: Runtime, served: SandboxServer, tmp: Path) -> dict[str, Any]:
    site_id = "LI1006"
    session = runtime.connections[grtgaz.PROVIDER].session
    now = runtime.clock.now()
    # tomorrow's program once GRTgaz has it (from 15:00), else the last hour of today's gas
    # day: either way beyond the H+5 window, whatever the time the test runs at
    day, slot = gas_day_of(now) + dt.timedelta(days=1), 12
    programs = await session.programs(site_id, day)
    if programs.rebuilt is None:
        day, slot = gas_day_of(now), len(gas_day_hours(gas_day_of(now))) - 1
        programs = await session.programs(site_id, day)
    site = served["grtgaz"].simulator.site(site_id)
    context = grtgaz_rules.ProgramContext.from_api(site, day, profiles=programs.declared, rebuilt=programs.rebuilt)
    values = list(programs.rebuilt.quantities)
    values[slot] = 500_000.0
    profile = grtgaz_rules.input_profile(context, values, declared_at=now)
    return grtgaz.declaration_payload(profile, edited=[slot], base_label="rebuilt program", now=now)


def _adict_right(served: SandboxServer, **wanted: Any) -> adict_models.AccessRight:
    sim = served["grdf_adict"].simulator
    raw = next(r for r in sim.rights.values() if all(r.get(k) == v for k, v in wanted.items()))
    return adict_models.read(raw, adict_models.AccessRight)


async def _right_declaration(runtime: Runtime, served: SandboxServer, tmp: Path) -> dict[str, Any]:
    today = runtime.clock.now().date()
    form = {
        "id_pce": "GI999001",
        "role_tiers": "AUTORISE_CONTRAT_FOURNITURE",
        "raison_sociale": "BabaTech",
        "code_postal": "77900",
        "courriel_titulaire": "robert.dupont@example.com",
        "numero_telephone_mobile_titulaire": "06 12 45 52 11",
        "date_debut_droit_acces": today.isoformat(),
        "date_fin_droit_acces": today.replace(year=today.year + 1).isoformat(),
        "perim_donnees_conso_debut": today.replace(year=today.year - 1).isoformat(),
        "perim_donnees_conso_fin": today.replace(year=today.year + 1).isoformat(),
        "perim_donnees_publiees": True,
        "perim_donnees_informatives": False,
        "perim_donnees_contractuelles": True,
        "perim_donnees_techniques": True,
    }
    built = adict.declaration_form(form, runtime.clock.now())
    assert built.payload is not None, built.errors
    return built.payload


async def _revocation(runtime: Runtime, served: SandboxServer, tmp: Path) -> dict[str, Any]:
    right = _adict_right(served, etat_droit_acces=adict_models.ACTIVE, role_tiers="AUTORISE_CONTRAT_FOURNITURE")
    built = adict.revocation_form(right, runtime.clock.now())
    assert built.payload is not None, built.errors
    return built.payload


async def _proofs(runtime: Runtime, served: SandboxServer, tmp: Path) -> dict[str, Any]:
    right = _adict_right(served, statut_controle_preuve=adict_models.PROOF_PENDING)
    proof = tmp / "consent.pdf"
    proof.write_bytes(b"%PDF-1.4 signed consent")
    built = adict.proofs_form(right, [proof], runtime.clock.now())
    assert built.payload is not None, built.errors
    return built.payload


async def _ask(runtime: Runtime, served: SandboxServer, tmp: Path) -> dict[str, Any]:
    contract = served["switchgrid"].simulator.contracts[0]
    body = {
        "electricityContracts": [contract.id],
        "signer": {"firstName": "Jean", "lastName": "Dupont"},
        "consentDuration": "1 year",
    }
    return switchgrid.ask_payload(body, [contract.prm], runtime.clock.now())


async def _order(runtime: Runtime, served: SandboxServer, tmp: Path) -> dict[str, Any]:
    sim = served["switchgrid"].simulator
    contract = sim.contracts[0]
    session = runtime.connections[switchgrid_feeds.PROVIDER].session
    ask = await session.create_ask(  # the consent the order needs, signed at once
        {
            "electricityContracts": [contract.id],
            "signer": {"firstName": "Jean", "lastName": "Dupont"},
            "consentDuration": "1 year",
        }
    )
    sim.accept(ask.id)
    return switchgrid.order_payload({"requests": [{"type": "C68", "prms": [contract.prm]}]}, runtime.clock.now())


KINDS = {
    "edf-ack": Kind("edf_oa", edf_oa.ACK_ACTION, "POST", "/api/v1/acknowledgements", _acknowledgement),
    "grtgaz-declare": Kind("grtgaz", grtgaz.DECLARE_ACTION, "POST", "/sfm/v1/hmsProfiles", _declaration),
    "adict-declare": Kind("grdf_adict", adict.DECLARE, "PUT", "/adict/v2/pce/*/droit_acces", _right_declaration),
    "adict-revoke": Kind("grdf_adict", adict.REVOKE, "PATCH", "/adict/v2/droit_acces/*", _revocation),
    "adict-proofs": Kind("grdf_adict", adict.SEND_PROOFS, "PUT", "/adict/v2/droit_acces/*/preuves", _proofs),
    "switchgrid-ask": Kind("switchgrid", switchgrid.ASK_ACTION, "POST", "/enedis/v2/ask", _ask),
    "switchgrid-order": Kind(
        "switchgrid", switchgrid.ORDER_ACTION, "POST", "/enedis/v2/order", _order, held_in_flight=True
    ),
}


def test_every_action_handler_of_the_runtime_is_in_the_matrix(tmp_path: Path) -> None:
    runtime = build_runtime(
        Settings(),
        sandbox=True,
        store=Store(":memory:"),
        data_dir=tmp_path,
        secrets=SecretStore(credentials_file=tmp_path / "none.toml", env={}),
    )
    assert set(runtime.outbox.handlers) == {(k.provider, k.action) for k in KINDS.values()}


def _received(served: SandboxServer, kind: Kind) -> int:
    """How many of this kind's requests the simulator has acted on (answered, late or not)."""
    handled = served[kind.provider].simulator.handled
    return sum(1 for h in handled if h.method == kind.method and fnmatch.fnmatchcase(h.path, kind.route))


@dataclass
class World:
    served: SandboxServer
    config: Path
    data: Path
    secrets: dict[str, str]
    runtime: Runtime  # this test's own view of the store, in the environments the processes use
    zygote: Zygote

    def start(self, *args: str) -> Any:
        return self.zygote.start(self.config, self.data, self.secrets, *args)

    def run(self, *args: str) -> list[list[object]]:
        return self.zygote.run(self.config, self.data, self.secrets, *args)


@pytest.fixture(scope="module")
def zygote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Zygote]:
    forks = Zygote(tmp_path_factory.mktemp("workers"))
    try:
        yield forks
    finally:
        forks.close()


def _settings(served: SandboxServer) -> str:
    """EDF OA, GRTgaz, GRDF ADICT and Switchgrid as real providers at the served simulators."""
    lines = []
    for provider in ("edf_oa", "grtgaz", "grdf_adict", "switchgrid"):
        lines += sandbox_server.settings_snippet(served[provider], served.data_dir)
        if provider == "grdf_adict":  # a quota that keeps the test short (the snippet has its client)
            lines += ["per_second = 10"]
    return "\n".join(lines) + "\n"


@pytest.fixture
def served(served: SandboxServer) -> SandboxServer:
    served.plan.timeout_seconds = 60.0  # a late answer: long after the process is killed
    for site in served.served:  # at the end, the late answers are dropped, not waited for
        site.server.config.timeout_graceful_shutdown = 0.1
    served["grdf_adict"].simulator.per_second = 10
    return served


@pytest.fixture
async def world(served: SandboxServer, tmp_path: Path, zygote: Zygote) -> AsyncIterator[World]:
    config, data = tmp_path / "config", tmp_path / "data"
    config.mkdir()
    text = _settings(served)
    (config / "settings.toml").write_text(text, encoding="utf-8")
    secrets = {
        env_var("edf_oa", edf_oa.TOKEN_SECRET): served["edf_oa"].simulator.current_token,
        env_var("grdf_adict", adict_feeds.SECRET): SANDBOX_CLIENT_SECRET,
        env_var("switchgrid", switchgrid_feeds.TOKEN_SECRET): served["switchgrid"].simulator.token,
    }
    runtime = build_runtime(
        Settings.from_dict(tomllib.loads(text)),
        store=Store(data / "pupitre.sqlite3"),
        data_dir=data,
        secrets=SecretStore(credentials_file=tmp_path / "none.toml", env=secrets),
    )
    try:
        assert not runtime.sandboxed & {"edf_oa", "grtgaz", "grdf_adict", "switchgrid"}
        yield World(served, config, data, secrets, runtime, zygote)
    finally:
        await runtime.aclose()
        runtime.store.close()


def _wait_for(predicate: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _trail(world: World, item_id: int) -> list[str]:
    rows = reversed(world.runtime.store.audit_log(limit=200))
    return [row[3] for row in rows if row[4].startswith(f"#{item_id} ")]


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("name", list(KINDS))
async def test_a_crash_at_any_stage_ends_delivered_once_verified_and_audited(
    world: World, tmp_path: Path, name: str, stage: str
) -> None:
    kind = KINDS[name]
    payload = tmp_path / "payload.json"
    payload.write_text(json.dumps(await kind.prepare(world.runtime, world.served, tmp_path)), encoding="utf-8")
    before = _received(world.served, kind)
    assert before == 0
    if stage == IN_FLIGHT:
        world.served.plan.add(kind.route, "late", method=kind.method)

    first = world.start("queue", stage, kind.provider, kind.action, str(payload))
    if stage == IN_FLIGHT:
        _wait_for(lambda: _received(world.served, kind) == 1)  # the API has acted; its answer is late
        first.send_signal(signal.SIGKILL)
    out, err = first.communicate(timeout=120)
    assert first.returncode == -signal.SIGKILL, err
    item_id = int(out.split()[0])
    expected_after_crash = 0 if stage == QUEUED else 1
    assert _received(world.served, kind) == expected_after_crash

    trail = ["queued"]
    if stage == IN_FLIGHT and kind.held_in_flight:
        assert world.run("drain") == [[item_id, "held", None]]  # never sent twice by itself
        (order_id,) = world.served["switchgrid"].simulator.orders
        deliveries = world.run("identify", str(item_id), order_id)  # the operator names it
        trail += ["held", "identified", "resumed", "found", "verified"]
    else:
        deliveries = world.run("drain")
        trail += {
            QUEUED: ["delivered", "verified"],
            IN_FLIGHT: ["resumed", "found", "verified"],
            ANSWERED: ["resumed", "found", "verified"],
            RECORDED: ["delivered", "resumed", "verified"],
        }[stage]
    assert deliveries == [[item_id, "delivered", True]]
    assert _received(world.served, kind) == 1  # exactly once at the API
    assert world.runtime.outbox.pending() == world.runtime.outbox.owed() == []  # nothing left for a next drain
    item = world.runtime.outbox.item(item_id)
    assert item is not None
    assert (item.status, item.readback, item.sending_since, item.claimed_by) == ("delivered", "verified", None, None)
    assert _trail(world, item_id) == trail
