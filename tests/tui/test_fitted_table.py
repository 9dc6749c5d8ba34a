"""FittedTable: auto-width columns fit the rows the table holds now, whatever it held before."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult

from pupitre.tui.widgets.fitted_table import FittedTable


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield FittedTable()

    def on_mount(self) -> None:
        table = self.query_one(FittedTable)
        table.add_column("v", key="version")
        table.add_column("Declared", key="declared")
        table.add_column("", key="bar", width=10)


def widths(table: FittedTable) -> dict[str, int]:
    """Each column's width in cells, without the padding."""
    return {
        str(key.value): column.content_width if column.auto_width else column.width
        for key, column in table.columns.items()
    }


async def test_a_refill_forgets_the_widths_of_the_rows_cleared():
    """A placeholder wider than the data, painted first, no longer widens the column."""
    app = TableApp()
    async with app.run_test(size=(60, 10)) as pilot:
        table = app.query_one(FittedTable)
        table.add_row(Text("—"), Text("none declared"), Text(""))
        await pilot.pause()  # painted and measured by DataTable on idle
        assert widths(table)["declared"] == len("none declared")
        table.clear()
        table.add_row(Text("1"), Text("17/11 15:00"), Text("██"), key="v1")
        await pilot.pause()
        assert widths(table) == {"version": 1, "declared": len("17/11 15:00"), "bar": 10}
        table.clear()
        assert widths(table) == {"version": 1, "declared": len("Declared"), "bar": 10}  # labels only


async def test_new_rows_are_measured_before_any_paint():
    """The widths are right as soon as the rows are in: DataTable measures new rows on the
    next idle, and a line painted before it stays cached at the old widths."""
    app = TableApp()
    async with app.run_test(size=(60, 10)) as pilot:
        table = app.query_one(FittedTable)
        table.add_row("1", "17/11 15:00", "")
        await pilot.pause()
        table.clear()
        table.add_row("12", "[b]18/11 10:53:00[/b]", "")  # markup is measured as displayed
        assert widths(table)["declared"] == len("18/11 10:53:00")
        assert "18/11 10:53:00" in table.render_line(1).text  # painted before the idle
        await pilot.pause()
        assert widths(table)["declared"] == len("18/11 10:53:00")  # DataTable's own measure agrees
        assert " 12 " in table.render_line(1).text and "18/11 10:53:00" in table.render_line(1).text
