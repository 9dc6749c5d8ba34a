"""The load-curve view without Textual: a single-point peak and a single-point gap survive
every zoom, DST days (23 h / 25 h) in Paris time with the right energy, zoom/pan/cursor."""

from __future__ import annotations

import datetime as dt

import pytest

from pupitre.providers.core.clock import PARIS, UTC
from pupitre.providers.switchgrid import rules
from pupitre.tui.curve_view import CurveView, Trace, nice_top, window_label

STEP = rules.STEP_10_MIN


def flat(start: dt.datetime, days: int, watts: float = 1000.0) -> list[rules.Point]:
    return [rules.Point(start + i * STEP, watts + (i % 5)) for i in range(days * 144)]


def drawn_values(view: CurveView, width: int = 120, height: int = 40) -> tuple[list[float], list[float]]:
    view.build(width, height, color=False)
    ys = [y for segments, _, _, _ in view.drawn for segment in segments for _, y in segment]
    gaps = [x for _, gaps, _, _ in view.drawn for x in gaps]
    return ys, gaps


@pytest.mark.parametrize("zoom", rules.ZOOMS)
@pytest.mark.parametrize("width", [80, 120, 200])
def test_a_single_point_peak_and_gap_survive_every_zoom(zoom: str, width: int) -> None:
    start = dt.datetime(2024, 1, 1, 23, 0, tzinfo=UTC)
    points = flat(start, 120)  # 17 280 points
    peak_at, gap_at = 9_001, 9_050  # same day, so both are in the day window
    points[peak_at] = rules.Point(points[peak_at].start, 25_000.0)
    points[gap_at] = rules.Point(points[gap_at].start, None)
    view = CurveView(Trace.of(rules.LoadCurve(STEP, points), "x"), zoom="all")
    view.cursor = points[peak_at].start.timestamp()
    view.set_zoom(zoom)
    ys, gaps = drawn_values(view, width)
    unit, scale = view.unit()
    assert unit == "kW" and max(ys) == 25_000.0  # the peak is drawn at its value (watts)
    assert len(gaps) >= 1  # the one missing step is marked
    start_w, _ = view.window()
    gap_x = (points[gap_at].start - start_w).total_seconds() / 3600
    assert min(abs(x - gap_x) for x in gaps) <= (view.window()[1] - start_w).total_seconds() / 3600 / (width - 8)
    ranged = view.stats()
    assert ranged.stats.max_watts == 25_000.0 and ranged.gap_runs == 1


@pytest.mark.parametrize(
    "day,hours,first_labels,second_after",
    [
        (dt.date(2024, 3, 31), 23, ["Sun 31", "03h", "06h"], 2),  # 02:00 → 03:00: 03h is 2 h after midnight
        (dt.date(2024, 10, 27), 25, ["Sun 27", "04h", "08h"], 5),  # 02:00–03:00 twice: 04h is 5 h after
    ],
)
def test_dst_days(day: dt.date, hours: int, first_labels: list[str], second_after: int) -> None:
    start, end = rules.paris_day_bounds(day - dt.timedelta(days=1))
    points = [rules.Point(start + i * STEP, 1200.0) for i in range(3 * 144)]
    curve = rules.LoadCurve(STEP, points)
    view = CurveView(Trace.of(curve, "x"), zoom="day")
    view.cursor = rules.paris_day_bounds(day)[0].timestamp() + 3600
    view.set_zoom("day")
    w_start, w_end = view.window()
    assert (w_start, w_end) == rules.paris_day_bounds(day)
    assert (w_end - w_start) == dt.timedelta(hours=hours)
    stats = view.stats().stats
    assert stats.points == hours * 6 and stats.hours == hours
    assert stats.energy_kwh == pytest.approx(1.2 * hours)  # 1.2 kW over 23 h / 25 h
    assert f"({hours} h)" in window_label(view)
    ticks = rules.time_ticks(w_start, w_end, most=8)
    assert [label for _, label in ticks][:3] == first_labels
    assert all(t.astimezone(PARIS).minute == 0 for t, _ in ticks)
    assert ticks[1][0] - w_start == dt.timedelta(hours=second_after)
    view.cursor_to("start")
    assert dt.datetime.fromtimestamp(view.cursor, UTC).astimezone(PARIS).strftime("%H:%M") == "00:00"
    view.cursor_to("end")
    assert dt.datetime.fromtimestamp(view.cursor, UTC).astimezone(PARIS).strftime("%H:%M") == "23:50"
    plot = view.build(200, 20, color=False)  # wide enough to draw every point
    assert "\x1b[38" not in plot  # no colour under NO_COLOR
    assert max(x for segments, _, _, _ in view.drawn for s in segments for x, _ in s) == pytest.approx(hours - 1 / 6)


def test_the_second_0230_of_the_fall_back_day_reads_as_cet() -> None:
    start = dt.datetime(2024, 10, 26, 22, 0, tzinfo=UTC)  # Sun 27/10 00:00 CEST
    points = flat(start, 1)
    points[21] = rules.Point(points[21].start, 9000.0)  # 01:30 UTC = 02:30 CET (the second one)
    view = CurveView(Trace.of(rules.LoadCurve(STEP, points), "x"), zoom="day")
    peak = view.stats().stats.max_at
    assert peak.strftime("%H:%M") == "02:30" and peak.utcoffset() == dt.timedelta(hours=1)


def test_zoom_pan_cursor_and_overlay() -> None:
    start = dt.datetime(2024, 11, 30, 23, 0, tzinfo=UTC)  # Sun 01/12/2024 00:00 Paris
    curve = rules.LoadCurve(STEP, flat(start, 62))
    view = CurveView(Trace.of(curve, "a"), zoom="month", others=[Trace.of(curve, "b")])
    assert window_label(view).startswith("month: 01/2025")
    assert view.pan(-1) and window_label(view).startswith("month: 12/2024")
    assert not view.pan(-1)  # no data before
    view.set_zoom("week")
    assert view.window()[0].astimezone(PARIS).weekday() == 0  # a week starts on Monday
    assert view.cycle_overlay() == "period" and "previous week" in view.overlay()[2]
    assert view.cycle_overlay() == "prm" and view.overlay()[2] == "b"
    assert view.cycle_overlay() == "none" and view.overlay() is None
    view.set_zoom("all")
    assert not view.pan(1)
    assert nice_top(13.9) == 15 and nice_top(0) == 1
