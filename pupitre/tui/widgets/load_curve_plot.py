"""A widget showing a :class:`~pupitre.tui.curve_view.CurveView`, drawn by plotext to the
widget's own size and rendered with ``Text.from_ansi``. The drawing is cached per
(size, colour, view state): a repaint that changes nothing costs nothing."""

from __future__ import annotations

import time

from rich.text import Text
from textual.widget import Widget

from pupitre.tui.curve_view import CurveView


class LoadCurvePlot(Widget):
    DEFAULT_CSS = """
    LoadCurvePlot {
        height: 1fr;
        min-height: 5;
    }
    """

    def __init__(
        self,
        view: CurveView | None = None,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.view = view
        self._key: tuple[object, ...] | None = None
        self._text: Text = Text()
        self.last_build_seconds = 0.0
        self.rendered_at = 0.0  # perf_counter() at the end of the last render (benchmarks)

    def set_view(self, view: CurveView | None) -> None:
        self.view = view
        self.changed()

    def changed(self) -> None:
        """The view's state moved (zoom, pan, cursor, overlay): draw again."""
        self.refresh()

    def state_key(self, width: int, height: int) -> tuple[object, ...]:
        view = self.view
        assert view is not None
        return (
            width,
            height,
            self.app.no_color,
            view.zoom,
            view.anchor,
            view.cursor,
            view.overlay_mode,
            view.other_index,
            id(view.primary),
        )

    def render(self) -> Text:
        if self.view is None:
            return Text("No load curve loaded.", style="dim")
        width, height = self.content_size.width, self.content_size.height
        if width < 20 or height < 5:
            return Text("The terminal is too small for the plot.", style="bold")
        key = self.state_key(width, height)
        if key != self._key:
            started = time.perf_counter()
            drawn = self.view.build(width, height, color=not self.app.no_color)
            self._text = Text.from_ansi(drawn, no_wrap=True, overflow="crop")
            self.last_build_seconds = time.perf_counter() - started
            self._key = key
        self.rendered_at = time.perf_counter()
        return self._text
