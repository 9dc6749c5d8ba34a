"""Switchgrid load-curve benchmark: ``pytest -m bench -s tests/bench/test_bench_switchgrid.py``.

Two years of 10-minute data (105,120 points, with gaps and one single-point peak):
parse (CSV and JSON), arrays, downsample, draw at 120×40 from data in memory to the
plot on screen (budget 150 ms) and each zoom/pan keystroke (budget 100 ms).
Numbers are printed, never asserted (the machine is shared, timings are noisy).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import statistics
import time

import pytest

from pupitre.providers.core.clock import UTC
from pupitre.providers.switchgrid import rules
from pupitre.tui.curve_view import CurveView, Trace
from pupitre.tui.screens.load_curve_plot import LoadCurvePlotScreen
from pupitre.tui.widgets.load_curve_plot import LoadCurvePlot
from tests.tui.load_curves import plot_app

pytestmark = pytest.mark.bench
POINTS = 105_120
START = dt.datetime(2022, 12, 31, 23, 0, tzinfo=UTC)
RUNS = 5


def values() -> list[float | None]:
    out: list[float | None] = []
    for i in range(POINTS):
        hour = (i % 144) / 6
        day = i // 144
        out.append(
            None
            if day % 9 == 0 and 50 <= i % 144 < 53
            else round(2000 + 1500 * math.exp(-(((hour - 19) / 2) ** 2)) + 800 * math.cos(2 * math.pi * day / 365))
        )
    out[77_777] = 45_000.0
    return out


def csv_text(data: list[float | None]) -> str:
    lines = ["startDate,powerInWatts"]
    for i, w in enumerate(data):
        t = START + i * rules.STEP_10_MIN
        lines.append(f"{t:%Y-%m-%dT%H:%M:%S}.000Z,{'' if w is None else int(w)}")
    return "\n".join(lines) + "\n"


def json_text(data: list[float | None]) -> str:
    end = START + POINTS * rules.STEP_10_MIN
    return json.dumps(
        {
            "period": "PT600S",
            "startsAt": f"{START:%Y-%m-%dT%H:%M:%S}.000Z",
            "endsAt": f"{end:%Y-%m-%dT%H:%M:%S}.000Z",
            "values": data,
        }
    )


def best(fn, runs: int = RUNS) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times) * 1000, statistics.median(times) * 1000


def report(label: str, numbers: tuple[float, float], budget: float | None = None) -> None:
    low, median = numbers
    extra = f"   (budget {budget:g} ms)" if budget else ""
    print(f"  {label:<44} best {low:8.1f} ms   median {median:8.1f} ms{extra}")


def test_bench_parse_downsample_draw() -> None:
    data = values()
    csv, js = csv_text(data), json_text(data)
    print(
        f"\nSwitchgrid load curve: {POINTS} points (2 years of 10 minutes), CSV {len(csv) // 1024} KiB, "
        f"JSON {len(js) // 1024} KiB — shared 2-core machine, noisy"
    )
    report("parse CSV", best(lambda: rules.parse_csv_curve(csv), 3))
    report("parse JSON", best(lambda: rules.parse_json_curve(json.loads(js)), 3))
    curve = rules.parse_json_curve(json.loads(js))
    assert len(curve.points) == POINTS
    report("arrays (Trace.of)", best(lambda: Trace.of(curve, "x")))
    trace = Trace.of(curve, "x")
    report(
        "downsample all to 112 columns (min/max)",
        best(lambda: rules.downsample_values(trace.ts, trace.values, 0, POINTS, 112)),
    )
    for zoom in rules.ZOOMS:
        view = CurveView(trace, zoom=zoom)
        report(f"draw {zoom} 120×34 (plotext build)", best(lambda view=view: view.build(120, 34)))
    report("stats of all (uncached)", best(lambda: CurveView(trace, zoom="all").stats()))


async def test_bench_screen(tmp_path) -> None:
    data = values()
    trace = Trace.of(rules.parse_json_curve(json.loads(json_text(data))), "00000000000022")
    app = plot_app(tmp_path, dt.datetime(2025, 1, 2, 10))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        started = time.perf_counter()
        screen = LoadCurvePlotScreen(trace, zoom="all")
        await app.push_screen(screen)
        widget = screen.query_one(LoadCurvePlot)
        while widget.rendered_at < started:
            await pilot.pause(0.001)
        first = (widget.rendered_at - started) * 1000
        print(
            f"\n  data in memory → plot on screen, 120×40, all  {first:8.1f} ms   (budget 150 ms; "
            f"plotext build {widget.last_build_seconds * 1000:.1f} ms)"
        )
        await pilot.pause()
        # each measured key changes the view (so the plot is drawn again)
        for keys in (
            ("a", "d"),
            ("a", "w"),
            ("a", "m"),
            ("d", "a"),
            ("m", "comma"),
            ("w", "comma"),
            ("w", "left"),
            ("w", "v"),
            ("d", "left"),
        ):
            timings, builds = [], []
            for _ in range(RUNS):
                for key in keys[:-1]:
                    await pilot.press(key)
                await pilot.pause()
                started = time.perf_counter()
                await pilot.press(keys[-1])
                waited = 0
                while widget.rendered_at < started and waited < 2000:
                    await pilot.pause(0.001)
                    waited += 1
                timings.append((widget.rendered_at - started) * 1000)
                builds.append(widget.last_build_seconds * 1000)
            label = "key " + " then ".join(keys)
            print(
                f"  {label:<44} median {statistics.median(timings):8.1f} ms   (budget 100 ms; "
                f"build {statistics.median(builds):.1f} ms)"
            )
    await app.runtime.aclose()
