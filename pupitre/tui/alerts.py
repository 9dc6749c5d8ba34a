"""The dashboard's side of the alerts (:mod:`pupitre.alerts`): when to evaluate, and the
channels that reach the operator outside the screen's own lines.

Evaluated when a feed or the outbox reports (several reports in a row: one evaluation), and
on the one-second tick when a timed alert is due (the EDF OA deadline, on the runtime's clock)
or :data:`~pupitre.alerts.ALERT_SECONDS` have passed (what another process raised or cleared).
The engine runs in a thread (its findings, store reads and writes: never on the event loop),
what it found is applied on the event loop; the first frame shows the store's open alerts
(:meth:`AlertRunner.load_from_store`), the first evaluation comes after it.

An alert this console has not shown yet rings the terminal bell and sends a desktop
notification through the terminal (OSC 9 and OSC 777); the window title carries the worst open
alert (``pupitre — CRITICAL 2``) and is restored at exit; ``[alerts] command`` runs in a worker
(an asyncio subprocess: the UI never waits for it), once per alert across every process, its
failures notified and logged. Each channel is a setting of ``[alerts]``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from rich.markup import escape
from textual.signal import Signal

from pupitre.alerts import ALERT_SECONDS, AlertEngine, CommandHook, Evaluation, Observed
from pupitre.providers.core.alerts import WORDS, Alert, worst
from pupitre.providers.core.store import StoreError
from pupitre.providers.core.text import clean_text

if TYPE_CHECKING:
    from pupitre.runtime import Runtime
    from pupitre.tui.app import PupitreApp

log = logging.getLogger("pupitre.alerts")

#: xterm's title stack: save the title at start, put it back at exit (tmux and most terminals).
TITLE_PUSH = "\x1b[22;0t"
TITLE_POP = "\x1b[23;0t"
#: At start, the first evaluation waits for every feed's first run (data or failure), this long at most.
FIRST_EVALUATION_SECONDS = 10.0
#: At most this many desktop notifications for one evaluation (then one that counts the rest).
DESKTOP_AT_ONCE = 3
OSC_CHARS = 200


def osc_text(text: str, limit: int = OSC_CHARS) -> str:
    """``text`` safe inside an OSC string: cleaned (:func:`clean_text`), then with no control
    character left at all (ESC or BEL would end the sequence early), on one line, cut to ``limit``."""
    text = clean_text(text)
    text = "".join(" " if ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 else c for c in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def through_tmux(sequence: str) -> str:
    """A sequence tmux passes on to the outer terminal (``allow-passthrough``): wrapped in its
    DCS, every ESC doubled; as it is outside tmux."""
    if not os.environ.get("TMUX"):
        return sequence
    return "\x1bPtmux;" + sequence.replace("\x1b", "\x1b\x1b") + "\x1b\\"


def desktop_sequences(title: str, body: str) -> str:
    """A desktop notification as OSC 9 (iTerm2, Windows Terminal, kitty, WezTerm…) and OSC 777
    (rxvt's ``notify``, VTE/GNOME Terminal, foot…): a terminal ignores the one it does not know."""
    head, text = osc_text(title, 60).replace(";", ","), osc_text(body)
    return through_tmux(f"\x1b]9;{head}: {text}\x07") + through_tmux(f"\x1b]777;notify;{head};{text}\x07")


def title_sequence(title: str) -> str:
    """The window title (OSC 2: the terminal's, and the pane title inside tmux)."""
    return f"\x1b]2;{osc_text(title, 80)}\x07"


def window_title(alerts: list[Alert]) -> str:
    """``pupitre — CRITICAL 2`` (the worst open alert's severity, how many are open), ``pupitre``."""
    found = worst(alerts)
    if found is None:
        return "pupitre"
    return f"pupitre — {WORDS.get(found.severity, found.severity.upper())} {sum(1 for a in alerts if a.open)}"


class AlertRunner:
    """The engine's evaluations for the dashboard, and the channels."""

    def __init__(self, app: "PupitreApp", runtime: "Runtime") -> None:
        self.app = app
        self.runtime = runtime
        self.settings = runtime.settings.alerts
        self.engine = AlertEngine(runtime)
        self.hook = CommandHook(runtime)
        #: the open alerts after the last evaluation, newest first
        self.open: list[Alert] = []
        #: published after each evaluation that changed what is open, and after an acknowledgement
        self.updated: Signal[None] = Signal(app, "alerts-updated")
        self.evaluations = 0
        self._shown: set[tuple[int, str]] = set()  # (alert, severity) announced here
        self._queued = False  # what the feeds hold is to be taken at the next message
        self._pending: deque[tuple[Observed, dt.datetime]] = deque()  # taken, to evaluate in order
        self._running = False  # the evaluations' worker runs
        self._started = 0.0  # when the feeds started (time.monotonic)
        self._first_done = False  # the first evaluation was made
        self._seen_asked: list[int] = []  # alerts this console's operator has seen, to record
        self._thread: asyncio.Future[Evaluation] | None = None  # the engine at work
        self._last = 0.0
        self._next_due: Any = None
        self._title = ""

    def load_from_store(self) -> None:
        """The store's open alerts, as the last evaluation of any process left them: what the
        first frame shows (the first evaluation comes after it)."""
        try:
            self.open = [a for a in self.runtime.store.alerts_open() if a.provider in self.runtime.connections]
        except StoreError as error:  # the store's own banner says it; the first evaluation tries again
            log.warning("open alerts not read: %s", error)

    def start(self) -> None:
        """Listen to the feeds and the outbox, save the window title, evaluate (once the feeds'
        first runs have ended, :meth:`_ready`)."""
        self._started = time.monotonic()
        self.app.feeds.updated.subscribe(self.app, lambda _: self.request())
        self.app.outbox.updated.subscribe(self.app, lambda _: self.request())
        if self.settings.title:
            self._write(TITLE_PUSH)
        self.request()

    async def stop(self) -> None:
        """Let an evaluation under way end (it writes to the store), give the terminal its title back."""
        if self._thread is not None and not self._thread.done():
            await asyncio.wait([self._thread], timeout=10)
        if self.settings.title and self._title:
            self._write(TITLE_POP)

    def _write(self, sequence: str) -> None:
        """Through Textual's driver, between its frames (never in the middle of one)."""
        driver = self.app._driver
        if driver is not None:
            driver.write(sequence)
            driver.flush()

    def request(self) -> None:
        """Evaluate soon: what the feeds hold is taken at the next message (several reports in a
        row: once) and evaluated in a thread, after the evaluations taken before it."""
        if not self._queued:
            self._queued = True
            self.app.call_later(self._take)

    def _take(self) -> None:
        """What the feeds hold now, queued for evaluation: each evaluation sees the data as it was
        when it was asked for, in that order (alerts are raised in the order their data came)."""
        self._queued = False
        if not self._ready():
            return
        self._last = time.monotonic()
        self._pending.append((self.observed(), self.runtime.clock.now()))
        if not self._running:
            self._running = True
            self.app.run_worker(self._evaluations(), group="alerts:evaluate")

    def _ready(self) -> bool:
        """Whether to evaluate yet: at start, once every feed's first run has ended (one
        evaluation judges every provider, in the registry's order, whichever answered first; the
        store's open alerts show meanwhile), at the latest :data:`FIRST_EVALUATION_SECONDS` after
        the feeds started, or at once when the operator has seen an alert."""
        if not self._first_done:
            first_runs = all(state.runs >= 1 for state in self.app.feeds.states.values())
            waited = time.monotonic() - self._started >= FIRST_EVALUATION_SECONDS
            self._first_done = first_runs or waited or bool(self._seen_asked)
        return self._first_done

    @property
    def settled(self) -> bool:
        """Every evaluation asked for so far has ended (and what it found is applied)."""
        return not self._queued and not self._running

    def tick(self) -> None:
        """The one-second tick: evaluate when a timed alert is due or it has been a while."""
        due = self._next_due is not None and self.runtime.clock.now() >= self._next_due
        if due or time.monotonic() - self._last >= ALERT_SECONDS:
            self.request()

    def observed(self) -> Observed:
        """What this console's feeds hold: each feed's last good data, each failure."""
        observed = Observed()
        for state in self.app.feeds.states.values():
            feed = state.feed
            if state.has_data:
                observed.results.setdefault(feed.provider, {})[feed.name] = state.data
            if state.error is not None:
                observed.failures.setdefault(feed.provider, []).append(str(state.error))
        return observed

    async def _evaluations(self) -> None:
        """Evaluate what was taken, in order: the engine in a thread, what it found applied here."""
        try:
            while self._pending:
                observed, now = self._pending.popleft()
                seen, self._seen_asked = self._seen_asked, []
                self._thread = asyncio.ensure_future(asyncio.to_thread(self._evaluate, observed, now, seen))
                try:
                    evaluation = await asyncio.shield(self._thread)
                except StoreError as error:  # the store's own banner and notices say it; try again later
                    log.warning("alerts not evaluated: %s", error)
                    self._seen_asked[:0] = seen  # recorded again at the next evaluation (a no-op if it was)
                    continue
                self._apply(evaluation)
                if seen:
                    self.updated.publish(None)
        finally:
            self._running = False

    def _evaluate(self, observed: Observed, now: dt.datetime, seen: list[int]) -> Evaluation:
        """In a thread: record what the operator has seen, raise and clear the store's alerts."""
        for alert_id in seen:
            self.engine.seen(alert_id, now)
        return self.engine.evaluate(observed, now)

    def _apply(self, evaluation: Evaluation) -> None:
        """Announce what this console has not shown yet; the title; the screens redraw."""
        self.evaluations += 1
        self._next_due = evaluation.next_due
        for alert in evaluation.raised:
            log.warning("ALERT %s %s: %s", alert.severity.upper(), self.engine.title(alert.provider), alert.message)
        changed = [(a.id, a.severity, a.message, a.seen_at) for a in evaluation.open] != [
            (a.id, a.severity, a.message, a.seen_at) for a in self.open
        ]
        self.open = evaluation.open
        # an alert graded worse is news again (the store made it unseen)
        fresh = [a for a in self.open if (a.id, a.severity) not in self._shown and a.seen_at is None]
        self._shown.update((a.id, a.severity) for a in self.open)
        if fresh:
            self._announce(fresh)
        for alert in self.hook.due(self.open):
            self.app.run_worker(self._run_command(alert), group="alerts:command", exit_on_error=False)
        self._set_title()
        if changed:
            self.updated.publish(None)

    def _announce(self, fresh: list[Alert]) -> None:
        """The bell once, a desktop notification per new alert (the first few, then a count)."""
        if self.settings.bell:
            self._write("\x07")
        if self.settings.desktop:
            for alert in fresh[:DESKTOP_AT_ONCE]:
                word = WORDS.get(alert.severity, alert.severity.upper())
                self._write(
                    desktop_sequences(f"pupitre {word}", f"{self.engine.title(alert.provider)}: {alert.message}")
                )
            if len(fresh) > DESKTOP_AT_ONCE:
                self._write(
                    desktop_sequences("pupitre", f"{len(fresh) - DESKTOP_AT_ONCE} more alert(s): press ! to see them")
                )

    def _set_title(self) -> None:
        if not self.settings.title:
            return
        title = window_title(self.open)
        if title != self._title:
            self._title = title
            self._write(title_sequence(title))

    async def _run_command(self, alert: Alert) -> None:
        result = await self.hook.announce(alert, self.engine.title(alert.provider))
        if result is not None and not result.ok:
            self.app.notify(
                escape(f"The alert command failed for “{alert.message[:80]}”: {result.message}"),
                title="Alert command",
                severity="error",
                timeout=20,
            )

    def acknowledge(self, alert: Alert) -> None:
        """The operator of this console has seen ``alert``: recorded with their name (by the next
        evaluation, in its thread; a no-op when it was seen already, here or on another console),
        then the alerts' lines and screen redraw."""
        self._seen_asked.append(alert.id)
        self.request()
