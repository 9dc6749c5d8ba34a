"""What a provider needs to build its client and feeds: one object, handed by the runtime."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from pupitre.providers.core.clock import Clock
from pupitre.providers.core.faults import FaultPlan
from pupitre.providers.core.quota import QuotaLimiter
from pupitre.providers.core.retry import RetryPolicy
from pupitre.providers.core.secrets import SecretStore
from pupitre.providers.core.store import Store

if TYPE_CHECKING:
    import httpx


@dataclass
class ProviderContext:
    clock: Clock
    store: Store
    secrets: SecretStore
    data_dir: Path
    faults: FaultPlan
    http_factory: Callable[[], "httpx.AsyncClient"]
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    sandbox_read_timeout: float = 10.0

    quotas: dict[str, QuotaLimiter] = field(default_factory=dict)

    def quota(self, credential: str, *, provider: str, per_second: float | None = None,
              per_day: int | None = None) -> QuotaLimiter:
        """The one limiter of ``credential``, shared by every feed and action that uses it."""
        if credential not in self.quotas:
            self.quotas[credential] = QuotaLimiter(credential, provider=provider, clock=self.clock,
                                                   per_second=per_second, per_day=per_day,
                                                   store=self.store)
        return self.quotas[credential]

    def client(self) -> "httpx.AsyncClient":
        """The shared HTTP client, built on first use (after the first paint)."""
        return self.http_factory()
