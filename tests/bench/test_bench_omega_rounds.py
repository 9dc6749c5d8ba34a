"""GRDF OMEGA at a thousand watched requests: ``pytest -m bench -n0 -s tests/bench/test_bench_omega_rounds.py``.

1,000 watched requests, of which 100 active and 900 in a final status (all read once already:
the store holds their last read, the finals' spread over the last day and a dozen overdue),
against the in-process simulator
refusing any call less than a second after the last (§1.3), at its real pace. Rounds follow
each other as the feed runs them (:meth:`OmegaSession.interval`). Right after an active request
is read in the first round, its status changes in the simulator: the time until a round reads
the new status is the worst case (budget ≤ 2 minutes, 0 refusals). Takes about 4 minutes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from pathlib import Path

import pytest

from pupitre.providers.core.api import from_data
from pupitre.providers.core.clock import PARIS, ManualClock
from pupitre.providers.core.context import ProviderContext
from pupitre.providers.core.feeds import record_result
from pupitre.providers.core.sandbox import SimulatorApp
from pupitre.providers.core.secrets import SecretStore
from pupitre.providers.grdf_omega import feeds as omega
from pupitre.providers.grdf_omega.feeds import PROVIDER, OmegaSession, Tracked, dump
from pupitre.providers.grdf_omega.models import Demande
from pupitre.providers.grdf_omega.sandbox import OmegaSimulator
from pupitre.runtime import build_runtime
from pupitre.settings import GrdfOmegaSettings, Settings

pytestmark = pytest.mark.bench
WATCHED, ACTIVE = 1_000, 100
BUDGET = 120.0
ANCHOR = "a whole-list round before: 1,000 calls ≈ 1,111 s at 0.9 call/s"


def test_an_active_request_change_is_seen_within_two_minutes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def big_park(settings: GrdfOmegaSettings, ctx: ProviderContext) -> SimulatorApp:
        return OmegaSimulator(
            ctx.clock,
            ctx.faults,
            code_cdgf=omega.SANDBOX_CDGF,
            client_id=omega.SANDBOX_CLIENT_ID,
            client_secret=omega.SANDBOX_CLIENT_SECRET,
            count=WATCHED + 10,
        ).app

    monkeypatch.setattr(omega, "sandbox_app", big_park)

    async def run() -> tuple[float, int, int, list[str]]:
        clock = ManualClock(dt.datetime(2026, 11, 23, 10, tzinfo=PARIS), running=True)
        runtime = build_runtime(
            Settings(),
            sandbox=True,
            clock=clock,
            data_dir=tmp_path,
            secrets=SecretStore(credentials_file=tmp_path / "c", env={}),
        )
        session = runtime.connections["grdf_omega"].session
        assert isinstance(session, OmegaSession)
        feed = runtime.feed("grdf_omega.requests")
        sim = runtime.simulators["grdf_omega"]
        numbers = sim.numbers()[:WATCHED]
        for i, numero in enumerate(numbers):
            if i < ACTIVE:
                sim.set_status(numero, "PLANIF", "Planifiée", at=clock.now() - dt.timedelta(days=30))
            else:
                sim.set_status(numero, "REAL", "Réalisée", at=clock.now() - dt.timedelta(days=30))
        runtime.store.watch_add("grdf_omega", numbers, clock.now())
        # the finals' last reads spread over the last day, 12 of them overdue: a round takes the
        # oldest few (FINAL_SHARE) behind the active ones
        day = dt.timedelta(hours=24)
        finals = numbers[ACTIVE:]
        read_at = {n: clock.now() for n in numbers[:ACTIVE]}
        read_at.update(
            {n: clock.now() - day - dt.timedelta(hours=1) + i * day / len(finals) for i, n in enumerate(finals)}
        )
        read = {
            n: Tracked(n, from_data(sim.document(n), Demande, provider=PROVIDER), read_at=read_at[n]) for n in numbers
        }
        runtime.store.save_snapshot(feed.name, dump(read), clock.now())
        calls_before = sim.calls
        target = numbers[ACTIVE // 2]
        changed_at: float | None = None
        seen_at: float | None = None
        covers: list[str] = []

        async def watch() -> None:
            nonlocal changed_at, seen_at
            while seen_at is None:
                result = session.progress.results.get(target)
                demande = result.demande if result is not None else None
                if (
                    changed_at is None
                    and result is not None
                    and result.read_at
                    and result.read_at > clock.now() - (dt.timedelta(seconds=5))
                ):
                    sim.set_status(target, "ATTRDV", "En attente RDV")  # just after its read: the worst case
                    changed_at = time.perf_counter()
                elif changed_at is not None and demande is not None and demande.status_code == "ATTRDV":
                    seen_at = time.perf_counter()
                if session.progress.covers and session.progress.covers not in covers:
                    covers.append(session.progress.covers)
                await asyncio.sleep(0.05)

        watcher = asyncio.create_task(watch())
        started = time.perf_counter()
        while seen_at is None and time.perf_counter() - started < 600:
            previous = session.previous()
            data = await session.refresh()
            record_result(runtime.store, feed, previous, data, clock.now())
            if seen_at is None:
                await asyncio.sleep(feed.interval(clock.now()))
        watcher.cancel()
        await runtime.aclose()
        assert changed_at is not None and seen_at is not None, "the change was never seen"
        return seen_at - changed_at, sim.quota_refusals, sim.calls - calls_before, covers

    delay, refusals, calls, covers = asyncio.run(run())
    print(
        f"\nGRDF OMEGA, {WATCHED:,} watched of which {ACTIVE} active: a status change seen after {delay:.0f} s "
        f"(budget {BUDGET:.0f} s; {ANCHOR}), {calls} calls, {refusals} quota refusal(s) (budget 0); "
        f"progress line: {covers[0] if covers else '—'}"
    )
    assert refusals == 0
