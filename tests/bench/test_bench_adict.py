"""Benchmark of the access-rights screen at park scale: ``pytest -m bench -s tests/bench/test_bench_adict.py``.

100,000 rights streamed from the in-process simulator into the screen (key 5):
time to first rows visible (budget 0.5 s), to full load (5 s), per search keystroke
(100 ms), per scroll page (50 ms), peak RSS (400 MB); and, for comparison, Textual's
``DataTable`` filled with the same rows (measured on fewer rows, extrapolated).

The simulator runs in the same process: its JSON encoding of the 100k rights (and
its memory) is counted in the load time and the RSS, which a real GRDF server does
not cost the dashboard. ``client only`` replays the same bytes without the simulator.
Numbers are printed, never asserted (the machine is shared and noisy).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import resource
import statistics
import time

import httpx
import pytest

from pupitre.providers.core.clock import PARIS, ManualClock
from pupitre.providers.core.retry import RetryPolicy
from pupitre.providers.core.secrets import SecretStore
from pupitre.providers.grdf_adict.feeds import COLUMNS as RIGHT_FIELDS
from pupitre.providers.grdf_adict.feeds import RIGHTS_FEED, RightsTable, row_of
from pupitre.providers.grdf_adict import rules
from pupitre.runtime import build_runtime
from pupitre.settings import GrdfAdictSettings, Settings
from pupitre.tui.app import PupitreApp
from pupitre.tui.widgets.virtual_table import VirtualTable

pytestmark = pytest.mark.bench
PARK = 100_000
NOW = dt.datetime(2026, 11, 18, 10, 53, tzinfo=PARIS)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(label: str, value: float, unit: str, budget: float | None = None) -> None:
    verdict = "" if budget is None else ("  within budget" if value <= budget else f"  OVER budget {budget:g} {unit}")
    print(f"  {label:<44} {value:10.1f} {unit}{verdict}")


def _runtime(tmp_path):
    settings = Settings(grdf_adict=GrdfAdictSettings(sandbox_park_size=PARK))
    runtime = build_runtime(settings, sandbox=True, clock=ManualClock(NOW), data_dir=tmp_path / "data",
                            retry=RetryPolicy(attempts=1),
                            secrets=SecretStore(credentials_file=tmp_path / "c.toml", env={}))
    runtime.simulators  # noqa: B018 — builds the 100k park before timing
    return runtime


async def test_bench_access_rights_100k(tmp_path, monkeypatch):
    monkeypatch.setenv("PUPITRE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PUPITRE_CONFIG_DIR", str(tmp_path / "config"))
    rss_before_sim = rss_mb()
    runtime = _runtime(tmp_path)
    rss_with_sim = rss_mb()
    app = PupitreApp(runtime, start_screen="access_rights")
    app.feeds.start = lambda: None  # the rights feed is started by hand, timed
    print(f"\nGRDF ADICT access rights, {PARK:,} rights (shared 2-core machine: noisy)")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.2)
        screen = app.screen
        state = app.feeds.state(RIGHTS_FEED)
        baseline = []
        for _ in range(5):  # the pilot's own cost of a key press (an unbound key)
            t0 = time.perf_counter()
            await pilot.press("z")
            baseline.append((time.perf_counter() - t0) * 1000)
        overhead = statistics.median(baseline)
        cpu0 = time.process_time()
        started = time.perf_counter()
        app.feeds.refresh(RIGHTS_FEED, forced=True)
        first = full = None
        while full is None:
            await asyncio.sleep(0.005)
            if first is None and len(screen.rows) > 0:
                first = time.perf_counter() - started
            if state.runs >= 1 and not state.running:
                full = time.perf_counter() - started
        await pilot.pause(0.2)
        assert state.error is None, state.error
        assert len(screen.rows) == PARK, len(screen.rows)
        live = runtime.connections["grdf_adict"].session.live
        report("time to first rows visible", first * 1000, "ms", 500)
        report("  first row parsed by the client", (live.first_row_after or 0) * 1000, "ms")
        report("time to full load (stream + store)", full, "s", 5)
        report("  CPU time of the process meanwhile (sim included)", time.process_time() - cpu0, "s")
        report("pilot's own cost of a key press (subtracted below)", overhead, "ms")

        # one search keystroke: the filter over 100k rows and the repaint of the page
        widget = screen.query_one(VirtualTable)
        await pilot.press("slash")
        keys = []
        for key in "gi0012":
            t0 = time.perf_counter()
            await pilot.press(key)
            keys.append((time.perf_counter() - t0) * 1000)
        report("per search keystroke (press → repainted), max", max(keys) - overhead, "ms", 100)
        report("per search keystroke, median", statistics.median(keys) - overhead, "ms")
        computes = []
        for needle in ("g", "gi", "gi0", "gi00", "mart", "boul"):
            screen.view.search = needle
            t0 = time.perf_counter()
            screen._poll(force=True)
            computes.append((time.perf_counter() - t0) * 1000)
        report("  filter computation alone (fresh needle), max", max(computes), "ms")
        await pilot.press("escape")
        t0 = time.perf_counter()
        await pilot.press("f", "space", "a")  # state filter: the POST search, streamed
        report("state filter: keys → POST search streamed in", (time.perf_counter() - t0) * 1000, "ms")
        await pilot.press("c")
        await pilot.pause(0.1)
        assert len(screen.rows) == PARK

        # scroll: page down, and the render of one page of lines
        pages = []
        for _ in range(20):
            t0 = time.perf_counter()
            await pilot.press("pagedown")
            pages.append((time.perf_counter() - t0) * 1000)
        report("per scroll page (press → repainted), max", max(pages) - overhead, "ms", 50)
        report("per scroll page, median", statistics.median(pages) - overhead, "ms", 50)
        work = []
        for _ in range(20):
            t0 = time.perf_counter()
            widget.action_page(1)
            for y in range(widget.size.height):
                widget.render_line(y)
            work.append((time.perf_counter() - t0) * 1000)
        report("  page down + render of its lines alone, max", max(work), "ms", 50)
        sorts = []
        for _ in range(2):
            t0 = time.perf_counter()
            await pilot.press("s", "down", "down", "down", "down", "enter")  # holder
            sorts.append((time.perf_counter() - t0) * 1000 - 6 * overhead)
        report("sort by holder (keys → repainted, panel included)", sorts[0], "ms")
        report("  reverse it (cached key order)", sorts[1], "ms")
        screen.view.sort, screen.view.reverse = "pce", False
        t0 = time.perf_counter()
        screen._poll(force=True)
        report("  sort by PCE: computation + new view alone", (time.perf_counter() - t0) * 1000, "ms")
    report("peak RSS of the process (sim included)", rss_mb(), "MB", 400)
    report("  of which the simulator's park", rss_with_sim - rss_before_sim, "MB")


async def test_bench_client_only_100k(tmp_path, monkeypatch):
    """The same NDJSON bytes, replayed without the simulator: the client's own cost."""
    monkeypatch.setenv("PUPITRE_DATA_DIR", str(tmp_path / "data"))
    runtime = _runtime(tmp_path)
    session = runtime.connections["grdf_adict"].session
    body = bytearray()
    async with runtime.http.stream("GET", "http://grdf-adict.sandbox.invalid/adict/v2/droits_acces",
                                   auth=session.client.auth) as response:
        async for chunk in response.aiter_bytes():
            body += chunk
    data = bytes(body)
    await runtime.aclose()

    async def replay(request: httpx.Request) -> httpx.Response:
        async def chunks():
            for i in range(0, len(data), 65536):
                yield data[i:i + 65536]
                await asyncio.sleep(0)
        return httpx.Response(200, content=chunks())

    gc.collect()
    async with httpx.AsyncClient(transport=httpx.MockTransport(replay)) as http:
        table = RightsTable()
        t0 = time.perf_counter()
        first = None
        async with http.stream("GET", "http://x.invalid/") as response:
            async for item in rules.NdjsonStream(response.aiter_bytes()):
                table.add(row_of(item))
                if first is None:
                    first = time.perf_counter() - t0
        total = time.perf_counter() - t0
    print(f"\nclient only: {len(data) / 1e6:.0f} MB of NDJSON, {len(table):,} rights, {len(RIGHT_FIELDS)} fields kept")
    report("first row", (first or 0) * 1000, "ms")
    report("all rows decoded into columns", total, "s")
    t0 = time.perf_counter()
    dumped = table.dump()
    import json
    text = json.dumps(dumped)
    report("copy for the store (json, %d MB)" % (len(text) // 1_000_000), (time.perf_counter() - t0) * 1000, "ms")


async def test_bench_builtin_datatable(tmp_path):
    """Textual's DataTable with the same columns, for comparison (fewer rows, extrapolated)."""
    from textual.app import App
    from textual.widgets import DataTable

    table = RightsTable()
    for n in range(20_000):
        table.add((f"id{n}", f"GI{n:06d}", "AUTORISE_CONTRAT_FOURNITURE", "MARTIN", "Active", "", "2026-01-01",
                   "2029-01-01", "2025-01-01", "2029-01-01", "", "TIERS_DIRECT", "", "75000", "a@b.fr"))

    class Bench(App[None]):
        def compose(self):
            yield DataTable()

    print("\nTextual DataTable (built-in), same 11 visible columns")
    for n in (5_000, 20_000):
        app = Bench()
        async with app.run_test(size=(120, 40)) as pilot:
            widget = app.query_one(DataTable)
            for key in ("pce", "state", "proof", "deadline", "holder", "role", "start", "end", "perim_start",
                        "perim_end", "route"):
                widget.add_column(key, key=key)
            col = table.col
            t0 = time.perf_counter()
            widget.add_rows([tuple(col[k][i] for k in ("pce", "state", "proof", "deadline", "holder", "role",
                                                        "start", "end", "perim_start", "perim_end", "route"))
                             for i in range(n)])
            await pilot.pause()
            await pilot.press("end")  # forces the layout of every row
            await pilot.pause()
            elapsed = time.perf_counter() - t0
        report(f"add {n:,} rows and show the last one", elapsed, "s")
        report(f"  extrapolated linearly to {PARK:,}", elapsed * PARK / n, "s")
