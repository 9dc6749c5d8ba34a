"""GRDF OMEGA wiring: settings → OKTA auth, the quota-shared client, the watch-list feed.

The watch-list is read in rounds at the pace of the supplier's quota (1 call/s, §1.3): every
call of this supplier's credential goes through one shared limiter, so no refresh, however
triggered, can exceed it. A round (:meth:`OmegaSession.plan`) reads every request not in a
final status (or that reached it recently), never-read ones first, then those awaiting an appointment or whose status
changed recently, then the others, and last the requests in a final status whose rare re-read
(``final_reread_hours``) is due. When each request was last read is in the store (the feed's
snapshot), so a restart or another process keeps the schedule. A request that fails keeps
its last good data and shows its error; the others go on.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import TYPE_CHECKING, Any

import msgspec

from pupitre.providers.core.api import from_data, to_data
from pupitre.providers.core.checks import Finding
from pupitre.providers.core.clock import PARIS
from pupitre.providers.core.context import Connection, ProviderContext
from pupitre.providers.core.environments import Environment, real
from pupitre.providers.core.errors import ApiError
from pupitre.providers.core.feeds import Change, Feed, Partial
from pupitre.providers.core.secrets import env_var
from pupitre.providers.grdf_omega import rules
from pupitre.providers.grdf_omega.models import Demande
from pupitre.settings import GrdfOmegaSettings

if TYPE_CHECKING:
    from pupitre.providers.core.quota import QuotaLimiter
    from pupitre.providers.core.sandbox import SimulatorApp
    from pupitre.providers.grdf_omega.client import OmegaClient

log = logging.getLogger("pupitre.grdf_omega")

PROVIDER = "grdf_omega"
TITLE = "GRDF OMEGA"
REQUESTS_FEED = "grdf_omega.requests"
SANDBOX_HOST = "grdf-omega.sandbox.invalid"
SANDBOX_BASE_URL = f"http://{SANDBOX_HOST}/fournisseur"
SANDBOX_TOKEN_URL = f"http://{SANDBOX_HOST}/oauth2/default/v1/token"
SANDBOX_CLIENT_ID = "pupitre-sandbox-omega"
SANDBOX_CLIENT_SECRET = "sandbox-omega-secret"  # a sandbox value, not a real credential
SANDBOX_CDGF = "A04000010"
SANDBOX_LOGIN = "operateur@sandbox.invalid"
SECRET = "client_secret"


#: The secrets the real API needs (looked for in the environment, the keyring, the credentials file).
SECRETS = (SECRET,)


def sandbox_app(settings: GrdfOmegaSettings, ctx: ProviderContext) -> SimulatorApp:
    from pupitre.providers.grdf_omega.sandbox import OmegaSimulator

    return OmegaSimulator(
        ctx.clock,
        ctx.faults,
        code_cdgf=SANDBOX_CDGF,
        client_id=SANDBOX_CLIENT_ID,
        client_secret=SANDBOX_CLIENT_SECRET,
        seeded=PROVIDER not in ctx.world_held,
    ).app


def serve_settings(simulator: Any) -> dict[str, Any]:
    """For ``pupitre sandbox serve``: the supplier and login the served simulator expects."""
    return {"client_id": SANDBOX_CLIENT_ID, "code_cdgf": simulator.code_cdgf, "user_login": SANDBOX_LOGIN}


def serve_notes(simulator: Any) -> list[str]:
    """For ``pupitre sandbox serve``: the OKTA client secret of this sandbox (not a real one)."""
    return ["client secret of this sandbox:", f"  export {env_var(PROVIDER, SECRET)}={SANDBOX_CLIENT_SECRET}"]


def sandbox_seed(simulator: Any, ctx: ProviderContext) -> None:
    """A store's first use of the sandbox on a training day: watch requests that move."""
    now = ctx.clock.now()
    added = ctx.store.watch_add(PROVIDER, simulator.training_watch_list(), now)
    if added:
        ctx.store.audit(PROVIDER, "watch add", "ok", now, "sandbox training day: " + ", ".join(added))


class Tracked(msgspec.Struct):
    """One watched request: its last good data, and the error of its last read, if any."""

    numero: str
    demande: Demande | None = None
    error: str | None = None
    read_at: dt.datetime | None = None
    error_short: str | None = None  # "HTTP 500", "network", "bad payload"… for a table cell


#: The shortest wait between two rounds (a round longer than ``refresh_seconds`` is followed at once).
MIN_ROUND_GAP = 1.0
#: The finals due take at most this share of a round with active requests (the oldest read
#: first; the others in the next rounds): 100 active + 2 finals last 113 s at 0.9 call/s (a
#: change seen within 2 minutes), and 900 finals are still all re-read within 14 hours.
FINAL_SHARE = 0.02
#: … and at least this many (the finals due of a short watch-list are read soon).
FINAL_MIN = 2
#: Reading order of a round: never read, then awaiting an appointment or changed recently,
#: then the other active requests, then the final ones due for their rare re-read.
NEVER_READ, FIRST, ACTIVE, FINAL_DUE = range(4)


class Round(msgspec.Struct, frozen=True):
    """What one read of the watch-list covers: ``numbers`` in reading order."""

    numbers: list[str]
    active: int
    final_due: int
    watched: int

    def describe(self) -> str:
        """``round: 100 active + 12 final due, 1,000 watched`` (the progress line's words)."""
        return f"round: {self.active:,} active + {self.final_due:,} final due, {self.watched:,} watched"


class Progress(msgspec.Struct):
    """A refresh under way; ``results`` fills in as each request is read (shown at once)."""

    done: int = 0
    total: int = 0
    started: float = 0.0
    results: dict[str, "Tracked"] = msgspec.field(default_factory=dict)
    #: what the round covers (:meth:`Round.describe`)
    covers: str = ""

    @property
    def running(self) -> bool:
        return self.total > 0 and self.done < self.total

    def eta_seconds(self, per_second: float) -> float:
        return max(0.0, (self.total - self.done) / per_second)


class OmegaSession(msgspec.Struct, dict=True):
    settings: GrdfOmegaSettings
    ctx: ProviderContext
    sandboxed: bool
    progress: Progress = msgspec.field(default_factory=Progress)
    #: The last refresh's rows when every read failed (the feed then failed and keeps its
    #: data): each with its error and its last good data and read time, for the screen.
    failed_run: dict[str, Tracked] = msgspec.field(default_factory=dict)

    def __post_init__(self) -> None:
        # runtime state, not fields (out of the constructor, the repr and equality)
        self._client: OmegaClient | None = None
        #: the last read: (previous data, the requests it reads, what it has read so far)
        self._last: tuple[dict[str, Tracked], list[str], dict[str, Tracked]] | None = None
        #: when this process's last round started (clock time): the next one is due from it
        self._round_started: dt.datetime | None = None

    @property
    def code_cdgf(self) -> str:
        return SANDBOX_CDGF if self.sandboxed else self.settings.code_cdgf

    @property
    def client(self) -> "OmegaClient":
        """Built on first use; its quota limiter is the credential's shared one (§1.3)."""
        if self._client is None:
            from pupitre.providers.core.auth import ClientCredentials
            from pupitre.providers.grdf_omega.client import OmegaClient

            http = self.ctx.client()
            if self.sandboxed:
                base, token_url = SANDBOX_BASE_URL, SANDBOX_TOKEN_URL
                client_id, secret = SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
                login = self.settings.user_login or SANDBOX_LOGIN
            else:
                base, token_url = self.settings.base_url, self.settings.token_url
                client_id = self.settings.client_id
                secret = self.ctx.connect_real(PROVIDER, TITLE, self.settings, SECRET) or ""
                login = self.settings.user_login
            auth = ClientCredentials(
                http, token_url, client_id, secret, self.settings.scope, self.ctx.clock, provider=TITLE
            )
            self._client = OmegaClient(
                http, base, auth, code_cdgf=self.code_cdgf, user_login=login, quota=self.quota, retry=self.ctx.retry
            )
        return self._client

    @property
    def quota(self) -> "QuotaLimiter":
        """The supplier's one limiter (1 call/s per supplier, §1.3), shared through the store."""
        return self.ctx.quota(
            f"{PROVIDER}:{self.code_cdgf}",
            provider=TITLE,
            per_second=self.settings.per_second,
            margin=self.settings.quota_margin,
        )

    def watched(self) -> list[str]:
        return [key for key, _ in self.ctx.store.watch_list(PROVIDER)]

    def watch(self, numbers: list[str]) -> list[str]:
        """Add request numbers to the watch-list (one transaction); the new ones, audited
        (``watch add``). Numbers already watched are skipped."""
        now = self.ctx.clock.now()
        added = self.ctx.store.watch_add(PROVIDER, numbers, now) if numbers else []
        if added:
            self.ctx.store.audit(PROVIDER, "watch add", "ok", now, ", ".join(added[:20]))
        return added

    def unwatch(self, numero: str) -> bool:
        """Remove a request number from the watch-list, audited (``watch remove``); ``False``
        when it was not watched."""
        removed = self.ctx.store.watch_remove(PROVIDER, numero)
        if removed:
            self.ctx.store.audit(PROVIDER, "watch remove", "ok", self.ctx.clock.now(), numero)
        return removed

    def previous(self) -> dict[str, Tracked]:
        snapshot = self.ctx.store.load_snapshot(REQUESTS_FEED)
        try:
            return load(snapshot.payload) if snapshot is not None else {}
        except Exception:
            return {}

    def plan(self, previous: dict[str, Tracked], max_age: float | None = None) -> Round:
        """The next round: every request not in a final status (with ``max_age``: those not
        read within ``max_age`` seconds) and the final ones not read within
        ``final_reread_hours`` (a final status reached within :data:`rules.RECENT_CHANGE_DAYS` is
        read as an active one; at most :data:`FINAL_SHARE` of the active ones, or
        :data:`FINAL_MIN`), in the order
        :data:`NEVER_READ` < :data:`FIRST` (awaiting an appointment, or status changed within
        :data:`rules.RECENT_CHANGE_DAYS`) < :data:`ACTIVE` < :data:`FINAL_DUE`, the oldest read
        first within each."""
        now = self.ctx.clock.now()
        today = now.astimezone(PARIS).date()
        final_age = dt.timedelta(hours=self.settings.final_reread_hours)
        fresh_age = dt.timedelta(seconds=max_age) if max_age is not None else None
        watched = self.watched()
        ranked: list[tuple[int, dt.datetime, str]] = []
        for numero in watched:
            tracked = previous.get(numero)
            read_at, demande = _read_at(tracked), tracked.demande if tracked is not None else None
            recent = demande is not None and rules.changed_recently(demande, today)
            if demande is not None and rules.is_final(demande) and not recent:
                if now - read_at < final_age or (fresh_age is not None and now - read_at < fresh_age):
                    continue
                rank = FINAL_DUE
            elif fresh_age is not None and now - read_at < fresh_age:
                continue
            elif demande is None:
                rank = NEVER_READ
            elif recent or rules.awaiting_appointment(demande):
                rank = FIRST
            else:
                rank = ACTIVE
            ranked.append((rank, read_at, numero))
        ranked.sort(key=lambda r: (r[0], r[1]))
        active = sum(1 for rank, _, _ in ranked if rank != FINAL_DUE)
        # the finals due wait their turn behind the active ones: at most FINAL_SHARE of a round
        cap = max(FINAL_MIN, int(active * FINAL_SHARE)) if active else len(ranked)
        numbers = [numero for _, _, numero in ranked[: active + cap]]
        return Round(numbers, active, len(numbers) - active, len(watched))

    def to_read(self, previous: dict[str, Tracked], max_age: float | None) -> list[str]:
        """The watched requests the next round reads, in order (:meth:`plan`)."""
        return self.plan(previous, max_age).numbers

    def interval(self, now: dt.datetime) -> float:
        """Seconds to the next round: ``refresh_seconds`` from the last round's start, at least
        :data:`MIN_ROUND_GAP` (a round longer than ``refresh_seconds`` is followed at once: the
        quota is used fully while there is work)."""
        every = self.settings.refresh_seconds
        if self._round_started is None:
            return every
        elapsed = (now - self._round_started).total_seconds()
        return min(every, max(MIN_ROUND_GAP, every - elapsed))

    def pace(self, max_age: float | None) -> float:
        """Seconds the quota makes a read of ``to_read(…, max_age)`` last (``pupitre check``)."""
        count = len(self.to_read(self.previous(), max_age))
        return count / self.quota.per_second if self.quota.per_second else 0.0

    def unread_older(self, max_age: float) -> dict[str, Tracked] | None:
        """What :meth:`refresh` with ``max_age`` answers when it has no request to read (every
        watched one read within ``max_age``), from the store; ``None`` when it has one."""
        previous = self.previous()
        if self.to_read(previous, max_age):
            return None
        seen = dict(self.ctx.store.watch_list(PROVIDER))
        kept = {n: previous[n] for n in seen if n in previous}
        if any(seen[n] is None and t.demande is not None for n, t in kept.items()):
            return None  # a first status to keep as the baseline: :meth:`refresh` writes it
        return kept

    def partial(self) -> Partial[dict[str, Tracked]] | None:
        """What the last read had got when it was cut short: the requests read, the others with
        their last good data (``None`` before any read)."""
        if self._last is None:
            return None
        previous, numbers, result = self._last
        merged = {n: result[n] if n in result else previous.get(n, Tracked(n)) for n in self.watched()}
        return Partial(merged, sum(1 for n in numbers if n in result), len(numbers))

    async def refresh(self, max_age: float | None = None) -> dict[str, Tracked]:
        """Read one round (:meth:`plan`; with ``max_age``: only what was not read within it) at
        the quota's pace; the requests not due keep their last good data and read time. A request that
        fails keeps its last good data and read time, and its failure is logged with its cause.
        When every read failed, the refresh failed: :class:`ApiError` (the feed keeps its data
        and its age), the rows with their errors in :attr:`failed_run`."""
        previous = self.previous()
        plan = self.plan(previous, max_age)
        numbers = plan.numbers
        self._round_started = self.ctx.clock.now()
        self.progress = Progress(0, len(numbers), time.monotonic(), covers=plan.describe())
        result = self.progress.results
        self._last = (previous, numbers, result)
        reading = set(numbers)
        result.update({n: t for n, t in previous.items() if n not in reading})  # not due: kept as read
        failures: list[ApiError] = []
        try:
            for numero in numbers:
                old = previous.get(numero, Tracked(numero))
                try:
                    demande = await self.client.demande(numero)
                    result[numero] = Tracked(numero, demande, None, self.ctx.clock.now())
                except ApiError as error:
                    log.warning("GRDF request %s could not be read: %s", numero, error)
                    failures.append(error)
                    short = f"HTTP {error.status}" if error.status else error.kind
                    result[numero] = Tracked(numero, old.demande, str(error), old.read_at, short)
                self.progress.done += 1
        finally:
            self.progress = Progress()
        if numbers and len(failures) == len(numbers):
            self.failed_run = {n: result[n] for n in self.watched() if n in result}
            first = failures[0]
            raise ApiError(
                f"none of the {len(numbers)} request(s) could be read (first: {first.message})",
                provider=TITLE,
                status=first.status,
                retry_after=first.retry_after,
            )
        self.failed_run = {}
        seen = dict(self.ctx.store.watch_list(PROVIDER))
        for numero, tracked in result.items():  # the first status read is the baseline
            if seen.get(numero) is None and tracked.demande is not None:
                self.ctx.store.watch_seen(PROVIDER, numero, tracked.demande.statut_externe_demande.code)
        return {n: result[n] for n in self.watched() if n in result}


def _read_at(tracked: Tracked | None) -> dt.datetime:
    """When ``tracked`` was last read well (the oldest possible time if never)."""
    if tracked is None or tracked.read_at is None:
        return dt.datetime.min.replace(tzinfo=dt.timezone.utc)
    return tracked.read_at


def dump(tracked: dict[str, Tracked]) -> dict[str, Any]:
    return {
        n: {
            "demande": to_data(t.demande) if t.demande else None,
            "error": t.error,
            "error_short": t.error_short,
            "read_at": t.read_at.isoformat() if t.read_at else None,
        }
        for n, t in tracked.items()
    }


def load(payload: dict[str, Any]) -> dict[str, Tracked]:
    return {
        n: Tracked(
            n,
            from_data(v["demande"], Demande, provider=PROVIDER) if v.get("demande") else None,
            v.get("error"),
            dt.datetime.fromisoformat(v["read_at"]) if v.get("read_at") else None,
            v.get("error_short"),
        )
        for n, v in payload.items()
    }


def status_changes(old: dict[str, Tracked] | None, new: dict[str, Tracked]) -> list[Change]:
    """Every change of ``statut_externe_demande`` is a history row and a notification."""
    changes = []
    for numero, tracked in new.items():
        before = (old or {}).get(numero)
        if tracked.demande is None or before is None or before.demande is None:
            continue
        if rules.status_changed(before.demande, tracked.demande):
            was, now = before.demande.statut_externe_demande, tracked.demande.statut_externe_demande
            changes.append(
                Change(
                    numero,
                    was.code,
                    now.code,
                    f"{was.libelle or was.code} → {now.libelle or now.code}",
                    "attention",
                    f"Request {numero} ({tracked.demande.type_demande.code}): "
                    f"{was.libelle or was.code} → {now.libelle or now.code}",
                )
            )
    return changes


def unseen(tracked: dict[str, Tracked], seen: dict[str, str | None]) -> list[str]:
    """Requests whose status differs from what the operator last saw (until viewed)."""
    return [
        n
        for n, t in tracked.items()
        if t.demande is not None and seen.get(n) is not None and seen[n] != t.demande.statut_externe_demande.code
    ]


def environment(settings: GrdfOmegaSettings) -> Environment:
    """The real endpoint's data world: the base URL, the OKTA client id and the supplier's CDG-F code."""
    return real(settings.base_url, client=settings.client_id, cdgf=settings.code_cdgf)


def connect(settings: GrdfOmegaSettings, ctx: ProviderContext, *, sandboxed: bool) -> Connection:
    session = OmegaSession(settings, ctx, sandboxed)
    feed: Feed[Any] = Feed(
        REQUESTS_FEED,
        PROVIDER,
        "GRDF requests",
        session.refresh,
        dump,
        load,
        session.interval,
        status_changes,
        pace=session.pace,
        fetch_older=session.refresh,
        unread_older=session.unread_older,
        partial=session.partial,
    )
    return Connection(
        PROVIDER,
        TITLE,
        [feed],
        lambda results, now: findings(ctx, results, now),
        session=session,
        items=lambda results, now: items(ctx, results),
        quota=lambda: session.quota,
    )


def findings(ctx: ProviderContext, results: dict[str, Any], now: dt.datetime) -> list[Finding]:
    tracked: dict[str, Tracked] | None = results.get(REQUESTS_FEED)
    if tracked is None:
        return []
    seen = dict(ctx.store.watch_list(PROVIDER))
    out = []
    changed = unseen(tracked, seen)
    if changed:
        codes = {n: t.demande.statut_externe_demande.code for n, t in tracked.items() if t.demande is not None}
        out.append(
            Finding(
                TITLE,
                "attention",
                f"{len(changed)} request(s) changed status: " + ", ".join(f"{n} → {codes[n]}" for n in changed),
                "status-changed",
            )
        )
    failing = [n for n, t in tracked.items() if t.error]
    if failing:
        out.append(
            Finding(
                TITLE,
                "attention",
                f"{len(failing)} request(s) could not be read: "
                + "; ".join(f"{n}: {tracked[n].error}" for n in failing[:5]),
                "unreadable",
            )
        )
    if not out:
        out.append(Finding(TITLE, "ok", f"{len(tracked)} request(s) watched, no status change"))
    return out


def items(ctx: ProviderContext, results: dict[str, Any]) -> list[dict[str, Any]]:
    """Every watched request behind the findings (``pupitre check --json``): its status, when it
    was read, whether the operator has seen that status, and its read error."""
    tracked: dict[str, Tracked] | None = results.get(REQUESTS_FEED)
    if tracked is None:
        return []
    seen = dict(ctx.store.watch_list(PROVIDER))
    changed = set(unseen(tracked, seen))
    out = []
    for numero, t in tracked.items():
        status = t.demande.statut_externe_demande if t.demande is not None else None
        out.append(
            {
                "key": numero,
                "state": status.code if status is not None else "unknown",
                "label": (status.libelle or status.code) if status is not None else "",
                "type": t.demande.type_demande.code if t.demande is not None else "",
                "changed": numero in changed,
                "read_at": t.read_at.isoformat() if t.read_at else None,
                "error": t.error,
            }
        )
    return out
