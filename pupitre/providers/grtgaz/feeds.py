"""GRTgaz wiring: settings → auth, client and feeds (real API or sandbox)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pupitre.providers.core.checks import Finding
from pupitre.providers.core.context import Connection, ProviderContext
from pupitre.providers.core.errors import ConfigError
from pupitre.providers.core.feeds import Change, Feed
from pupitre.providers.grtgaz import rules
from pupitre.providers.grtgaz.models import IndicatorStatus, SiteIndicators, SiteIndicatorsList, to_document
from pupitre.settings import GrtgazSettings

if TYPE_CHECKING:
    from pupitre.providers.grtgaz.client import GrtgazClient

PROVIDER = "grtgaz"
TITLE = "GRTgaz"
INDICATORS_FEED = "grtgaz.indicators"
SANDBOX_HOST = "grtgaz.sandbox.invalid"
SANDBOX_BASE_URL = f"http://{SANDBOX_HOST}/sfm/v1"
SANDBOX_TOKEN_URL = f"http://{SANDBOX_HOST}/oauth2/v2.0/token"
SANDBOX_CLIENT_ID = "00000000-0000-4000-8000-00000000a11e"
SANDBOX_AUDIENCE = f"http://{SANDBOX_HOST}/oauth2/v2.0/token"
SEVERITY_OF = {IndicatorStatus.GREEN: "info", IndicatorStatus.RED: "attention",
               IndicatorStatus.GREY: "critical"}


def _sandbox_credentials(ctx: ProviderContext) -> tuple[bytes, bytes]:
    """This installation's sandbox key and certificate (made once, user-only files)."""
    from pupitre.providers.core.certs import sandbox_credentials

    return sandbox_credentials(ctx.data_dir / "sandbox", PROVIDER)


def configured(settings: GrtgazSettings, secrets: Any) -> bool:
    """Real API once the §11.2 settings are there (the key passphrase is optional)."""
    return settings.configured


def sandbox_app(settings: GrtgazSettings, ctx: ProviderContext) -> Any:
    """The simulator app, registered with this installation's sandbox certificate."""
    from pupitre.providers.grtgaz.sandbox import GrtgazSimulator

    _, certificate = _sandbox_credentials(ctx)
    return GrtgazSimulator(ctx.clock, ctx.faults, client_id=SANDBOX_CLIENT_ID,
                           certificate_pem=certificate, audience=SANDBOX_AUDIENCE).app


def _read(path: Any, what: str) -> bytes:
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
        auth = JwtAssertionCredentials(http, SANDBOX_TOKEN_URL, SANDBOX_CLIENT_ID, settings.scope,
                                       ctx.clock, provider=TITLE, private_key_pem=key,
                                       certificate_pem=certificate, audience=SANDBOX_AUDIENCE)
        return GrtgazClient(http, SANDBOX_BASE_URL, auth, timestamps_local=True, retry=ctx.retry)
    passphrase = ctx.secrets.get(PROVIDER, "key_passphrase")
    auth = JwtAssertionCredentials(
        http, settings.token_url, settings.client_id, settings.scope, ctx.clock, provider=TITLE,
        private_key_pem=_read(settings.private_key, "private key"),
        certificate_pem=_read(settings.certificate, "certificate"),
        passphrase=passphrase.encode() if passphrase else None, audience=settings.audience,
        algorithm=settings.jwt_algorithm, thumbprint_header=settings.thumbprint_header)
    return GrtgazClient(http, settings.base_url, auth, timestamps_local=settings.timestamps_local,
                        retry=ctx.retry)


def indicator_changes(old: list[SiteIndicators] | None, new: list[SiteIndicators]) -> list[Change]:
    """History rows and notifications for indicator changes (§3.2.2.1): one per site and flex."""
    result = []
    for change in rules.diff_states(old, new):
        old_word = change.old_status.value if change.old_status else None
        if change.announced:
            detail = f"{change.flex.value} announced for {change.at:%H:%M}"
            message = (f"{change.site_label}: {change.flex.value} turns {change.new_status.value} "
                       f"at {change.at:%H:%M}")
        else:
            detail = change.flex.value
            message = f"{change.site_label}: {change.flex.value} is now {change.new_status.value}"
        result.append(Change(change.site_id, old_word, change.new_status.value, detail,
                             SEVERITY_OF[change.new_status], message))  # type: ignore[arg-type]
    return result


def connect(settings: GrtgazSettings, ctx: ProviderContext, *, sandboxed: bool) -> Connection:
    return Connection(PROVIDER, TITLE, feeds(settings, ctx, sandboxed=sandboxed),
                      lambda results, now: findings(results.get(INDICATORS_FEED), now))


def feeds(settings: GrtgazSettings, ctx: ProviderContext, *, sandboxed: bool) -> list[Feed[Any]]:
    clients: list[GrtgazClient] = []  # built on the first fetch, after the first paint
    wanted = set(settings.sites)

    async def fetch() -> list[SiteIndicators]:
        if not clients:
            clients.append(build_client(settings, ctx, sandboxed=sandboxed))
        sites = await clients[0].flexibility_indicators()
        return [s for s in sites if not wanted or s.site_id in wanted]

    return [Feed(
        name=INDICATORS_FEED, provider=PROVIDER, title="GRTgaz indicators", fetch=fetch,
        dump=lambda sites: to_document(sites, timestamps_local=False),
        load=lambda payload: SiteIndicatorsList.validate_python(payload, context={"timestamps_local": False}),
        interval=lambda now: refresh_delay(now, settings.refresh_seconds), changes=indicator_changes)]


PUBLICATION_SETTLE_SECONDS = 5.0


def refresh_delay(now: Any, refresh_seconds: float) -> float:
    """Seconds to the next read: the configured interval, but never later than a few
    seconds after the next publication (HH:52, §3.2.2.1), so a change shows at once."""
    until_publication = (rules.next_publication(now) - now).total_seconds() + PUBLICATION_SETTLE_SECONDS
    return max(1.0, min(refresh_seconds, until_publication))


def findings(sites: list[SiteIndicators] | None, now: Any) -> list[Finding]:
    """The daily check (``pupitre check``): GREY is critical (shortage, §4); a RED
    indicator now or announced (§3.2.2.1 ``nextIndicator``) needs attention."""
    if sites is None:
        return []
    result: list[Finding] = []
    grey = [s for s in sites if rules.site_worst_status(s) is IndicatorStatus.GREY]
    red = [s for s in sites if rules.site_worst_status(s) is IndicatorStatus.RED]
    if grey:
        result.append(Finding(TITLE, "critical", "GREY (flexibility shortage) at "
                              + ", ".join(s.site_label for s in grey)))
    for site in red:
        bad = [flex.value for flex, ind in site.currentIndicator.indicators()
               if ind.status is IndicatorStatus.RED]
        result.append(Finding(TITLE, "attention", f"{site.site_label} ({site.mesh_label}): RED on "
                              + ", ".join(bad)))
    for change in rules.upcoming_changes(sites, now):
        level = "critical" if change.next is IndicatorStatus.GREY else "attention"
        if change.next is not IndicatorStatus.GREEN:
            result.append(Finding(TITLE, level, f"{change.site_label}: {change.flex.value} turns "  # type: ignore[arg-type]
                                  f"{change.next.value} at {change.applies_at:%H:%M}"))
    if not result:
        result.append(Finding(TITLE, "ok", f"all {len(sites)} sites green, no change announced"))
    return result
