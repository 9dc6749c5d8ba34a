"""The keyboard rule: while the operator types into a form, the dashboard's one-key actions
stay quiet, and focus moves between fields before the next key is read.

*One-key* keys are the ones that type a character (letters, digits, punctuation, no ctrl,
alt or meta): the keys an operator types into a field. A **form is open** when the screen
is a dialog (modal) or declares itself a form (``FORM = True``, the Switchgrid forms), or
when the focus is on a form control (a text field, a select, a checkbox, a list of
choices…) of an ordinary screen. Then a one-key binding acts only where the form is:

- on a form screen or dialog: its own bindings and its widgets'; never the app's
  (``1``–``6``, ``p``, ``r``, ``q``, ``?``);
- on a form control of an ordinary screen (a select, the access-rights filter panel):
  the bindings of the focused widget and its containers; neither the screen's nor the app's.

Chords (``ctrl+s``, ``ctrl+p``), function keys and the named keys (enter, escape, tab,
arrows, space) act as before. :class:`~pupitre.tui.app.PupitreApp` applies the rule in
``check_action`` (its own actions) and :class:`~pupitre.tui.screens.base.PupitreScreen`
in its own; both ask :func:`allows`.

Keys that arrive in one burst (a paste into the terminal, a laggy SSH link) are taken one
at a time (:class:`KeyGate`): Textual forwards a key to the focused widget and runs its
bindings only when it has bubbled back to the app, and meanwhile forwarded the next keys to
the widget that had the focus — a Tab between two fields, a backspace, a key that opens a
field were applied after the text typed behind them. The gate forwards the next key once
the previous one has been handled (bindings run, focus moved, the screen it opened mounted).
"""

from __future__ import annotations

import sys
from collections import deque
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from textual import events
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget

from pupitre.keymap import NAMED_KEYS

if TYPE_CHECKING:
    from textual.app import App
    from textual.dom import DOMNode


def action_keys(namespace: DOMNode, action: str) -> list[str]:
    """The keys bound to ``action`` (its name, without parameters) in ``namespace``; those
    the footer shows when there are any (Textual's hidden ``ctrl+q`` does not make ``q`` shown)."""
    bound = [
        (key, binding.show)
        for key, bindings in namespace._bindings.key_to_bindings.items()
        for binding in bindings
        if binding.action.split("(", 1)[0] == action
    ]
    shown = [key for key, show in bound if show]
    return shown or [key for key, _ in bound]


#: Widgets that take what the operator types or ticks (module, class): with the focus on one, the
#: screen is a form. Named, not imported: :func:`form_controls`.
FORM_CONTROLS: tuple[tuple[str, str], ...] = (
    ("textual.widgets._input", "Input"),
    ("textual.widgets._text_area", "TextArea"),
    ("textual.widgets._select", "Select"),
    ("textual.widgets._selection_list", "SelectionList"),
    ("textual.widgets._checkbox", "Checkbox"),
    ("textual.widgets._radio_button", "RadioButton"),
    ("textual.widgets._radio_set", "RadioSet"),
    ("textual.widgets._switch", "Switch"),
)


def form_controls() -> tuple[type[Widget], ...]:
    """The classes of :data:`FORM_CONTROLS` imported so far: a widget of a class never imported is
    none of them. Their modules load with the first screen that shows one, not with the app
    (the text area's, the selects': ~10 ms of every start)."""
    found = []
    for module, name in FORM_CONTROLS:
        loaded = sys.modules.get(module)
        cls = getattr(loaded, name, None) if loaded is not None else None
        if isinstance(cls, type):
            found.append(cls)
    return tuple(found)


def is_one_key(key: str) -> bool:
    """True for a key that types a character (``2``, ``p``, ``R``, ``slash``): no modifier,
    not a named key (enter, escape, tab, arrows, space, function keys)."""
    # Textual names the ``+`` character ``plus``: a ``+`` in a key name joins a modifier.
    return bool(key) and key not in NAMED_KEYS and "+" not in key


def is_form_screen(node: DOMNode) -> bool:
    """A dialog (modal screen) or a screen that declares ``FORM = True``."""
    return bool(getattr(node, "is_modal", False) or getattr(node, "FORM", False))


def in_form_control(app: App[Any]) -> bool:
    """The focus is on a form control, or inside one (a select's open list)."""
    focused = app.focused
    if focused is None:
        return False
    controls = form_controls()
    return any(isinstance(node, controls) for node in focused.ancestors_with_self)


def form_open(app: App[Any]) -> bool:
    """A form or a dialog is open, or a form control has the focus."""
    try:
        screen = app.screen
    except Exception:  # no screen yet (start-up) or none left (exit)
        return False
    return is_form_screen(screen) or in_form_control(app)


def allows(app: App[Any], namespace: DOMNode, key: str | None, keys_of_action: list[str]) -> bool:
    """May the binding of ``namespace`` act for ``key``?

    ``key`` is the key being handled, or None when Textual asks for the footer and the
    key help: then a binding is shown only if one of its keys (``keys_of_action``) may act.
    """
    keys = [key] if key is not None else keys_of_action
    if not keys or not any(is_one_key(k) for k in keys):
        return True
    if not all(is_one_key(k) for k in keys):
        return True  # reachable by a chord (the footer shows it; the chord acts)
    try:
        screen = app.screen
    except Exception:
        return True
    if namespace is app:
        return not form_open(app)
    if namespace is screen:
        return is_form_screen(screen) or not in_form_control(app)
    return True


#: A key whose end was not heard (its widget removed meanwhile) lets the next one go after this.
KEY_TIMEOUT = 0.3


class KeyHandled(Message, bubble=True):
    """Posted behind a forwarded key, on the same path: it reaches the app once the key has."""

    def __init__(self, event: events.Event) -> None:
        super().__init__()
        self.event = event


class KeyGate:
    """One key (or paste) at a time: the next is forwarded once the previous was handled.

    The app calls :meth:`receive` with every key and paste it reads, and :meth:`handled`
    when a :class:`KeyHandled` reaches it. ``dispatch`` is Textual's own handling (priority
    bindings, then forwarding to the focused widget).
    """

    def __init__(self, app: App[Any], dispatch: Callable[[events.Event], Awaitable[None]]) -> None:
        self.app = app
        self.dispatch = dispatch
        self.waiting: deque[events.Event] = deque()
        self.in_flight: events.Event | None = None
        self.timer: Timer | None = None

    async def receive(self, event: events.Event) -> None:
        if self.in_flight is not None or self.waiting:
            self.waiting.append(event)
            return
        await self._send(event)

    @property
    def idle(self) -> bool:
        """No key waits and none is being handled."""
        return self.in_flight is None and not self.waiting

    async def _send(self, event: events.Event) -> None:
        if self.app._closing or not self.app.screen_stack:
            self.waiting.clear()  # the app is closing: nothing left to type into
            return
        target = self.app.focused or self.app.screen
        self.in_flight = event
        await self.dispatch(event)
        if not event.is_forwarded:  # taken by a priority binding: done
            await self._next()
            return
        target.post_message(KeyHandled(event))
        self.timer = self.app.set_timer(KEY_TIMEOUT, lambda: self._lost(event))

    async def handled(self, message: KeyHandled) -> None:
        if message.event is self.in_flight:
            await self._next()

    async def _lost(self, event: events.Event) -> None:
        if event is self.in_flight:
            await self._next()

    async def _next(self) -> None:
        if self.timer is not None:
            self.timer.stop()
            self.timer = None
        self.in_flight = None
        if not self.waiting:
            return
        screen = self.app.screen
        if not screen.is_mounted:  # a screen the last key opened: its fields take the next keys
            self.in_flight = self.waiting[0]  # hold the line meanwhile
            self.app.call_after_refresh(self._resume)
            return
        await self._send(self.waiting.popleft())

    async def _resume(self) -> None:
        self.in_flight = None
        await self._next()
