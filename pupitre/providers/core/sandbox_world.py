"""One simulated world per data dir: the simulators' mutable state in ``sandbox/world.sqlite``.

Every sandbox process of a data dir (dashboards, ``pupitre check``, ``pupitre agent``) mounts
its own simulators, but they share one state: :class:`WorldMiddleware` loads a simulator's
state from the world file before each request when another process changed it, and writes
it back after the request when it changed. A request that may change the world (any method
but ``GET``/``HEAD``) runs inside the world's write transaction (``BEGIN IMMEDIATE``, taken
in a thread so the event loop keeps running), so two processes never lose each other's
actions; a read that materialised something (a seeded program, a report event) writes it
back only when nobody wrote in between. The state survives restarts; a state this pupitre
cannot read (pickled by another version, whose value classes differ) is rebuilt from this
process's simulator, never a crash;
``pupitre sandbox reset`` (:func:`reset`) starts the world afresh (for the processes started
after it: a running one carries its own state into the new world).

The state is what each simulator names in :attr:`Simulator.WORLD_FIELDS`, pickled: the file
lives in the user's own data dir (``sandbox/``, mode 0700), as the sandbox keys do, and
holds sandbox data only. No Textual import.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import pickle
import sqlite3
import threading
from pathlib import Path
from typing import Any

from pupitre.providers.core.sandbox import ASGIApp, Receive, Scope, Send
from pupitre.providers.core.store import write_ahead_log

WORLD_FILE = "world.sqlite"
READ_METHODS = frozenset(("GET", "HEAD"))
BUSY_TIMEOUT_SECONDS = 30.0

log = logging.getLogger("pupitre.sandbox")


class UnreadableState(Exception):
    """A world state this pupitre cannot unpickle (written by another version of it)."""


def world_path(data_dir: Path) -> Path:
    return data_dir / "sandbox" / WORLD_FILE


class World:
    """The world file of a data dir: one row per provider (state and version)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not path.exists():
            path.touch(mode=0o600)
        # Two connections: reads (WAL: never wait for a writer, see what is committed) on the
        # event loop; the write transaction, which may wait for another process, in threads.
        self._writer = self._connect()
        write_ahead_log(self._writer)
        # sandbox data: a commit is not synced to the disk (WAL keeps the file consistent; an OS
        # crash may lose the last changes), as the store does: an fsync per token a check asks
        self._writer.execute("PRAGMA synchronous=NORMAL")
        self._writer.execute(
            "CREATE TABLE IF NOT EXISTS world (provider TEXT PRIMARY KEY, version INTEGER, state BLOB)"
        )
        self._reader = self._connect()
        self._thread_lock = threading.Lock()  # one statement at a time on the writing connection
        #: one write transaction at a time in this process (others wait here, not in SQLite)
        self.writing = asyncio.Lock()

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False)

    def _run(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._thread_lock:
            return self._writer.execute(sql, params).fetchall()

    def version(self, provider: str) -> int:
        """The provider's version as the write transaction sees it."""
        rows = self._run("SELECT version FROM world WHERE provider = ?", (provider,))
        return int(rows[0][0]) if rows else 0

    def holds(self, provider: str) -> bool:
        """Whether a state of the provider is committed (its bytes are not read)."""
        sql = "SELECT 1 FROM world WHERE provider = ? AND state IS NOT NULL"
        return bool(self._reader.execute(sql, (provider,)).fetchall())

    def load(self, provider: str) -> tuple[int, bytes | None]:
        """The provider's committed state and version (``(0, None)``: none yet)."""
        rows = self._reader.execute("SELECT version, state FROM world WHERE provider = ?", (provider,)).fetchall()
        return (int(rows[0][0]), bytes(rows[0][1])) if rows else (0, None)

    def begin(self) -> None:
        """The write transaction (blocks until other processes' ends: call it in a thread)."""
        self._run("BEGIN IMMEDIATE")

    def commit(self) -> None:
        self._run("COMMIT")

    def rollback(self) -> None:
        with contextlib.suppress(sqlite3.OperationalError):
            self._run("ROLLBACK")

    def store(self, provider: str, state: bytes, version: int) -> None:
        self._run(
            "INSERT INTO world (provider, version, state) VALUES (?, ?, ?) "
            "ON CONFLICT(provider) DO UPDATE SET version = excluded.version, state = excluded.state",
            (provider, version, state),
        )

    def store_if_unchanged(self, provider: str, state: bytes, seen: int) -> bool:
        """Write ``state`` unless another process wrote since version ``seen``."""
        self.begin()
        try:
            if self.version(provider) != seen:
                return False
            self.store(provider, state, seen + 1)
            return True
        finally:
            self.commit()

    def close(self) -> None:
        self._reader.close()
        with self._thread_lock:  # never under a statement another thread is running
            self._writer.close()


async def _to_the_end(function: Any, *args: Any) -> Any:
    """``function(*args)`` in a thread, awaited to its end even when the caller is cancelled
    (``pupitre check`` cancels a feed past its time budget): a transaction the thread began
    is then ended by its caller, never left open under the next request's ``BEGIN``."""
    future = asyncio.ensure_future(asyncio.to_thread(function, *args))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        with contextlib.suppress(BaseException):
            await future
        raise


def reset(data_dir: Path) -> bool:
    """Forget the world of ``data_dir`` (every simulator starts afresh); whether there was one."""
    path = world_path(data_dir)
    if not path.exists():
        return False
    db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS)
    try:
        with db:
            db.execute("CREATE TABLE IF NOT EXISTS world (provider TEXT PRIMARY KEY, version INTEGER, state BLOB)")
            db.execute("DELETE FROM world")
    finally:
        db.close()
    return True


def dump_state(simulator: Any) -> bytes:
    """The simulator's :attr:`WORLD_FIELDS` (dotted paths allowed: ``issuer.tokens``), pickled."""
    return pickle.dumps({name: _get(simulator, name) for name in simulator.WORLD_FIELDS}, protocol=5)


def load_state(simulator: Any, state: bytes) -> None:
    """Set the simulator's :attr:`WORLD_FIELDS` from :func:`dump_state`'s bytes
    (:class:`UnreadableState`, the simulator untouched, when they cannot be read)."""
    try:
        values = pickle.loads(state)  # noqa: S301 — the user's own 0600 file in a 0700 dir, sandbox data
    except Exception as error:  # noqa: BLE001 — any unpickling failure: a class moved, changed kind or is gone
        raise UnreadableState(f"{type(error).__name__}: {error}") from error
    for name, value in values.items():
        _set(simulator, name, value)
    loaded = getattr(simulator, "world_loaded", None)
    if loaded is not None:
        loaded()


def _get(target: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        target = getattr(target, part)
    return target


def _set(target: Any, dotted: str, value: Any) -> None:
    *path, last = dotted.split(".")
    for part in path:
        target = getattr(target, part)
    setattr(target, last, value)


class WorldMiddleware:
    """Keeps one simulator in step with the world file around every request it answers."""

    def __init__(self, app: ASGIApp, simulator: Any, world: World, provider: str) -> None:
        self.app = app
        self.simulator = simulator
        self.world = world
        self.provider = provider
        self.seen = 0  # the world version the simulator holds (0: none yet)
        self.state = b""  # its state as held then

    def _take(self) -> bool:
        """Load the world's state when newer than the one held; ``False`` when it has none."""
        version, state = self.world.load(self.provider)
        if state is None:
            self.seen = 0  # a world not written yet, or reset: this process's state may start it
            return False
        if version != self.seen:
            try:
                load_state(self.simulator, state)
            except UnreadableState as error:
                # another pupitre version's world: this process's simulator replaces it at its
                # next write (as a world written since ``version`` would not be replaced)
                log.warning(
                    "the sandbox world of %s is unreadable (%s): rebuilt from this process", self.provider, error
                )
                self.seen = version
                return False
            # as this process writes it (a set's order may differ between processes): only a
            # real change after a request is written back
            self.seen, self.state = version, dump_state(self.simulator)
        return True

    def _put(self, state: bytes) -> bool:
        """Write ``state`` unless another process wrote since :attr:`seen` (own transaction)."""
        if self.world.store_if_unchanged(self.provider, state, self.seen):
            self.seen, self.state = self.seen + 1, state
            return True
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] in READ_METHODS:
            await self._read(scope, receive, send)
        else:
            await self._write(scope, receive, send)

    async def _read(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._take():  # the world's first process: its simulator becomes the world
            async with self.world.writing:
                if not await _to_the_end(self._put, dump_state(self.simulator)):
                    self._take()
        await self.app(scope, receive, send)
        after = dump_state(self.simulator)
        if after != self.state:  # the read materialised something: kept unless someone wrote since
            async with self.world.writing:
                await _to_the_end(self._put, after)

    async def _write(self, scope: Scope, receive: Receive, send: Send) -> None:
        async with self.world.writing:
            try:
                await _to_the_end(self.world.begin)
                if not self._take():
                    self.state = b""
                await self.app(scope, receive, send)
                after = dump_state(self.simulator)
                if after != self.state:
                    self.world.store(self.provider, after, self.seen + 1)
                    self.seen, self.state = self.seen + 1, after
                self.world.commit()
            except BaseException:
                self.world.rollback()
                self.seen = -1  # read the world again next time
                raise


def shared(app: Any, provider: str, world: World, *, load: bool = False) -> Any:
    """``app`` (a :class:`~pupitre.providers.core.sandbox.SimulatorApp`) kept in step with ``world``;
    ``load``: with the world's state loaded now (:class:`LookupError` when it has none), for a
    simulator built without its seeded start (:attr:`ProviderContext.world_held`)."""
    from pupitre.providers.core.sandbox import SimulatorApp

    middleware = WorldMiddleware(app, app.simulator, world, provider)
    if load and not middleware._take():
        raise LookupError(f"the sandbox world holds no state of {provider}")
    return SimulatorApp(middleware, app.simulator)
