"""Benchmark of the GRTgaz program pre-check (``rules.precheck``), run on every keystroke.

``pytest -m bench -s tests/bench/test_bench_grtgaz_precheck.py`` prints the median cost
per call (target ≤ 2 ms for one site and day). The machine is shared: numbers are noisy;
nothing is asserted on timings.
"""

from __future__ import annotations

import datetime as dt
import os
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
    cold = _median_ms(
        lambda: rules.precheck(
            rules.ProgramContext(ctx.site, ctx.gas_day, ctx.indicators, ctx.accepted, versions=ctx.versions),
            values,
            now=now,
        ),
        runs=5,
    )
    check = rules.precheck(ctx, keystrokes[-1], now=now)
    refusing = [v + 900_000.0 for v in values]  # over the partial allowance in the window
    refused = rules.precheck(ctx, refusing, now=now)
    worst = _median_ms(lambda: rules.precheck(ctx, refusing, now=now))
    print(
        f"\nGRTgaz precheck: median {median:.3f} ms per call (warm context), "
        f"{cold:.3f} ms with a fresh context each call, {worst:.3f} ms for a refused program "
        f"[{refused.outcome.value}, {len(refused.failing)} failing hours]; target ≤ {TARGET_MS} ms "
        f"[typing: {check.outcome.value}; shared machine, noisy]"
    )


def test_bench_editor_keystroke(tmp_path) -> None:
    """The editor's whole per-keystroke work: parse the typed value, ``rules.precheck``,
    rebuild the 24 rows' cells and repaint the changed ones, the summary line. Measured
    headless inside a running app (Textual's own screen refresh comes after, batched)."""
    import asyncio

    from pupitre.providers.core.retry import RetryPolicy
    from pupitre.providers.core.secrets import SecretStore
    from pupitre.runtime import build_runtime
    from pupitre.settings import Settings
    from pupitre.tui.app import PupitreApp
    from pupitre.tui.screens.program_editor import ProgramEditorScreen
    from pupitre.tui.screens.programs import ProgramsScreen
    from tests.helpers import MemoryKeyring

    os.environ["PUPITRE_DATA_DIR"] = str(tmp_path / "data")
    os.environ["PUPITRE_CONFIG_DIR"] = str(tmp_path / "config")
    now = dt.datetime(2026, 11, 18, 10, 53, tzinfo=PARIS)
    runtime = build_runtime(
        Settings(),
        sandbox=True,
        clock=ManualClock(now),
        data_dir=tmp_path / "data",
        retry=RetryPolicy(attempts=1),
        secrets=SecretStore(credentials_file=tmp_path / "config" / "c.toml", env={}, backend=MemoryKeyring()),
    )
    runtime.simulators["grtgaz"].schedule(
        "LI1009", Flex.Q_TO_QMINUS, IndicatorStatus.RED, dt.datetime(2026, 11, 18, 8, 52, tzinfo=PARIS)
    )
    app = PupitreApp(runtime)
    results: dict[str, float] = {}

    async def run() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            while app.feeds.state("grtgaz.indicators").runs < 1:
                await pilot.pause(0.05)
            await app.push_screen(ProgramsScreen("LI1009"))
            screen = app.screen
            while screen.data is None or screen.data.from_store or screen.loading:
                await pilot.pause(0.05)
            await pilot.press("e")
            await pilot.pause()
            editor = app.screen
            assert isinstance(editor, ProgramEditorScreen)
            editor.query_one("#ed-table").move_cursor(row=5, animate=False)
            await pilot.press("9")
            await pilot.pause()
            typed = ["9", "90", "900", "9000", "90000", "900000", "90000", "9000"]
            position = iter(range(10**9))

            def keystroke() -> None:
                editor._typed(typed[next(position) % len(typed)])

            keystroke()
            started = time.perf_counter()
            calls = 400
            for _ in range(calls):
                keystroke()
            results["editor"] = (time.perf_counter() - started) * 1000 / calls
            started = time.perf_counter()
            for _ in range(calls):
                editor._run_check()
            results["precheck"] = (time.perf_counter() - started) * 1000 / calls
            await pilot.pause()

    asyncio.run(run())
    print(
        f"\nGRTgaz editor: {results['precheck']:.3f} ms per rules.precheck in the editor, "
        f"{results['editor']:.3f} ms for the whole per-keystroke work (pre-check + 24 rows + summary); "
        f"target ≤ {TARGET_MS} ms for the pre-check [shared machine, noisy]"
    )
