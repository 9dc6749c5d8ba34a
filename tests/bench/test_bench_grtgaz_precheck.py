"""Benchmark of the GRTgaz program pre-check (``rules.precheck``), run on every keystroke.

``pytest -m bench -s tests/bench/test_bench_grtgaz_precheck.py`` prints the median cost
per call (target ≤ 2 ms for one site and day). The machine is shared: numbers are noisy;
nothing is asserted on timings.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time

import pytest

from pupitre.providers.core.clock import PARIS, ManualClock
from pupitre.providers.grtgaz import rules
from pupitre.providers.grtgaz.models import Flex, IndicatorStatus
from pupitre.providers.grtgaz.sandbox import GrtgazSimulator
from pupitre.providers.grtgaz.sites import site_by_id

pytestmark = pytest.mark.bench
CALLS = 2000
TARGET_MS = 2.0


def _context(now: dt.datetime) -> tuple[rules.ProgramContext, list[float | None]]:
    """A realistic day: seeded v1 at J-1 15:00, four accepted revisions, red indicators."""
    site = site_by_id("LI1001")
    assert site is not None
    sim = GrtgazSimulator(ManualClock(now), scenario="calm", sites=(site,))
    sim.schedule(site.site_id, Flex.Q_TO_QPLUS, IndicatorStatus.RED, now - dt.timedelta(hours=2))
    day = now.date()
    values = list(sim.rebuilt(site.site_id, day) or [0.0] * 24)
    for hour in (8, 9, 10, 11):
        sim.clock.set(now.replace(hour=hour, minute=20))
        values = [v + 1000.0 for v in values]
        ctx = sim.program_context(site.site_id, day)
        assert sim.declare([rules.input_profile(ctx, values, declared_at=sim.clock.now())]) == []
    sim.clock.set(now)
    return sim.program_context(site.site_id, day), values


def _median_ms(call, runs: int = 5) -> float:
    medians = []
    for _ in range(runs):
        started = time.perf_counter()
        for _ in range(CALLS // runs):
            call()
        medians.append((time.perf_counter() - started) * 1000 / (CALLS // runs))
    return statistics.median(medians)


def test_bench_precheck_per_call() -> None:
    now = dt.datetime(2019, 11, 18, 12, 5, tzinfo=PARIS)
    ctx, values = _context(now)
    edited = list(values)
    keystrokes = [edited]
    for index in range(24):  # each keystroke changes one hour
        edited = list(edited)
        edited[index] = (edited[index] or 0.0) + 7_000.0
        keystrokes.append(edited)
    position = iter(range(10**9))

    def one() -> None:
        rules.precheck(ctx, keystrokes[next(position) % len(keystrokes)], now=now)

    one()  # warm the caches (day slots, references)
    median = _median_ms(one)
    cold = _median_ms(lambda: rules.precheck(
        rules.ProgramContext(ctx.site, ctx.gas_day, ctx.indicators, ctx.accepted, versions=ctx.versions),
        values, now=now), runs=5)
    check = rules.precheck(ctx, keystrokes[-1], now=now)
    refusing = [v + 900_000.0 for v in values]  # over the partial allowance in the window
    refused = rules.precheck(ctx, refusing, now=now)
    worst = _median_ms(lambda: rules.precheck(ctx, refusing, now=now))
    print(f"\nGRTgaz precheck: median {median:.3f} ms per call (warm context), "
          f"{cold:.3f} ms with a fresh context each call, {worst:.3f} ms for a refused program "
          f"[{refused.outcome.value}, {len(refused.failing)} failing hours]; target ≤ {TARGET_MS} ms "
          f"[typing: {check.outcome.value}; shared machine, noisy]")
