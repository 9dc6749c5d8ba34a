"""Inline panels of the access-rights screen: the sort column picker and the filters.

Panels inside the screen, not modal screens: a modal re-renders the (dimmed) screen
beneath at every key, which costs seconds on a 100k-row screen over a slow link.
"""

from __future__ import annotations

from typing import Sequence

from textual.binding import Binding
from textual.message import Message
from textual.widgets import OptionList, SelectionList
from textual.widgets.option_list import Option

from pupitre.tui.widgets.virtual_table import Column


class SortPicker(OptionList):
    """Enter sorts by the highlighted column (the current one again reverses); esc closes."""

    BINDINGS = [Binding("escape", "close", "Close", id="sort.close")]

    class Closed(Message):
        pass

    def __init__(
        self, columns: Sequence[Column], *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.columns = columns

    def open(self, current: str | None, reverse: bool) -> None:
        self.clear_options()
        for column in self.columns:
            mark = ("↓ " if reverse else "↑ ") if column.key == current else "  "
            self.add_option(Option(mark + column.label, id=column.key))
        self.border_title = "Sort by (enter · esc)"
        self.display = True
        self.highlighted = next((i for i, c in enumerate(self.columns) if c.key == current), 0)
        self.screen.set_focus(self)  # now: keys typed right behind `s` come here

    def action_close(self) -> None:
        self.post_message(self.Closed())


class FilterPicker(SelectionList[str]):
    """Space ticks; ``a`` applies; ``x`` unticks all; esc closes without applying.
    Nothing ticked in a group: no filter on it."""

    BINDINGS = [
        Binding("a", "apply", "Apply", id="filter.apply"),
        Binding("x", "none", "Untick all", id="filter.none"),
        Binding("escape", "close", "Close", id="filter.close"),
    ]

    class Applied(Message):
        def __init__(self, filters: dict[str, set[str]]) -> None:
            super().__init__()
            self.filters = filters

    class Closed(Message):
        pass

    def __init__(
        self,
        groups: Sequence[tuple[str, str, Sequence[str]]],
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.groups = groups

    def _label_for(self, key: str, value: str, ticked: bool) -> str:
        label = next(label for k, label, _ in self.groups if k == key)
        return f"{'[✓]' if ticked else '[ ]'} {label} · {value}"  # readable without colour

    def open(self, current: dict[str, set[str]]) -> None:
        self.clear_options()
        self.add_options(
            [
                (
                    self._label_for(key, value, value in current.get(key, ())),
                    f"{key}\x00{value}",
                    value in current.get(key, ()),
                )
                for key, _, values in self.groups
                for value in values
            ]
        )
        self.border_title = "Filter (space ticks · a applies · x unticks all · esc)"
        self.display = True
        self.highlighted = 0
        self.screen.set_focus(self)  # now: keys typed right behind `f` come here

    def on_selection_list_selected_changed(self, event: SelectionList.SelectedChanged[str]) -> None:
        selected = set(self.selected)
        for index in range(self.option_count):
            option = self.get_option_at_index(index)
            key, _, value = str(option.value).partition("\x00")
            self.replace_option_prompt_at_index(index, self._label_for(key, value, option.value in selected))

    def chosen(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {key: set() for key, _, _ in self.groups}
        for value in self.selected:
            key, _, item = value.partition("\x00")
            out[key].add(item)
        return out

    def action_apply(self) -> None:
        # After the ticks still queued: a space toggles through a message to this list, so
        # in a burst of keys ("space", "a") that message comes after this key.
        self.call_later(lambda: self.post_message(self.Applied(self.chosen())))

    def action_none(self) -> None:
        self.deselect_all()

    def action_close(self) -> None:
        self.post_message(self.Closed())
