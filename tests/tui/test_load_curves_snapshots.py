"""Snapshots of the load-curve plot (fixed week of data, frozen clock) at 80×24 and 120×40,
and under NO_COLOR. Update only after opening the new SVG (see test_snapshots.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pupitre.tui.curve_view import Trace
from pupitre.tui.screens.load_curve_plot import LoadCurvePlotScreen
from tests.tui.helpers import wait_runs, week_curve

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


def show_plot(keys: tuple[str, ...] = ()):
    async def run_before(pilot) -> None:
        await wait_runs(pilot, pilot.app)
        await pilot.app.push_screen(
            LoadCurvePlotScreen(
                Trace.of(week_curve(), "00000000000022"),
                subtitle="consumption",
                zoom="week",
                export_dir=Path("/nonexistent"),
            )
        )
        await pilot.pause()
        if keys:
            await pilot.press(*keys)
        pilot.app.clear_notifications()
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_plot_week(snap_compare, make_app, size):
    # the cursor on Thursday's peak hour, the previous week overlaid is empty: none
    assert snap_compare(make_app(), terminal_size=size, run_before=show_plot(("home",) + ("right",) * 30))


def test_plot_day_no_color(snap_compare, make_app, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=show_plot(("comma", "d")))
