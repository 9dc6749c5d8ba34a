"""Small dialogs of the access-rights screen: the sort column and the filters."""

from __future__ import annotations

from typing import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, SelectionList, Static
from textual.widgets.option_list import Option

from pupitre.tui.widgets.virtual_table import Column


class SortScreen(ModalScreen[str | None]):
    """Pick the column to sort by (the current one again reverses the order)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="sort.cancel")]

    def __init__(self, columns: Sequence[Column], current: str | None) -> None:
        super().__init__()
        self.columns = columns
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="rights-dialog", classes="rights-dialog"):
            yield Static("Sort by (Enter; the current column again reverses; esc cancels)")
            yield OptionList(*(Option(("● " if c.key == self.current else "  ") + c.label, id=c.key)
                               for c in self.columns), id="sort-options")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.focus()
        if self.current:
            options.highlighted = next(i for i, c in enumerate(self.columns) if c.key == self.current)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class FilterScreen(ModalScreen["dict[str, set[str]] | None"]):
    """Tick states, roles and proof statuses (space); ``a`` applies, ``esc`` cancels.
    Nothing ticked in a group means no filter on it."""

    BINDINGS = [Binding("a", "apply", "Apply", id="filter.apply"),
                Binding("x", "none", "Untick all", id="filter.none"),
                Binding("escape", "cancel", "Cancel", id="filter.cancel")]

    def __init__(self, groups: Sequence[tuple[str, str, Sequence[str]]], current: dict[str, set[str]]) -> None:
        super().__init__()
        self.groups = groups
        self.current = current

    def compose(self) -> ComposeResult:
        items = [(f"{label} · {value}", f"{key}\x00{value}", value in self.current.get(key, ()))
                 for key, label, values in self.groups for value in values]
        with Vertical(id="rights-dialog", classes="rights-dialog"):
            yield Static("Filter (space ticks · a applies · x unticks all · esc cancels)")
            yield SelectionList[str](*items, id="filter-options")

    def on_mount(self) -> None:
        self.query_one(SelectionList).focus()

    def action_apply(self) -> None:
        chosen: dict[str, set[str]] = {key: set() for key, _, _ in self.groups}
        for value in self.query_one(SelectionList).selected:
            key, _, item = value.partition("\x00")
            chosen[key].add(item)
        self.dismiss(chosen)

    def action_none(self) -> None:
        self.query_one(SelectionList).deselect_all()

    def action_cancel(self) -> None:
        self.dismiss(None)
