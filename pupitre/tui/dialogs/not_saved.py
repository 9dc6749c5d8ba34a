"""A confirmed action the disk refused: it stays on screen, "not saved", until it is saved
(``r`` tries again) or the operator drops it (``esc``); never lost silently. Nothing was sent:
an action is sent only once it is written to the outbox."""

from __future__ import annotations

import logging
from typing import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Static

from pupitre.providers.core.outbox import ActionRefused
from pupitre.providers.core.store import StoreError

log = logging.getLogger("pupitre.outbox")


class NotSavedScreen(ModalScreen[int | None]):
    """Dismissed with the outbox id once saved, or ``None`` when dropped or refused."""

    DEFAULT_CSS = """
    NotSavedScreen > .dialog {
        width: 70;
    }
    """

    BINDINGS = [
        Binding("r", "retry", "Try again", id="not_saved.retry"),
        Binding("escape", "drop", "Drop it", id="not_saved.drop"),
    ]

    def __init__(self, description: str, reason: str, save: Callable[[], int]) -> None:
        super().__init__()
        self.description = description
        self.reason = reason
        self.save = save
        self.attempts = 1

    def body(self) -> Text:
        text = Text()
        text.append("NOT SAVED — nothing was sent\n\n", style="bold reverse")
        text.append(f"{self.description}\n\n", style="bold")
        text.append(f"Why: {self.reason}\n")
        if self.attempts > 1:
            text.append(f"(tried {self.attempts} times)\n")
        text.append(
            "\nYour decision is kept here. Fix the cause (e.g. free disk space), then r saves "
            "and sends it. esc drops it: nothing is saved or sent."
        )
        text.append("\n\nr: try again · esc: drop it", style="bold")
        return text

    def compose(self) -> ComposeResult:
        yield Static(self.body(), id="not-saved-dialog", classes="dialog -roomy -alarm")

    def action_retry(self) -> None:
        try:
            item_id = self.save()
        except ActionRefused as refusal:  # the world changed meanwhile (e.g. no longer today's order)
            self.app.notify(str(refusal), title="Not sent", severity="error", timeout=20, markup=False)
            self.dismiss(None)
            return
        except StoreError as error:
            log.warning("action still not saved: %s", error)
            self.attempts += 1
            self.reason = str(error)
            self.query_one("#not-saved-dialog", Static).update(self.body())
            return
        self.dismiss(item_id)

    def action_drop(self) -> None:
        log.warning("an action the disk refused was dropped by the operator: %s", self.description)
        self.app.notify("Dropped: it was neither saved nor sent.", severity="warning", timeout=8)
        self.dismiss(None)
