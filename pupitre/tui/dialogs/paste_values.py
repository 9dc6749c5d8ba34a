"""A box to paste the 24 hourly values of a program into (a spreadsheet row or column)."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static, TextArea

from pupitre.providers.grtgaz.drafts import DraftError, parse_values


def paste_feedback(text: str) -> Text:
    """What the box understood so far: 24 values, or why not."""
    if not text.strip():
        return Text("Paste 24 values: a spreadsheet row (tabs), ; or , separated, or one per line.", style="dim")
    try:
        values = parse_values(text)
    except DraftError as error:
        return Text(f"✗ {error}", style="bold")
    return Text(f"✓ 24 values, {min(values):g} to {max(values):g}: Tab then Enter on Use them.")


class PasteValuesScreen(ModalScreen[str | None]):
    DEFAULT_CSS = """
    PasteValuesScreen > .dialog {
        width: 80;
    }
    PasteValuesScreen TextArea {
        height: 8;
    }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="paste.cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(id="paste-dialog", classes="dialog"):
            yield Static(Text("Paste the program (06h → 05h)", style="bold"))
            yield TextArea(id="paste-text", soft_wrap=True, show_line_numbers=False)
            yield Static(paste_feedback(""), id="paste-feedback")
            with Horizontal(id="paste-buttons", classes="dialog-buttons"):
                yield Button("Use them", id="use", variant="primary", compact=True, disabled=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    @on(TextArea.Changed)
    def _changed(self, event: TextArea.Changed) -> None:
        text = event.text_area.text
        self.query_one("#paste-feedback", Static).update(paste_feedback(text))
        try:
            parse_values(text)
        except DraftError:
            self.query_one("#use", Button).disabled = True
        else:
            self.query_one("#use", Button).disabled = False

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(self.query_one(TextArea).text if event.button.id == "use" else None)

    def action_cancel(self) -> None:
        self.dismiss(None)
