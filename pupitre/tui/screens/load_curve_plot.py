"""A load curve (pushed from an order): power over time in Paris time, zoom, pan, cursor,
statistics of the visible range, overlay of a second PRM or of the previous period, CSV export.

Keys: ``d`` / ``w`` / ``m`` / ``a`` zoom to the day / week / month / all the data;
``←`` / ``→`` move the cursor (a point when zoomed on a day, a column otherwise; past an
edge the window follows); ``shift+←`` / ``shift+→`` or ``,`` / ``.`` pan by one day /
week / month; ``home`` / ``end`` cursor to the window's ends; ``v`` overlays the previous
period, then each other PRM loaded, then nothing; ``e`` writes the visible range to CSV.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from rich.markup import escape
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from pupitre.providers.core.clock import PARIS
from pupitre.tui.curve_view import CurveView, Trace, format_duration, format_power, window_label
from pupitre.tui.screens.base import PupitreScreen
from pupitre.tui.widgets.footer import PupitreFooter
from pupitre.tui.widgets.header import HeaderBar
from pupitre.tui.widgets.load_curve_plot import LoadCurvePlot

PRIMARY_GLYPH = "▞"
OVERLAY_GLYPH = "•"


class LoadCurvePlotScreen(PupitreScreen):
    BINDINGS = [
        Binding("d", "zoom('day')", "Day", id="plot.day"),
        Binding("w", "zoom('week')", "Week", id="plot.week"),
        Binding("m", "zoom('month')", "Month", id="plot.month"),
        Binding("a", "zoom('all')", "All", id="plot.all"),
        Binding("left", "cursor(-1)", "Cursor ←", show=False, id="plot.cursor_left"),
        Binding("right", "cursor(1)", "Cursor →", show=False, id="plot.cursor_right"),
        Binding("shift+left,comma", "pan(-1)", "Pan ←", id="plot.pan_back"),
        Binding("shift+right,full_stop", "pan(1)", "Pan →", id="plot.pan_forward"),
        Binding("home", "cursor_to('start')", "Cursor to start", show=False, id="plot.home"),
        Binding("end", "cursor_to('end')", "Cursor to end", show=False, id="plot.end"),
        Binding("v", "overlay", "Overlay", id="plot.overlay"),
        Binding("e", "export", "Export CSV", id="plot.export"),
        Binding("escape", "close", "Back", id="plot.back"),
    ]

    def __init__(
        self,
        primary: Trace,
        *,
        others: list[Trace] | None = None,
        subtitle: str = "",
        zoom: str = "week",
        export_dir: Path | None = None,
    ) -> None:
        super().__init__()
        self.view = CurveView(primary, zoom=zoom, others=others or [])
        self.subtitle = subtitle
        self.export_dir = export_dir

    def compose(self) -> ComposeResult:
        yield HeaderBar("Load curve")
        yield Static("", id="plot-title", classes="block")
        yield LoadCurvePlot(self.view, id="plot")
        yield Static("", id="plot-reading", classes="block")
        yield Static("", id="plot-stats", classes="block")
        yield PupitreFooter()

    def on_mount(self) -> None:
        self.query_one(LoadCurvePlot).focus()
        self.call_after_refresh(self.update_lines)  # after the plot set the view's width

    # -- drawing -------------------------------------------------------------------------
    def update_lines(self) -> None:
        view = self.view
        unit = view.unit()
        title = Text()
        title.append(f"{view.primary.label}", style="bold")
        if self.subtitle:
            title.append(f" · {self.subtitle}")
        title.append(f" · {window_label(view)} · {unit[0]}")
        self.query_one("#plot-title", Static).update(title)
        reading = view.reading()
        line = Text()
        line.append("▏cursor ", style="bold")
        start = reading.start.astimezone(PARIS)
        end = reading.end.astimezone(PARIS)
        line.append(f"{start:%a %d/%m %H:%M}–{end:%H:%M}: ")
        if reading.high is None:
            line.append("no data (gap)", style="bold")
        elif reading.points == 1 or reading.low == reading.high:
            line.append(format_power(reading.high, unit), style="bold")
        else:
            line.append(f"{format_power(reading.low, unit)} … {format_power(reading.high, unit)}", style="bold")
            line.append(f" over {reading.points} points")
        if reading.gaps and reading.high is not None:
            line.append(f" · {reading.gaps} missing")
        overlay = view.overlay()
        line.append(f"   {PRIMARY_GLYPH} {view.primary.label}")
        if overlay is not None:
            line.append(f"  {OVERLAY_GLYPH} {overlay[2]}")
        line.append("  x gap")
        self.query_one("#plot-reading", Static).update(line)
        self.query_one("#plot-stats", Static).update(stats_text(view, unit))

    def changed(self) -> None:
        self.query_one(LoadCurvePlot).changed()
        self.update_lines()

    # -- actions ---------------------------------------------------------------------------
    def action_zoom(self, zoom: str) -> None:
        self.view.set_zoom(zoom)
        if zoom == "all" and self.view.overlay_mode == "period":
            self.view.overlay_mode = "none"
        self.changed()

    def action_cursor(self, columns: int) -> None:
        self.view.move_cursor(columns)
        self.changed()

    def action_pan(self, units: int) -> None:
        if not self.view.pan(units):
            self.notify(
                "No data further that way." if self.view.zoom != "all" else "Zoom in (d, w, m) to pan.", timeout=3
            )
            return
        self.changed()

    def action_cursor_to(self, where: str) -> None:
        self.view.cursor_to(where)
        self.changed()

    def action_overlay(self) -> None:
        mode = self.view.cycle_overlay()
        if mode == "none" and self.view.zoom == "all" and not self.view.others:
            self.notify(
                "Zoom to a day, week or month to compare with the previous one; "
                "order another PRM's load curve to compare two PRMs.",
                timeout=6,
            )
        self.changed()

    def action_export(self) -> None:
        if self.export_dir is None:
            self.notify("No export directory.", severity="error")
            return
        start, end = self.view.window()
        last = (end - dt.timedelta(seconds=1)).astimezone(PARIS)
        name = f"loadcurve_{safe_name(self.view.primary.label)}_{start.astimezone(PARIS):%Y%m%d}_{last:%Y%m%d}.csv"
        path = self.export_dir / name
        try:
            rows = self.view.export_csv(path)
        except OSError as error:
            self.notify(
                escape(f"Could not write {path}: {error.strerror or type(error).__name__}"),
                title="Export",
                severity="error",
                timeout=10,
            )
            return
        self.notify(escape(f"{rows} rows written to {path}"), title="Export", timeout=10)

    def action_close(self) -> None:
        self.dismiss()


def safe_name(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)[:40] or "curve"


def stats_text(view: CurveView, unit: tuple[str, float]) -> Text:
    """Max (with its Paris time), mean, energy, load factor and gaps of the visible range."""
    ranged = view.stats()
    stats = ranged.stats
    text = Text()
    if stats.max_watts is None:
        text.append("No value in this range.", style="bold")
    else:
        text.append("max ", style="bold")
        text.append(f"{format_power(stats.max_watts, unit)} {stats.max_at:%a %d/%m %H:%M}")
        text.append(" · mean ", style="bold")
        text.append(format_power(stats.mean_watts, unit))
        text.append(" · energy ", style="bold")
        text.append(f"{stats.energy_kwh:,.1f} kWh")
        text.append(" · load factor ", style="bold")
        text.append(f"{stats.load_factor:.0%}" if stats.load_factor is not None else "—")
    text.append(" · gaps ", style="bold")
    if ranged.gap_runs:
        text.append(f"⚠ {ranged.gap_runs} ({format_duration(ranged.gap_duration)} missing)")
    else:
        text.append("none")
    text.append(f" · {stats.hours:g} h")
    return text
