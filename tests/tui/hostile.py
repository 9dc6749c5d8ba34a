"""The screen as a terminal receives it (hostile-text and unknown-value tests)."""

from __future__ import annotations

from pupitre.tui.app import PupitreApp


def terminal_bytes(app: PupitreApp) -> str:
    """The screen as a real driver would write it (a full repaint)."""
    update = app.screen._compositor.render_update(full=True)
    assert update is not None
    return update.render_segments(app.console)
