"""The header bar: screen title, which providers are simulated (by name), Paris time and the
current gas day."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Static

from pupitre.providers.core.clock import gas_day_of
from pupitre.tui import keyboard
from pupitre.tui.app import pupitre_app


class HeaderBar(Horizontal):
    """One line; the clock text is refreshed by the app's one-second tick."""

    def __init__(self, title: str) -> None:
        super().__init__(id="header")
        self.title_text = title

    def compose(self) -> ComposeResult:
        yield Static(f"pupitre · {self.title_text}", id="header-title")
        runtime = pupitre_app(self).runtime
        # Short names ("GRDF OMEGA" -> "OMEGA"): the line must leave room for the clock at 80 columns.
        simulated = [
            runtime.connections[name].title.removeprefix("GRDF ")
            for name in runtime.providers
            if name in runtime.sandboxed
        ]
        if simulated:
            label = "SANDBOX" if len(simulated) == len(runtime.providers) else "SIMULATED: " + ", ".join(simulated)
            yield Static(label, id="sandbox-badge")
        yield Static("", id="header-paused")
        yield Static("", id="header-clock")

    def on_mount(self) -> None:
        self.tick()

    def tick(self) -> None:
        app = pupitre_app(self)
        now = app.runtime.clock.now()
        paused = self.query_one("#header-paused", Static)
        paused.display = app.feeds.paused
        clock = f"{now:%a %d/%m %H:%M:%S} Paris · gas day {gas_day_of(now):%d/%m}"
        if app.feeds.paused:
            key = app.get_key_display(Binding((keyboard.action_keys(app, "toggle_pause") or ["p"])[0], ""))
            paused.update(f"⏸ PAUSED — {key} resumes")
            if self.size.width and self.size.width < 110:  # 80 columns: the pause before the date
                clock = f"{now:%H:%M:%S} Paris"
        self.query_one("#header-clock", Static).update(clock)
