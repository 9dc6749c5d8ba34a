"""The load-curve plot's state and drawing, without Textual (testable, benchmarkable).

A :class:`CurveView` holds one curve (and optionally an overlay: a second PRM, or the
same curve one period earlier), a zoom (Paris calendar day / week / month, or all), a
window and a cursor. :meth:`CurveView.build` draws the visible window with plotext
to an ANSI string: power over time, x ticks in Paris wall time (the data is UTC
"starting step"; a DST day is 23 h or 25 h wide), min/max per column so that no
peak and no gap is hidden, gaps marked ``x`` on the base line, the cursor as a
vertical line. Series differ by glyph as well as colour (NO_COLOR).
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import math
import threading
from pathlib import Path
from typing import Sequence, TypeVar

import msgspec

from pupitre.providers.core.clock import PARIS, UTC
from pupitre.providers.switchgrid import rules

T = TypeVar("T")
K = TypeVar("K")
Y_LABEL_WIDTH = 8  # plotext's y tick labels and frame take about this many columns
_PLOTEXT_LOCK = threading.Lock()  # plotext draws on one module-level figure


class Trace(msgspec.Struct, dict=True):  # dict: for the cached blocks
    """A curve as arrays for fast range work: UTC epoch seconds and watts (None = gap)."""

    label: str
    curve: rules.LoadCurve
    ts: list[float]
    values: list[float | None]

    @classmethod
    def of(cls, curve: rules.LoadCurve, label: str) -> "Trace":
        return cls(label, curve, [p.start.timestamp() for p in curve.points], [p.watts for p in curve.points])

    @functools.cached_property
    def blocks(self) -> rules.Blocks:
        """Min/max per block of the values (built on the first wide draw, then kept)."""
        return rules.Blocks.of(self.values)

    @property
    def step_seconds(self) -> float:
        return self.curve.step.total_seconds()

    def extent(self) -> tuple[dt.datetime, dt.datetime]:
        start, end = self.curve.start, self.curve.end
        assert start is not None and end is not None
        return start, end

    def span(self, start: dt.datetime, end: dt.datetime) -> tuple[int, int]:
        """Indexes ``[lo, hi)`` of the points whose step starts in ``[start, end)``."""
        return bisect.bisect_left(self.ts, start.timestamp()), bisect.bisect_left(self.ts, end.timestamp())


class RangeStats(msgspec.Struct, frozen=True):
    stats: rules.Stats
    gap_runs: int
    gap_duration: dt.timedelta


class Reading(msgspec.Struct, frozen=True):
    """What the cursor reads: the values of the points under its column."""

    start: dt.datetime
    end: dt.datetime
    low: float | None
    high: float | None
    points: int
    gaps: int


OVERLAYS = ("none", "period", "prm")


class CurveView:
    def __init__(self, primary: Trace, *, zoom: str = "week", others: Sequence[Trace] = ()) -> None:
        if not primary.ts:
            raise ValueError("the load curve is empty")
        self.primary = primary
        self.others = list(others)  # other PRMs that can be overlaid
        self.overlay_mode = "none"
        self.other_index = 0
        self.zoom = zoom
        self.anchor = primary.extent()[1] - primary.curve.step  # the most recent data first
        self.columns = 100
        self.drawn: list[tuple[list[list[tuple[float, float]]], list[float], str, str]] = []
        # per window, the last few (switching zooms back and forth costs nothing)
        self._frames: dict[
            tuple[object, ...], tuple[list[tuple[list[list[tuple[float, float]]], list[float], str, str]], float | None]
        ] = {}
        self._stats_cache: dict[tuple[dt.datetime, dt.datetime], RangeStats] = {}
        start, end = self.window()
        self.cursor = max(start.timestamp(), min(self.anchor.timestamp(), end.timestamp() - 1))

    # -- window and cursor ----------------------------------------------------------------
    def window(self) -> tuple[dt.datetime, dt.datetime]:
        return rules.zoom_window(self.zoom, self.anchor, self.primary.extent())

    def column_seconds(self) -> float:
        """The cursor's step: a whole number of points, about one plot column."""
        start, end = self.window()
        step = self.primary.step_seconds
        column = (end - start).total_seconds() / max(1, self.columns)
        return max(step, math.floor(column / step) * step)

    def set_zoom(self, zoom: str) -> None:
        if zoom not in rules.ZOOMS:
            raise ValueError(zoom)
        self.zoom = zoom
        self.anchor = dt.datetime.fromtimestamp(self.cursor, UTC)
        self._clamp_cursor()

    def pan(self, units: int) -> bool:
        """Move the window by ``units`` days / weeks / months; False when nothing moves
        (zoom all, or no data that way)."""
        if self.zoom == "all":
            return False
        start, end = self.window()
        new_start, new_end = rules.zoom_window(self.zoom, self.anchor, self.primary.extent(), units)
        first, last = self.primary.extent()
        if new_end <= first or new_start >= last:
            return False
        offset = self.cursor - start.timestamp()
        self.anchor = new_start
        self.cursor = new_start.timestamp() + offset
        self._clamp_cursor()
        return True

    def move_cursor(self, columns: int) -> None:
        """Move the cursor by whole columns (points when zoomed in); past an edge, pan."""
        start, end = self.window()
        target = self.cursor + columns * self.column_seconds()
        if target < start.timestamp() and self.pan(-1):
            target = self.window()[1].timestamp() - (start.timestamp() - target)
        elif target >= end.timestamp() and self.pan(1):
            target = self.window()[0].timestamp() + (target - end.timestamp())
        self.cursor = target
        self._clamp_cursor()

    def cursor_to(self, where: str) -> None:
        start, end = self.window()
        self.cursor = start.timestamp() if where == "start" else end.timestamp() - 1
        self._clamp_cursor()

    def _clamp_cursor(self) -> None:
        start, end = self.window()
        first, last = self.primary.extent()
        low = max(start, first).timestamp()
        high = min(end, last).timestamp() - self.primary.step_seconds
        self.cursor = min(max(self.cursor, low), max(low, high))
        step = self.primary.step_seconds  # on a point's start
        base = self.primary.ts[0]
        self.cursor = base + math.floor((self.cursor - base) / step) * step

    # -- overlay ----------------------------------------------------------------------------
    def cycle_overlay(self) -> str:
        """none → previous period → each other PRM → none. Returns the new mode."""
        if self.overlay_mode == "none":
            self.overlay_mode = "period" if self.zoom != "all" else ("prm" if self.others else "none")
            self.other_index = 0
        elif self.overlay_mode == "period":
            self.overlay_mode = "prm" if self.others else "none"
            self.other_index = 0
        elif self.other_index + 1 < len(self.others):
            self.other_index += 1
        else:
            self.overlay_mode = "none"
        return self.overlay_mode

    def overlay(self) -> tuple[Trace, float, str] | None:
        """``(trace, x shift in seconds, label)`` of the overlaid series, if any."""
        if self.overlay_mode == "prm" and self.others:
            other = self.others[self.other_index % len(self.others)]
            return other, 0.0, other.label
        if self.overlay_mode == "period" and self.zoom != "all":
            start, _ = self.window()
            before, _ = rules.zoom_window(self.zoom, self.anchor, self.primary.extent(), -1)
            shift = start.timestamp() - before.timestamp()
            return self.primary, shift, f"previous {self.zoom} ({period_label(self.zoom, before)})"
        return None

    # -- reading and statistics ----------------------------------------------------------
    def visible(self, trace: Trace | None = None, shift: float = 0.0) -> tuple[int, int]:
        start, end = self.window()
        trace = trace or self.primary
        delta = dt.timedelta(seconds=shift)
        return trace.span(start - delta, end - delta)

    def stats(self) -> RangeStats:
        """Statistics of the visible range (cached per window: the cursor moves for free)."""
        key = self.window()
        if key in self._stats_cache:
            return self._stats_cache[key]
        start, end = key
        lo, hi = self.visible()
        values = self.primary.values[lo:hi]
        ts = self.primary.ts
        stats = rules.stats_of(
            values, lambda i: dt.datetime.fromtimestamp(ts[lo + i], UTC), self.primary.curve.step, start, end
        )
        runs = rules.gap_runs(values)
        return remember(self._stats_cache, key, RangeStats(stats, len(runs), self.primary.curve.step * stats.gaps))

    def reading(self) -> Reading:
        width = self.column_seconds()
        start = dt.datetime.fromtimestamp(self.cursor, UTC)
        end = min(dt.datetime.fromtimestamp(self.cursor + width, UTC), self.window()[1], self.primary.extent()[1])
        lo, hi = self.primary.span(start, end)
        values = self.primary.values[lo:hi]
        present = [v for v in values if v is not None]
        return Reading(
            start,
            end,
            min(present) if present else None,
            max(present) if present else None,
            len(values),
            len(values) - len(present),
        )

    # -- export -----------------------------------------------------------------------------
    def export_csv(self, path: Path) -> int:
        """Write the visible range (API CSV form, UTC, plus Paris time); returns the rows.
        Written to a temporary file then renamed: never a half-written export."""
        lo, hi = self.visible()
        lines = ["startDate,powerInWatts,parisTime"]
        for t, w in self.primary.curve.points[lo:hi]:
            utc = t.astimezone(UTC)
            stamp = utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
            value = "" if w is None else (str(int(w)) if float(w).is_integer() else f"{w:g}")
            lines.append(f"{stamp},{value},{t.astimezone(PARIS).isoformat(timespec='minutes')}")
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(path.suffix + ".part")
        partial.write_text("\n".join(lines) + "\n", encoding="utf-8")
        partial.replace(path)
        return hi - lo

    # -- drawing ------------------------------------------------------------------------------
    def unit(self) -> tuple[str, float]:
        return rules.watt_unit(self.frame()[1])

    def frame(self) -> tuple[list[tuple[list[list[tuple[float, float]]], list[float], str, str]], float | None]:
        """Per series, its min/max envelope segments (hours from the window start, watts;
        split at gaps) and gap positions; with the top value. Cached per window and width."""
        start, end = self.window()
        key = (start, end, self.columns, self.overlay_mode, self.other_index)
        if key in self._frames:
            return self._frames[key]
        t0 = start.timestamp()
        series = [(self.primary, 0.0, "hd", "cyan")]
        overlay = self.overlay()
        if overlay is not None:
            series.append((overlay[0], overlay[1], "dot", "orange"))
        top: float | None = None
        drawn: list[tuple[list[list[tuple[float, float]]], list[float], str, str]] = []
        for trace, shift, marker, colour in series:
            lo, hi = self.visible(trace, shift)
            wide = hi - lo > 4 * rules.BLOCK * self.columns  # blocks pay off past a few per column
            blocks = trace.blocks if wide else None
            buckets = rules.downsample_values(trace.ts, trace.values, lo, hi, self.columns, blocks)
            segments: list[list[tuple[float, float]]] = [[]]
            gaps: list[float] = []
            for t, low, high in buckets:
                x = (t + shift - t0) / 3600
                if low is None or high is None:
                    gaps.append(x)
                    if segments[-1]:
                        segments.append([])
                    continue
                segments[-1].append((x, low))
                if high != low:
                    segments[-1].append((x, high))
                top = high if top is None or high > top else top
            drawn.append(([seg for seg in segments if seg], gaps, marker, colour))
        return remember(self._frames, key, (drawn, top))

    def build(self, width: int, height: int, *, color: bool = True) -> str:
        """The plot of the visible window, ``width`` × ``height`` characters, as ANSI text."""
        import plotext as plt

        width, height = max(width, 20), max(height, 5)
        self.columns = max(1, width - Y_LABEL_WIDTH)
        start, end = self.window()
        t0 = start.timestamp()
        span_hours = (end - start).total_seconds() / 3600
        drawn, peak = self.frame()
        _, scale = rules.watt_unit(peak)
        top = nice_top((peak or 0.0) / scale)
        self.drawn = drawn
        with _PLOTEXT_LOCK:
            plt.clf()
            plt.limit_size(False, False)  # the widget, not the terminal, sets the size
            plt.plotsize(width, height)
            plt.theme("clear")
            for segments, gaps, marker, colour in drawn:
                for segment in segments:
                    xs = [p[0] for p in segment]
                    ys = [p[1] / scale for p in segment]
                    if len(xs) == 1:
                        plt.scatter(xs, ys, marker=marker, color=colour if color else None)
                    else:
                        plt.plot(xs, ys, marker=marker, color=colour if color else None)
                if gaps:
                    plt.scatter(gaps, [0.0] * len(gaps), marker="x", color="red" if color else None)
            cursor_x = (self.cursor - t0) / 3600
            plt.vline(cursor_x, "magenta" if color else None)
            plt.xlim(0, span_hours)
            plt.ylim(0, top)
            ticks = rules.time_ticks(start, end, most=max(2, self.columns // 12))
            plt.xticks([(t - start).total_seconds() / 3600 for t, _ in ticks], [label for _, label in ticks])
            yticks = [top * i / 4 for i in range(5)]
            plt.yticks(yticks, [f"{v:g}" for v in (round(y, 3) for y in yticks)])
            text: str = plt.build()
        return text


CACHED_WINDOWS = 12


def remember(cache: dict[K, T], key: K, value: T) -> T:
    """Keep ``value`` under ``key`` in a small cache (the oldest entry goes first)."""
    cache.pop(key, None)
    cache[key] = value
    while len(cache) > CACHED_WINDOWS:
        cache.pop(next(iter(cache)))
    return value


def nice_top(value: float) -> float:
    """A round upper bound for the y axis (1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 × 10ⁿ) above ``value``."""
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for factor in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        top = factor * 10**exponent
        if top >= value * 1.02:
            return float(top)
    return float(10 ** (exponent + 1))


def period_label(zoom: str, start: dt.datetime) -> str:
    local = start.astimezone(PARIS)
    if zoom == "day":
        return f"{local:%a %d/%m/%Y}"
    if zoom == "week":
        return f"week of {local:%d/%m/%Y}"
    if zoom == "month":
        return f"{local:%m/%Y}"
    return "all"


def window_label(view: CurveView) -> str:
    start, end = view.window()
    hours = (end - start).total_seconds() / 3600
    if view.zoom != "all":
        return f"{view.zoom}: {period_label(view.zoom, start)} ({hours:g} h)"
    local_end = (end - dt.timedelta(seconds=1)).astimezone(PARIS)
    return f"all: {start.astimezone(PARIS):%d/%m/%Y} → {local_end:%d/%m/%Y} ({hours / 24:g} days)"


def format_power(watts: float | None, unit: tuple[str, float]) -> str:
    if watts is None:
        return "—"
    name, scale = unit
    return f"{watts / scale:.2f} {name}" if name == "kW" else f"{watts:.0f} W"


def format_duration(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, minutes = divmod(minutes, 1440)
    hours, minutes = divmod(minutes, 60)
    parts = (
        ([f"{days} d"] if days else [])
        + ([f"{hours} h"] if hours else [])
        + ([f"{minutes} min"] if minutes or not (days or hours) else [])
    )
    return " ".join(parts)
