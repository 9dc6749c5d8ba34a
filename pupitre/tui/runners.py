"""The dashboard's side of the runners (:mod:`pupitre.runners`, headless, shared with
``pupitre agent``): what they report becomes a notification, what they read or settle
repaints the screens through the feeds' ``updated`` signal, as a feed's result does."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.markup import escape

from pupitre.providers.core.followups import Report

if TYPE_CHECKING:
    from pupitre.tui.app import PupitreApp


class AppReports:
    """:class:`pupitre.runners.Reports` of the dashboard."""

    def __init__(self, app: "PupitreApp") -> None:
        self.app = app

    def report(self, report: Report) -> None:
        self.app.notify(escape(report.message), title=report.title, severity=report.level, timeout=report.timeout)

    def updated(self, topic: str) -> None:
        if topic:
            self.app.feeds.updated.publish(topic)
