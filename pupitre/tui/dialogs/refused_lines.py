"""Every line an import refused, with its reason, in a list that scrolls (never cut with "…")."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


class RefusedLinesScreen(ModalScreen[None]):
    """``title``, a summary line, then one line per refusal; arrows and page keys scroll."""

    BINDINGS = [Binding("escape,enter", "close", "Close", id="refused.close")]

    def __init__(self, title: str, summary: str, lines: list[str]) -> None:
        super().__init__()
        self.title_text, self.summary, self.lines = title, summary, lines

    def compose(self) -> ComposeResult:
        with Vertical(id="refused-dialog", classes="dialog -large"):
            yield Static(Text(self.title_text, style="bold"))
            yield Static(Text(f"{self.summary}\n{len(self.lines)} line(s) refused (↑ ↓ scroll · esc closes):"))
            with VerticalScroll(id="refused-lines", classes="fill"):
                yield Static(Text("\n".join(f"• {line}" for line in self.lines)))

    def on_mount(self) -> None:
        self.query_one("#refused-lines").focus()

    def action_close(self) -> None:
        self.dismiss()
