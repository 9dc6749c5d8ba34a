"""A yes/no question: ``y`` confirms, ``esc`` or ``n`` declines (Enter alone never confirms)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Static


class ConfirmScreen(ModalScreen[bool]):
    DEFAULT_CSS = """
    ConfirmScreen > .dialog {
        width: 60;
    }
    """

    BINDINGS = [Binding("y", "yes", "Yes", id="confirm.yes"), Binding("escape,n", "no", "No", id="confirm.no")]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        yield Static(Text(f"{self.question}\n\ny: yes · esc: no"), id="confirm-dialog", classes="dialog -roomy")

    def action_yes(self) -> None:
        self.dismiss(True)

    def action_no(self) -> None:
        self.dismiss(False)
