"""The Textual app: modes (one per screen), feeds in workers, keys and the command palette."""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from typing import Any, Callable, Iterable

from rich.markup import escape
from textual import events
from textual.app import App, ScreenStackError, SystemCommand
from textual.binding import Binding
from textual.dom import DOMNode
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.signal import Signal

from pupitre.crash import EXIT_CRASH, crash_hook, log_crash
from pupitre.providers.core.store import StoreError, StoreUnreachable
from pupitre.providers.core.text import clean_text
from pupitre.providers.edf_oa import feeds as edf_oa
from pupitre.providers.edf_oa import rules as edf_oa_rules
from pupitre.providers.edf_oa.models import CurtailmentOrder
from pupitre.providers.switchgrid import feeds as switchgrid
from pupitre.runners import Runners
from pupitre.runtime import Runtime
from pupitre.tui import keyboard, registry
from pupitre.tui.alerts import AlertRunner
from pupitre.tui.feeds import FeedRunner
from pupitre.tui.outbox import OutboxRunner
from pupitre.tui.runners import AppReports
from pupitre.tui.stylesheet import ParsedSources, Stylesheet

log = logging.getLogger("pupitre.app")
#: ``pupitre``'s exit code when the team's store refuses this pupitre (as a store error at start).
EXIT_STORE_REFUSED = 2

#: The longest an information (not a warning or an error) stays on screen, in seconds.
INFO_TIMEOUT = 8.0


def screen_commands(app: App[None], screen: Screen[object]) -> Iterable[SystemCommand]:
    """Every action a screen binds, as palette commands (derived, so none is forgotten)."""
    keys: dict[str, list[str]] = {}
    described: dict[str, Binding] = {}
    for binding in getattr(type(screen), "BINDINGS", []):
        if isinstance(binding, Binding) and binding.description and not binding.action.startswith("app."):
            for key in binding.key.split(","):
                keys.setdefault(binding.action, []).append(app.get_key_display(Binding(key.strip(), "")))
            described.setdefault(binding.action, binding)
    for action, binding in described.items():
        yield SystemCommand(
            f"{binding.description} ({' / '.join(keys[action])})",
            binding.tooltip or binding.description,
            lambda action=action: app.call_later(screen.run_action, action),
        )


def _screen(entry: registry.ScreenEntry, *args: object, **kwargs: object) -> Screen[Any]:
    screen = entry.load()(*args, **kwargs)
    if not isinstance(screen, Screen):
        raise TypeError(f"{entry.where} is not a screen")
    return screen


def _mode(entry: registry.ScreenEntry) -> Callable[[], Screen[Any]]:
    return lambda: _screen(entry)


class PupitreApp(App[None]):
    TITLE = "pupitre"
    CSS_PATH = registry.css_paths()
    # Screens are imported when first shown: start-up pays only for the first one.
    MODES = {entry.name: _mode(entry) for entry in registry.modes()}
    BINDINGS = [
        *(
            Binding(entry.key or "", f"switch_mode('{entry.name}')", entry.title, id=entry.binding_id, show=False)
            for entry in registry.keyed()
        ),
        Binding("r", "refresh", "Refresh", id="feeds.refresh"),
        Binding("p", "toggle_pause", "Pause", id="feeds.pause"),
        Binding("question_mark,f1", "toggle_help", "Keys", id="app.help"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    def __init__(
        self,
        runtime: Runtime,
        *,
        clock_tick: float = 1.0,
        start_screen: str = "overview",
        started: Callable[[], None] | None = None,
    ) -> None:
        """``started``: called once the first frame is drawn (``pupitre``: the collector's usual pace)."""
        if start_screen not in self.MODES:
            raise ValueError(f"no screen named {start_screen!r} to start on; known: {', '.join(self.MODES)}")
        # The asked screen is the first mode (Textual reads DEFAULT_MODE in App.__init__): no
        # blank default screen, and no switch_mode before the first frame (a switch holds the
        # display for 50 ms and throws away the frame drawn meanwhile).
        self.DEFAULT_MODE = start_screen  # type: ignore[misc]  # a class variable in Textual, per instance here
        super().__init__()
        self._parsed_sources = ParsedSources(runtime.ctx.data_dir)
        self._parsed = self._parsed_sources.load()
        # parses each source once, and not at all when an earlier start did; the theme's
        # variables are those Textual just computed for its own stylesheet (get_css_variables)
        self.stylesheet = Stylesheet(variables=dict(self.theme_variables), parsed=self._parsed)
        self._started = started
        self.runtime = runtime
        self.start_screen = start_screen
        self.feeds = FeedRunner(self, runtime)
        self.outbox = OutboxRunner(self, runtime)
        self.runners = Runners(runtime, AppReports(self), self.feeds.leases)
        self.alerts = AlertRunner(self, runtime)
        for connection in runtime.connections.values():  # a delivered action starts its follow-ups
            for key in connection.handlers:
                self.outbox.on_delivered[key] = self.runners.delivered
        self.ack_choices: dict[str, dict[str, bool | None]] = {}  # order id -> contract -> choice
        self.ticked: Signal[None] = Signal(self, "tick")
        self.clock_tick = clock_tick
        self.crashed: BaseException | None = None
        #: the team's store refused this pupitre (another schema): said by ``pupitre`` at exit
        self.store_refused: StoreError | None = None
        self.key_in_hand: str | None = None  # the key whose bindings are being looked up
        self.key_gate = keyboard.KeyGate(self, super().on_event)
        if runtime.settings.app.keys:
            self.set_keymap(runtime.settings.app.keys)

    def on_load(self) -> None:
        """Before the first screen is composed: the store's last results of its feeds and the
        open alerts, which it paints (the other feeds' are read after the first frame)."""
        screen = registry.screen(self.start_screen).load()
        self.feeds.load_from_store(getattr(screen, "FEEDS", ()))
        self.alerts.load_from_store()

    def on_mount(self) -> None:
        """The asked screen paints from the store's last results first; everything else (the
        team store's connection, feeds, outbox, follow-ups, alerts, the clock) starts once that
        frame is on the terminal."""
        self.call_after_refresh(self._after_first_frame)

    def _after_first_frame(self) -> None:
        if self._started is not None:
            self._started()
        parsed = self._parsed_sources.unsaved(self._parsed)  # taken here: Textual's cache is not thread-safe
        if parsed is not None:
            self.run_worker(partial(self._parsed_sources.save, parsed), thread=True, exit_on_error=False)
        if self.runtime.store.connecting:  # a team store, painted from the copy until it answers
            self.run_worker(self._connect_store(), exit_on_error=False)
        else:
            self._start()

    async def _connect_store(self) -> None:
        """The team's store, connected off the UI (psycopg's import and the server's answer):
        unreachable, the copy stays on screen and the store reconnects by itself; another
        schema than this pupitre's ends the dashboard with the store's sentence."""
        try:
            await asyncio.to_thread(self.runtime.store.connect)
        except StoreUnreachable as error:
            log.warning("%s", error)
        except StoreError as error:
            self.store_refused = error
            self.exit(return_code=EXIT_STORE_REFUSED)
            return
        if not self.is_running:  # quit while the store was being connected: nothing to start
            return
        self.ticked.publish(None)  # the header says at once who polls, or since when it is unreachable
        self._start()

    def _start(self) -> None:
        """Once the store answers (or was asked): the other feeds' stored results, then the
        feeds, what a crash or a restart left, the alerts, the tick."""
        # before the first results are stored: "first use" means no row of that environment yet
        try:
            notes = self.runtime.environment_notes()
        except StoreUnreachable:
            notes = []  # the team's store does not answer yet: nothing to say of its environments
        if notes:
            self._environment_notes(notes)
        self.run_worker(self._start_work(), group="app:start")

    async def _start_work(self) -> None:
        await self.feeds.load_rest()  # before any run: a stored result never replaces a fresh one
        if not self.is_running:  # quit meanwhile (a key, a hang-up): nothing to start
            return
        self.feeds.start()
        self.outbox.kick()  # what a crash or a network cut left pending
        self.runners.start(self.feeds.state(switchgrid.FEED).data)  # what a restart left to follow
        self.alerts.start()
        self.set_interval(self.clock_tick, self._tick)
        if self.runtime.sandboxed != set(self.runtime.providers):  # secrets matter
            self.run_worker(self._probe_keyring, thread=True, exit_on_error=False)

    def clear_selection(self) -> None:
        """Textual's; nothing to clear before the first screen is on its stack. On Python 3.12+
        Textual runs tasks eagerly, so the first mode's screen composes while it is installed,
        and an ``Input`` mounted then asks the app's (not yet stacked) screen to clear its selection."""
        try:
            super().clear_selection()
        except ScreenStackError:
            pass

    def _end_batch(self) -> None:
        """Textual's; then the frame a pupitre screen held during the batch is drawn (in full)."""
        super()._end_batch()
        if not self._batch_count and self._screen_stack and getattr(self.screen, "frame_held", False):
            self.screen.refresh()

    def _tick(self) -> None:
        crash_hook("tui")
        self.alerts.tick()
        self.ticked.publish(None)

    # -- the keyboard rule (pupitre.tui.keyboard) -----------------------------------------
    async def on_event(self, event: events.Event) -> None:
        """Keys and pastes the terminal sends go through the gate, one at a time."""
        if isinstance(event, (events.Key, events.Paste)) and not event.is_forwarded:
            await self.key_gate.receive(event)
            return
        await super().on_event(event)

    async def on_key_handled(self, message: keyboard.KeyHandled) -> None:
        await self.key_gate.handled(message)

    async def _check_bindings(self, key: str, priority: bool = False) -> bool:
        """Textual's binding lookup, with the key at hand recorded for ``check_action``."""
        if not self.screen_stack:  # a key that was still on its way when the app closed
            return False
        outer, self.key_in_hand = self.key_in_hand, key
        try:
            return await super()._check_bindings(key, priority)
        finally:
            self.key_in_hand = outer

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """While a form is open, the app's one-key actions do not act (nor show in the footer)."""
        return keyboard.allows(self, self, self.key_in_hand, keyboard.action_keys(self, action))

    # -- unexpected errors ---------------------------------------------------------------
    def _handle_exception(self, error: Exception) -> None:
        """Every unhandled error of the app, its screens, timers and workers lands here.

        Textual's own handler keeps a Rich traceback *with local variables* (tokens,
        payloads) to print once the terminal is restored, and the app's return code is 1.
        Here: the traceback goes to the log without locals, nothing is kept for the
        terminal (``pupitre`` then prints one sentence), and the return code is
        :data:`EXIT_CRASH`. The app still exits (and ``run_test`` still re-raises).
        """
        if self.crashed is None:
            self.crashed = error
            log_crash(error, "the dashboard")
        self._return_code = EXIT_CRASH
        if self._exception is None:  # pilot tests re-raise it, as with Textual's handler
            self._exception = error
            self._exception_event.set()
        self._close_messages_no_wait()

    def _print_error_renderables(self) -> None:
        """Nothing of a crash is printed by Textual (see :meth:`_handle_exception`)."""
        if self.crashed is not None:
            self._exit_renderables.clear()
            return
        super()._print_error_renderables()

    def _environment_notes(self, notes: list[str]) -> None:
        """Say once, after the first paint, which providers start on an empty environment
        (other environments' data kept apart) and which actions are held."""
        for note in notes:
            self.notify(escape(note), title="Environments", timeout=20)

    def _probe_keyring(self) -> None:
        """Say once, after the first paint, when secrets cannot use a keyring (headless host)."""
        self.runtime.secrets.keyring_backend()  # bounded by the secret store's timeout
        notice = self.runtime.secrets.take_notice()
        if notice:
            self.call_from_thread(self.notify, escape(notice), title="Secrets", timeout=20)

    async def on_unmount(self) -> None:
        await self.runners.stop()
        await self.alerts.stop()
        self.feeds.release()
        await self.runtime.aclose()

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every notification (screens call this one) with control characters made visible:
        API text is cleaned where it is parsed, this holds for any other text too. An
        information goes after :data:`INFO_TIMEOUT` at most; where and how high the toasts
        are is app.tcss's (the newest, bottom right, three rows at most)."""
        if severity == "information":
            timeout = min(self.NOTIFICATION_TIMEOUT if timeout is None else timeout, INFO_TIMEOUT)
        super().notify(
            clean_text(message, multiline=True),
            title=clean_text(title),
            severity=severity,
            timeout=timeout,
            markup=markup,
        )

    # -- actions -------------------------------------------------------------------------
    def action_refresh(self) -> None:
        started = self.feeds.refresh_all()
        self.notify("Refreshing…" if started else "Already refreshing.", timeout=2)

    def unsent_choices(self) -> int:
        """How many curtailment choices for today's order EDF OA does not have yet."""
        order = self.feeds.state(edf_oa.CURTAILMENTS_FEED).data_as(CurtailmentOrder)
        if order is None:
            return 0
        settings = self.runtime.settings.edf_oa
        summary = edf_oa_rules.ack_summary(
            order,
            self.feeds.state(edf_oa.ACKS_FEED).data,
            self.runtime.clock.now(),
            edf_oa_rules.parse_hhmm(settings.ack_deadline),
        )
        return edf_oa_rules.unsent_count(summary, self.ack_choices.get(order.order_id, {}))

    async def action_quit(self) -> None:
        """Quit; if something the operator decided is not yet with the API, say so first:
        actions in the outbox (kept, sent at the next start) and EDF OA choices never sent
        (lost: they live in this dashboard only)."""
        pending = self.runtime.outbox.pending()
        unsent = self.unsent_choices() if "edf_oa" in self.runtime.providers else 0
        if not pending and not unsent:
            self.exit()
            return
        from pupitre.tui.dialogs.confirm import ConfirmScreen

        lines = []
        if unsent:
            lines.append(
                f"{unsent} curtailment choice(s) not sent to EDF OA (Curtailments, s sends them): "
                "quitting loses them, and a contract left out counts as refused."
            )
        if pending:
            lines.append(
                f"{len(pending)} action(s) not yet accepted by the API (kept in the outbox, sent at the next start)."
            )

        def answer(quit_anyway: bool | None) -> None:
            if quit_anyway:
                self.exit()

        self.push_screen(ConfirmScreen("\n".join([*lines, "Quit anyway?"])), answer)

    def action_toggle_pause(self) -> None:
        """Pause or resume every feed; the header of every screen says so (``⏸ PAUSED — p resumes``)."""
        self.feeds.set_paused(not self.feeds.paused)
        self.ticked.publish(None)  # the headers show it now, not at the next tick
        self.notify(
            "Feeds paused: data will age until you press p again." if self.feeds.paused else "Feeds resumed.", timeout=4
        )

    def open_screen(self, name: str, *args: object, **kwargs: object) -> None:
        """Push the registry's screen ``name``, built with ``args`` and ``kwargs``: a screen opens
        another by name, so it never imports the screen that opened it back."""
        self.push_screen(_screen(registry.screen(name), *args, **kwargs))

    def action_toggle_help(self) -> None:
        """The key help of the current screen, a dialog of its own (``?``, ``f1`` or esc closes it):
        Textual's side panel is a third of an 80-column terminal, where each key took four lines."""
        from pupitre.tui.dialogs.keys import KeysScreen, key_rows

        screen = self.screen
        if isinstance(screen, KeysScreen):
            screen.dismiss()
            return
        headers = screen.query("#header")
        title = str(getattr(headers.first(), "title_text", "")) if headers else ""
        self.push_screen(KeysScreen(title or type(screen).__name__, key_rows(screen)))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        for entry in registry.keyed():
            key = self.get_key_display(Binding(entry.key or "", ""))
            yield SystemCommand(
                f"Go to {entry.title} ({key})", entry.help, lambda mode=entry.name: self.switch_mode(mode)
            )
        yield SystemCommand("Refresh now (r)", "Fetch every feed now", self.action_refresh)
        yield SystemCommand(
            "Pause / resume feeds (p)", "Stop or restart the periodic refreshes", self.action_toggle_pause
        )
        yield from screen_commands(self, screen)
        yield from super().get_system_commands(screen)


def pupitre_app(node: DOMNode) -> PupitreApp:
    """``node.app``, the :class:`PupitreApp` every pupitre screen and widget runs in (its
    runtime, feeds and outbox); :class:`TypeError` inside any other app."""
    app = node.app
    if not isinstance(app, PupitreApp):
        raise TypeError(f"{type(node).__name__} runs inside PupitreApp, not {type(app).__name__}")
    return app
