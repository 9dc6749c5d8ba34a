"""What a provider needs (:class:`ProviderContext`), what it gives back (:class:`Connection`),
and what its wiring module offers the runtime (:class:`ProviderModule`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Protocol, TypeVar

import msgspec

from pupitre.providers.core.checks import Finding
from pupitre.providers.core.clock import Clock
from pupitre.providers.core.environments import Environment
from pupitre.providers.core.errors import NotConnected
from pupitre.providers.core.faults import FaultPlan
from pupitre.providers.core.feeds import Feed
from pupitre.providers.core.followups import FollowUp
from pupitre.providers.core.outbox import ActionHandler
from pupitre.providers.core.quota import QuotaLimiter
from pupitre.providers.core.retry import RetryPolicy
from pupitre.providers.core.secrets import SecretStore
from pupitre.providers.core.store import Store

if TYPE_CHECKING:
    import httpx

    from pupitre.providers.core.sandbox import SimulatorApp

S = TypeVar("S")
SettingsT = TypeVar("SettingsT", contravariant=True)


class Connection(msgspec.Struct):
    """A provider as the runtime sees it: its feeds, its actions, its daily-check findings."""

    provider: str
    title: str
    feeds: list[Feed[Any]]
    findings: Callable[[dict[str, Any], dt.datetime], list[Finding]]
    handlers: dict[tuple[str, str], ActionHandler] = msgspec.field(default_factory=dict)
    session: object = None
    """The provider's own operations (e.g. EDF OA token rotation): read it with :meth:`session_as`."""
    #: Every item behind the findings (``pupitre check --json``), each a dict with at least
    #: ``key`` and ``state``: each site's indicators, contract's acknowledgement, request's status…
    items: Callable[[dict[str, Any], dt.datetime], list[dict[str, Any]]] = lambda results, now: []
    #: The credential's quota limiter, for a provider that has one (its use is reported by ``check``).
    quota: Callable[[], QuotaLimiter] | None = None
    #: what follows this provider's delivered actions until the API decided (run by the app)
    follow_ups: list[FollowUp] = msgspec.field(default_factory=list)
    #: Alerts that time raises, not a feed's answer (``pupitre.alerts``): on the same results as
    #: :attr:`findings`, the findings due at ``now`` and the next time one may change (``None``:
    #: nothing is due later), so the alert engine wakes then even if no feed reports.
    timed: Callable[[dict[str, Any], dt.datetime], tuple[list[Finding], dt.datetime | None]] = msgspec.field(
        default=lambda results, now: ([], None)
    )

    def session_as(self, kind: type[S]) -> S:
        """:attr:`session`, checked to be the provider's own session class ``kind``."""
        if not isinstance(self.session, kind):
            raise TypeError(f"{self.provider}: the session is a {type(self.session).__name__}, not a {kind.__name__}")
        return self.session


class ProviderModule(Protocol[SettingsT]):
    """A provider's wiring module (``providers/<id>/feeds.py``) as the runtime, ``pupitre
    check`` and the sandbox server use it; ``SettingsT`` is its settings section."""

    @property
    def PROVIDER(self) -> str:
        """Its id: the settings section, the store's provider column."""

    @property
    def TITLE(self) -> str:
        """Its name for operators."""

    @property
    def SANDBOX_HOST(self) -> str:
        """The host its simulator answers on (mounted in-process, or served on loopback)."""

    @property
    def SECRETS(self) -> tuple[str, ...]:
        """The names of the secrets its real API needs (none: it needs none)."""

    def connect(self, settings: SettingsT, ctx: ProviderContext, *, sandboxed: bool) -> Connection:
        """Its feeds, actions, findings and session."""

    def sandbox_app(self, settings: SettingsT, ctx: ProviderContext) -> SimulatorApp:
        """Its simulator as an ASGI app."""

    def environment(self, settings: SettingsT) -> Environment:
        """The environment of its real endpoint, from the settings alone."""


class ProviderContext(msgspec.Struct):
    clock: Clock
    store: Store
    secrets: SecretStore
    data_dir: Path
    faults: FaultPlan
    http_factory: Callable[[], "httpx.AsyncClient"]
    retry: RetryPolicy = msgspec.field(default_factory=RetryPolicy)
    sandbox_read_timeout: float = 10.0
    #: The sandbox as a user starts it (``pupitre --sandbox``, ``check``, ``agent``): the
    #: simulators' training-day data (a signed ask, an order) and, on a store's first use of
    #: the sandbox, watch-lists to follow. Off for tests that script their own world.
    training_day: bool = False
    #: The providers whose simulator is built while the data dir's shared world holds its state
    #: (:mod:`~pupitre.providers.core.sandbox_world`): it skips building the seeded start of its
    #: :attr:`Simulator.WORLD_FIELDS` (past days, generated requests), which that state replaces.
    world_held: set[str] = msgspec.field(default_factory=set)

    quotas: dict[str, QuotaLimiter] = msgspec.field(default_factory=dict)
    simulators: dict[str, Any] = msgspec.field(default_factory=dict)  # filled with the HTTP client

    def quota(
        self,
        credential: str,
        *,
        provider: str,
        per_second: float | None = None,
        per_day: int | None = None,
        margin: float = 0.0,
    ) -> QuotaLimiter:
        """The one limiter of ``credential``, shared by every feed and action that uses it (and,
        through the store, by every other process on the same store)."""
        if credential not in self.quotas:
            self.quotas[credential] = QuotaLimiter(
                credential,
                provider=provider,
                clock=self.clock,
                per_second=per_second,
                per_day=per_day,
                margin=margin,
                store=self.store,
            )
        return self.quotas[credential]

    def connect_real(self, provider: str, title: str, section: Any, secret: str | None = None) -> str | None:
        """Before a provider's real client is built: every required setting set, and its
        secret (when it has one) read — else :class:`NotConnected`, with the fix."""
        missing = section.missing()
        if missing:
            raise NotConnected(
                f"{title} not connected: {', '.join(missing)} not set in the [{provider}] settings. "
                "Fix: `pupitre config edit`"
            )
        return self.secrets.require(provider, secret, title) if secret else None

    def client(self) -> "httpx.AsyncClient":
        """The shared HTTP client, built on first use (after the first paint)."""
        return self.http_factory()
