"""A one-line panel footer: the data's age, whether it is stale, paused or failing."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from pupitre.providers.core.clock import format_age
from pupitre.tui.app import pupitre_app
from pupitre.tui.feeds import FeedState


def describe(state: FeedState, now_text: str, age_seconds: float | None, paused: bool) -> Text:
    """Plain words for the operator: age, origin, refresh state and last error."""
    text = Text()
    if not state.has_data:
        text.append("no data yet" if state.error is None else "no data", style="bold")
    elif state.from_store:
        text.append(f"STALE: from the store, fetched {now_text} ({format_age(age_seconds or 0)} ago)", style="bold")
    else:
        text.append(f"data {format_age(age_seconds or 0)} old (fetched {now_text})")
    if state.running:
        text.append(" · refreshing…")
    elif paused:
        text.append(" · PAUSED (p resumes)", style="bold")
    if state.error is not None:
        text.append(" · ERROR: ", style="bold")
        text.append(str(state.error))
    return text


class FeedStatus(Static):
    """Shows the state of one feed; call :meth:`refresh_status` on feed updates and ticks."""

    def __init__(
        self, feed_name: str, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__("", name=name, id=id, classes=classes)
        self.feed_name = feed_name

    def on_mount(self) -> None:
        self.refresh_status()

    def refresh_status(self) -> None:
        app = pupitre_app(self)
        feeds = app.feeds
        state = feeds.state(self.feed_name)
        now = app.runtime.clock.now()
        age = (now - state.fetched_at).total_seconds() if state.fetched_at else None
        fetched = state.fetched_at.astimezone(now.tzinfo).strftime("%H:%M:%S") if state.fetched_at else ""
        self.set_class(state.error is not None, "-error")
        self.set_class(state.from_store, "-stale")
        self.update(describe(state, fetched, age, feeds.paused))
