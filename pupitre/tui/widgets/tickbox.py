"""A checkbox whose box says its state without colour (``NO_COLOR``, a monochrome terminal):
``✓`` when ticked, blank when not. Textual's shows the same ``X`` both ways, in two colours."""

from __future__ import annotations

from typing import Any

from textual.widgets import Checkbox


class TickBox(Checkbox):
    """:class:`~textual.widgets.Checkbox` with ``✓`` / blank in the box."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._mark()

    def _mark(self) -> None:
        self.BUTTON_INNER = "✓" if self.value else " "

    def watch_value(self) -> None:
        self._mark()
        super().watch_value()
