"""One simulated world per data dir: what one sandbox process did, another (running at the same
time, or started after the first was killed) finds; ``pupitre sandbox reset`` starts it afresh."""

from __future__ import annotations

import datetime as dt
import pickle
import signal
from pathlib import Path

import pytest

from pupitre.providers.core.clock import PARIS, ManualClock
from pupitre.providers.core.sandbox_world import World, dump_state, load_state, reset, world_path
from pupitre.providers.switchgrid.sandbox import SwitchgridSimulator
from tests.processes import world


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "config").mkdir(mode=0o700)
    return tmp_path / "config", tmp_path / "data"


def get(dirs: tuple[Path, Path], order_id: str) -> str:
    reader = world.start(*dirs, "get", order_id)
    out, _ = reader.communicate(timeout=120)
    assert reader.returncode == 0
    return out.strip()


def test_an_order_placed_by_one_process_is_found_by_others_until_reset(dirs: tuple[Path, Path]) -> None:
    placer = world.start(*dirs, "order")
    try:
        assert placer.stdout is not None
        order_id = placer.stdout.readline().strip()
        assert order_id, "the first process placed no order"
        assert get(dirs, order_id) in ("PENDING_REQUESTS", "SUCCESS")  # while the first one lives
    finally:
        placer.send_signal(signal.SIGKILL)
        placer.wait(30)
    assert get(dirs, order_id) in ("PENDING_REQUESTS", "SUCCESS")  # after it was killed
    done = world.pupitre(*dirs, "sandbox", "reset")
    assert done.returncode == 0 and "afresh" in done.stdout
    assert get(dirs, order_id) == "404"


def test_reset_without_a_world_says_so(dirs: tuple[Path, Path]) -> None:
    done = world.pupitre(*dirs, "sandbox", "reset")
    assert done.returncode == 0 and "nothing to reset" in done.stdout


def test_a_simulator_state_round_trips_and_the_file_is_private(tmp_path: Path) -> None:
    clock = ManualClock(dt.datetime(2026, 12, 7, 9, 0, tzinfo=PARIS))
    one = SwitchgridSimulator(clock, training_day=True)
    two = SwitchgridSimulator(clock)
    assert not two.orders
    load_state(two, dump_state(one))
    assert list(two.orders) == list(one.orders) and two.training_order == one.training_order
    assert two._uuid() == one._uuid()  # the ids to come are the world's too
    path = world_path(tmp_path)
    World(path).close()
    assert path.stat().st_mode & 0o077 == 0 and path.parent.stat().st_mode & 0o077 == 0
    assert reset(tmp_path)


async def test_two_processes_worlds_see_and_keep_each_others_writes(tmp_path: Path) -> None:
    """Two runtimes' simulators (as two processes hold them) on one world file: asks made on
    either, interleaved, are all there for both, with distinct ids (the id stream is shared)."""
    import httpx

    from pupitre.providers.core.sandbox import SandboxTransport
    from pupitre.providers.core.sandbox_world import shared
    from pupitre.providers.switchgrid.sandbox import SANDBOX_TOKEN, TEST_ENV_HEADER

    clock = ManualClock(dt.datetime(2026, 12, 7, 9, 0, tzinfo=PARIS))
    worlds = [World(world_path(tmp_path)), World(world_path(tmp_path))]
    sims = [SwitchgridSimulator(clock, training_day=True) for _ in worlds]
    headers = {"authorization": f"Bearer {SANDBOX_TOKEN}", TEST_ENV_HEADER: "true"}
    clients = [
        httpx.AsyncClient(
            transport=SandboxTransport(shared(sim.app, "switchgrid", world)), base_url="http://sg", headers=headers
        )
        for sim, world in zip(sims, worlds, strict=True)
    ]
    try:
        contract = sims[0].contracts[2].id
        made = []
        for i in range(4):
            body = {
                "electricityContracts": [contract],
                "signer": {"firstName": "Jean", "lastName": "Dupont"},
                "consentDuration": "1 year",
            }
            answer = await clients[i % 2].post("/enedis/v2/ask", json=body)
            assert answer.status_code == 200, answer.text
            made.append(answer.json()["id"])
        assert len(set(made)) == 4
        for client in clients:
            listed = (await client.get("/enedis/v2/ask", params={"limit": 100})).json()["items"]
            assert set(made) <= {a["id"] for a in listed}
            assert len(listed) == 5  # and the training day's signed ask, once
    finally:
        for client in clients:
            await client.aclose()
        for world in worlds:
            world.close()


async def test_a_request_cancelled_while_it_waits_for_the_world_leaves_no_transaction_open(tmp_path: Path) -> None:
    """``pupitre check`` cancels a feed past its time budget: a write request cancelled while
    its ``BEGIN`` waits for another process's transaction must not leave that transaction open
    under the next request (``cannot start a transaction within a transaction``)."""
    import asyncio
    import sqlite3
    import threading

    import httpx

    from pupitre.providers.core.sandbox import SandboxTransport
    from pupitre.providers.core.sandbox_world import shared
    from pupitre.providers.switchgrid.sandbox import SANDBOX_TOKEN, TEST_ENV_HEADER

    clock = ManualClock(dt.datetime(2026, 12, 7, 9, 0, tzinfo=PARIS))
    world = World(world_path(tmp_path))
    sim = SwitchgridSimulator(clock, training_day=True)
    headers = {"authorization": f"Bearer {SANDBOX_TOKEN}", TEST_ENV_HEADER: "true"}
    client = httpx.AsyncClient(
        transport=SandboxTransport(shared(sim.app, "switchgrid", world)), base_url="http://sg", headers=headers
    )
    body = {
        "electricityContracts": [sim.contracts[2].id],
        "signer": {"firstName": "Jean", "lastName": "Dupont"},
        "consentDuration": "1 year",
    }
    other = sqlite3.connect(world_path(tmp_path), isolation_level=None, check_same_thread=False)
    try:
        assert (await client.get("/enedis/v2/ask", params={"limit": 1})).status_code == 200  # the world exists
        other.execute("BEGIN IMMEDIATE")  # another process writes for a while
        threading.Timer(0.5, lambda: other.execute("COMMIT")).start()
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(client.post("/enedis/v2/ask", json=body), 0.1)
        await asyncio.sleep(0.8)  # the other process is done
        answer = await client.post("/enedis/v2/ask", json=body)
        assert answer.status_code == 200, answer.text
    finally:
        await client.aclose()
        world.close()
        other.close()


async def test_a_world_an_older_pupitre_pickled_is_rebuilt_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The simulators' value classes became msgspec Structs: a world file an older pupitre wrote
    holds pickled dataclasses that no longer load. The first request is answered, and this
    process's simulator becomes the world (readable again by the next process)."""
    import dataclasses
    import logging
    import pickle

    import httpx
    import msgspec

    from pupitre.providers.core.sandbox import SandboxTransport
    from pupitre.providers.core.sandbox_world import UnreadableState, shared
    from pupitre.providers.switchgrid import sandbox
    from pupitre.providers.switchgrid.sandbox import SANDBOX_TOKEN, TEST_ENV_HEADER, SimContract

    clock = ManualClock(dt.datetime(2026, 12, 7, 9, 0, tzinfo=PARIS))
    # the contracts as an older pupitre pickled them: instances of a dataclass of the same name
    Old = dataclasses.make_dataclass("SimContract", [f.name for f in msgspec.structs.fields(SimContract)])
    Old.__module__ = sandbox.__name__
    contracts = [Old(*msgspec.structs.astuple(c)) for c in SwitchgridSimulator(clock).contracts]
    with monkeypatch.context() as patched:
        patched.setattr(sandbox, "SimContract", Old)
        old_state = pickle.dumps({"contracts": contracts}, protocol=5)
    with pytest.raises(UnreadableState):
        load_state(SwitchgridSimulator(clock), old_state)

    world = World(world_path(tmp_path))
    world.store("switchgrid", old_state, 3)
    sim = SwitchgridSimulator(clock)
    headers = {"authorization": f"Bearer {SANDBOX_TOKEN}", TEST_ENV_HEADER: "true"}
    client = httpx.AsyncClient(
        transport=SandboxTransport(shared(sim.app, "switchgrid", world)), base_url="http://sg", headers=headers
    )
    try:
        with caplog.at_level(logging.WARNING, logger="pupitre.sandbox"):
            answer = await client.get("/enedis/v2/ask", params={"limit": 1})
        assert answer.status_code == 200, answer.text
        assert "unreadable" in caplog.text
        version, state = world.load("switchgrid")
        assert version == 4 and state is not None
        fresh = SwitchgridSimulator(clock)
        load_state(fresh, state)
        assert [c.id for c in fresh.contracts] == [c.id for c in sim.contracts]
    finally:
        await client.aclose()
        world.close()


async def test_a_process_joining_a_world_another_version_wrote_starts_seeded(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A world holding a state this version cannot read (another pupitre's pickle) is not joined:
    the simulator is built with its seeded start and answers; its state replaces the world's
    (it once went round the build forever: RecursionError on every sandbox command)."""
    import logging

    from pupitre.providers.core.secrets import SecretStore
    from pupitre.runtime import build_runtime
    from pupitre.settings import Settings

    clock = ManualClock(dt.datetime(2026, 12, 7, 14, 0, tzinfo=PARIS))
    world = World(world_path(tmp_path))
    world.store("edf_oa", b"\x80\x05not a pickle this version reads", 7)
    world.close()
    secrets = SecretStore(credentials_file=tmp_path / "credentials", env={})
    runtime = build_runtime(
        Settings(), sandbox=True, clock=clock, data_dir=tmp_path, secrets=secrets, training_day=True
    )
    with caplog.at_level(logging.WARNING, logger="pupitre.sandbox"):
        order = await runtime.feed("edf_oa.curtailments").fetch()
    assert order is not None  # the seeded training day's order (published at 13:00)
    assert "edf_oa" not in runtime.ctx.world_held
    assert "unreadable" in caplog.text
    version, state = World(world_path(tmp_path)).load("edf_oa")
    assert version > 7 and state is not None  # this process's simulator replaced it
    load_state(runtime.simulators["edf_oa"], state)  # readable now


async def test_a_simulator_joining_a_world_skips_the_seeded_start_the_world_replaces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 20: the second process's EDF OA and GRDF OMEGA simulators do not build the past
    days and the generated requests (the world's state replaces them); they hold that state from
    their build on (a store's first-use seeding reads it), and answer as the first one does."""
    from typing import Any, Callable

    from pupitre.providers.core.secrets import SecretStore
    from pupitre.providers.edf_oa.sandbox import EdfOaSimulator
    from pupitre.providers.grdf_omega.sandbox import OmegaSimulator
    from pupitre.runtime import Runtime, build_runtime
    from pupitre.settings import Settings

    clock = ManualClock(dt.datetime(2026, 12, 7, 9, 0, tzinfo=PARIS))

    def runtime(name: str) -> Runtime:
        secrets = SecretStore(credentials_file=tmp_path / f"{name}.credentials", env={})
        return build_runtime(
            Settings(), sandbox=True, clock=clock, data_dir=tmp_path, secrets=secrets, training_day=True
        )

    first = runtime("first")
    first_sims = {name: first.simulators[name] for name in ("edf_oa", "grdf_omega")}
    assert first.ctx.world_held == set()
    first.store.watch_add("grdf_omega", first_sims["grdf_omega"].numbers()[:1], clock.now())
    for feed in ("edf_oa.curtailments", "grdf_omega.requests"):  # each simulator's state is written
        await first.feed(feed).fetch()
    built: list[str] = []

    def counted(method: Callable[..., Any]) -> Callable[..., Any]:
        def call(self: Any, *args: Any) -> Any:
            built.append(method.__name__)
            return method(self, *args)

        return call

    monkeypatch.setattr(EdfOaSimulator, "_history", counted(EdfOaSimulator._history))
    monkeypatch.setattr(OmegaSimulator, "_generate", counted(OmegaSimulator._generate))
    second = runtime("second")
    second_sims = {name: second.simulators[name] for name in ("edf_oa", "grdf_omega")}
    assert built == [] and {"edf_oa", "grdf_omega"} <= second.ctx.world_held
    assert second_sims["grdf_omega"].numbers() == first_sims["grdf_omega"].numbers()
    assert second_sims["grdf_omega"].fresh == first_sims["grdf_omega"].fresh
    held = [pickle.loads(dump_state(sims["edf_oa"])) for sims in (first_sims, second_sims)]  # noqa: S301 — our own
    assert held[0] == held[1] and held[1]["_logs"]  # the past days, as the world holds them
    assert await second.feed("edf_oa.curtailments").fetch() == await first.feed("edf_oa.curtailments").fetch()
    await first.aclose()
    await second.aclose()
