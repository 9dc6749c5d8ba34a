"""The attention line: under the header of every screen, the worst open alert, how many are
open (and not yet seen), and the key of the alerts screen. One line at any width (cut with an
ellipsis); hidden while no alert is open. Severity is a glyph and a word, never colour alone."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.widgets import Static

from pupitre.providers.core.alerts import WORDS, Alert, worst
from pupitre.tui.app import pupitre_app

ALERTS_ACTION = "switch_mode('alerts')"

#: a severity's glyph (the same marks as the Overview's findings)
MARKS = {"attention": "!", "unknown": "?", "critical": "‼"}


def attention_text(alerts: list[Alert], key: str, titles: dict[str, str]) -> Text:
    """``‼ CRITICAL · 3 open, 2 unseen · ! list · EDF OA: acknowledgement deadline 16:00 in 10 min…``."""
    found = worst(alerts)
    if found is None:
        return Text("")
    count = sum(1 for a in alerts if a.open)
    unseen = sum(1 for a in alerts if a.open and a.seen_at is None)
    head = f"{MARKS.get(found.severity, '!')} {WORDS.get(found.severity, found.severity.upper())}"
    text = Text(head, style="bold")
    text.append(f" · {count} open" + (f", {unseen} unseen" if unseen else "") + f" · {key} list · ")
    text.append(f"{titles.get(found.provider, found.provider)}: {found.message}")
    return text


class AttentionLine(Static):
    """The worst open alert, on every screen (mounted under the header by ``PupitreScreen``)."""

    DEFAULT_CSS = """
    AttentionLine {
        height: 1;
        width: 1fr;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
        background: $warning;
        color: $background;
    }
    AttentionLine.-critical {
        background: $error;
        color: $background;
    }
    """

    def __init__(self) -> None:
        super().__init__("", id="attention-line")

    def on_mount(self) -> None:
        pupitre_app(self).alerts.updated.subscribe(self, lambda _: self.show())
        self.show()

    def show(self) -> None:
        app = pupitre_app(self)
        alerts = app.alerts.open
        found = worst(alerts)
        self.display = found is not None
        if found is None:
            return
        self.set_class(found.severity == "critical", "-critical")
        keys = [
            key
            for key, bindings in app._bindings.key_to_bindings.items()
            for binding in bindings
            if binding.action == ALERTS_ACTION
        ]
        key = app.get_key_display(Binding(keys[0] if keys else "exclamation_mark", ""))
        titles = {name: c.title for name, c in app.runtime.connections.items()}
        self.update(attention_text(alerts, key, titles))
