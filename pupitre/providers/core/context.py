"""What a provider needs to build its client and feeds: one object, handed by the runtime."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import httpx

from pupitre.providers.core.clock import Clock
from pupitre.providers.core.retry import RetryPolicy
from pupitre.providers.core.sandbox import FaultPlan
from pupitre.providers.core.secrets import SecretStore
from pupitre.providers.core.store import Store


@dataclass
class ProviderContext:
    clock: Clock
    store: Store
    secrets: SecretStore
    data_dir: Path
    faults: FaultPlan
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    sandbox_read_timeout: float = 10.0
    http: httpx.AsyncClient | None = None  # set by the runtime once every mount is known

    def client(self) -> httpx.AsyncClient:
        assert self.http is not None, "the runtime sets the shared client before building clients"
        return self.http
