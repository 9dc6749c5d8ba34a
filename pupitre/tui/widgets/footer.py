"""The footer of every screen: the keys that fit in one line, the screen's own first."""

from __future__ import annotations

import msgspec
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import ActiveBinding
from textual.reactive import reactive
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from pupitre.tui import keyboard

#: The binding id of the key help (``?``): always in the footer, it lists what the footer leaves out.
HELP_ID = "app.help"


def key_width(key_display: str, description: str) -> int:
    """Cells a :class:`FooterKey` takes in Textual's default (not compact) style: `` k Desc ``."""
    return Text(key_display).cell_len + 2 + Text(description).cell_len + 1


def fitting(entries: list[tuple[ActiveBinding, str]], app_node: object, width: int) -> list[ActiveBinding]:
    """Which of ``entries`` (each with its key as displayed) the footer shows in ``width`` cells.

    In their order (the screen's :attr:`active_bindings`: the screen's own keys, its panels',
    then the app's), the screen's and its panels' keys come first and are kept while they fit;
    the app's keys (refresh, pause, quit, the screen keys) only when all of them fit. The key
    help (``?``) is always kept (the keys left out are there), in its place among the app's.
    """
    help_entries = [entry for entry in entries if entry[0].binding.id == HELP_ID]
    used = sum(key_width(shown, entry.binding.description) for entry, shown in help_entries)
    own = [entry for entry in entries if entry[0].node is not app_node]
    global_ = [entry for entry in entries if entry[0].node is app_node and entry[0].binding.id != HELP_ID]
    kept: set[int] = {id(entry) for entry, _ in help_entries}
    complete = True
    for group in (own, global_):
        if not complete:
            break
        for entry, shown in group:
            cost = key_width(shown, entry.binding.description)
            if used + cost > width:
                complete = False
                break
            kept.add(id(entry))
            used += cost
    return [entry for entry, _ in entries if id(entry) in kept]


class BoundKey(FooterKey):
    """Textual's :class:`FooterKey`, not compact until its footer says so. Textual's starts
    compact, is made so again on mount, then bound to its footer's ``compact`` (false): each
    key restyled twice before the first frame (~10 ms for a screen's keys, issue #20)."""

    compact = reactive(False, init=False)


class ShownKey(msgspec.Struct, frozen=True):
    """One key of the footer, as :class:`FooterKey` is built from it."""

    key: str
    key_display: str
    description: str
    action: str
    disabled: bool
    tooltip: str
    palette: bool = False


class PupitreFooter(Footer):
    """Textual's :class:`Footer`, showing only what fits in one line at the screen's width
    (:func:`fitting`): at 80×24 a screen's primary actions are not pushed out of sight by the
    keys every screen shares, and ``?`` lists every key. One key per action, as Textual's:
    the first of its keys that acts there (:func:`pupitre.tui.keyboard.allows`).

    Textual composes its footer again at every change of the bindings (each move of the focus,
    several at a screen's mount): here only when the keys it shows change (:meth:`recompose`)."""

    _composed_width = 0
    _composed: list[ShownKey] | None = None

    def shown_keys(self) -> list[ShownKey]:
        """The keys to show now, in their order (none before the bindings are ready)."""
        if not self._bindings_ready:
            return []
        active = self.screen.active_bindings
        by_action: dict[str, ActiveBinding] = {}
        for entry in active.values():
            # of an action's keys, the first that acts here (in a form, f1 rather than ?)
            kept = by_action.get(entry.binding.action)
            if entry.binding.show and (kept is None or (not self._acts(kept) and self._acts(entry))):
                by_action[entry.binding.action] = entry
        palette = active.get(self.app.COMMAND_PALETTE_BINDING) if self.show_command_palette else None
        if not self.app.ENABLE_COMMAND_PALETTE:
            palette = None
        width = self.screen.size.width or self.app.size.width
        if palette is not None:
            # its own padding and the border that separates it
            width -= key_width(self.app.get_key_display(palette.binding), palette.binding.description) + 2
        entries = [(entry, self.app.get_key_display(entry.binding)) for entry in by_action.values()]
        keys = [
            ShownKey(
                entry.binding.key,
                self.app.get_key_display(entry.binding),
                entry.binding.description,
                entry.binding.action,
                not entry.enabled,
                entry.tooltip,
            )
            for entry in fitting(entries, self.app, width)
        ]
        if palette is not None:
            binding = palette.binding
            keys.append(
                ShownKey(
                    binding.key,
                    self.app.get_key_display(binding),
                    binding.description,
                    binding.action,
                    not palette.enabled,
                    binding.tooltip or binding.description,
                    palette=True,
                )
            )
        return keys

    def compose(self) -> ComposeResult:
        self._composed_width = self.screen.size.width or self.app.size.width
        self._composed = keys = self.shown_keys()
        for shown in keys:
            key = (FooterKey if shown.palette else BoundKey)(
                shown.key,
                shown.key_display,
                shown.description,
                shown.action,
                classes="-command-palette" if shown.palette else "",
                disabled=shown.disabled,
                tooltip=shown.tooltip,
            )
            yield key if shown.palette else key.data_bind(compact=Footer.compact)

    async def recompose(self) -> None:
        """Textual's, when the keys to show changed since the last compose."""
        if not self.is_attached or self._pruning:  # as Textual's: a footer leaving its screen
            return
        if self._composed is None or self.shown_keys() != self._composed:
            await super().recompose()

    def _acts(self, entry: ActiveBinding) -> bool:
        """Whether the entry's key acts now (the keyboard rule: no one-key action in a form)."""
        return keyboard.allows(self.app, entry.node, entry.binding.key, [])

    def on_resize(self, event: events.Resize) -> None:
        """Another width, another choice of keys."""
        if self._bindings_ready and event.size.width != self._composed_width:
            self.call_after_refresh(self.recompose)
