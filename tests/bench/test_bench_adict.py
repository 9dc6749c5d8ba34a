"""Benchmark of the access-rights screen at park scale: ``pytest -m bench -s tests/bench/test_bench_adict.py``.

100,000 rights (``PUPITRE_BENCH_RIGHTS``: 1000000 for issue #20's million) streamed from
the simulator into the screen (key 5): time to first rows visible (budget 0.5 s), to full
load (5 s; 15 s at a million), per search keystroke (100 ms), per scroll page (50 ms), sort
by every column (1 s), filter and state counts (200 ms), the stored copy on screen after
a restart (1 s), peak RSS (400 MB; 1 GB at a million), each beside the 100,000-right
figures of issue #20 (the anchors it must not regress from); and, for comparison,
Textual's ``DataTable`` filled with the same rows (measured on fewer rows, extrapolated).

    PUPITRE_BENCH_RIGHTS=1000000 .venv/bin/pytest -m bench -n0 -s tests/bench/test_bench_adict.py -k served

Measured twice. ``in-process``: the ``--sandbox`` path, the simulator in the same
process, so its JSON encoding of the 100k rights (~3 s of CPU) and its memory are
counted in the load time, the CPU time and the RSS. ``served``: the simulator in a
separate process behind uvicorn on loopback HTTP, and the dashboard on its real
(non-sandbox) code path (settings pointing at the loopback URLs, the client secret
from the environment): what a real GRDF server costs the dashboard. ``client only``
replays the same bytes without the simulator.

After a restart, the stored copy is on screen at the first frame after the table was
given the whole copy (as a key's time ends), beside the time to an idle app (the search
fold starts in a thread once the rows are painted).

Key timings (search keystroke, scroll page, sort) run from the moment the key is sent
to the first frame showing the table it changed (:class:`FrameClock`), summarised by
their median and 90th percentile.
Peak RSS is reset before each scenario, but a process keeps some of the memory a
previous scenario freed: ``served`` runs first, ``in-process`` after it (so its figure
errs high). Both scenarios end with a reload while the previous copy is still held (the
daily refresh), the peak of the day.
Numbers are printed, never asserted (the machine is shared and noisy).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest

from pupitre.providers.core.clock import PARIS, ManualClock
from pupitre.providers.core.retry import RetryPolicy
from pupitre.providers.core.secrets import SecretStore, env_var
from pupitre.providers.core.store import Store
from pupitre.providers.grdf_adict import rules
from pupitre.providers.grdf_adict.feeds import COLUMNS as RIGHT_FIELDS
from pupitre.providers.grdf_adict.feeds import PROVIDER, RIGHTS_FEED, SECRET, RightsTable, right_record
from pupitre.providers.grdf_adict.sandbox import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
from pupitre.runtime import build_runtime
from pupitre.settings import GrdfAdictSettings, Settings
from pupitre.tui.app import PupitreApp
from pupitre.tui.widgets.virtual_table import VirtualTable

pytestmark = pytest.mark.bench
PARK = int(os.environ.get("PUPITRE_BENCH_RIGHTS", "100000"))
LARGE = PARK > 100_000
#: Issue #20's figures at 100,000 rights, served (the anchors the 100k run must not regress from).
ANCHOR = {"first": 38.0, "full": 1.3, "search": 23.0, "rss": 286.0}
BUDGET = {"first": 500.0, "full": 15.0 if LARGE else 5.0, "rss": 1000.0 if LARGE else 400.0, "search": 100.0}
NOW = dt.datetime(2026, 11, 18, 10, 53, tzinfo=PARIS)

#: The simulator served in its own process: ``sys.executable -c SERVE <park>``; prints one
#: JSON line (port, base URL, token URL) once uvicorn accepts connections.
SERVE = r"""
import asyncio, json, socket, sys
from pupitre.providers.core.clock import SystemClock
from pupitre.providers.core.faults import FaultPlan
from pupitre.providers.grdf_adict import feeds
from pupitre.providers.grdf_adict.sandbox import AdictSimulator
from pupitre.sandbox_server import _served
from pupitre.settings import GrdfAdictSettings

per_second, per_day = feeds.quota_of(GrdfAdictSettings())
app = AdictSimulator(SystemClock(), FaultPlan(), park_size=int(sys.argv[1]),
                     per_second=per_second, per_day=per_day).app
sock = socket.create_server(("127.0.0.1", 0))
served = _served(feeds.PROVIDER, feeds, app, sock, "127.0.0.1", False)

async def main():
    task = asyncio.create_task(served.server.serve(sockets=[sock]))
    while not served.server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    print(json.dumps({"port": served.port, "base_url": served.base_url, "token_url": served.token_url}),
          flush=True)
    await task

asyncio.run(main())
"""


def reset_peak_rss() -> bool:
    """Reset this process's peak RSS (Linux ``clear_refs`` 5); False where unsupported."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def rss_mb(pid: int | str = "self") -> float:
    """Peak RSS (VmHWM) of a process in MB; ``getrusage`` for this one where /proc is missing."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 if pid == "self" else float("nan")


def cpu_s(pid: int) -> float:
    """User + system CPU time of another process (from /proc), in seconds."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return float("nan")


def report(label: str, value: float, unit: str, budget: float | None = None, anchor: float | None = None) -> None:
    """One figure, beside its budget and (``anchor``) issue #20's figure at 100,000 rights."""
    verdict = "" if budget is None else (f"  budget {budget:g}: " + ("within" if value <= budget else "OVER"))
    beside = "" if anchor is None else f"  (100k anchor {anchor:g} {unit})"
    print(f"  {label:<56} {value:10.1f} {unit}{verdict}{beside}")


def report_keys(label: str, times: list[float], budget: float, anchor: float | None = None) -> None:
    """Key latencies: median, 90th percentile, max."""
    p90 = statistics.quantiles(times, n=10, method="inclusive")[-1]
    report(f"{label}, median of {len(times)}", statistics.median(times), "ms", budget)
    report(f"{label}, 90th percentile", p90, "ms", budget, anchor)
    report("  max", max(times), "ms")


class FrameClock:
    """A key's latency as the operator sees it: from the moment the key is sent to the
    first frame showing the table it changed. Frames are Textual's ``App._display`` calls
    (one per screen update, headless too); the table's ``refresh`` calls mark when its
    new content was ready. The pilot's own waiting is not counted."""

    def __init__(self, app, table) -> None:
        self.frames: list[float] = []
        self.refreshed: list[float] = []
        display, refresh = app._display, table.refresh

        def timed_display(screen: Any, renderable: Any) -> Any:
            if renderable is not None:
                self.frames.append(time.perf_counter())
            return display(screen, renderable)

        def timed_refresh(*args: Any, **kwargs: Any) -> Any:
            self.refreshed.append(time.perf_counter())
            return refresh(*args, **kwargs)

        app._display, table.refresh = timed_display, timed_refresh

    async def key(self, pilot, key: str, settle: float = 0.15) -> float:
        """Press ``key``, let the app settle; press → first frame after the table's first
        refresh since, in ms (NaN if the key did not change the table). While rows stream
        in, the pilot's ``press`` itself may take seconds (it waits for every widget's
        queue to drain), but the app has long shown the key's effect: that is what counts."""
        self.frames.clear()
        self.refreshed.clear()
        t0 = time.perf_counter()
        await pilot.press(key)
        await asyncio.sleep(settle)
        if not self.refreshed:
            return float("nan")
        ready = self.refreshed[0]
        shown = [t for t in self.frames if t >= ready]
        return (shown[0] - t0) * 1000 if shown else float("nan")


def _runtime(tmp_path):
    settings = Settings(grdf_adict=GrdfAdictSettings(sandbox_park_size=PARK))
    runtime = build_runtime(
        settings,
        sandbox=True,
        clock=ManualClock(NOW),
        data_dir=tmp_path / "data",
        retry=RetryPolicy(attempts=1),
        secrets=SecretStore(credentials_file=tmp_path / "c.toml", env={}),
    )
    runtime.simulators  # noqa: B018 — builds the 100k park before timing
    return runtime


def _real_runtime(tmp_path, base_url: str, token_url: str):
    """The dashboard's real (non-sandbox) path, pointed at the served simulator."""
    settings = Settings(
        grdf_adict=GrdfAdictSettings(base_url=base_url, token_url=token_url, client_id=SANDBOX_CLIENT_ID)
    )
    secrets = SecretStore(credentials_file=tmp_path / "c.toml", env={env_var(PROVIDER, SECRET): SANDBOX_CLIENT_SECRET})
    runtime = build_runtime(
        settings, clock=ManualClock(NOW), data_dir=tmp_path / "data", retry=RetryPolicy(attempts=1), secrets=secrets
    )
    assert PROVIDER not in runtime.sandboxed
    runtime.simulators  # noqa: B018 — the other providers' (small) simulators, as in-process
    return runtime


@contextlib.contextmanager
def served_simulator(park: int):
    """The ADICT simulator in its own process on a free loopback port; killed on exit."""
    proc = subprocess.Popen([sys.executable, "-c", SERVE, str(park)], stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()  # type: ignore[union-attr]  # stdout=PIPE: never None
        if not line:
            raise RuntimeError(f"the served simulator did not start (exit {proc.wait(5)})")
        yield proc, json.loads(line)
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


async def _screen_bench(runtime, title: str, server_pid: int | None = None) -> None:
    """The screen measurements; ``server_pid`` is the served simulator's process, if any."""
    app = PupitreApp(runtime, start_screen="access_rights")
    app.feeds.start = lambda: None  # the rights feed is started by hand, timed
    where = "dashboard process" if server_pid else "process (sim included)"
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\nGRDF ADICT access rights, {PARK:,} rights, {title} (shared 2-core machine, load {load}: noisy)")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.2)
        screen = app.screen
        state = app.feeds.state(RIGHTS_FEED)
        cpu0 = time.process_time()
        server_cpu0 = cpu_s(server_pid) if server_pid else 0.0
        started = time.perf_counter()
        app.feeds.refresh(RIGHTS_FEED, forced=True)
        first = full = None
        while full is None:
            await asyncio.sleep(0.005)
            if first is None and len(screen.rows) > 0:
                first = time.perf_counter() - started
            if state.runs >= 1 and not state.running:
                full = time.perf_counter() - started
        cpu = time.process_time() - cpu0
        server_cpu = cpu_s(server_pid) - server_cpu0 if server_pid else 0.0
        await pilot.pause(0.2)
        assert state.error is None, state.error
        assert len(screen.rows) == PARK, len(screen.rows)
        live = runtime.connections[PROVIDER].session.live
        served = server_pid is not None
        report("time to first rows visible", first * 1000, "ms", BUDGET["first"], ANCHOR["first"] if served else None)
        report("  first row parsed by the client", (live.first_row_after or 0) * 1000, "ms")
        report("time to full load (stream + store)", full, "s", BUDGET["full"], ANCHOR["full"] if served else None)
        report(f"  CPU time of the {where} meanwhile", cpu, "s")
        if server_pid:
            report("  CPU time of the simulator's process meanwhile", server_cpu, "s")

        # search keystrokes: the filter over 100k rows and the repaint of the page
        widget = screen.query_one(VirtualTable)
        frames = FrameClock(app, widget)
        await pilot.press("slash")
        screen.query_one("#rights-search").cursor_blink = False  # no frames but the keys'
        keys = []
        for _ in range(3):
            for key in ["g", "i", "0", "0", "1", "2"] + ["backspace"] * 6:
                keys.append(await frames.key(pilot, key))
        report_keys("per search keystroke (press → on screen)", keys, 100, ANCHOR["search"] if served else None)
        computes = []
        for needle in ("g", "gi", "gi0", "gi00", "mart", "boul"):
            screen.view.search = needle
            t0 = time.perf_counter()
            screen._poll(force=True)
            computes.append((time.perf_counter() - t0) * 1000)
        report("  filter computation alone (fresh needle), max", max(computes), "ms")
        await pilot.press("escape")
        screen.view.search = ""
        # the state filter applied to the copy (as offline) and the state counts from scratch
        view = screen.view
        t0 = time.perf_counter()
        view.filters["state"] = {"Active", "A valider"}
        screen._poll(force=True)
        filtered = (time.perf_counter() - t0) * 1000
        shown = len(screen.rows)
        view.filters["state"] = set()
        view.counts, view._counted, view.ended = {}, 0, 0
        t0 = time.perf_counter()
        view._sync()
        counting = (time.perf_counter() - t0) * 1000
        screen._poll(force=True)
        report(f"filter by 2 states on the copy ({shown:,} rows) + new view", filtered, "ms", 200)
        report("state counts (and ended rights) over the whole copy", counting, "ms", 200)
        t0 = time.perf_counter()
        await pilot.press("f", "space", "a")  # state filter: the POST search, streamed
        report("state filter: keys → POST search streamed in", (time.perf_counter() - t0) * 1000, "ms")
        await pilot.press("c")
        await pilot.pause(0.1)
        assert len(screen.rows) == PARK

        # scroll: page down, and the render of one page of lines
        pages = [await frames.key(pilot, "pagedown") for _ in range(20)]
        report_keys("per scroll page (press → on screen)", pages, 50)
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
            await pilot.press("s", "down", "down", "down", "down")  # the sort panel, on "Holder"
            sorts.append(await frames.key(pilot, "enter", settle=0.5))
        report("sort by holder (enter → on screen)", sorts[0], "ms")
        report("  reverse it (cached key order)", sorts[1], "ms")
        from pupitre.tui.screens.access_rights import COLUMNS as SHOWN

        sort_times = {}
        for column in SHOWN:  # every column, first time (no cached order)
            screen.view.sort, screen.view.reverse = column.key, False
            screen.view._orders.clear()
            t0 = time.perf_counter()
            screen._poll(force=True)
            sort_times[column.label] = (time.perf_counter() - t0) * 1000
        slowest = max(sort_times, key=sort_times.__getitem__)
        report("  sort by PCE: computation + new view alone", sort_times["PCE"], "ms", 1000)
        report(f"  sort by any column, slowest ({slowest})", sort_times[slowest], "ms", 1000)

        # the same keys while a reload streams in (rows arriving, the table growing)
        await pilot.press("c")
        runs = state.runs
        live = runtime.connections[PROVIDER].session.live
        app.feeds.refresh(RIGHTS_FEED, forced=True)
        while runtime.connections[PROVIDER].session.live is live or not len(
            runtime.connections[PROVIDER].session.live.table
        ):
            await asyncio.sleep(0.005)
        pages, keys = [], []
        for _ in range(6):
            pages.append(await frames.key(pilot, "pagedown", settle=0.1))
        await pilot.press("slash")
        screen.query_one("#rights-search").cursor_blink = False
        for key in "gi0":
            keys.append(await frames.key(pilot, key, settle=0.1))
        loaded = len(runtime.connections[PROVIDER].session.live.table)
        still = state.running and state.runs == runs
        await pilot.press("escape")
        print(f"  during a reload ({'still streaming' if still else 'it ENDED'} after the keys: {loaded:,} rows in)")
        report("  per scroll page, median of 6", statistics.median(pages), "ms", 50)
        report("  per search keystroke, median of 3", statistics.median(keys), "ms", 100)
        report("  max of those", max(pages + keys), "ms")
        while state.running:
            await asyncio.sleep(0.05)


async def test_bench_access_rights_100k_served(tmp_path, monkeypatch):
    """Served: the simulator in its own process on loopback HTTP, the dashboard's real path."""
    monkeypatch.setenv("PUPITRE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PUPITRE_CONFIG_DIR", str(tmp_path / "config"))
    with served_simulator(PARK) as (proc, urls):
        gc.collect()
        fresh = reset_peak_rss()
        runtime = _real_runtime(tmp_path, urls["base_url"], urls["token_url"])
        try:
            await _screen_bench(
                runtime, f"simulator served in its own process on {urls['base_url']}", server_pid=proc.pid
            )
        finally:
            await runtime.aclose()
        label = "peak RSS of the dashboard process" + ("" if fresh else ", since pytest start")
        report(label, rss_mb(), "MB", BUDGET["rss"], ANCHOR["rss"])
        report("  peak RSS of the simulator's process (not counted)", rss_mb(proc.pid), "MB")
        gc.collect()
        runtime = _real_runtime(tmp_path, urls["base_url"], urls["token_url"])
        try:
            await _restart_bench(runtime)
        finally:
            await runtime.aclose()


async def _restart_bench(runtime) -> None:
    """A restart: a new app on the same store paints the stored copy (no fetch)."""
    t0 = time.perf_counter()
    snapshot = runtime.store.load_snapshot(RIGHTS_FEED)
    read = time.perf_counter() - t0
    assert snapshot is not None
    table = RightsTable.load(snapshot.payload)
    decoded = time.perf_counter() - t0 - read
    assert len(table) == PARK
    del snapshot, table
    gc.collect()
    started = time.perf_counter()
    app = PupitreApp(runtime, start_screen="access_rights")
    app.feeds.start = lambda: None  # nothing fetched: what the store holds, on screen
    viewed: list[float] = []  # when the table was given the whole copy
    painted: list[float] = []  # the first frame after it: the copy on screen
    display, set_view = app._display, VirtualTable.set_view

    def timed_set_view(table: VirtualTable, view: Any, **kwargs: Any) -> None:
        set_view(table, view, **kwargs)
        if len(view) >= PARK and not viewed:
            viewed.append(time.perf_counter())

    def timed_display(screen: Any, renderable: Any) -> Any:
        if renderable is not None and viewed and not painted:
            painted.append(time.perf_counter())
        return display(screen, renderable)

    app._display = timed_display
    VirtualTable.set_view = timed_set_view  # type: ignore[method-assign]  # timed, restored below
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            screen = app.screen
            while not painted:
                await asyncio.sleep(0.005)
            await pilot.pause()
            idle = time.perf_counter() - started
            assert len(screen.rows) == PARK
    finally:
        VirtualTable.set_view = set_view  # type: ignore[method-assign]  # the original back
    report("after a restart: the stored copy on screen (app start → frame)", (painted[0] - started) * 1000, "ms", 1000)
    report("  of which the store read", read * 1000, "ms")
    report("  of which the columns rebuilt from it (no row parsed)", decoded * 1000, "ms")
    report("  app start → the app idle (the search fold may run beside)", idle * 1000, "ms")


@pytest.mark.skipif(LARGE, reason="in-process at a million: the simulator's encoding swamps the dashboard's figures")
async def test_bench_access_rights_100k(tmp_path, monkeypatch):
    """In-process: the --sandbox path, the simulator's encoding and park counted in."""
    monkeypatch.setenv("PUPITRE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PUPITRE_CONFIG_DIR", str(tmp_path / "config"))
    gc.collect()
    fresh = reset_peak_rss()
    rss_before_sim = rss_mb()
    runtime = _runtime(tmp_path)
    rss_with_sim = rss_mb()
    await _screen_bench(runtime, "simulator in-process (--sandbox path)")
    label = "peak RSS of the process (sim included)" + ("" if fresh else ", since pytest start")
    report(label, rss_mb(), "MB", 400)
    report("  of which the simulator's park", rss_with_sim - rss_before_sim, "MB")


async def test_bench_client_only_100k(tmp_path, monkeypatch):
    """The same NDJSON bytes, replayed without the simulator: the client's own cost."""
    monkeypatch.setenv("PUPITRE_DATA_DIR", str(tmp_path / "data"))
    runtime = _runtime(tmp_path)
    session = runtime.connections["grdf_adict"].session
    body = bytearray()
    async with runtime.http.stream(
        "GET", "http://grdf-adict.sandbox.invalid/adict/v2/droits_acces", auth=session.client.auth
    ) as response:
        async for chunk in response.aiter_bytes():
            body += chunk
    data = bytes(body)
    await runtime.aclose()

    async def replay(request: httpx.Request) -> httpx.Response:
        async def chunks():
            for i in range(0, len(data), 65536):
                yield data[i : i + 65536]
                await asyncio.sleep(0)

        return httpx.Response(200, content=chunks())

    gc.collect()
    async with httpx.AsyncClient(transport=httpx.MockTransport(replay)) as http:
        table = RightsTable()
        t0 = time.perf_counter()
        first = None
        async with http.stream("GET", "http://x.invalid/") as response:
            decoder = rules.NdjsonDecoder(right_record())  # as the rights feed reads it
            async for batch in rules.NdjsonStream(response.aiter_bytes(), decoder).batches():
                table.add_raw(batch)
                if first is None:
                    first = time.perf_counter() - t0
        total = time.perf_counter() - t0
    print(f"\nclient only: {len(data) / 1e6:.0f} MB of NDJSON, {len(table):,} rights, {len(RIGHT_FIELDS)} fields kept")
    report("first row", (first or 0) * 1000, "ms")
    report("all rows decoded into columns", total, "s")
    store = Store(tmp_path / "bench.sqlite3")
    t0 = time.perf_counter()
    store.save_snapshot(RIGHTS_FEED, table.dump(), NOW)
    report("copy written to the store", (time.perf_counter() - t0) * 1000, "ms")
    t0 = time.perf_counter()
    again = RightsTable.load(store.load_snapshot(RIGHTS_FEED).payload)
    report("copy read back from the store", (time.perf_counter() - t0) * 1000, "ms")
    assert again.col == table.col
    store.close()


async def test_bench_builtin_datatable(tmp_path):
    """Textual's DataTable with the same columns, for comparison (fewer rows, extrapolated)."""
    from textual.app import App
    from textual.widgets import DataTable

    table = RightsTable()
    for n in range(20_000):
        table.add(
            (
                f"id{n}",
                f"GI{n:06d}",
                "AUTORISE_CONTRAT_FOURNITURE",
                "MARTIN",
                "Active",
                "",
                "2026-01-01",
                "2029-01-01",
                "2025-01-01",
                "2029-01-01",
                "",
                "TIERS_DIRECT",
                "",
                "75000",
                "a@b.fr",
                "",  # person
                "1",  # published
                "1",  # informative
            )
        )

    class Bench(App[None]):
        def compose(self):
            yield DataTable()

    print("\nTextual DataTable (built-in), same 11 visible columns")
    for n in (5_000, 20_000):
        app = Bench()
        async with app.run_test(size=(120, 40)) as pilot:
            widget = app.query_one(DataTable)
            for key in (
                "pce",
                "state",
                "proof",
                "deadline",
                "holder",
                "role",
                "start",
                "end",
                "perim_start",
                "perim_end",
                "route",
            ):
                widget.add_column(key, key=key)
            col = table.col
            t0 = time.perf_counter()
            widget.add_rows(
                [
                    tuple(
                        col[k][i]
                        for k in (
                            "pce",
                            "state",
                            "proof",
                            "deadline",
                            "holder",
                            "role",
                            "start",
                            "end",
                            "perim_start",
                            "perim_end",
                            "route",
                        )
                    )
                    for i in range(n)
                ]
            )
            await pilot.pause()
            await pilot.press("end")  # forces the layout of every row
            await pilot.pause()
            elapsed = time.perf_counter() - t0
        report(f"add {n:,} rows and show the last one", elapsed, "s")
        report(f"  extrapolated linearly to {PARK:,}", elapsed * PARK / n, "s")
