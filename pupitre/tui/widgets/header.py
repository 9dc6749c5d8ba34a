"""The header bar: screen title, which providers are simulated (by name), Paris time and the
current gas day."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from pupitre.providers.core.clock import gas_day_of
from pupitre.tui.app import pupitre_app


class HeaderBar(Horizontal):
    """One line; the clock text is refreshed by the app's one-second tick."""

    DEFAULT_CSS = """
    HeaderBar {
        height: 1;
        background: $panel;
        color: $foreground;
    }
    HeaderBar #header-title {
        width: auto;
        text-style: bold;
        padding: 0 1;
    }
    HeaderBar #sandbox-badge {
        width: auto;
        background: $warning;
        color: $background;
        text-style: bold;
        padding: 0 1;
    }
    HeaderBar #header-clock {
        width: 1fr;
        content-align: right middle;
        padding: 0 1;
    }
    """

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
        yield Static("", id="header-clock")

    def on_mount(self) -> None:
        self.tick()

    def tick(self) -> None:
        app = pupitre_app(self)
        now = app.runtime.clock.now()
        paused = "  ⏸ PAUSED" if app.feeds.paused else ""
        self.query_one("#header-clock", Static).update(
            f"{now:%a %d/%m %H:%M:%S} Paris · gas day {gas_day_of(now):%d/%m}{paused}"
        )
