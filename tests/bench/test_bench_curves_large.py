"""Load curves at ten years: ``pytest -m bench -n0 -s tests/bench/test_bench_curves_large.py``.

Ten years of 10-minute data for one PRM (525,600 points, with gaps and one single-point peak),
and an overlay of 10 PRMs of a year each (52,560 points each), plotted from memory at 120×40
on the load-curve screen (budget 150 ms from the screen pushed to the plot on screen) and each
zoom/pan/overlay key (budget 100 ms, from the key to the plot redrawn). The arrays are plain
lists searched with bisect and cut into min/max per column with C-speed built-ins
(``rules.downsample_values``), a wide column from its whole days (``rules.Blocks``, built once
per curve); numpy is not needed at these sizes (the CPU times of the first and a later draw
at "all" over ten years are printed). Peaks and gaps are kept: checked on the frame.
Numbers are printed, never asserted (the machine is shared, timings are noisy).
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
import time
from pathlib import Path
from typing import Callable

import pytest

from pupitre.providers.core.clock import UTC
from pupitre.providers.switchgrid import rules
from pupitre.tui.curve_view import CurveView, Trace
from pupitre.tui.screens.load_curve_plot import LoadCurvePlotScreen
from pupitre.tui.widgets.load_curve_plot import LoadCurvePlot
from tests.tui.load_curves import plot_app

pytestmark = pytest.mark.bench
TEN_YEARS = 525_600
ONE_YEAR = 52_560
PEAK_AT = 333_333
START = dt.datetime(2015, 12, 31, 23, 0, tzinfo=UTC)
RUNS = 5


def trace(points: int, label: str, *, seed: int = 0, start: dt.datetime = START) -> Trace:
    """A synthetic curve: a daily evening peak, seasons, a gap of 3 steps every 9th day, and
    (for the long one) a single-point peak at :data:`PEAK_AT`."""
    step = rules.STEP_10_MIN
    out: list[rules.Point] = []
    for i in range(points):
        hour, day = (i % 144) / 6, i // 144
        watts = (
            None
            if (day + seed) % 9 == 0 and 50 <= i % 144 < 53
            else round(
                2000 + 100 * seed + 1500 * math.exp(-(((hour - 19) / 2) ** 2)) + 800 * math.cos(2 * math.pi * day / 365)
            )
        )
        out.append(rules.Point(start + i * step, watts))
    if points > PEAK_AT:
        out[PEAK_AT] = rules.Point(out[PEAK_AT].start, 45_000.0)
    return Trace.of(rules.LoadCurve(step, out), label)


def cpu_ms(fn: Callable[[], object]) -> float:
    """CPU milliseconds of ``fn()`` (the machine's load weighs less on it than on wall time)."""
    started = time.process_time()
    fn()
    return (time.process_time() - started) * 1000


async def _screen_figures(
    tmp_path: Path, primary: Trace, others: list[Trace], name: str, keys: list[tuple[str, ...]]
) -> None:
    """The first draw on the screen, then each key sequence's last key, timed to the plot redrawn."""
    app = plot_app(tmp_path, dt.datetime(2026, 1, 2, 10))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        started = time.perf_counter()
        screen = LoadCurvePlotScreen(primary, zoom="all", others=others)
        await app.push_screen(screen)
        widget = screen.query_one(LoadCurvePlot)
        while widget.rendered_at < started:
            await pilot.pause(0.001)
        first = (widget.rendered_at - started) * 1000
        print(
            f"\n  {name}: data in memory → plot on screen, 120×40, all  {first:8.1f} ms   (budget 150 ms; "
            f"plotext build {widget.last_build_seconds * 1000:.1f} ms)"
        )
        await pilot.pause()
        for sequence in keys:
            timings = []
            for _ in range(RUNS):
                for key in sequence[:-1]:
                    await pilot.press(key)
                await pilot.pause()
                started = time.perf_counter()
                await pilot.press(sequence[-1])
                waited = 0
                while widget.rendered_at < started and waited < 2000:
                    await pilot.pause(0.001)
                    waited += 1
                timings.append((widget.rendered_at - started) * 1000)
            label = "key " + " then ".join(sequence)
            print(f"  {label:<44} median {statistics.median(timings):8.1f} ms   (budget 100 ms)")
    await app.runtime.aclose()


async def test_ten_years_of_one_prm(tmp_path: Path) -> None:
    long = trace(TEN_YEARS, "00000000000022")
    view = CurveView(long, zoom="all")
    print(f"\nLoad curve, {TEN_YEARS:,} points (ten years of 10 minutes) — shared 2-core machine, noisy")
    print(f"  CPU of a first draw at all, 120×34 (blocks, frame, plot) {cpu_ms(lambda: view.build(120, 34)):6.1f} ms")
    again = CurveView(long, zoom="all")
    print(f"  CPU of a later draw at all (the blocks kept)           {cpu_ms(lambda: again.build(120, 34)):8.1f} ms")
    print(f"  CPU of the statistics of all ten years                {cpu_ms(view.stats):8.1f} ms")
    drawn, top = view.frame()
    segments, gaps, _, _ = drawn[0]
    assert top == 45_000.0, "the single-point peak is kept"
    assert len(gaps) > 100, "gap columns stay gaps"
    await _screen_figures(
        tmp_path,
        long,
        [],
        "ten years",
        [("a", "w"), ("a", "m"), ("m", "a"), ("w", "comma"), ("m", "comma"), ("d", "left")],
    )


async def test_overlay_of_ten_prms_of_a_year(tmp_path: Path) -> None:
    year = dt.datetime(2025, 12, 31, 23, 0, tzinfo=UTC)
    primary = trace(ONE_YEAR, "PRM 1", start=year)
    others = [trace(ONE_YEAR, f"PRM {i + 2}", seed=i + 1, start=year) for i in range(9)]
    print(f"\nLoad curves, 10 PRMs of a year ({ONE_YEAR:,} points each), overlaid one at a time (v)")
    await _screen_figures(tmp_path, primary, others, "10 PRMs", [("a", "v"), ("w", "v"), ("m", "comma")])
