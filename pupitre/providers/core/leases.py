"""Feed leases: exactly one process polls a given feed of a given environment.

Every pupitre process on a store (dashboards, agents) asks for a feed's lease before each run:
the one that holds it polls the API and saves the result; the others **follow**: they poll no
API, and paint the result from the store when it lands (:meth:`Store.change_watch`). The
holder renews its lease at every run, for one interval plus :data:`LEASE_SLACK`; the lease is
lost when its holder's process is dead (same host: at once, :func:`owner_alive`) or when it has
not been renewed in time (another host), so a follower takes over at its next run, within one
poll interval. A clean exit gives the leases up at once.
"""

from __future__ import annotations

import contextlib
import getpass
import logging
import socket
import time
from typing import AsyncIterator, Callable

import msgspec

from pupitre.providers.core.outbox import owner_alive, process_owner
from pupitre.providers.core.store import Store, StoreError

log = logging.getLogger("pupitre.leases")
#: A lease outlives its interval by this much: a run that takes a while does not lose it.
LEASE_SLACK = 15.0


def operator_name(configured: str = "") -> str:
    """Who works at this console: ``[app] operator``, else the OS user."""
    if configured:
        return configured
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        return "unknown"


def console_label(operator: str, kind: str) -> str:
    """How other consoles name this process: ``ana@jump-2 (dashboard)``."""
    return f"{operator}@{socket.gethostname()} ({kind})"


class Lease(msgspec.Struct, frozen=True):
    """The outcome of asking for a feed's lease: ``mine`` (poll it), else who polls it."""

    mine: bool
    holder: str


class FeedLeases:
    """This process's leases on a store."""

    def __init__(
        self, store: Store, label: str, *, owner: str | None = None, wall: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.label = label
        self.owner = owner or process_owner()
        self._wall = wall

    def take(self, feed: str, interval: float) -> Lease:
        """Take or renew ``feed``'s lease. A store that cannot answer is no reason to stop
        polling: the feed is then polled here (said in the log)."""
        now = self._wall()
        try:
            mine, holder = self.store.lease_take(
                feed, self.owner, self.label, now + interval + LEASE_SLACK, now, owner_alive
            )
        except StoreError as error:
            log.warning("feed %s: lease not available (%s): polled here", feed, error)
            return Lease(True, self.label)
        return Lease(mine, holder)

    @contextlib.asynccontextmanager
    async def kept(self, feed: str, interval: float) -> AsyncIterator[None]:
        """Keep ``feed``'s lease (taken) while the body runs, however long it takes: renewed
        every third of its span, so a run longer than its interval (a GRDF OMEGA round of a
        thousand requests at 1 call/s) is never taken over by another host half-way."""
        import asyncio  # not at import: this module serves processes that run no event loop

        async def renew() -> None:
            while True:
                await asyncio.sleep(max(interval + LEASE_SLACK, 1.0) / 3)
                await asyncio.to_thread(self.take, feed, interval)

        renewal = asyncio.get_running_loop().create_task(renew(), name=f"lease:{feed}")
        try:
            yield
        finally:
            renewal.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewal

    def release(self, feed: str | None = None) -> None:
        """Give up every lease of this process (its followers take over at their next run),
        or only the one of ``feed``."""
        try:
            self.store.lease_release(self.owner, feed)
        except StoreError as error:
            log.warning("leases not released (%s): they expire by themselves", error)
