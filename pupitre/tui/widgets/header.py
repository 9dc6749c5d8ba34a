"""The header bar: screen title, which providers are simulated (by name), Paris time, the
current gas day, and whether this console polls the APIs or follows another process; under
it, the attention line (:mod:`pupitre.tui.widgets.attention`)."""

from __future__ import annotations

import datetime as dt

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Static

from pupitre.providers.core.clock import gas_day_of
from pupitre.tui import keyboard
from pupitre.tui.app import PupitreApp, pupitre_app
from pupitre.tui.widgets.attention import AttentionLine


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
    HeaderBar #header-paused {
        width: auto;
        text-style: bold reverse;
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
        yield Static("", id="header-paused")
        yield Static("", id="header-clock")

    def on_mount(self) -> None:
        # under the header of every screen (a pushed detail too): the worst open alert
        if isinstance(self.parent, Widget):
            self.parent.mount(AttentionLine(), after=self)
        self.tick()

    def tick(self) -> None:
        app = pupitre_app(self)
        now = app.runtime.clock.now()
        paused = self.query_one("#header-paused", Static)
        paused.display = app.feeds.paused
        if app.feeds.paused:
            key = app.get_key_display(Binding((keyboard.action_keys(app, "toggle_pause") or ["p"])[0], ""))
            paused.update(f"⏸ PAUSED — {key} resumes")
        clock = self.query_one("#header-clock", Static)
        texts = clock_texts(now, polling(app))
        if self.size.width:  # laid out: what is left of the line after the title, the badge and the pause
            room = clock.content_size.width
            clock.update(next((text for text in texts if len(text) <= room), texts[-1]))
        else:
            clock.update(texts[0])

    def on_resize(self) -> None:
        """Another width: the clock says as much as fits."""
        self.call_after_refresh(self.tick)


def clock_texts(now: dt.datetime, suffix: str) -> list[str]:
    """The clock, from the longest to the shortest: the header shows the first that fits (at
    80 columns a long title or the pause leaves room for the time only)."""
    day = f"gas day {gas_day_of(now):%d/%m}"
    return [
        f"{now:%a %d/%m %H:%M:%S} Paris · {day}{suffix}",
        f"{now:%H:%M:%S} Paris · {day}{suffix}",
        f"{now:%H:%M:%S} Paris{suffix}",
        f"{now:%H:%M:%S}{suffix}",
    ]


def polling(app: PupitreApp) -> str:
    """Who polls the APIs: "follows <who>" when another process does for this console; "polls"
    on a team store when this console does; nothing on a console alone with its file. A team
    store that does not answer says since when (the last data stays on screen)."""
    store = app.runtime.store
    lost = store.unreachable_since
    if lost is not None:
        return f" · STORE UNREACHABLE since {lost:%H:%M:%S}"
    if store.connecting:
        return " · store: connecting…"
    following = app.feeds.following()
    if following:
        others = f" +{len(following) - 1}" if len(following) > 1 else ""
        return f" · follows {following[0]}{others}"
    return " · polls" if app.runtime.store.shared else ""
