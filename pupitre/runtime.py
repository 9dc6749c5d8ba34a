"""Builds what the TUI and ``pupitre check`` share: store, clock, client, simulators, feeds.

A provider with no credentials (or every provider with ``--sandbox``) runs on its
simulator, mounted in-process on the shared ``httpx.AsyncClient`` so the real
client code runs unchanged. No Textual import here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from pupitre.providers.core import config
from pupitre.providers.core.clock import Clock, SystemClock
from pupitre.providers.core.context import ProviderContext
from pupitre.providers.core.feeds import Feed
from pupitre.providers.core.http import NoNetworkTransport, RequestLog, make_http_client
from pupitre.providers.core.retry import RetryPolicy
from pupitre.providers.core.sandbox import FaultPlan, SandboxTransport
from pupitre.providers.core.secrets import SecretStore
from pupitre.providers.core.store import Store
from pupitre.providers.grtgaz import feeds as grtgaz
from pupitre.settings import Settings

log = logging.getLogger("pupitre.runtime")

#: provider id -> (wiring module, settings attribute, label)
PROVIDERS: dict[str, Any] = {"grtgaz": grtgaz}


@dataclass
class Runtime:
    settings: Settings
    store: Store
    clock: Clock
    http: httpx.AsyncClient
    secrets: SecretStore
    faults: FaultPlan
    request_log: RequestLog
    feeds: list[Feed[Any]]
    providers: tuple[str, ...]
    sandboxed: set[str]
    notices: list[str] = field(default_factory=list)
    simulators: dict[str, Any] = field(default_factory=dict)
    owns_store: bool = False

    def feed(self, name: str) -> Feed[Any]:
        return next(feed for feed in self.feeds if feed.name == name)

    async def aclose(self) -> None:
        await self.http.aclose()
        if self.owns_store:
            self.store.close()


def build_runtime(settings: Settings | None = None, *, sandbox: bool = False, clock: Clock | None = None,
                  store: Store | None = None, secrets: SecretStore | None = None,
                  faults: FaultPlan | None = None, data_dir: Path | None = None,
                  retry: RetryPolicy | None = None, sandbox_read_timeout: float = 10.0) -> Runtime:
    """Everything wired from the settings; ``sandbox`` forces every provider onto its simulator."""
    settings = settings if settings is not None else config.load_settings()
    data_dir = data_dir if data_dir is not None else config.data_dir()
    clock = clock or SystemClock()
    owns_store = store is None
    store = store or Store(data_dir / config.store_path().name)
    secrets = secrets or SecretStore()
    faults = faults or FaultPlan()
    ctx = ProviderContext(clock=clock, store=store, secrets=secrets, data_dir=data_dir, faults=faults,
                          retry=retry or RetryPolicy(), sandbox_read_timeout=sandbox_read_timeout)
    force = sandbox or settings.app.sandbox
    sandboxed = {name for name in PROVIDERS
                 if force or not getattr(settings, name).configured}
    apps = {name: module.sandbox_app(ctx) for name, module in PROVIDERS.items() if name in sandboxed}
    mounts = {f"all://{PROVIDERS[name].SANDBOX_HOST}": SandboxTransport(app, sandbox_read_timeout)
              for name, app in apps.items()}
    request_log = RequestLog()
    offline = NoNetworkTransport() if sandboxed == set(PROVIDERS) else None
    ctx.http = make_http_client(transport=offline, mounts=mounts,  # type: ignore[arg-type]
                                request_log=request_log)
    all_feeds: list[Feed[Any]] = []
    for name, module in PROVIDERS.items():
        all_feeds += module.feeds(getattr(settings, name), ctx, sandboxed=name in sandboxed)
    notices = [n for n in [secrets.take_notice()] if n]
    return Runtime(settings, store, clock, ctx.http, secrets, faults, request_log, all_feeds,
                   tuple(PROVIDERS), sandboxed, notices,
                   {name: app.simulator for name, app in apps.items()}, owns_store)
