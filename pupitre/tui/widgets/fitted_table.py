"""A ``DataTable`` whose auto-width columns fit the rows it holds now.

Textual's ``DataTable`` only ever widens an auto-width column, and does it late: ``clear()``
drops the rows but keeps each column's width, and new rows are measured on the next idle.
A table that is cleared and refilled therefore shows columns as wide as the widest cell it
*ever* held (a "none declared" placeholder, yesterday's data), and what the operator sees
depends on what was painted before the data came, and when. On Python 3.12+ Textual starts
workers eagerly, so a read that never suspends (the in-process sandbox) lands before the
first paint; on 3.11 it lands after: the same screen came out with different widths.

:class:`FittedTable` sizes its auto-width columns from the rows it holds: ``clear()`` takes
each back to its label's width, ``add_row`` widens it at once for the new cells (so a paint
before the next idle already has the right widths — the table's render caches do not
notice a width that changes later).
"""

from __future__ import annotations

from typing import Any, Self

from rich.text import TextType
from textual.render import measure
from textual.widgets import DataTable

# Not exported by textual.widgets.data_table; Textual is pinned exactly (pyproject.toml).
# It is what DataTable itself measures, so both measures agree.
from textual.widgets._data_table import default_cell_formatter
from textual.widgets.data_table import RowKey


class FittedTable(DataTable[Any]):
    """A ``DataTable`` whose auto-width columns fit the rows added since ``clear()``.

    Styled and queried as a ``DataTable`` (CSS type selectors and
    ``query_one(..., DataTable)`` match it).
    """

    def clear(self, columns: bool = False) -> Self:
        """Clear the rows (and the columns if ``columns``); auto-width columns shrink back
        to their label, as when they were added."""
        super().clear(columns)
        console = self.app.console
        for column in self.columns.values():
            if column.auto_width:
                column.content_width = measure(console, column.label, 1)
        return self

    def add_row(
        self,
        *cells: Any,
        height: int | None = 1,
        key: str | None = None,
        label: TextType | None = None,
    ) -> RowKey:
        """Add a row (as ``DataTable.add_row``) and widen the auto-width columns to it now."""
        row_key = super().add_row(*cells, height=height, key=key, label=label)
        console = self.app.console
        row_height = self.rows[row_key].height
        for column, cell in zip(self.ordered_columns, cells, strict=False):  # missing cells: the default
            if column.auto_width and cell is not None:
                renderable = default_cell_formatter(cell, wrap=row_height != 1, height=row_height)
                column.content_width = max(column.content_width, measure(console, renderable, 1))
        return row_key
