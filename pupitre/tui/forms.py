"""Forms keep what the operator typed: closing one by mistake (Esc) asks first.

:class:`KeepsTyping` is mixed into a form screen or dialog: once mounted (its defaults and
prefill in place) it notes the value of every field, select, checkbox and list of choices;
:meth:`KeepsTyping.leave` closes at once when nothing changed since, and otherwise asks
"drop what you typed?" (``y`` drops, ``esc`` goes back to the form, untouched).
"""

from __future__ import annotations

from typing import Callable

from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Checkbox, Input, RadioSet, Select, SelectionList, Switch, TextArea


def field_values(screen: Screen[object]) -> list[tuple[str, object]]:
    """(widget id or position, value) of every form control on ``screen``, in order."""
    out: list[tuple[str, object]] = []
    controls: list[Widget] = list(screen.query("Input, TextArea, Select, SelectionList, Checkbox, Switch, RadioSet"))
    for index, widget in enumerate(controls):
        value: object
        if isinstance(widget, Input):
            value = widget.value
        elif isinstance(widget, TextArea):
            value = widget.text
        elif isinstance(widget, SelectionList):
            value = tuple(widget.selected)
        elif isinstance(widget, (Select, Checkbox, Switch)):
            value = widget.value
        elif isinstance(widget, RadioSet):
            value = widget.pressed_index
        else:  # pragma: no cover - the query names the types above
            continue
        out.append((widget.id or str(index), value))
    return out


class KeepsTyping:
    """Mixin for a form :class:`Screen`: Esc (its close action calls :meth:`leave`) asks
    before dropping what was typed. ``form_done`` (override) says the form was sent: then
    nothing is left to lose."""

    FORM_TITLE = "this form"
    _typed_from: list[tuple[str, object]] | None = None

    def on_mount(self) -> None:
        screen = self._form_screen()
        screen.call_after_refresh(self._remember)

    def _form_screen(self) -> Screen[object]:
        if not isinstance(self, Screen):
            raise TypeError(f"{type(self).__name__}: KeepsTyping is for screens")
        return self

    def _remember(self) -> None:
        self._typed_from = field_values(self._form_screen())

    @property
    def form_done(self) -> bool:
        return False

    def typed(self) -> bool:
        """Something differs from the form as it opened."""
        if self._typed_from is None or self.form_done:
            return False
        return field_values(self._form_screen()) != self._typed_from

    def leave(self, close: Callable[[], object]) -> None:
        """``close()`` now if nothing was typed; otherwise once the operator says so."""
        if not self.typed():
            close()
            return
        from pupitre.tui.dialogs.confirm import ConfirmScreen

        def answer(drop: bool | None) -> None:
            if drop:
                close()

        self._form_screen().app.push_screen(
            ConfirmScreen(f"Close {self.FORM_TITLE} and drop what you typed? (esc: back to the form)"), answer
        )
