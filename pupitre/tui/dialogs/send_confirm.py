"""The base of every "review, then send" dialog: the text of what will be sent, Send (``y``)
and Cancel (``esc``/``n``). Cancel has the focus, so Enter alone never sends; the dialog
clears the notifications so that none hides what is about to be sent."""

from __future__ import annotations

from rich.console import RenderableType
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class SendConfirmScreen(ModalScreen[bool]):
    """Subclasses give :meth:`body`, the element ids (for their styles) and BINDINGS
    for ``action_send`` / ``action_cancel`` (with their own binding ids)."""

    DIALOG_ID = "send-dialog"
    TEXT_ID = "send-text"
    BUTTONS_ID = "send-buttons"
    SCROLL_ID: str | None = None  # wrap the text in a scroll (long lists)

    def body(self) -> RenderableType:
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        with Vertical(id=self.DIALOG_ID, classes="dialog"):
            text = Static(self.body(), id=self.TEXT_ID)
            if self.SCROLL_ID:
                with VerticalScroll(id=self.SCROLL_ID):
                    yield text
            else:
                yield text
            with Horizontal(id=self.BUTTONS_ID, classes="dialog-buttons"):
                yield Button("Send (y)", id="send", variant="warning", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.app.clear_notifications()  # nothing may hide what is about to be sent
        self.query_one("#cancel", Button).focus()  # Enter alone never sends

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "send")

    def action_send(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
