"""The search line under a table (Access rights, Audit): ``/`` opens it, Enter goes back to the
table (an empty search closes it), Escape or a clear empties and closes it. The screen reacts
to :class:`~textual.widgets.Input.Changed` as for any input."""

from __future__ import annotations

from typing import Callable

from textual.widget import Widget
from textual.widgets import Input


class SearchPrompt(Input):
    """A hidden-until-asked search input that hands the focus back to ``table()``."""

    def __init__(self, table: Callable[[], Widget], **kwargs: object) -> None:
        super().__init__(compact=True, **kwargs)  # type: ignore[arg-type]  # Input's own keywords
        self.table = table

    def on_mount(self) -> None:
        self.display = False

    def open(self) -> None:
        self.display = True
        self.screen.set_focus(self)  # now, not later: the keys typed right behind `/` come here

    def clear(self) -> None:
        """Empty and hide it (the table keeps or takes the focus)."""
        was_open = self.display
        self.value, self.display = "", False
        if was_open:
            self.screen.set_focus(self.table())

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input is not self:
            return
        self.screen.set_focus(self.table())
        if not event.value.strip():
            self.display = False
