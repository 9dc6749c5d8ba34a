"""GRTgaz wiring: settings → auth, client and feeds (real API or sandbox); the programs
session and the program declaration action.

A declaration (``POST /hmsProfiles``, §14.6) goes through the outbox: written before it
is sent, retried on network errors and 5xx until the API answers, never on a 4xx. The
program id is the client's own (§2.2) and GRTgaz refuses an id twice
(HMS_PROFILE_ID_ALREADY_EXISTS, §13.6), so every attempt first reads
``GET /hmsProfiles/{id}``: a POST that reached GRTgaz but whose answer was lost (timeout,
cut connection, crash) is never sent again. The moment GRTgaz has the program, it is
followed to its feasibility verdict (§13.3, ACCEPTED or REFUSED) in the store
(:mod:`pupitre.providers.grtgaz.feasibility`), even after a restart.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from pupitre.providers.core.cert_dates import CertificateDates
from pupitre.providers.core.checks import Finding, Level
from pupitre.providers.core.clock import PARIS, gas_day_bounds, gas_day_of, instant, loop_sleep
from pupitre.providers.core.context import Connection, ProviderContext
from pupitre.providers.core.environments import Environment, real
from pupitre.providers.core.errors import ApiError, ConfigError, NetworkError, NotFoundError, PayloadError
from pupitre.providers.core.feeds import Change, Feed, Severity, states_feed
from pupitre.providers.core.outbox import ActionRefused
from pupitre.providers.grtgaz import rules
from pupitre.providers.grtgaz.feasibility import FeasibilityFollowUp, feasibility_sentence
from pupitre.providers.grtgaz.models import Flex, IndicatorStatus, SiteIndicators, read, to_document
from pupitre.providers.grtgaz.sites import site_by_id
from pupitre.settings import GrtgazSettings

if TYPE_CHECKING:
    from pupitre.providers.core.sandbox import SimulatorApp
    from pupitre.providers.core.store import OutboxItem, Store
    from pupitre.providers.grtgaz.client import GrtgazClient
    from pupitre.providers.grtgaz.models import HmsProfile, InputHmsProfile, RebuiltHmsProfile

PROVIDER = "grtgaz"
TITLE = "GRTgaz"
INDICATORS_FEED = "grtgaz.indicators"
SANDBOX_HOST = "grtgaz.sandbox.invalid"
SANDBOX_BASE_URL = f"http://{SANDBOX_HOST}/sfm/v1"
SANDBOX_TOKEN_URL = f"http://{SANDBOX_HOST}/oauth2/v2.0/token"
SANDBOX_CLIENT_ID = "00000000-0000-4000-8000-00000000a11e"
SANDBOX_AUDIENCE = f"http://{SANDBOX_HOST}/oauth2/v2.0/token"
SEVERITY_OF: dict[IndicatorStatus, Severity] = {
    IndicatorStatus.GREEN: "info",
    IndicatorStatus.RED: "attention",
    IndicatorStatus.GREY: "critical",
}


def _sandbox_credentials(ctx: ProviderContext) -> tuple[bytes, bytes]:
    """This installation's sandbox key and certificate (made once, user-only files)."""
    from pupitre.providers.core.certs import sandbox_credentials

    return sandbox_credentials(ctx.data_dir / "sandbox", PROVIDER)


#: The secrets the real API needs: none (§11.2: a certificate and its key; the key's
#: passphrase is optional).
SECRETS: tuple[str, ...] = ()


def sandbox_app(settings: GrtgazSettings, ctx: ProviderContext) -> SimulatorApp:
    """The simulator app, registered with this installation's sandbox certificate."""
    from pupitre.providers.grtgaz.sandbox import GrtgazSimulator

    _, certificate = _sandbox_credentials(ctx)
    return GrtgazSimulator(
        ctx.clock,
        ctx.faults,
        client_id=SANDBOX_CLIENT_ID,
        certificate_pem=certificate,
        audience=SANDBOX_AUDIENCE,
        tolerance=settings.tolerance,
    ).app


def _read(path: Path | None, what: str) -> bytes:
    if path is None:
        raise ConfigError(f"GRTgaz: no {what} file is set (grtgaz settings)")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"GRTgaz: cannot read the {what} file {path}: {exc.strerror}") from None


def build_client(settings: GrtgazSettings, ctx: ProviderContext, *, sandboxed: bool) -> "GrtgazClient":
    """The client with JWT-assertion auth (GRTgaz §11.2) against the API or the sandbox."""
    from pupitre.providers.core.auth import JwtAssertionCredentials
    from pupitre.providers.grtgaz.client import GrtgazClient

    http = ctx.client()
    if sandboxed:
        key, certificate = _sandbox_credentials(ctx)
        auth = JwtAssertionCredentials(
            http,
            SANDBOX_TOKEN_URL,
            SANDBOX_CLIENT_ID,
            settings.scope,
            ctx.clock,
            provider=TITLE,
            private_key_pem=key,
            certificate_pem=certificate,
            audience=SANDBOX_AUDIENCE,
        )
        return GrtgazClient(http, SANDBOX_BASE_URL, auth, timestamps_local=True, retry=ctx.retry)
    ctx.connect_real(PROVIDER, TITLE, settings)
    passphrase = ctx.secrets.get(PROVIDER, "key_passphrase")
    auth = JwtAssertionCredentials(
        http,
        settings.token_url,
        settings.client_id,
        settings.scope,
        ctx.clock,
        provider=TITLE,
        private_key_pem=_read(settings.private_key, "private key"),
        certificate_pem=_read(settings.certificate, "certificate"),
        passphrase=passphrase.encode() if passphrase else None,
        audience=settings.audience,
        algorithm=settings.jwt_algorithm,
        thumbprint_header=settings.thumbprint_header,
    )
    return GrtgazClient(http, settings.base_url, auth, timestamps_local=settings.timestamps_local, retry=ctx.retry)


def indicator_changes(old: list[SiteIndicators] | None, new: list[SiteIndicators]) -> list[Change]:
    """History rows and notifications for indicator changes (§3.2.2.1): one per site and flex."""
    result = []
    for change in rules.diff_states(old, new):
        old_word = change.old_status.value if change.old_status else None
        if change.announced:
            detail = f"{change.flex.value} announced for {change.at:%H:%M}"
            message = f"{change.site_label}: {change.flex.value} turns {change.new_status.value} at {change.at:%H:%M}"
        else:
            detail = change.flex.value
            message = f"{change.site_label}: {change.flex.value} is now {change.new_status.value}"
        result.append(
            Change(
                change.site_id,
                old_word,
                change.new_status.value,
                detail,
                SEVERITY_OF.get(change.new_status, "attention") if change.new_status.known else "attention",
                message,
            )
        )
    return result


STATES = states_feed(INDICATORS_FEED)
"""Where the store keeps every site's indicator timeline (one row per change of status)."""


def state_key(site_id: str, flex: Flex) -> str:
    return f"{site_id}/{flex.name}"


def indicator_states(sites: list[SiteIndicators], seen_at: dt.datetime) -> list[tuple[str, dt.datetime, str, str]]:
    """Every site's three current statuses with the time they hold from, for the timeline
    the store keeps (whichever process reads the feed writes it for all)."""
    return [
        (
            state_key(site.site_id, flex),
            rules.state_since(indicator, seen_at),
            indicator.status.value,
            f"published {indicator.availabilityDateTime.isoformat()}",
        )
        for site in sites
        for flex, indicator in site.currentIndicator.indicators()
    ]


def stored_timeline(store: Store, site_id: str, flex: Flex, limit: int = 200) -> list[rules.StateRow]:
    """The store's timeline of one indicator, oldest first (an undocumented word kept as such)."""
    entries = store.states(STATES, state_key(site_id, flex), limit=limit)
    return [rules.StateRow(entry.at, IndicatorStatus(entry.new)) for entry in reversed(entries)]


def stored_shortage(store: Store, site_id: str, gas_day: dt.date) -> bool:
    """Whether a GREY (shortage, §4) was recorded for ``gas_day`` at this site, by any
    process: the shortage holds for the whole gas day after the pastille turns back."""
    for flex in Flex:
        for row in stored_timeline(store, site_id, flex, limit=60):
            if row.status is IndicatorStatus.GREY and gas_day_of(row.since - rules.APPLICATION_DELAY) == gas_day:
                return True
    return False


def environment(settings: GrtgazSettings) -> Environment:
    """The real endpoint's data world: the base URL and the OAuth2 client id."""
    return real(settings.base_url, client=settings.client_id)


def certificate_findings(certificate: bytes | None, now: dt.datetime, warn_days: int) -> list[Finding]:
    """The certificate-expiry findings (:func:`expiry_findings`) of a PEM certificate."""
    if certificate is None:
        return []
    from pupitre.providers.core.cert_dates import parse_end

    return expiry_findings(parse_end(certificate), now, warn_days)


def expiry_findings(ends: dt.datetime | None, now: dt.datetime, warn_days: int) -> list[Finding]:
    """§12.2 « Une nouvelle version du certificat devra être transmise par les Clients un (1)
    mois avant son expiration »: attention from ``warn_days`` before the client certificate's
    end, critical once it has ended (GRTgaz then refuses the token, §11.2). ``None`` (no
    certificate, or an unreadable one: the connection's error, said there): nothing."""
    if ends is None:
        return []
    left = ends - now.astimezone(ends.tzinfo)
    when = f"{ends.astimezone(PARIS):%d/%m/%Y %H:%M}"
    if left <= dt.timedelta(0):
        return [
            Finding(
                TITLE, "critical", f"client certificate expired on {when}: send GRTgaz a new one (§12.2)", "certificate"
            )
        ]
    if left <= dt.timedelta(days=warn_days):
        return [
            Finding(
                TITLE,
                "attention",
                f"client certificate expires on {when} (in {left.days} day(s)): "
                "§12.2 asks for the new one a month before — send it to GRTgaz",
                "certificate",
            )
        ]
    return []


def connect(settings: GrtgazSettings, ctx: ProviderContext, *, sandboxed: bool) -> Connection:
    session = GrtgazSession(settings, ctx, sandboxed=sandboxed)
    return Connection(
        PROVIDER,
        TITLE,
        feeds(settings, ctx, sandboxed=sandboxed, session=session),
        lambda results, now: findings(results.get(INDICATORS_FEED), now) + session.certificate_findings(now),
        {(PROVIDER, DECLARE_ACTION): DeclareHandler(session)},
        session,
        items=lambda results, now: items(results.get(INDICATORS_FEED)),
        follow_ups=[session.feasibility],
    )


def items(sites: list[SiteIndicators] | None) -> list[dict[str, Any]]:
    """Each site behind the findings (``pupitre check --json``): its worst colour now and its
    three indicators now and next (§13.1 ``currentIndicator`` / ``nextIndicator``, with the
    time each applies)."""

    def indicators(found: Any) -> dict[str, Any] | None:
        if found is None:
            return None
        return {
            flex.value: {"status": ind.status.value, "applies_at": ind.applicationDateTime.isoformat()}
            for flex, ind in found.indicators()
        }

    return [
        {
            "key": site.site_id,
            "state": rules.site_worst_status(site).value,
            "site": site.site_label,
            "mesh": site.mesh_label,
            "now": indicators(site.currentIndicator),
            "next": indicators(site.nextIndicator),
        }
        for site in sites or []
    ]


def feeds(
    settings: GrtgazSettings, ctx: ProviderContext, *, sandboxed: bool, session: "GrtgazSession | None" = None
) -> list[Feed[Any]]:
    session = session or GrtgazSession(settings, ctx, sandboxed=sandboxed)
    return [
        Feed(
            name=INDICATORS_FEED,
            provider=PROVIDER,
            title="GRTgaz indicators",
            fetch=session.indicators,
            dump=lambda sites: to_document(sites, timestamps_local=False),
            load=lambda payload: read(payload, list[SiteIndicators], timestamps_local=False),
            interval=lambda now: refresh_delay(now, settings.refresh_seconds),
            changes=indicator_changes,
            states=indicator_states,
        )
    ]


PUBLICATION_SETTLE_SECONDS = 5.0


def refresh_delay(now: dt.datetime, refresh_seconds: float) -> float:
    """Seconds to the next read: the configured interval, but never later than a few
    seconds after the next publication (HH:52, §3.2.2.1), so a change shows at once."""
    until_publication = (rules.next_publication(now) - now).total_seconds() + PUBLICATION_SETTLE_SECONDS
    return max(1.0, min(refresh_seconds, until_publication))


#: what ``*`` after a site or an indicator means in the findings
ANNOUNCED_NOTE = "* applied as announced, not re-read from GRTgaz since"


def findings(sites: list[SiteIndicators] | None, now: Any) -> list[Finding]:
    """The daily check (``pupitre check``): GREY is critical (shortage, §4); a RED
    indicator now or announced (§3.2.2.1 ``nextIndicator``) needs attention, and so does a
    colour the document does not list (``? unknown (PURPLE)``, on that site only)."""
    if sites is None:
        return []
    # a stored copy read after an announced change's time: the change applies (§3.2.2.1),
    # marked ``*`` (applied as announced, not re-read from GRTgaz since)
    applied = rules.applied_sites(sites, now)
    sites = [a.site for a in applied]
    marked = {a.site.site_id: a.announced for a in applied}
    note = f" ({ANNOUNCED_NOTE})" if any(marked.values()) else ""
    result: list[Finding] = []
    grey = [s for s in sites if rules.site_worst_status(s) is IndicatorStatus.GREY]
    red = [s for s in sites if rules.site_worst_status(s) is IndicatorStatus.RED]
    if grey:
        names = ", ".join(s.site_label + ("*" if marked[s.site_id] else "") for s in grey)
        result.append(
            Finding(TITLE, "critical", f"GREY (flexibility shortage) at {names}{note if '*' in names else ''}", "grey")
        )
    # one finding per cause, naming every site it concerns (the JSON lists each site: items())
    reds = []
    for site in red:
        bad = [
            flex.value + ("*" if flex in marked[site.site_id] else "")
            for flex, ind in site.currentIndicator.indicators()
            if ind.status is IndicatorStatus.RED
        ]
        reds.append(f"{site.site_label} ({site.mesh_label}): RED on " + ", ".join(bad))
    if reds:
        text = "; ".join(reds)
        result.append(Finding(TITLE, "attention", text + (note if "*" in text else ""), "red"))
    odds = []
    for site in sites:
        odd = [
            f"{flex.value} {ind.status.word}"
            for flex, ind in site.currentIndicator.indicators()
            if not ind.status.known
        ]
        if odd:
            odds.append(f"{site.site_label} ({site.mesh_label}): ? " + ", ".join(odd))
    if odds:
        result.append(Finding(TITLE, "attention", "; ".join(odds), "unknown-colour"))
    announced: dict[Level, list[str]] = {}
    for change in rules.upcoming_changes(sites, now):
        level: Level = "critical" if change.next is IndicatorStatus.GREY else "attention"
        if change.next is not IndicatorStatus.GREEN:
            announced.setdefault(level, []).append(
                f"{change.site_label}: {change.flex.value} turns {change.next.value} at {change.applies_at:%H:%M}"
            )
    for level, texts in announced.items():
        result.append(Finding(TITLE, level, "; ".join(texts), f"announced-{'grey' if level == 'critical' else 'red'}"))
    if not result:
        result.append(Finding(TITLE, "ok", f"all {len(sites)} sites green, no change announced"))
    return result


# -- programs: the session and the declaration --------------------------------------------

PROGRAMS_CACHE = "grtgaz.programs"
DECLARE_ACTION = "declare program"
FEASIBILITY_POLLS = 3
FEASIBILITY_POLL_SECONDS = 1.0


def programs_cache_key(site_id: str, gas_day: dt.date) -> str:
    """The store snapshot holding the last programs read for a site and gas day."""
    return f"{PROGRAMS_CACHE}/{site_id}/{gas_day.isoformat()}"


class SitePrograms(msgspec.Struct):
    """What GRTgaz shows for one site and gas day: the rebuilt program (§14.4, ``None``
    when there is none yet) and the declared programs (§14.5), oldest version first."""

    site_id: str
    gas_day: dt.date
    rebuilt: "RebuiltHmsProfile | None"
    declared: list["HmsProfile"]
    fetched_at: dt.datetime
    from_store: bool = False

    def to_document(self) -> dict[str, Any]:
        return {
            "site_id": self.site_id,
            "gas_day": self.gas_day.isoformat(),
            "rebuilt": to_document(self.rebuilt, timestamps_local=False) if self.rebuilt else None,
            "declared": to_document(self.declared, timestamps_local=False),
        }

    @classmethod
    def from_document(cls, payload: dict[str, Any], fetched_at: dt.datetime) -> "SitePrograms":
        from pupitre.providers.grtgaz.models import HmsProfile, RebuiltHmsProfile

        rebuilt = payload.get("rebuilt")
        return cls(
            payload["site_id"],
            dt.date.fromisoformat(payload["gas_day"]),
            read(rebuilt, RebuiltHmsProfile, timestamps_local=False) if rebuilt else None,
            read(payload.get("declared") or [], list[HmsProfile], timestamps_local=False),
            fetched_at,
            from_store=True,
        )

    def latest(self) -> "HmsProfile | None":
        """The declared program with the highest version."""
        return self.declared[-1] if self.declared else None


def version_of(program_id: str) -> int:
    """The version of a §2.2 program id (0 when the id does not follow the format)."""
    parsed = rules.parse_program_id(program_id)
    return parsed.version if parsed is not None else 0


def adjustable_from(gas_day: dt.date, now: dt.datetime) -> int | None:
    """The first slot of ``gas_day`` a program sent at ``now`` can still change (chapter 2
    §6-7: H-1 before H+15, H after; 0 before the day); ``None`` once the day is over."""
    index = rules.first_adjustable_index(gas_day, now)
    return None if index >= rules.SLOTS else index


def current_slot(gas_day: dt.date, now: dt.datetime) -> int | None:
    """The slot of ``gas_day`` holding ``now``, or ``None`` outside the day."""
    start, end = gas_day_bounds(gas_day)
    return rules.slot_of(now) if instant(start) <= instant(now) < instant(end) else None


class GrtgazSession:
    """One client for the indicators feed and the programs (built after the first paint)."""

    def __init__(self, settings: GrtgazSettings, ctx: ProviderContext, *, sandboxed: bool) -> None:
        self.settings = settings
        self.ctx = ctx
        self.sandboxed = sandboxed
        self._client: GrtgazClient | None = None
        self._certificate_dates = CertificateDates(ctx.data_dir)
        #: declared programs followed to their feasibility verdict (in the store)
        self.feasibility = FeasibilityFollowUp(self)

    @property
    def client(self) -> "GrtgazClient":
        if self._client is None:
            self._client = build_client(self.settings, self.ctx, sandboxed=self.sandboxed)
        return self._client

    def certificate_path(self) -> Path | None:
        """The client certificate file this connection signs with (the sandbox's own in the
        sandbox, made with the client: never generated here); ``None`` when none is set."""
        if self.sandboxed:
            return self.ctx.data_dir / "sandbox" / f"{PROVIDER}.cert.pem"
        return self.settings.certificate

    def certificate_end(self) -> dt.datetime | None:
        """The client certificate's end of validity; ``None`` when there is none or it cannot
        be read (the connection says why). Parsed once per version of the file, also across
        processes (:class:`CertificateDates`): the Overview asks every second, ``check`` each run."""
        path = self.certificate_path()
        return None if path is None else self._certificate_dates.end_of(path)

    def certificate_findings(self, now: dt.datetime) -> list[Finding]:
        """The certificate-expiry warning (§12.2), for the Overview and ``pupitre check``."""
        return expiry_findings(self.certificate_end(), now, self.settings.certificate_warn_days)

    @property
    def export_dir(self) -> Path:
        """Where e-mail fallback files go (chapter 6): the configured directory, else
        ``<data dir>/exports``."""
        from pupitre.providers.core.files import export_dir

        return export_dir(self.settings.export_dir, self.ctx.data_dir)

    async def indicators(self) -> list[SiteIndicators]:
        wanted = set(self.settings.sites)
        sites = await self.client.flexibility_indicators()
        return [s for s in sites if not wanted or s.site_id in wanted]

    async def programs(self, site_id: str, gas_day: dt.date) -> SitePrograms:
        """The rebuilt program and the declared programs of a site and day; kept in the
        store so that they still show (with their age) when the API is down."""
        try:
            rebuilt = await self.client.rebuilt_hms_profile(site_id, gas_day)
        except NotFoundError:
            rebuilt = None
        try:
            declared = await self.client.site_hms_profiles(site_id, gas_day)
        except NotFoundError:
            declared = []
        declared = sorted(declared, key=lambda p: version_of(p.hmsProfileId))
        result = SitePrograms(site_id, gas_day, rebuilt, declared, self.ctx.clock.now())
        self.ctx.store.save_snapshot(programs_cache_key(site_id, gas_day), result.to_document(), result.fetched_at)
        return result

    def cached_programs(self, site_id: str, gas_day: dt.date) -> SitePrograms | None:
        """The last programs read for this site and day, or ``None``."""
        snapshot = self.ctx.store.load_snapshot(programs_cache_key(site_id, gas_day))
        if snapshot is None:
            return None
        try:
            return SitePrograms.from_document(snapshot.payload, snapshot.fetched_at)
        except (ValueError, KeyError, TypeError, PayloadError):
            return None

    async def program(self, program_id: str) -> "HmsProfile | None":
        """``GET /hmsProfiles/{id}`` (§14.3), or ``None`` when GRTgaz does not know it."""
        try:
            return await self.client.hms_profile(program_id)
        except NotFoundError:
            return None


# -- the declaration action -------------------------------------------------------------------


def declaration_payload(
    profile: "InputHmsProfile", *, edited: list[int], base_label: str, now: dt.datetime
) -> dict[str, Any]:
    """What goes into the outbox: the §13.2 program as sent, and ``edited``: the adjustable
    slots where it differs from the rebuilt program, i.e. what it changes at GRTgaz (they
    must still be adjustable when it is sent, chapter 2 §6-8)."""
    return {
        "program": to_document(profile, timestamps_local=False),
        "edited": sorted(edited),
        "base": base_label,
        "queued_at": now.isoformat(),
    }


def payload_profile(payload: dict[str, Any]) -> "InputHmsProfile":
    from pupitre.providers.grtgaz.models import InputHmsProfile

    return read(payload["program"], InputHmsProfile, timestamps_local=False)


def outbox_declarations(
    store: Store, site_id: str, gas_day: dt.date, statuses: tuple[str, ...] = ("pending",)
) -> list[OutboxItem]:
    """The outbox items declaring a program of this site and day, with these statuses
    (``pending``: not yet answered; ``failed``: refused, e.g. a 400, §13.6)."""
    result = []
    for item in store.outbox(provider=PROVIDER):
        program = item.payload.get("program", {}) if isinstance(item.payload, dict) else {}
        if (
            item.action == DECLARE_ACTION
            and item.status in statuses
            and program.get("hmsSiteId") == site_id
            and program.get("gasDay") == gas_day.isoformat()
        ):
            result.append(item)
    return result


def pending_declarations(store: Store, site_id: str, gas_day: dt.date) -> list[dict[str, Any]]:
    """Declarations of this site and day still in the outbox (not yet answered)."""
    return [item.payload for item in outbox_declarations(store, site_id, gas_day)]


class DeclareHandler:
    """``POST /hmsProfiles`` through the outbox, read back with ``GET /hmsProfiles/{id}``."""

    def __init__(self, session: GrtgazSession) -> None:
        self.session = session

    def key(self, payload: dict[str, Any]) -> str:
        """Each program id is sent once; a later version never replaces a queued one (both
        are declarations GRTgaz must see, in order)."""
        return str(payload["program"]["hmsProfileId"])

    def check(self, payload: dict[str, Any], now: dt.datetime) -> None:
        """The §13.6 technical validation again, and the edited slots still adjustable."""
        try:
            profile = payload_profile(payload)
        except (ValueError, PayloadError) as error:
            raise ActionRefused(f"the queued program cannot be read: {error}") from None
        own = profile.hmsProfileId
        cached = self.session.cached_programs(profile.hmsSiteId, profile.gasDay)
        versions = [
            version_of(p.hmsProfileId) for p in (cached.declared if cached else []) if p.hmsProfileId != own
        ]  # an earlier attempt of this one may have got through
        problems = rules.validate_profile(
            profile,
            now=now,
            site=site_by_id(profile.hmsSiteId),
            versions=versions,
            tolerance=self.session.settings.tolerance,
        )
        if problems:
            raise ActionRefused("; ".join(f"{p.code}: {p.explanation}" for p in problems))
        first = adjustable_from(profile.gasDay, now)
        if first is None:
            raise ActionRefused(
                f"gas day {profile.gasDay:%d/%m/%Y} is over: nothing can be declared for it any more (PAST_GAS_DAY)"
            )
        late = [slot for slot in payload.get("edited", []) if slot < first]
        if late:
            from pupitre.providers.grtgaz.drafts import slot_label

            raise ActionRefused(
                "hour(s) " + ", ".join(slot_label(s) for s in late) + " were changed but are "
                "no longer adjustable (chapter 2 §6-8): review the program and declare again"
            )

    def describe(self, payload: dict[str, Any]) -> str:
        program = payload["program"]
        edited = payload.get("edited", [])
        from pupitre.providers.grtgaz.drafts import slot_label

        changed = ", ".join(slot_label(s) for s in edited) if edited else "none"
        return (
            f"program {program['hmsProfileId']} for {program.get('hmsSiteLabel', '')} "
            f"({program['hmsSiteId']}), gas day {program['gasDay']}, from {payload.get('base', '?')}; "
            f"changed hours: {changed}"
        )

    async def find(self, payload: dict[str, Any], since: dt.datetime) -> str | None:
        """The program id is the identity: ``GET /hmsProfiles/{id}`` shows whether an earlier
        attempt got through (with other quantities: refused, never overwritten)."""
        profile = payload_profile(payload)
        already = await self.session.program(profile.hmsProfileId)
        return None if already is None else self._got_there(profile, already)

    async def send(self, payload: dict[str, Any]) -> str:
        profile = payload_profile(payload)
        already = await self.session.program(profile.hmsProfileId)
        if already is not None:
            return self._got_there(profile, already)
        try:
            links = await self.session.client.declare_programs([profile])
        except PayloadError as error:  # a 2xx whose body was cut: did the program get there?
            try:
                already = await self.session.program(profile.hmsProfileId)
            except ApiError as lookup:  # the declaration left, whatever became of this read
                lookup.uncertain = True
                raise
            if already is None:
                raise NetworkError(
                    f"the answer to the declaration was unreadable ({error.message}); "
                    "GRTgaz does not show the program: it will be sent again",
                    provider=TITLE,
                ) from None
            return self._got_there(profile, already)
        self.session.feasibility.follow(profile.hmsProfileId)  # before anything else: GRTgaz has it
        where = next((link.href for link in links if link.rel == profile.hmsProfileId), links[0].href if links else "")
        return f"received by GRTgaz (201){': ' + where if where else ''}"

    def _got_there(self, profile: "InputHmsProfile", found: "HmsProfile") -> str:
        """An earlier attempt got through: followed to its verdict (when it is this program)."""
        summary = self._already_there(profile, found)
        self.session.feasibility.follow(profile.hmsProfileId)
        return summary

    @staticmethod
    def _already_there(profile: "InputHmsProfile", found: "HmsProfile") -> str:
        if list(found.quantities) != list(profile.quantities):
            raise ActionRefused(
                f"GRTgaz already has a DIFFERENT program {profile.hmsProfileId} "
                "(HMS_PROFILE_ID_ALREADY_EXISTS): declare again with the next version"
            )
        return "already received by GRTgaz (an earlier attempt got through); not sent again"

    async def verify(self, payload: dict[str, Any]) -> str:
        """Read the program back; wait a little for its feasibility (§13.3)."""
        profile = payload_profile(payload)
        found = None
        for attempt in range(FEASIBILITY_POLLS):
            found = await self.session.program(profile.hmsProfileId)
            if found is None:
                raise ActionRefused(f"GRTgaz does not show {profile.hmsProfileId} after accepting it")
            if list(found.quantities) != list(profile.quantities):
                raise ActionRefused(f"GRTgaz shows other quantities for {profile.hmsProfileId} than sent")
            if found.status.decided:
                break
            if attempt + 1 < FEASIBILITY_POLLS:
                await loop_sleep(FEASIBILITY_POLL_SECONDS)
        assert found is not None
        return feasibility_sentence(found)
