"""The header bar: screen title, SANDBOX badge, Paris time and the current gas day."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from pupitre.providers.core.clock import gas_day_of


class HeaderBar(Horizontal):
    """One line; the clock text is refreshed by the app's one-second tick."""

    def __init__(self, title: str) -> None:
        super().__init__(id="header")
        self.title_text = title

    def compose(self) -> ComposeResult:
        yield Static(f"pupitre · {self.title_text}", id="header-title")
        sandbox = sorted(self.app.runtime.sandboxed)  # type: ignore[attr-defined]
        if sandbox:
            label = "SANDBOX" if len(sandbox) == len(self.app.runtime.providers) else "SANDBOX: " + ", ".join(sandbox)  # type: ignore[attr-defined]
            yield Static(label, id="sandbox-badge")
        yield Static("", id="header-clock")

    def on_mount(self) -> None:
        self.tick()

    def tick(self) -> None:
        now = self.app.runtime.clock.now()  # type: ignore[attr-defined]
        paused = "  ⏸ PAUSED" if self.app.feeds.paused else ""  # type: ignore[attr-defined]
        self.query_one("#header-clock", Static).update(
            f"{now:%a %d/%m %H:%M:%S} Paris · gas day {gas_day_of(now):%d/%m}{paused}"
        )
