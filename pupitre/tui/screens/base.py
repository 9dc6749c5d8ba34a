"""What every pupitre screen shares: the header bar, the footer and the tick."""

from __future__ import annotations

import logging

from rich.text import Text
from textual.binding import ActiveBinding
from textual.screen import Screen
from textual.widgets import Static

from pupitre.providers.core.store import StoreUnreachable
from pupitre.tui import keyboard
from pupitre.tui.app import PupitreApp, pupitre_app
from pupitre.tui.widgets.feed_status import FeedStatus
from pupitre.tui.widgets.header import HeaderBar

log = logging.getLogger("pupitre.screens")


class PupitreScreen(Screen[None]):
    """Subscribes to feed updates and the one-second tick; subclasses redraw.

    Textual runs the ``on_mount`` of every class in the hierarchy, subclass first: a
    subclass builds its widgets in its own ``on_mount`` and must not call this one.
    """

    FEEDS: tuple[str, ...] = ()
    FORM = False
    """A form (the Switchgrid forms): the app's one-key actions do not act on it (pupitre.tui.keyboard)."""
    frame_held = False
    """A frame was due while the app held its display (:meth:`_compositor_refresh`)."""

    @property
    def papp(self) -> PupitreApp:
        return pupitre_app(self)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """With the focus on a form control, the screen's one-key actions do not act."""
        app = self.papp
        return keyboard.allows(app, self, app.key_in_hand, keyboard.action_keys(self, action))

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        """Textual's, in the order the footer and ``?`` show them: this screen's own keys,
        its panels' (pupitre's bindings have ids), the app's global keys, then Textual's
        generic ones (cursor keys, focus, copy)."""
        bindings = super().active_bindings
        app = self.app

        def rank(item: tuple[str, ActiveBinding]) -> int:
            active = item[1]
            if active.node is app:
                return 2
            if not active.binding.id:
                return 3
            return 0 if active.node is self else 1

        return dict(sorted(bindings.items(), key=rank))

    def _compositor_refresh(self) -> None:
        """Textual's, except while the app holds its display (a batch: the first screen mounts
        in the app's start-up batch, a footer recomposes): Textual draws the frame then throws
        it away (a whole screen at the first frame, ~30 ms). Here it is not drawn; the app
        repaints the screen when the batch ends (:meth:`PupitreApp._end_batch`)."""
        if self.app._batch_count and self.is_current:
            self.frame_held = True
            return
        self.frame_held = False
        super()._compositor_refresh()

    def on_mount(self) -> None:
        self._store_banner()
        self.papp.feeds.updated.subscribe(self, self._on_feed_updated)
        self.papp.ticked.subscribe(self, self._on_tick)
        self._redraw_kept()
        # A run that ended between the status lines' own mount and this subscription was
        # not heard: without this they said "refreshing…" until the next tick.
        for status in self.query(FeedStatus):
            status.refresh_status()

    def _store_banner(self) -> None:
        """Under the header, on every screen: the store was replaced, or nothing can be saved."""
        notice = self.papp.runtime.store_notice
        headers = self.query(HeaderBar)
        if notice is None or not headers:
            return
        glyph = "⚠ NOTHING CAN BE SAVED —" if notice.level == "critical" else "⚠"
        self.mount(Static(Text(f"{glyph} {notice.message}"), id="store-banner"), after=headers.first())

    def on_screen_resume(self) -> None:
        """Back from a detail or a dialog: what was seen or decided there shows at once."""
        if self.is_mounted:
            self._redraw_kept()

    def _redraw_kept(self, step: str = "redraw") -> None:
        """Repaint (or ``tick``); when the team's store does not answer for something not read
        before, what is on screen stays (the header says since when the store is unreachable)."""
        try:
            getattr(self, step)()
        except StoreUnreachable as error:
            log.warning("%s: not repainted: %s", type(self).__name__, error)

    def _on_feed_updated(self, name: str) -> None:
        if name in self.FEEDS:
            self._redraw_kept()
        for status in self.query(FeedStatus):
            if status.feed_name == name:
                status.refresh_status()

    def _on_tick(self, _: object) -> None:
        for header in self.query(HeaderBar):
            header.tick()
        for status in self.query(FeedStatus):
            status.refresh_status()
        self._redraw_kept("tick")

    def redraw(self) -> None:
        """Repaint from the feeds' current data."""

    def tick(self) -> None:
        """Update what moves with time (countdowns)."""
