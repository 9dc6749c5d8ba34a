"""The key help (``?`` / ``f1``): every key of the screen it was opened on, one line each, the
screen's own first, then the keys of every screen, then Textual's moving and editing keys."""

from __future__ import annotations

import msgspec
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

#: The sections, in the order the help lists them.
SECTIONS = ("this screen", "everywhere", "moving and editing")


class KeyRow(msgspec.Struct, frozen=True):
    """One action: its keys as displayed, what it does, and why (the binding's tooltip)."""

    section: str
    keys: str
    description: str
    tooltip: str
    enabled: bool


def section_of(entry: ActiveBinding, screen: Screen[object]) -> str:
    """Where an active binding belongs: the screen's and its panels' (pupitre's bindings have
    ids), the app's, or Textual's generic ones (no id)."""
    if entry.node is screen.app:
        return "everywhere" if entry.binding.id else "moving and editing"
    return "this screen" if entry.binding.id else "moving and editing"


def key_rows(screen: Screen[object]) -> list[KeyRow]:
    """The keys in force on ``screen`` (its :attr:`active_bindings`: remaps and the keyboard rule
    applied), one row per action, by section; within a section, in the screen's order."""
    app = screen.app
    keys: dict[tuple[str, str], list[str]] = {}
    first: dict[tuple[str, str], tuple[ActiveBinding, str]] = {}
    for entry in screen.active_bindings.values():
        binding = entry.binding
        if not binding.description:
            continue
        section = section_of(entry, screen)
        action = (section, binding.action)
        shown = app.get_key_display(binding)
        if shown not in keys.setdefault(action, []):
            keys[action].append(shown)
        first.setdefault(action, (entry, section))
    rows = [
        KeyRow(section, " ".join(keys[action]), entry.binding.description, entry.tooltip or "", entry.enabled)
        for action, (entry, section) in first.items()
    ]
    return sorted(rows, key=lambda row: SECTIONS.index(row.section))


def keys_table(rows: list[KeyRow]) -> Table:
    """The rows under their section titles: key, what it does, then why (dim, wrapped)."""
    table = Table.grid(padding=(0, 1), expand=True)
    table.add_column(no_wrap=True, justify="right", style="bold")
    table.add_column(no_wrap=True)
    table.add_column(ratio=1, style="dim", overflow="fold")
    for section in SECTIONS:
        chosen = [row for row in rows if row.section == section]
        if not chosen:
            continue
        table.add_row("", Text(section.capitalize(), style="bold underline"), "")
        for row in chosen:
            description = Text(row.description, style="" if row.enabled else "dim")
            if not row.enabled:
                description.append(" (not now)")
            table.add_row(row.keys, description, row.tooltip)
    return table


class KeysScreen(ModalScreen[None]):
    """Every key of the screen under it (:func:`key_rows`), in a list that scrolls."""

    DEFAULT_CSS = """
    KeysScreen > .dialog {
        width: 110;
        height: 100%;
    }
    KeysScreen .keys-list {
        height: 1fr;
    }
    """

    BINDINGS = [Binding("escape,question_mark,f1", "close", "Close", id="keys.close")]

    def __init__(self, title: str, rows: list[KeyRow]) -> None:
        super().__init__()
        self.title_text, self.rows = title, rows

    def compose(self) -> ComposeResult:
        with Vertical(id="keys-dialog", classes="dialog"):
            yield Static(Text(f"Keys — {self.title_text} (↑ ↓ scroll · esc, ? or f1 closes)", style="bold"))
            with VerticalScroll(id="keys-list", classes="keys-list"):
                yield Static(keys_table(self.rows))

    def on_mount(self) -> None:
        self.query_one("#keys-list").focus()

    def action_close(self) -> None:
        self.dismiss()
