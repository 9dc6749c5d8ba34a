"""Builds what the TUI and ``pupitre check`` share: store, clock, client, simulators, feeds.

A provider with nothing real set for it (or every provider with ``--sandbox``) runs on its
simulator (:func:`declared`), mounted in-process on the shared ``httpx.AsyncClient`` so the real
client code runs unchanged. The network side (httpx, auth, simulators) is built on
first use, so the dashboard paints from the store before paying for it.
No Textual import here.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
import sqlite3
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Awaitable, Callable, NoReturn

from msgspec.structs import replace

from pupitre.providers.core import config
from pupitre.providers.core.clock import Clock, SystemClock
from pupitre.providers.core.context import Connection, ProviderContext, ProviderModule
from pupitre.providers.core.environments import SANDBOX_ENVIRONMENT, UNATTRIBUTED, Environment
from pupitre.providers.core.faults import FaultPlan
from pupitre.providers.core.feeds import Feed
from pupitre.providers.core.leases import operator_name
from pupitre.providers.core.outbox import Outbox
from pupitre.providers.core.retry import RetryPolicy
from pupitre.providers.core.secrets import SecretStore, env_var
from pupitre.providers.core.store import OUTBOX_HELD, Retention, Store, StoreError, StoreNotice, open_store
from pupitre.providers.edf_oa import feeds as edf_oa
from pupitre.providers.grdf_adict import feeds as grdf_adict
from pupitre.providers.grdf_omega import feeds as grdf_omega
from pupitre.providers.grtgaz import feeds as grtgaz
from pupitre.providers.switchgrid import feeds as switchgrid
from pupitre.settings import Settings

if TYPE_CHECKING:
    import datetime as dt

    import httpx

    from pupitre.providers.core.http import RequestLog
    from pupitre.providers.core.sandbox import SimulatorApp
    from pupitre.providers.core.scenarios import Scenario, ScenarioPlayer

log = logging.getLogger("pupitre.runtime")
#: A team console's copy of the results it read from the team's store, in its data dir.
COPY_FILE = "team-copy.sqlite"

#: provider id -> its wiring module (``providers/<id>/feeds.py``)
PROVIDERS: dict[str, ProviderModule[Any]] = {
    "grtgaz": grtgaz,
    "edf_oa": edf_oa,
    "grdf_omega": grdf_omega,
    "grdf_adict": grdf_adict,
    "switchgrid": switchgrid,
}


class Runtime:
    """Settings, store, clock, secrets and feeds; the HTTP client and simulators on demand."""

    def __init__(
        self,
        settings: Settings,
        ctx: ProviderContext,
        sandboxed: set[str],
        *,
        owns_store: bool,
        store_notice: StoreNotice | None = None,
    ) -> None:
        self.settings = settings
        #: why the store is not the usual one (damaged and replaced, or nothing can be saved)
        self.store_notice = store_notice
        self.ctx = ctx
        self.store = ctx.store
        self.clock = ctx.clock
        self.secrets = ctx.secrets
        self.faults = ctx.faults
        self.providers = tuple(PROVIDERS)
        self.sandboxed = sandboxed
        self.owns_store = owns_store
        #: who works at this console (``[app] operator``, else the OS user): audit lines, leases
        self.operator = operator_name(settings.app.operator)
        self.store.bind_operator(f"{self.operator}@{socket.gethostname()}")
        self._http: httpx.AsyncClient | None = None
        self._apps: dict[str, SimulatorApp] = {}
        self._simulators: dict[str, Any] = {}
        self._world: Any = None  # the shared simulated world (a training day's sandbox)
        self._world_failed = False
        #: a simulator asked for (``ctx.simulators[name]``) is built then
        ctx.simulators = _Simulators(self)
        #: the training scenario played on the simulators (:meth:`play`), if any
        self.player: ScenarioPlayer | None = None
        self.request_log: RequestLog | None = None
        ctx.http_factory = lambda: self.http
        #: provider -> the environment its rows belong to; the store reads and writes only these
        self.environments: dict[str, Environment] = {
            name: environment_of(name, settings, sandboxed=name in sandboxed) for name in PROVIDERS
        }
        self.store.bind_environments({name: env.id for name, env in self.environments.items()})
        self._pruning: threading.Thread | None = None
        self._stop_pruning = threading.Event()
        self.connections: dict[str, Connection] = {
            name: module.connect(getattr(settings, name), ctx, sandboxed=name in sandboxed)
            for name, module in PROVIDERS.items()
        }
        self.feeds: list[Feed[Any]] = [
            f if f.provider in sandboxed else self._connected_feed(f)
            for c in self.connections.values()
            for f in c.feeds
        ]
        self.outbox = Outbox(
            self.store,
            self.clock,
            {key: handler for c in self.connections.values() for key, handler in c.handlers.items()},
        )

    def _connected_feed(self, feed: Feed[Any]) -> Feed[Any]:
        """``feed`` with its reads (:meth:`_connected`) preceded by the connection check (its
        ``unread_older`` dropped: a real provider's items are kept only after that check)."""
        older = feed.fetch_older

        async def fetch_older(max_age: float) -> Any:
            assert older is not None
            return await self._connected(feed.provider, lambda: older(max_age))()

        return replace(
            feed,
            fetch=self._connected(feed.provider, feed.fetch),
            fetch_older=None if older is None else fetch_older,
            unread_older=None,
        )

    def _connected(self, provider: str, fetch: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[Any]]:
        """A real provider's fetch, preceded by the check that it can connect at all (settings
        and secrets): a provider that cannot is *not connected* on every feed, even one with
        nothing to read, and never falls back to its simulator. The secret lookup may wait
        for a slow keyring: it runs in a thread, off the event loop."""
        section, title = getattr(self.settings, provider), self.connections[provider].title
        secrets = PROVIDERS[provider].SECRETS or (None,)

        def check() -> None:
            for secret in secrets:
                self.ctx.connect_real(provider, title, section, secret)

        async def connected_fetch() -> Any:
            import asyncio  # not at import: a check answered from the store runs no event loop

            await asyncio.to_thread(check)
            return await fetch()

        return connected_fetch

    def environment_notes(self) -> list[str]:
        """What the operator must be told once about environments: a provider's first use of
        its environment while the store holds its data of other environments (kept apart,
        never shown here), and actions held since the store's upgrade (never sent
        automatically). Empty once each provider has data of its own."""
        notes = []
        for name in self.providers:
            env, title = self.environments[name], self.connections[name].title
            if self.store.has_rows(name, env.id):
                continue  # the usual case, answered from the indexes
            others = self.store.environments_of(name) - {env.id}
            if others:
                what = "data from before environments" if others == {UNATTRIBUTED} else "data of other environments"
                notes.append(f"{title}: first use of {env.label} — {what} kept apart, not shown")
        held = self.store.outbox(status=OUTBOX_HELD, include_held=True)
        if held:
            titles = sorted(
                {self.connections[i.provider].title if i.provider in self.connections else i.provider for i in held}
            )
            notes.append(
                f"{len(held)} action(s) from before environments are HELD, never sent automatically "
                f"({', '.join(titles)}): `pupitre outbox` to release or drop them"
            )
        return notes

    def feed(self, name: str) -> Feed[Any]:
        return next(feed for feed in self.feeds if feed.name == name)

    @property
    def http(self) -> "httpx.AsyncClient":
        """The shared client, with every sandboxed provider's simulator mounted: each is built
        on its first request (:meth:`simulator_app`), but when something needs it from the
        start (a scenario's events, a store's first use of the sandbox to seed)."""
        if self._http is None:
            from pupitre.providers.core.http import NoNetworkTransport, RequestLog, make_http_client
            from pupitre.providers.core.sandbox import LazyApp, SandboxTransport

            eager = set(self.sandboxed) if self.player is not None else self._to_seed()
            for name in sorted(eager):
                self.simulator_app(name)
            if self.ctx.training_day:
                self._seed_sandbox()
            mounts = {
                f"all://{PROVIDERS[name].SANDBOX_HOST}": SandboxTransport(
                    LazyApp(functools.partial(self.simulator_app, name)), self.ctx.sandbox_read_timeout
                )
                for name in PROVIDERS
                if name in self.sandboxed
            }
            offline = NoNetworkTransport() if self.sandboxed == set(PROVIDERS) else None
            self.request_log = RequestLog()
            self._http = make_http_client(
                transport=offline,
                mounts=mounts,
                request_log=self.request_log,
            )
        return self._http

    def simulator_app(self, name: str, *, seeded: bool = False) -> "SimulatorApp":
        """``name``'s simulator app, built once: played by the scenario, if any, and kept in
        step with the data dir's shared world on a training day. ``seeded``: built with its
        seeded start whatever the world holds (its state is gone, or unreadable)."""
        app = self._apps.get(name)
        if app is None:
            if name not in self.sandboxed:
                raise KeyError(f"{name} does not run on its simulator")
            world = self._shared_world()
            if world is not None and not seeded and world.holds(name):
                self.ctx.world_held.add(name)  # built without what the world's state replaces
            app = PROVIDERS[name].sandbox_app(getattr(self.settings, name), self.ctx)
            simulator = app.simulator
            if self.player is not None:  # its events are applied before the simulator answers
                self.player.simulators[name] = simulator
                app = self.player.mount(app)
            if world is not None:
                from pupitre.providers.core.sandbox_world import shared

                try:
                    app = shared(app, name, world, load=name in self.ctx.world_held)
                except LookupError:  # reset since, or another version's: this simulator starts it, seeded
                    self.ctx.world_held.discard(name)
                    return self.simulator_app(name, seeded=True)
            self._apps[name] = app
            self._simulators[name] = simulator
            dict.__setitem__(self.ctx.simulators, name, simulator)
        return app

    def _shared_world(self) -> Any:
        """One simulated world per data dir, for every process of a training day (opened with
        the first simulator); ``None`` outside a training day or when it cannot be opened."""
        if self._world is None and self.ctx.training_day and not self._world_failed:
            from pupitre.providers.core.sandbox_world import World, world_path

            try:
                self._world = World(world_path(self.ctx.data_dir))
            except (OSError, sqlite3.Error) as error:  # a read-only data dir: this process's own world
                self._world_failed = True
                log.warning("the shared sandbox world cannot be opened (%s): simulators of this process only", error)
        return self._world

    def play(self, scenario: "Scenario", start: "dt.datetime") -> "ScenarioPlayer":
        """Play ``scenario`` from ``start`` on this runtime's simulators (before they are built)."""
        from pupitre.providers.core.scenarios import ScenarioPlayer

        if self._http is not None or self._apps:
            raise RuntimeError("a scenario is set before the simulators are built")
        self.player = ScenarioPlayer(scenario, self.clock, start, self.faults)
        return self.player

    def _to_seed(self) -> set[str]:
        """The simulated providers a training day seeds now: a store's first use of their sandbox."""
        if not self.ctx.training_day:
            return set()
        return {
            name
            for name in self.sandboxed
            if getattr(PROVIDERS[name], "sandbox_seed", None) is not None
            and not self.store.has_rows(name, SANDBOX_ENVIRONMENT.id)
        }

    def _seed_sandbox(self) -> None:
        """A store's first use of the sandbox (no row of a provider there yet): each simulated
        provider's ``sandbox_seed`` fills what the operator follows (watch-lists, orders)."""
        for name in sorted(self._to_seed()):
            seed = getattr(PROVIDERS[name], "sandbox_seed", None)
            if seed is not None:
                seed(self._simulators[name], self.ctx)

    @property
    def simulators(self) -> dict[str, Any]:
        """Every simulator by provider, built now if need be (tests and demos drive them)."""
        self.http  # noqa: B018 — mounts them
        for name in sorted(self.sandboxed):
            self.simulator_app(name)
        return self._simulators

    def start_pruning(self, *, after: float = 0.0) -> threading.Thread:
        """Delete what the retention settings no longer keep (audit, history, snapshots of every
        environment) in a background thread, in short transactions: the UI never waits for it.
        ``after`` seconds first (a dashboard's start goes first)."""
        app = self.settings.app
        retention = Retention(app.keep_audit_days, app.keep_history_days, app.keep_snapshots_days)

        def prune() -> None:
            if self._stop_pruning.wait(after):
                return
            now = self.clock.now()
            try:
                deleted = self.store.prune(now, retention, stop=self._stop_pruning)
            except (StoreError, sqlite3.Error) as error:  # a closed or failing store: try again next start
                log.warning("pruning the store stopped: %s", error)
                return
            if any(deleted.values()):
                log.info("store pruned: %s", ", ".join(f"{n} {table} row(s)" for table, n in deleted.items()))

        self._pruning = threading.Thread(target=prune, name="pupitre-prune", daemon=True)
        self._pruning.start()
        return self._pruning

    async def aclose(self) -> None:
        import asyncio

        self._stop_pruning.set()
        if self._pruning is not None:
            await asyncio.to_thread(self._pruning.join)  # one short transaction at most
        if self._http is not None:
            await self._http.aclose()
        self.close()

    def close(self) -> None:
        """:meth:`aclose` without an event loop, once the HTTP client is closed or was never
        built (a ``pupitre check`` answered from the store)."""
        if self._http is not None and not self._http.is_closed:
            raise RuntimeError("the HTTP client is closed by aclose(), in its event loop")
        self._stop_pruning.set()
        if self._pruning is not None:
            self._pruning.join()  # one short transaction at most
        if self._world is not None:
            self._world.close()
        if self.owns_store:
            self.store.close()


class _Simulators(dict[str, Any]):
    """The runtime's simulators by provider: one not built yet is built when asked for."""

    def __init__(self, runtime: Runtime) -> None:
        super().__init__()
        self._runtime = runtime

    def __missing__(self, name: str) -> Any:
        self._runtime.simulator_app(name)  # KeyError for a provider on its real API
        return dict.__getitem__(self, name)

    def get(self, name: str, default: Any = None) -> Any:
        return self[name] if name in self._runtime.sandboxed else dict.get(self, name, default)


def _client_not_ready() -> NoReturn:
    raise RuntimeError("the HTTP client is built by the Runtime")


def build_runtime(
    settings: Settings | None = None,
    *,
    sandbox: bool = False,
    clock: Clock | None = None,
    store: Store | None = None,
    secrets: SecretStore | None = None,
    faults: FaultPlan | None = None,
    data_dir: Path | None = None,
    retry: RetryPolicy | None = None,
    sandbox_read_timeout: float = 10.0,
    training_day: bool = False,
    dashboard: bool = False,
) -> Runtime:
    """Everything wired from the settings; ``sandbox`` forces every provider onto its simulator;
    ``training_day``: the sandbox as a user starts it (:attr:`ProviderContext.training_day`);
    ``dashboard``: a team store is connected after the first frame (:meth:`PostgresStore.connect`),
    which paints from the copy of the results this console last read (:mod:`store_copy`)."""
    settings = settings if settings is not None else config.load_settings()
    data_dir = data_dir if data_dir is not None else config.data_dir()
    owns_store = store is None
    clock = clock or SystemClock()
    notice = None
    if store is None:
        url = store_url(settings)
        if url:
            from pupitre.providers.core.store_pg import PostgresStore

            store = PostgresStore(url, deferred=dashboard)
        else:
            store, notice = open_store(data_dir / config.store_path().name, clock.now())
    ctx = ProviderContext(
        clock=clock,
        store=store,
        secrets=secrets or SecretStore(),
        data_dir=data_dir,
        faults=faults or FaultPlan(),
        http_factory=_client_not_ready,  # the Runtime sets its own, which builds the client on first use
        retry=retry or RetryPolicy(),
        sandbox_read_timeout=sandbox_read_timeout,
        training_day=training_day,
    )
    force = sandbox or settings.app.sandbox
    sandboxed = set(PROVIDERS) if force else {name for name in PROVIDERS if not declared(name, settings, ctx.secrets)}
    runtime = Runtime(settings, ctx, sandboxed, owns_store=owns_store, store_notice=notice)
    if dashboard and owns_store and store.shared:
        from pupitre.providers.core.store_copy import SnapshotCopy
        from pupitre.providers.core.store_pg import PostgresStore

        if isinstance(store, PostgresStore):
            store.keep_copy(SnapshotCopy(data_dir / COPY_FILE), [feed.name for feed in runtime.feeds])
    return runtime


def store_url(settings: Settings) -> str:
    """The team's PostgreSQL store: ``PUPITRE_STORE_URL``, else ``[store] url``; "" = the local file."""
    url = os.environ.get("PUPITRE_STORE_URL", "")
    if url:
        from pupitre.providers.core.store_pg import check_url  # its module loads asyncio and more

        return check_url(url, where="PUPITRE_STORE_URL")
    return settings.store.url


def environment_of(provider: str, settings: Settings, *, sandboxed: bool) -> Environment:
    """The environment of ``provider``'s rows: the simulator's, or its real endpoint's
    (:func:`providers.<id>.feeds.environment`, from the settings alone: no secret)."""
    return SANDBOX_ENVIRONMENT if sandboxed else PROVIDERS[provider].environment(getattr(settings, provider))


def declared(provider: str, settings: Settings, secrets: SecretStore) -> bool:
    """Whether ``provider`` is meant to use its real API: its ``[section]`` is in the settings
    file, or one of its secrets is in the environment or the credentials file. Only a provider
    with none of these runs on its simulator; a declared one with a setting or a secret missing
    (or a keyring too slow to answer) is *not connected* — said on its screen, the Overview and
    in ``pupitre check``, never silently simulated. The keyring is not asked here: it may be slow
    or locked, and the answer must not depend on it."""
    if provider in settings.declared:
        return True
    return any(
        secrets.env.get(env_var(provider, name)) or secrets.file.get(provider, name)
        for name in PROVIDERS[provider].SECRETS
    )
