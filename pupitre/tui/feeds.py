"""Runs the runtime's feeds in Textual workers and publishes their state.

A feed's timer is re-armed only after its run finished, so a feed never overlaps
itself; a tick that arrives while the last run still goes is dropped. Failures
back off (doubling, capped). Each run ends in one of three outcomes — data, no
data, failed — and the screens add "stale since" from the fetch time.

Before each run the feed's lease is asked for (:mod:`pupitre.providers.core.leases`): when
another process (an agent, another dashboard) polls the feed, this one **follows**: it polls no
API, and paints that process's results from the store within a second of their saving (a
change watch on the store). The lease is asked again at every interval, so a follower takes
over the polling when its holder dies.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from functools import partial
from typing import TYPE_CHECKING, Any, Iterable, TypeVar

import msgspec
from rich.markup import escape
from textual.signal import Signal
from textual.timer import Timer

from pupitre.providers.core.errors import ApiError, ConfigError
from pupitre.providers.core.feeds import Change, Feed, load_snapshot, record_result
from pupitre.providers.core.leases import FeedLeases, console_label
from pupitre.providers.core.store import StoreError

if TYPE_CHECKING:
    from textual.app import App

    from pupitre.runtime import Runtime

log = logging.getLogger("pupitre.feeds")
MAX_BACKOFF_SECONDS = 300.0
T = TypeVar("T")


class FeedState(msgspec.Struct):
    feed: Feed[Any]
    data: Any = None
    fetched_at: dt.datetime | None = None
    from_store: bool = False
    error: ApiError | None = None
    error_at: dt.datetime | None = None
    running: bool = False
    failures: int = 0
    next_at: dt.datetime | None = None
    runs: int = 0  # finished runs since start
    rerun: bool = False  # a forced refresh arrived while running: run again right after
    follows: str | None = None  # who polls this feed when another process does (this one follows)

    @property
    def has_data(self) -> bool:
        return self.fetched_at is not None

    def data_as(self, kind: type[T]) -> T | None:
        """:attr:`data`, checked to be the feed's result type ``kind`` (``None``: no data)."""
        if self.data is None or isinstance(self.data, kind):
            return self.data
        raise TypeError(f"feed {self.feed.name}: {type(self.data).__name__}, not {kind.__name__}")


class FeedRunner:
    def __init__(self, app: "App[Any]", runtime: "Runtime") -> None:
        self.app = app
        self.runtime = runtime
        self.states: dict[str, FeedState] = {feed.name: FeedState(feed) for feed in runtime.feeds}
        self.paused = False
        self.updated: Signal[str] = Signal(app, "feed-updated")
        self._timers: dict[str, Timer] = {}
        self._unsaved = ""  # the last "not saved" problem told to the operator
        self.leases = FeedLeases(runtime.store, console_label(runtime.operator, "dashboard"))
        self._watching = False
        self._read: set[str] = set()  # the feeds whose stored result was read

    def state(self, name: str) -> FeedState:
        return self.states[name]

    def load_from_store(self, names: Iterable[str] | None = None) -> list[str]:
        """Paint instantly from the last good results of ``names`` (default: every feed not read
        yet), marked as coming from the store; the feeds that got data."""
        return self._adopt(self._stored(self._unread(names)))

    async def load_rest(self) -> None:
        """The feeds not read from the store yet (the first screen's were), read in a thread;
        each that got data is published, as a fresh result is."""
        found = await asyncio.to_thread(self._stored, self._unread(None))
        for name in self._adopt(found):
            self.updated.publish(name)

    def _unread(self, names: Iterable[str] | None) -> list[str]:
        """Of ``names`` (default: every feed), those not read from the store yet, now marked read."""
        unread = [name for name in (self.states if names is None else names) if name not in self._read]
        self._read.update(unread)
        return unread

    def _stored(self, names: list[str]) -> dict[str, tuple[Any, dt.datetime]]:
        """The store's last good result of each feed of ``names`` that has one (blocking)."""
        found = {}
        for name in names:
            loaded = load_snapshot(self.runtime.store, self.states[name].feed)
            if loaded is not None:
                found[name] = loaded
        return found

    def _adopt(self, found: dict[str, tuple[Any, dt.datetime]]) -> list[str]:
        """Stored results shown, marked as coming from the store; a feed that has data already
        (a refresh that ended first) keeps its own."""
        adopted = []
        for name, (data, fetched_at) in found.items():
            state = self.states[name]
            if not state.has_data:
                state.data, state.fetched_at, state.from_store = data, fetched_at, True
                adopted.append(name)
        return adopted

    def start(self) -> None:
        for name in self.states:
            self._schedule(name, 0)

    def _schedule(self, name: str, delay: float) -> None:
        timer = self._timers.pop(name, None)
        if timer is not None:
            timer.stop()
        self.states[name].next_at = self.runtime.clock.now() + dt.timedelta(seconds=delay)
        # Textual timers divide by their delay: never arm one at 0.
        self._timers[name] = self.app.set_timer(max(delay, 0.01), partial(self.refresh, name))

    def set_paused(self, paused: bool) -> None:
        self.paused = paused
        if paused:
            for timer in self._timers.values():
                timer.stop()
            self._timers.clear()
            for state in self.states.values():
                state.next_at = None
        else:
            self.start()
        for name in self.states:
            self.updated.publish(name)

    def refresh(self, name: str, *, forced: bool = False, after_action: bool = False) -> bool:
        """Start a run of feed ``name``; ``False`` if one is already running (tick dropped)."""
        state = self.states[name]
        if state.running and after_action:
            # the read-back after an action: the run under way may predate the action
            state.rerun = True
            return False
        if state.running or (self.paused and not forced):
            return False
        state.running = True
        self.updated.publish(name)
        self.app.run_worker(self._run(state), group=f"feed:{name}", exit_on_error=False)
        return True

    def refresh_all(self) -> int:
        return sum(self.refresh(name, forced=True) for name in self.states)

    def following(self) -> list[str]:
        """Who polls the feeds this console follows (empty: it polls every feed itself)."""
        return sorted({state.follows for state in self.states.values() if state.follows})

    def release(self) -> None:
        """At exit: give up this console's leases (its followers take over at once)."""
        self.leases.release()

    async def _run(self, state: FeedState) -> None:
        feed = state.feed
        try:
            interval = feed.interval(self.runtime.clock.now())
            lease = await asyncio.to_thread(self.leases.take, feed.name, interval)
            state.follows = None if lease.mine else lease.holder
            if lease.mine:
                async with self.leases.kept(feed.name, interval):
                    await self._poll(state)
            else:
                await self._catch_up(state)
                self._watch()
        finally:
            state.running = False
            state.runs += 1
            if state.rerun:
                state.rerun = False
                self._schedule(feed.name, 0)
            elif not self.paused:
                self._schedule(feed.name, self._delay(state))
            self.updated.publish(feed.name)

    async def _catch_up(self, state: FeedState) -> bool:
        """A followed feed: the store's result when it is newer than the one shown (another
        process fetched it); true when there was one."""
        store, feed = self.runtime.store, state.feed

        def newer() -> tuple[Any, dt.datetime] | None:
            stamp = store.snapshot_times([feed.name]).get(feed.name)
            if stamp is None or (state.fetched_at is not None and stamp <= state.fetched_at):
                return None
            return load_snapshot(store, feed)

        try:
            loaded = await asyncio.to_thread(newer)
        except StoreError as error:
            self._failed(state, ApiError(f"cannot read what {state.follows} fetched: {error}", provider=feed.title))
            return False
        if loaded is None:
            return False
        changes = feed.changes(state.data, loaded[0]) if state.data is not None else []
        state.data, state.fetched_at, state.from_store = loaded[0], loaded[1], False
        state.error, state.error_at, state.failures = None, None, 0
        self._notify(changes)
        return True

    def _watch(self) -> None:
        """Once this console follows a feed: repaint followed feeds when the store changes."""
        if not self._watching:
            self._watching = True
            self.app.run_worker(self._watch_changes(), group="feeds:follow", exit_on_error=False)

    async def _watch_changes(self) -> None:
        watch = await asyncio.to_thread(self.runtime.store.change_watch)
        try:
            while True:
                if not await asyncio.to_thread(watch.wait, 0.5):
                    continue
                for state in self.states.values():
                    if state.follows is not None and not state.running and await self._catch_up(state):
                        self.updated.publish(state.feed.name)
        finally:
            watch.close()

    async def _poll(self, state: FeedState) -> None:
        feed = state.feed
        try:
            data = await feed.fetch()
            now = self.runtime.clock.now()
            try:
                # Off the event loop: a 100,000-right copy is tens of MB to compare, encode and write.
                changes = await asyncio.to_thread(record_result, self.runtime.store, feed, state.data, data, now)
            except StoreError as error:  # the data is good: show it, and say it was not saved
                changes = feed.changes(state.data, data)
                self._not_saved(feed, error)
        except ApiError as error:
            self._failed(state, error)
        except ConfigError as error:  # e.g. an unreadable key file: say so, keep running
            self._failed(state, ApiError(str(error), provider=feed.title))
        except Exception as error:  # never a traceback on screen: log it, show a sentence
            log.exception("feed %s failed", feed.name)
            self._failed(
                state, ApiError(f"unexpected error ({type(error).__name__}); details in the log", provider=feed.title)
            )
        else:
            state.data, state.fetched_at, state.from_store = data, now, False
            state.error, state.error_at, state.failures = None, None, 0
            self._notify(changes)

    def _not_saved(self, feed: Feed[Any], error: StoreError) -> None:
        """Once per problem: the data shows, but the next start will not paint it from the store."""
        log.warning("feed %s: not saved: %s", feed.name, error)
        problem = str(error)
        if problem != self._unsaved:
            self._unsaved = problem
            self.app.notify(
                escape(f"Fresh data is shown but not saved: {problem}"), title="Not saved", severity="error", timeout=30
            )

    def _failed(self, state: FeedState, error: ApiError) -> None:
        log.warning("feed %s: %s", state.feed.name, error)
        state.error, state.error_at = error, self.runtime.clock.now()
        state.failures += 1

    def _delay(self, state: FeedState) -> float:
        interval = state.feed.interval(self.runtime.clock.now())
        if state.failures == 0:
            return interval
        retry_after = state.error.retry_after if state.error else None
        backoff = min(interval * 2.0 ** (state.failures - 1), max(interval, MAX_BACKOFF_SECONDS))
        return max(backoff, retry_after or 0.0)

    def _notify(self, changes: list[Change]) -> None:
        if not self.runtime.settings.app.notifications:
            return
        for change in changes:
            if change.severity == "info" or not change.message:
                continue
            self.app.notify(
                escape(change.message),
                title="Change",
                severity="error" if change.severity == "critical" else "warning",
                timeout=15,
            )
