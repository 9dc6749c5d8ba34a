"""A virtualised table for park-scale lists (100,000+ rows), on Textual's Line API.

Textual's ``DataTable`` builds every row up front (~26 s for 100k rows). This table
renders only the lines on screen (``ScrollView.render_line``): the data stay where
they are (column arrays in the caller), the table holds a *view* — a list of row
numbers, already filtered and sorted by the caller — and asks a :class:`CellSource`
for the cells of the rows it shows. Replacing the view or appending to it costs no
rendering; a scroll renders one screen of lines.

Line 0 is the header and stays in place; the cursor row is drawn reversed with a
``▶`` gutter (visible without colour). Keyboard: arrows, PgUp/PgDn, Home/End,
←/→ scroll columns, Enter posts :class:`VirtualTable.Selected`.
"""

from __future__ import annotations

from typing import Protocol, Sequence

import msgspec
from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

HEADER = Style(bold=True, underline=True)
CURSOR = Style(reverse=True, bold=True)
#: Every segment carries a Style: Textual's filters (NO_COLOR's monochrome) read ``segment.style``.
PLAIN = Style()
SEPARATOR = " "


class Column(msgspec.Struct, frozen=True):
    key: str
    label: str
    width: int


class CellSource(Protocol):
    def cells(self, row: int, columns: Sequence[Column]) -> list[tuple[str, Style | None]]:
        """The text (and style, if any) of each of ``columns`` for data row ``row``."""


def fit(text: str, width: int) -> str:
    """``text`` cut or padded to exactly ``width`` cells (a cut ends with ``…``)."""
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + "…" if width > 1 else set_cell_size(text, width)
    return set_cell_size(text, width)


class VirtualTable(ScrollView, can_focus=True):
    """Rows are ``view[k]`` data row numbers; only the visible ones are rendered."""

    DEFAULT_CSS = """
    VirtualTable {
        height: 1fr;
        scrollbar-gutter: stable;
    }
    """

    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "edge(0)", "First", show=False),
        Binding("end", "edge(1)", "Last", show=False),
        Binding("left", "scroll_left", "Left", show=False),
        Binding("right", "scroll_right", "Right", show=False),
        Binding("enter", "select", "Open", show=False),
    ]

    class Selected(Message):
        """Enter on a row: ``row`` is the data row number."""

        def __init__(self, table: "VirtualTable", row: int) -> None:
            super().__init__()
            self.table = table
            self.row = row

    cursor: reactive[int] = reactive(0, always_update=True, repaint=False)

    def __init__(
        self, columns: Sequence[Column], source: CellSource, *, id: str | None = None, empty_text: str = "No rows."
    ) -> None:
        super().__init__(id=id)
        self.columns = list(columns)
        self.source = source
        self.view: Sequence[int] = ()
        self.empty_text = empty_text
        self._width = sum(c.width for c in self.columns) + len(SEPARATOR) * len(self.columns) + 1

    # -- data ------------------------------------------------------------------------
    def set_view(self, view: Sequence[int], *, keep_row: bool = True) -> None:
        """Show ``view`` (data row numbers); the cursor stays on the same data row if it is
        still shown, else on the same position."""
        current = self.current_row if keep_row else None
        self.view = view
        position = self.cursor
        if current is not None and (position >= len(view) or view[position] != current):
            try:
                position = view.index(current)
            except ValueError:
                pass
        self._resize()
        self.cursor = max(0, min(position, len(view) - 1))
        self.refresh()

    def extend_view(self, view: Sequence[int], shown_before: int) -> None:
        """The view with rows appended after the first ``shown_before`` (streaming): nothing
        moves, and the lines on screen are redrawn only if the new rows reach them."""
        self.view = view
        self._resize()
        if shown_before < int(self.scroll_offset.y) + self.page_rows + 1:
            self.refresh()

    def _resize(self) -> None:
        self.virtual_size = Size(self._width, len(self.view) + 1)

    @property
    def current_row(self) -> int | None:
        """The data row under the cursor, or ``None`` when the view is empty."""
        if 0 <= self.cursor < len(self.view):
            return self.view[self.cursor]
        return None

    @property
    def page_rows(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    # -- cursor ----------------------------------------------------------------------
    def watch_cursor(self, old: int, new: int) -> None:
        self._scroll_to_cursor()
        self.refresh()

    def _scroll_to_cursor(self) -> None:
        top = int(self.scroll_offset.y)
        rows = self.page_rows
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + rows:
            self.scroll_to(y=self.cursor - rows + 1, animate=False, immediate=True)

    def action_cursor(self, delta: int) -> None:
        if self.view:
            self.cursor = max(0, min(len(self.view) - 1, self.cursor + delta))

    def action_page(self, direction: int) -> None:
        if self.view:
            rows = self.page_rows
            self.cursor = max(0, min(len(self.view) - 1, self.cursor + direction * rows))
            top = max(0, min(int(self.scroll_offset.y) + direction * rows, len(self.view) + 1 - rows))
            self.scroll_to(y=top, animate=False, immediate=True)

    def action_edge(self, end: int) -> None:
        if self.view:
            self.cursor = len(self.view) - 1 if end else 0

    def action_select(self) -> None:
        row = self.current_row
        if row is not None:
            self.post_message(self.Selected(self, row))

    # -- rendering -------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        if y == 0:
            segments = [Segment(" ", HEADER)]
            for column in self.columns:
                segments.append(Segment(fit(column.label, column.width), HEADER))
                segments.append(Segment(SEPARATOR, PLAIN))
            strip = Strip(segments, self._width)
        else:
            position = int(scroll_y) + y - 1
            if not self.view and y == 1:
                strip = Strip([Segment(" " + self.empty_text, Style(italic=True))])
            elif 0 <= position < len(self.view):
                strip = self._row_strip(position)
            else:
                return Strip.blank(width, self.rich_style)
        return strip.crop_extend(int(scroll_x), int(scroll_x) + width, self.rich_style)

    def _row_strip(self, position: int) -> Strip:
        row = self.view[position]
        selected = position == self.cursor
        segments = [Segment("▶" if selected else " ", CURSOR if selected else PLAIN)]
        for column, (text, style) in zip(self.columns, self.source.cells(row, self.columns), strict=True):
            style = style or PLAIN
            if selected:
                style = style + CURSOR
            segments.append(Segment(fit(text, column.width), style))
            segments.append(Segment(SEPARATOR, CURSOR if selected else PLAIN))
        return Strip(segments, self._width)
