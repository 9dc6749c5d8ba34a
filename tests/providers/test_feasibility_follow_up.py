"""The feasibility follow-up (providers/grtgaz/feasibility.py) against the simulator: a
declaration is followed from the moment GRTgaz has it; two processes' follow-ups on one store
settle the verdict once (one audit line, one report); a program never decided is given up
once its gas day is over."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from msgspec.structs import replace

from pupitre.providers.core.clock import ManualClock, gas_day_hours, gas_day_of
from pupitre.providers.core.secrets import SecretStore
from pupitre.providers.core.store import Store
from pupitre.providers.grtgaz import feasibility, rules
from pupitre.providers.grtgaz import feeds as grtgaz
from pupitre.providers.grtgaz.feeds import GrtgazSession
from pupitre.runtime import Runtime, build_runtime
from pupitre.settings import Settings

NOW = dt.datetime(2026, 11, 18, 10, 53, tzinfo=dt.timezone.utc)
MONTOIR = "LI1006"


def _runtime(tmp_path: Path, clock: ManualClock | None = None) -> Runtime:
    return build_runtime(
        Settings(),
        sandbox=True,
        clock=clock or ManualClock(NOW),
        store=Store(tmp_path / "s.sqlite3"),
        data_dir=tmp_path,
        secrets=SecretStore(credentials_file=tmp_path / "none.toml", env={}),
    )


async def _declare(runtime: Runtime) -> str:
    """Today's Montoir program with its last hour changed (beyond H+5: accepted), delivered."""
    session = runtime.connections[grtgaz.PROVIDER].session_as(GrtgazSession)
    day = gas_day_of(NOW)
    programs = await session.programs(MONTOIR, day)
    site = runtime.simulators["grtgaz"].site(MONTOIR)
    context = rules.ProgramContext.from_api(site, day, profiles=programs.declared, rebuilt=programs.rebuilt)
    assert programs.rebuilt is not None
    values = list(programs.rebuilt.quantities)
    slot = len(gas_day_hours(day)) - 1
    values[slot] = 500_000.0
    profile = rules.input_profile(context, values, declared_at=NOW)
    payload = grtgaz.declaration_payload(profile, edited=[slot], base_label="rebuilt program", now=NOW)
    runtime.outbox.enqueue(grtgaz.PROVIDER, grtgaz.DECLARE_ACTION, payload)
    [delivery] = await runtime.outbox.drain()
    assert delivery.outcome == "delivered"
    return profile.hmsProfileId


def _verdicts(store: Store) -> list[tuple[str, str]]:
    return [(row[3], row[4]) for row in store.audit_log(grtgaz.PROVIDER) if row[2] == feasibility.AUDIT_ACTION]


async def test_two_follow_ups_on_one_store_settle_the_verdict_once(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(grtgaz, "FEASIBILITY_POLL_SECONDS", 0.0)
    clock = ManualClock(NOW)
    runtime = _runtime(tmp_path, clock)
    try:
        runtime.simulators["grtgaz"].feasibility_delay = dt.timedelta(minutes=5)
        session = runtime.connections[grtgaz.PROVIDER].session_as(GrtgazSession)
        program_id = await _declare(runtime)
        assert session.feasibility.awaited() == [program_id]
        assert await session.feasibility.step() == []  # not decided yet: still followed
        assert session.feasibility.active()

        other_store = Store(tmp_path / "s.sqlite3")  # another process's connection to the store
        other_store.bind_environments({grtgaz.PROVIDER: runtime.environments[grtgaz.PROVIDER].id})
        other = GrtgazSession(session.settings, replace(session.ctx, store=other_store), sandboxed=True)
        clock.advance(minutes=6)
        reports = [
            r for batch in await asyncio.gather(session.feasibility.step(), other.feasibility.step()) for r in batch
        ]
        assert [(r.title, r.level) for r in reports] == [("Program ACCEPTED", "information")]
        assert reports[0].message.startswith(f"{program_id} ACCEPTED by GRTgaz")
        assert [v[0] for v in _verdicts(runtime.store)] == ["ACCEPTED"]
        assert not session.feasibility.active() and not other.feasibility.active()
        assert session.feasibility.settled(program_id) == "ACCEPTED"
        kept = feasibility.verdict_of(other_store, program_id)
        assert kept is not None and kept.status.decided
        assert await session.feasibility.step() == []  # nothing left: nothing said twice
    finally:
        await runtime.aclose()


async def test_a_program_never_decided_is_given_up_once_its_gas_day_is_over(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path)
    try:
        session = runtime.connections[grtgaz.PROVIDER].session_as(GrtgazSession)
        unknown = rules.program_id(gas_day_of(NOW) - dt.timedelta(days=3), MONTOIR, "GFCCGE06", 9)
        session.feasibility.follow(unknown)  # GRTgaz does not show it (any more)
        [report] = await session.feasibility.step()
        assert (report.title, report.level) == ("Program not decided", "warning")
        assert _verdicts(runtime.store) == [(feasibility.GIVEN_UP, report.message)]
        assert await session.feasibility.step() == []
    finally:
        await runtime.aclose()
