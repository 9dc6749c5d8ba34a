"""Feeds: named periodic reads, and what happens to each good result.

A :class:`Feed` knows how to fetch, how to (de)serialise its data for the store,
and how to compare two results into :class:`Change` rows (history and
notifications). The TUI runs feeds in workers (``tui/feeds.py``); ``pupitre
check`` runs them once. Both record results through :func:`record_result`, so the
next start paints instantly from the store.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Awaitable, Callable, Generic, Literal, TypeVar

import msgspec

from pupitre.providers.core.store import Store, StoreError

log = logging.getLogger("pupitre.feeds")
T = TypeVar("T")
Severity = Literal["info", "attention", "critical"]


class Change(msgspec.Struct, frozen=True):
    """One observed change between two results of a feed (a history row)."""

    key: str
    old: str | None
    new: str
    detail: str = ""
    severity: Severity = "info"
    message: str = ""


class Partial(msgspec.Struct, Generic[T], frozen=True):
    """What a read cut short had got: ``data`` (the items not read keep their last good data),
    ``read`` items of ``total``."""

    data: T
    read: int
    total: int


def _no_pace(max_age: float | None) -> float:
    return 0.0


class Feed(msgspec.Struct, Generic[T]):
    """A named periodic read. The last four fields serve ``pupitre check`` (a probe that must
    answer in time and spare the quotas); their defaults suit a feed of one or a few calls."""

    name: str
    provider: str
    title: str
    fetch: Callable[[], Awaitable[T]]
    dump: Callable[[T], Any]
    load: Callable[[Any], T]
    interval: Callable[[dt.datetime], float]
    changes: Callable[[T | None, T], list[Change]] = lambda old, new: []
    #: The state of each key in a result read at a time, ``(key, since, state, detail)``, kept as
    #: a timeline (:meth:`Store.record_states`, under :func:`states_feed` of the feed's name).
    states: Callable[[T, dt.datetime], list[tuple[str, dt.datetime, str, str]]] | None = None
    #: Seconds a read spends waiting for its quota (the items to read over the paced rate),
    #: given ``max_age`` (:attr:`fetch_older`); a probe's time budget adds it to an answer's time.
    pace: Callable[[float | None], float] = _no_pace
    #: Reads only the items last read more than ``max_age`` seconds ago and keeps the others
    #: (``pupitre check --max-age``); ``None``: the feed is read whole or answered from the store.
    fetch_older: Callable[[float], Awaitable[T]] | None = None
    #: What :attr:`fetch_older` would answer when every item was read within ``max_age`` seconds,
    #: read from the store (no call, no event loop); ``None`` when it has something to read.
    unread_older: Callable[[float], T | None] | None = None
    #: After a read was cancelled (its time budget ran out): what it had got, else ``None``.
    partial: Callable[[], Partial[T] | None] | None = None
    #: ``reuse(fetched_at, now)``: whether a stored result is still to be used instead of a new
    #: read, by the document's recommended call frequency (ADICT: the rights list once a day).
    reuse: Callable[[dt.datetime, dt.datetime], bool] | None = None


def states_feed(name: str) -> str:
    """The history name under which a feed's state timeline is kept."""
    return f"{name}#states"


def fixed_interval(seconds: float) -> Callable[[dt.datetime], float]:
    return lambda now: seconds


def load_snapshot(store: Store, feed: Feed[T]) -> tuple[T, dt.datetime] | None:
    """The last good result of a feed from the store, or ``None`` (also if unreadable)."""
    try:
        snapshot = store.load_snapshot(feed.name)
    except StoreError as error:  # e.g. a damaged page: start without it, the next fetch replaces it
        log.warning("feed %s: the stored copy cannot be read: %s", feed.name, error)
        return None
    if snapshot is None:
        return None
    try:
        return feed.load(snapshot.payload), snapshot.fetched_at
    except Exception:  # an older, incompatible snapshot: ignore it, the next fetch replaces it
        return None


def record_result(store: Store, feed: Feed[T], previous: T | None, data: T, fetched_at: dt.datetime) -> list[Change]:
    """Save a good result as the feed's snapshot and its changes as history rows."""
    changes = feed.changes(previous, data)
    store.save_snapshot(feed.name, feed.dump(data), fetched_at)
    for change in changes:
        store.add_history(feed.name, change.key, fetched_at, change.old, change.new, change.detail)
    if feed.states is not None:
        store.record_states(states_feed(feed.name), feed.states(data, fetched_at))
    return changes
